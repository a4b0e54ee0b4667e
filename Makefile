# spoolgate developer commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= etc/spoolgate.example.toml
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The daemon alone (what `make run` needs) and the daemon with the test tools, both pinned by
# constraints.txt so that every machine installs the same versions.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[test]' --config-settings editable_mode=compat
	touch $@ $(VENV)/.installed-run

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: setup
setup: $(VENV)/.installed-test ## create the virtualenv and install spoolgate with its test tools

.PHONY: setup-run
setup-run: $(VENV)/.installed-run ## create the virtualenv and install spoolgate only (no test tools)

.PHONY: system-deps
system-deps: ## install the system programs the tests run for real (PostgreSQL, sshd, gpg, promtool...) if missing
	bash scripts/install-system-deps.sh

.PHONY: run
run: setup-run ## set up, initialise ./var (spool tree + SQLite) and run the daemon in the foreground
	$(BIN)/spoolgate --config $(CONFIG) init
	$(BIN)/spoolgate --config $(CONFIG) run

.PHONY: lint
lint: setup ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

.PHONY: test
# pytest runs inside tests.pgserver: a throwaway PostgreSQL cluster for the PostgreSQL half
# (unless SPOOLGATE_TEST_DATABASE_URL names a server), removed afterwards.
test: setup system-deps ## set up and run the whole suite (lint, types, tests on SQLite and PostgreSQL)
	$(BIN)/ruff check .
	$(BIN)/mypy
	SPOOLGATE_REQUIRE_POSTGRES=1 $(BIN)/python -m tests.pgserver -- $(BIN)/pytest $(PYTEST_ARGS)

.PHONY: lock
lock: ## rewrite constraints.txt from a fresh virtualenv with every extra
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv && .lockvenv/bin/pip install -q --upgrade pip
	.lockvenv/bin/pip install -q '.[test,bench]'
	{ echo '# Pinned versions for reproducible installs (make lock rewrites this file).'; \
	  .lockvenv/bin/pip freeze --exclude spoolgate --exclude pip --exclude setuptools --exclude wheel; } > constraints.txt
	rm -rf .lockvenv

.PHONY: bench
bench: setup ## run the benchmarks in bench/ and print their figures
	$(BIN)/python -m bench

.PHONY: clean
clean: ## remove the virtualenv, caches and ./var
	rm -rf $(VENV) .lockvenv var .pytest_cache .mypy_cache .ruff_cache .hypothesis
