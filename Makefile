# Two commands on a fresh machine with Python 3.11 and make:  `make demo`  and  `make test`.
# Each sets itself up from nothing: a pinned uv in .tools/, then the locked environment in .venv/.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV_PY := .venv/bin/python
CI_DIR := .focusline/ci
BQ_CI_DIR := .focusline/ci-bigquery
BQEMU_READY := .bqemu/.ready
# the BigQuery emulator run: the product's own FOCUSLINE_BQ_* settings, a dummy token, no GCE probing
BQ_CI_ENV := FOCUSLINE_ENV=ci FOCUSLINE_BQ_PROJECT=focusline-ci FOCUSLINE_BQ_METHOD=oauth-secrets \
    FOCUSLINE_BQ_TOKEN=emulator-dummy-token FOCUSLINE_BQ_JOB_RETRIES=0 NO_GCE_CHECK=true \
    GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
    FOCUSLINE_STATE_DIR=$(BQ_CI_DIR) FOCUSLINE_WAREHOUSE_DIR=$(BQ_CI_DIR)/warehouse
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup bqemu-setup pg-setup demo test pytest validate dbt-build bigquery-build lint docs bench clean

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every dbt child process would otherwise pay ~2 s of imports without .pyc
.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra dev --compile-bytecode --python $(PYTHON) --quiet
	touch $@

setup: .venv/.synced

# the BigQuery emulator's own venv (.bqemu/, pinned + hashed scripts/bqemulator/requirements.txt)
$(BQEMU_READY): $(UV) scripts/bqemulator/requirements.txt scripts/bqemulator/setup.sh
	PYTHON=$(PYTHON) UV=$(UV) scripts/bqemulator/setup.sh

bqemu-setup: $(BQEMU_READY)

demo: setup
	$(VENV_PY) run.py demo

test: setup pytest validate dbt-build bigquery-build

# PostgreSQL binaries for the control-store tests (Debian's package, installed only when missing)
pg-setup:
	scripts/ensure_postgres.sh

pytest: setup bqemu-setup pg-setup
	$(VENV_PY) -m pytest

validate: setup
	$(VENV_PY) run.py pipelines validate

# dbt build (models, unit tests, data tests) of the whole project on a warehouse the demo job filled
dbt-build: setup
	rm -rf $(CI_DIR)
	FOCUSLINE_STATE_DIR=$(CI_DIR) FOCUSLINE_WAREHOUSE_DIR=$(CI_DIR)/warehouse $(VENV_PY) run.py demo
	FOCUSLINE_WAREHOUSE_PATH=$(CI_DIR)/warehouse/demo_org.duckdb .venv/bin/dbt build \
	    --target-path $(CI_DIR)/target --log-path $(CI_DIR)/logs

# the BigQuery production path on a local emulator (free port, stopped on exit): the demo job with
# --target bigquery (extract -> load jobs + MERGE -> dbt), then dbt build of the whole project on it
bigquery-build: setup bqemu-setup
	rm -rf $(BQ_CI_DIR)
	set -e; port=$$($(VENV_PY) -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"); \
	trap 'scripts/bqemulator/stop.sh $(BQ_CI_DIR)' EXIT; \
	FOCUSLINE_BQ_PROJECT=focusline-ci scripts/bqemulator/start.sh $$port $(BQ_CI_DIR); \
	export $(BQ_CI_ENV) FOCUSLINE_BQ_API_ENDPOINT=http://127.0.0.1:$$port; \
	$(VENV_PY) run.py demo --target bigquery; \
	FOCUSLINE_BQ_DATASET=demo_org_ci .venv/bin/dbt build --target bigquery \
	    --target-path $(BQ_CI_DIR)/target --log-path $(BQ_CI_DIR)/logs

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

docs: setup
	$(VENV_PY) run.py docs --org demo_org

# Pipeline vs a hand-written DuckDB floor on generated CUR 2.0 Parquet (bench/run.py; not part of `make test`).
# Sizes: BENCH_SIZES=100k,1M,10M (10M takes ~15 min on 2 cores); data and warehouses under .focusline/bench.
# Results: a table on stdout and bench/results/<UTC timestamp>.json + .md.
BENCH_SIZES ?= 100k,1M
bench: setup
	$(VENV_PY) -m bench.run --sizes $(BENCH_SIZES)

clean:
	rm -rf .venv .tools .bqemu .focusline warehouse target logs
