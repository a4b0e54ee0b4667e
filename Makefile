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

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: setup
setup: $(VENV)/.installed ## create the virtualenv and install spoolgate with its test tools

.PHONY: system-deps
system-deps: ## install the system programs the tests run for real (sshd, gpg, promtool) if missing
	bash scripts/install-system-deps.sh

.PHONY: run
run: setup ## set up, initialise ./var (spool tree + SQLite) and run the daemon in the foreground
	$(BIN)/spoolgate --config $(CONFIG) init
	$(BIN)/spoolgate --config $(CONFIG) run

.PHONY: lint
lint: setup ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

.PHONY: test
test: setup system-deps ## set up and run the whole suite (lint, types, tests)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

.PHONY: bench
bench: setup ## run the benchmarks in bench/ and print their figures
	$(BIN)/python -m bench

.PHONY: clean
clean: ## remove the virtualenv, caches and ./var
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
