"""Fixture for the dbt tests: a module-scoped temp warehouse with the section 7 OpenAI fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from focusline.settings import Settings
from orchestrator.dbt_step import ensure_all_raw_tables
from tests.dbt import openai_fixtures
from tests.dbt.dbt_harness import DbtWarehouse


@pytest.fixture(scope="module")
def dbt_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtWarehouse]:
    root = tmp_path_factory.mktemp("dbt_wh")
    env = {
        **os.environ,
        "FOCUSLINE_WAREHOUSE_DIR": str(root / "warehouse"),
        "FOCUSLINE_STATE_DIR": str(root / "state"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    old = {k: os.environ.get(k) for k in ("FOCUSLINE_WAREHOUSE_DIR", "FOCUSLINE_STATE_DIR")}
    os.environ["FOCUSLINE_WAREHOUSE_DIR"] = env["FOCUSLINE_WAREHOUSE_DIR"]
    os.environ["FOCUSLINE_STATE_DIR"] = env["FOCUSLINE_STATE_DIR"]
    try:
        settings = Settings.from_env()
        path = settings.warehouse_path(openai_fixtures.ORG)
        env["FOCUSLINE_WAREHOUSE_PATH"] = str(path)
        openai_fixtures.load_fixtures(settings)
        # what the dbt.build step does first: every provider's raw table exists (AWS stays empty)
        ensure_all_raw_tables(settings, openai_fixtures.ORG, "local")
        yield DbtWarehouse(settings, path, root / "target", root / "logs", env)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
