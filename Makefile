# The two commands: `make run` (set up and serve) and `make test` (set up and test).
.PHONY: run test lint format bench clean setup setup-runtime lock

BIN := .venv/bin

setup:
	@./scripts/bootstrap.sh dev

setup-runtime:
	@./scripts/bootstrap.sh runtime

run: setup-runtime
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

# the staff queries' scales (the data sets are kept in bench/.data; scale 10 takes a while)
BENCH_SCALES ?= 1,10

bench: setup
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || { echo "install wrk for make bench" >&2; exit 1; }
	$(BIN)/python -m bench
	$(BIN)/python -m bench.staff --scales $(BENCH_SCALES)
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.analytics

# Re-resolve the locks from the ranges in pyproject.toml (after changing a dependency).
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links
lock: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade -o requirements/runtime.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade --extra dev -o requirements/dev.lock pyproject.toml

clean:
	rm -rf .venv .dreamer .mypy_cache .ruff_cache .pytest_cache
