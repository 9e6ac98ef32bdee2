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
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

format: setup
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

bench: setup
	$(BIN)/python -m bench
	$(BIN)/python -m bench.leads

clean:
	rm -rf .venv .dreamer .mypy_cache .ruff_cache .pytest_cache
