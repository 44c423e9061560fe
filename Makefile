# Two commands on a fresh machine with Python 3.11 and make:  `make demo`  and  `make test`.
# Each sets itself up from nothing: a pinned uv in .tools/, then the locked environment in .venv/.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV_PY := .venv/bin/python
CI_DIR := .focusline/ci
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup demo test pytest validate dbt-build lint docs clean

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every dbt child process would otherwise pay ~2 s of imports without .pyc
.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra dev --compile-bytecode --python $(PYTHON) --quiet
	touch $@

setup: .venv/.synced

demo: setup
	$(VENV_PY) run.py demo

test: setup pytest validate dbt-build

pytest: setup
	$(VENV_PY) -m pytest

validate: setup
	$(VENV_PY) run.py pipelines validate

# dbt build (models, unit tests, data tests) of the whole project on a warehouse the demo job filled
dbt-build: setup
	rm -rf $(CI_DIR)
	FOCUSLINE_STATE_DIR=$(CI_DIR) FOCUSLINE_WAREHOUSE_DIR=$(CI_DIR)/warehouse $(VENV_PY) run.py demo
	FOCUSLINE_WAREHOUSE_PATH=$(CI_DIR)/warehouse/demo_org.duckdb .venv/bin/dbt build \
	    --target-path $(CI_DIR)/target --log-path $(CI_DIR)/logs

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

docs: setup
	$(VENV_PY) run.py docs --org demo_org

clean:
	rm -rf .venv .tools .focusline warehouse target logs
