# The two commands of the README: `make demo` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
WP := $(BIN)/weather-platform
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PATH := $(BIN):$(PATH)

.PHONY: install lint stack-up stack-down dagster-home compose-tool browser-tool demo test bench chaos

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
	cp dagster.instance.yaml $(DAGSTER_HOME)/dagster.yaml

stack-up: install
	$(WP) stack up

stack-down:
	$(WP) stack down

# Debian's docker-compose validates docker/docker-compose.yml without a Docker engine (test_docker_compose.py).
compose-tool:
	@command -v docker-compose >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; \
	  else echo "docker-compose is missing: install it with 'sudo apt-get install -y docker-compose' (Debian/Ubuntu)"; fi; }

# Debian's headless Chromium and its driver run the dashboard's browser tests (e2e/test_dashboard.py).
browser-tool:
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else echo "chromium is missing: install it with 'sudo apt-get install -y chromium chromium-driver' (Debian/Ubuntu)"; fi; }

# Starts the stack, runs every test, and stops the stack whatever the outcome.
test: lint dagster-home compose-tool browser-tool
	$(WP) doctor
	trap '$(WP) stack down' EXIT; \
	$(WP) stack up && \
	eval "$$($(WP) stack env)" && \
	$(BIN)/python -m pytest -p no:cacheprovider --durations=15 weather_platform_tests

# Starts the stack, backfills the last DEMO_HISTORY_DAYS days of history (Open-Meteo's archive as the simulator serves
# it) so the first look has trends, runs today's partition through every layer, prints a summary, then serves the
# dashboard and REST API on 127.0.0.1:$(API_PORT) and the Dagster UI on 127.0.0.1:$(DAGSTER_UI_PORT) with the
# schedules and sensors running. Ctrl-C stops both and the stack.
export DAGSTER_UI_PORT ?= 3000
DEMO_HISTORY_DAYS ?= 30
export API_PORT ?= 8080
demo: install dagster-home
	$(WP) doctor
	trap '$(WP) stack down' EXIT; \
	$(WP) stack up && \
	eval "$$($(WP) stack env)" && \
	{ $(WP) backfill --start $$(date -u -d '$(DEMO_HISTORY_DAYS) days ago' +%F) --end $$(date -u -d yesterday +%F) || \
	  echo "the history backfill failed: see its summary above"; } && \
	{ $(WP) demo || echo "the demo run failed: see the summary above and the run in the UI"; } && \
	{ $(WP) serve --port $(API_PORT) & serve_pid=$$!; trap 'kill $$serve_pid 2>/dev/null; $(WP) stack down' EXIT; } && \
	echo "Dashboard: http://127.0.0.1:$(API_PORT)  Dagster UI: http://127.0.0.1:$(DAGSTER_UI_PORT)  (Ctrl-C stops both and the stack)" && \
	PYTHONWARNINGS='ignore:Function `dev_command` is superseded' \
	  env --default-signal=INT,TERM $(BIN)/dagster dev -h 127.0.0.1 -p $(DAGSTER_UI_PORT) -w workspace.yaml

# Throughput figures (rows/s, ratios) on the local stack, each beside its limit, then one table of issue 16's targets;
# not part of `make test`.
bench: install
	export BENCH_RESULTS=$$(mktemp --suffix=.jsonl); \
	trap '$(WP) stack down; $(BIN)/python -m weather_platform_tests.benchmarks.summary $$BENCH_RESULTS; rm -f $$BENCH_RESULTS' EXIT; \
	$(WP) stack up && \
	eval "$$($(WP) stack env)" && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_streaming && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_silver && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_gold_load && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_api && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_hourly --dagster-dev --cycles 3 && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_backfill --dagster-dev && \
	$(BIN)/python -m weather_platform_tests.benchmarks.bench_history $(HISTORY_BENCH_ARGS)

# Hostile records, killed and frozen writers, Kafka/MinIO/PostgreSQL restarts, then an exact account of every
# record (bounded, loopback only; about 10 minutes); not part of `make test`. CHAOS_ARGS, e.g. --seed 7.
chaos: install
	trap '$(WP) stack down' EXIT; \
	$(WP) stack up && \
	eval "$$($(WP) stack env)" && \
	$(BIN)/python -m weather_platform_tests.chaos.campaign $(CHAOS_ARGS)
