# Kiln: `make run` starts everything on the embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KILN_DATA_DIR ?= $(CURDIR)/var
KILN_PORT ?= 8000
export KILN_DATA_DIR KILN_PORT
# Tests use the real PostgreSQL and Redis of the machine; override to run sessions side by side.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kiln
TEST_REDIS_DB ?= 15
PYTEST_ARGS ?=

.PHONY: run test bench chaos fuzz lint typecheck setup browser clean assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install -qq --no-deps -e .  # the `kiln` command (kilncli/); -qq hides setuptools' editable-install notice
	touch $@

setup: $(VENV)/.installed
	@./scripts/node_sdk.sh  # the AWS SDK v3 of the Node.js runtimes, once per lock file

run: setup
	./scripts/run.sh

test: setup
	./scripts/test.sh $(PYTEST_ARGS)

bench: setup
	./scripts/bench.sh

# Faults, and nothing lost: see chaos/run.py (`make chaos CHAOS_ARGS="--count 2000"`).
CHAOS_ARGS ?=
chaos: setup
	./scripts/chaos.sh $(CHAOS_ARGS)

# Bad input and no 5xx: Schemathesis on the REST API and malformed signed AWS requests against a private Kiln
# (port 8791, PostgreSQL database fuzz_kiln, Redis DB 11); see fuzz/run.py (`make fuzz FUZZ_ARGS="--aws-examples 3000"`).
FUZZ_ARGS ?=
fuzz: setup
	./scripts/fuzz.sh $(FUZZ_ARGS)

# ruff, the import layers (import-linter) and the types (mypy); CI runs it before the tests.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# mypy on the packages listed in pyproject.toml's [tool.mypy] (cold: 17-29 s on the 2-core machine; warm: about 2 s).
typecheck: setup
	$(BIN)/mypy

# Rebuilds the vendored CodeMirror and Chart.js under console/static/console/vendor/ from npm (needs Node.js);
# the results are committed, so `make run` needs neither.
assets:
	./scripts/assets.sh

clean:
	rm -rf $(VENV) var kiln.egg-info
