# The two commands: `make run` (set up and serve) and `make test` (set up and test).
.PHONY: run test lint format bench clean setup

BIN := .venv/bin

setup:
	@./scripts/bootstrap.sh

run: setup
	$(BIN)/dreamer serve

test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/python scripts/linters/layers.py src/dreamer
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src tests bench scripts

format: setup
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

bench: setup
	$(BIN)/python -m bench
	$(BIN)/python -m bench.leads

clean:
	rm -rf .venv .dreamer .mypy_cache .ruff_cache .pytest_cache
