"""Shared fixtures: every test gets its own state dir, warehouse dir and SQLite control store.

``control_store`` is the same store on each backend (SQLite, then a fresh database on a throwaway
PostgreSQL server started once per session); a module opts in by overriding ``store`` with it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from focusline.settings import PROJECT_DIR, Settings
from orchestrator.store import ControlStore, Plan, SqliteControlStore
from tests.pg_server import PostgresServer, PostgresUnavailable

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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session. Missing PostgreSQL fails (never skips) the tests."""
    try:
        server, problem = PostgresServer.start_new(), ""
    except PostgresUnavailable as exc:
        problem = str(exc)
    if problem:
        pytest.fail(f"PostgreSQL is needed for this test: {problem}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def control_store(request: pytest.FixtureRequest, settings: Settings) -> ControlStore:
    """The control store on each backend, with the plans of configs/system/plans.yml."""
    plans = REPO / "configs/system/plans.yml"
    if request.param == "sqlite":
        return SqliteControlStore(Path(settings.control_url.removeprefix("sqlite:///")), plans)
    from orchestrator.store_postgres import PostgresControlStore

    return PostgresControlStore(request.getfixturevalue("pg_url"), plans)


@pytest.fixture
def cli_control_store(control_store: ControlStore, monkeypatch: pytest.MonkeyPatch) -> ControlStore:
    """``control_store`` on each backend, also selected by FOCUSLINE_CONTROL_URL for CLI processes."""
    monkeypatch.setenv("FOCUSLINE_CONTROL_URL", control_store.url)
    return control_store


@pytest.fixture
def configs_copy(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of configs/ that FOCUSLINE_CONFIGS_DIR points to."""
    target = tmp_path / "configs"
    shutil.copytree(REPO / "configs", target)
    monkeypatch.setenv("FOCUSLINE_CONFIGS_DIR", str(target))
    return target


def tight_plan(
    store: ControlStore, plan_id: str = "tight", daily: int = 100, monthly: int = 1000, concurrent: int = 2
) -> Plan:
    plan = Plan(plan_id, daily, monthly, concurrent)
    store.upsert_plan(plan)
    return plan
