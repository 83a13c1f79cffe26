# Common Ground developer commands. `make demo` and `make test` work on a fresh machine
# with Python 3.11: they create .venv and install the locked dependencies first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test lint fmt typecheck pytest test-postgres test-browser check migrations-check lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

# Extra pip flags for the install: CI passes --no-compile (see .ci/run).
PIP_INSTALL_FLAGS ?=

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(PIP_INSTALL_FLAGS) -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(PIP_INSTALL_FLAGS) --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the locked dependencies

demo: $(STAMP)  ## Migrate, load the demo region and serve it at http://127.0.0.1:8000
	$(BIN)/commonground demo

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)  ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)  ## mypy with django-stubs
	$(BIN)/mypy commonground config

migrations-check: $(STAMP)  ## Fail if models changed without a migration
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/commonground makemigrations --check --dry-run

pytest: $(STAMP)  ## The test suite (SQLite unless DATABASE_URL says otherwise), browser tests excluded
	$(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS)

test: lint typecheck migrations-check pytest  ## Lint, types, migrations check and the whole suite on SQLite

test-postgres: $(STAMP)  ## The suite on a throwaway PostgreSQL 15 server (started and stopped here)
	bash .ci/with-postgres $(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS)

test-browser: $(STAMP)  ## Chromium + axe-core browser suite against a demo server
	bash .ci/browser-setup
	$(BIN)/pytest -n 2 -m browser tests/browser $(PYTEST_ARGS)

lock:  ## Re-resolve requirements.lock from pyproject.toml (deliberate upgrades only)
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable --disable-pip-version-check | grep -v '^commonground' > requirements.lock
	rm -rf .lockenv

clean:  ## Remove the virtualenv and local data
	rm -rf $(VENV) var
