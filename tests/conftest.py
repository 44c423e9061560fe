"""Shared fixtures: every test gets its own state dir, warehouse dir and SQLite control store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from focusline.settings import PROJECT_DIR, Settings
from orchestrator.store import Plan, SqliteControlStore

REPO = PROJECT_DIR
SHARED = REPO.parent / "shared"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every FOCUSLINE_* location into tmp_path; return tmp_path."""
    monkeypatch.setenv("FOCUSLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FOCUSLINE_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.delenv("FOCUSLINE_CONTROL_URL", raising=False)
    monkeypatch.delenv("FOCUSLINE_KEY_FILE", raising=False)
    monkeypatch.delenv("FOCUSLINE_CONFIGS_DIR", raising=False)
    monkeypatch.delenv("FOCUSLINE_OPENAI_BASE_URL", raising=False)
    return tmp_path


@pytest.fixture
def settings(env: Path) -> Settings:
    return Settings.from_env()


@pytest.fixture
def store(settings: Settings) -> SqliteControlStore:
    return SqliteControlStore(Path(settings.control_url.removeprefix("sqlite:///")), REPO / "configs/system/plans.yml")


@pytest.fixture
def configs_copy(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of configs/ that FOCUSLINE_CONFIGS_DIR points to."""
    target = tmp_path / "configs"
    shutil.copytree(REPO / "configs", target)
    monkeypatch.setenv("FOCUSLINE_CONFIGS_DIR", str(target))
    return target


def tight_plan(
    store: SqliteControlStore, plan_id: str = "tight", daily: int = 100, monthly: int = 1000, concurrent: int = 2
) -> Plan:
    plan = Plan(plan_id, daily, monthly, concurrent)
    store.upsert_plan(plan)
    return plan
