# The two commands of the README: `make demo` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
WP := $(BIN)/weather-platform
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PATH := $(BIN):$(PATH)

.PHONY: install lint stack-up stack-down dagster-home demo test bench

$(VENV)/.installed: setup.py pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy weather_platform

dagster-home:
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

stack-up: install
	$(WP) stack up

stack-down:
	$(WP) stack down

# Starts the stack, runs every test, and stops the stack whatever the outcome.
test: lint dagster-home
	trap '$(WP) stack down' EXIT; \
	$(WP) stack up && \
	eval "$$($(WP) stack env)" && \
	$(BIN)/python -m pytest -p no:cacheprovider weather_platform_tests

# Starts the stack and the Dagster UI on 127.0.0.1:3000; Ctrl-C stops both.
demo: install dagster-home
	trap '$(WP) stack down' EXIT; \
	$(WP) stack up && \
	eval "$$($(WP) stack env)" && \
	echo "Dagster UI: http://127.0.0.1:3000  (Ctrl-C stops the UI and the stack)" && \
	env --default-signal=INT,TERM $(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml
