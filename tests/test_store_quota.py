"""Control store and quota on both backends (a real SQLite file and a real PostgreSQL server):
lifecycle, atomic reserve, release, reclaim, process races, and the CLI on PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from click.testing import CliRunner

from focusline.errors import ConfigError, QuotaExceededError, UsageError
from orchestrator.store import ControlStore, ProcessIdentity, SqliteControlStore, StoredCredential, open_store
from orchestrator.store_postgres import PostgresControlStore, redact_url, translate
from tests.conftest import REPO, tight_plan
from tests.pg_server import free_port

DAY = dt.date(2026, 11, 1)


@pytest.fixture
def store(control_store: ControlStore) -> ControlStore:
    """Every test of this module runs on SQLite and on PostgreSQL."""
    return control_store


def reserve(store, org="org_quota", holder=None, timeout_minutes=30):
    return store.reserve_run(
        org,
        pipeline_id="p",
        pipeline_name="x/p",
        start_date=DAY,
        end_date=DAY,
        target="local",
        timeout_minutes=timeout_minutes,
        holder=holder or ProcessIdentity.current(),
    )


def finish(store, run_id, status="completed"):
    store.transition(run_id, "validating")
    store.transition(run_id, "running")
    store.finish_run(run_id, status, None if status == "completed" else "boom")


def test_lifecycle_and_transitions_are_recorded(store):
    store.create_org("org_quota")
    run_id = reserve(store)
    assert store.get_run("org_quota", run_id)["status"] == "pending"
    finish(store, run_id)
    transitions = store.list_transitions(run_id)
    assert [(t["from_status"], t["to_status"]) for t in transitions] == [
        (None, "pending"),
        ("pending", "validating"),
        ("validating", "running"),
        ("running", "completed"),
    ]
    assert all(t["at"].endswith("Z") for t in transitions)
    run = store.get_run("org_quota", run_id)
    assert run["finished_at"] and run["started_at"]
    with pytest.raises(UsageError, match="cannot go from completed to running"):
        store.transition(run_id, "running")


def test_runs_are_scoped_to_their_org(store):
    store.create_org("org_one")
    store.create_org("org_two")
    run_id = reserve(store, "org_one")
    with pytest.raises(UsageError, match="no run"):
        store.get_run("org_two", run_id)
    assert store.list_runs("org_two") == []


def test_daily_limit_is_exact_and_refusal_writes_nothing(store):
    tight_plan(store, daily=3, concurrent=10)
    store.create_org("org_quota", plan_id="tight")
    for _ in range(3):
        finish(store, reserve(store))
    with pytest.raises(QuotaExceededError, match=r"^Daily pipeline limit \(3\) reached$"):
        reserve(store)
    assert len(store.list_runs("org_quota")) == 3
    usage = store.quota_usage("org_quota")
    assert (usage["runs_today"], usage["succeeded_today"], usage["concurrent_running"]) == (3, 3, 0)


def test_monthly_limit(store):
    tight_plan(store, daily=10, monthly=2, concurrent=10)
    store.create_org("org_quota", plan_id="tight")
    finish(store, reserve(store))
    finish(store, reserve(store), "failed")
    with pytest.raises(QuotaExceededError, match=r"Monthly pipeline limit \(2\) reached"):
        reserve(store)
    usage = store.quota_usage("org_quota")
    assert (usage["succeeded_today"], usage["failed_today"]) == (1, 1)


def test_concurrent_limit_and_release(store):
    tight_plan(store, concurrent=2)
    store.create_org("org_quota", plan_id="tight")
    first, second = reserve(store), reserve(store)
    with pytest.raises(QuotaExceededError, match=r"Concurrent pipeline limit \(2\) reached"):
        reserve(store)
    finish(store, first)
    third = reserve(store)  # the slot was released
    assert store.quota_usage("org_quota")["concurrent_running"] == 2
    finish(store, second, "failed")
    finish(store, third)
    assert store.quota_usage("org_quota")["concurrent_running"] == 0


@pytest.mark.parametrize("status", ["SUSPENDED", "CANCELLED", "PAST_DUE"])
def test_only_active_and_trial_subscriptions_run(store, status):
    store.create_org("org_quota", status="TRIAL")
    finish(store, reserve(store))
    store.set_subscription_status("org_quota", status)
    with pytest.raises(QuotaExceededError, match=f"Subscription status {status} does not allow"):
        reserve(store)


def test_unknown_org_and_plan(store):
    with pytest.raises(UsageError, match="unknown organisation"):
        reserve(store, "org_missing")
    with pytest.raises(UsageError, match="unknown plan 'gold'"):
        store.create_org("org_quota", plan_id="gold")
    with pytest.raises(UsageError, match="invalid organisation slug"):
        store.create_org("Robert'); drop table orgs;--")


def test_dead_process_reservation_is_reclaimed(store):
    tight_plan(store, concurrent=1)
    store.create_org("org_quota", plan_id="tight")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    holder = ProcessIdentity(ProcessIdentity.current().host, child.pid, psutil.Process(child.pid).create_time())
    child.wait()
    dead_run = reserve(store, holder=holder)
    live_run = reserve(store)  # the dead run's slot is reclaimed first
    dead = store.get_run("org_quota", dead_run)
    assert dead["status"] == "failed" and f"process {child.pid}" in dead["error"]
    assert store.get_run("org_quota", live_run)["status"] == "pending"


def test_expired_reservation_is_reclaimed(store):
    tight_plan(store, concurrent=1)
    store.create_org("org_quota", plan_id="tight")
    old = reserve(store, timeout_minutes=-10)  # expired 5 minutes ago (timeout + 5 min grace)
    reserve(store)
    assert "reservation expired" in store.get_run("org_quota", old)["error"]


def _race(url: str, barrier, results) -> None:
    store = open_store(url, None)
    barrier.wait()
    try:
        reserve(store)
        results.put("won")
    except QuotaExceededError as exc:
        results.put(str(exc))
    # a winner that exits while others still reserve is a dead holder: its slot would rightly be reclaimed
    barrier.wait()


def test_reserve_is_exact_under_process_races(store):
    tight_plan(store, concurrent=3, daily=1000)
    store.create_org("org_quota", plan_id="tight")
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):
        barrier, results = ctx.Barrier(12), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(store.url, barrier, results)) for _ in range(12)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        outcomes = sorted(results.get(timeout=5) for _ in procs)
        assert outcomes.count("won") == 3, outcomes
        assert set(outcomes) - {"won"} == {"Concurrent pipeline limit (3) reached"}
        for run in store.list_runs("org_quota", limit=100):
            if run["status"] == "pending":
                finish(store, run["run_id"])
        assert store.quota_usage("org_quota")["concurrent_running"] == 0


# -- PostgreSQL: 20 processes race for 3 slots, 20 times, on one pool of spawned workers ---------------
_worker_barrier = None
_worker_stores: dict[str, ControlStore] = {}


def _init_race_worker(barrier) -> None:
    global _worker_barrier
    _worker_barrier = barrier


def _race_once(url: str) -> tuple[str, str]:
    if url not in _worker_stores:
        _worker_stores[url] = open_store(url, None)
    store = _worker_stores[url]
    _worker_barrier.wait(timeout=60)
    try:
        return "won", reserve(store)
    except QuotaExceededError as exc:
        return "refused", str(exc)


@pytest.mark.slow
def test_postgres_reserve_is_exact_20_processes_20_times(pg_url):
    store = PostgresControlStore(pg_url, REPO / "configs/system/plans.yml")
    tight_plan(store, concurrent=3, daily=1000)
    store.create_org("org_quota", plan_id="tight")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(20)
    with ctx.Pool(20, initializer=_init_race_worker, initargs=(barrier,)) as pool:
        for repetition in range(20):
            outcomes = pool.map(_race_once, [pg_url] * 20, chunksize=1)
            winners = [value for kind, value in outcomes if kind == "won"]
            refusals = {value for kind, value in outcomes if kind == "refused"}
            assert len(winners) == 3, (repetition, outcomes)
            assert refusals == {"Concurrent pipeline limit (3) reached"}, (repetition, outcomes)
            assert store.quota_usage("org_quota")["concurrent_running"] == 3
            for run_id in winners:
                finish(store, run_id)
            assert store.quota_usage("org_quota")["concurrent_running"] == 0
    usage = store.quota_usage("org_quota")
    assert (usage["runs_today"], usage["succeeded_today"]) == (60, 60)
    assert len(store.list_runs("org_quota", limit=1000)) == 60  # refused runs wrote nothing


def test_postgres_two_reclaimers_do_not_double_release(pg_url):
    """Two processes reclaim the same dead reservation at once: it is released exactly once."""
    store = PostgresControlStore(pg_url, REPO / "configs/system/plans.yml")
    tight_plan(store, concurrent=5)
    store.create_org("org_quota", plan_id="tight")
    expired = [reserve(store) for _ in range(3)]
    live = reserve(store)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # expire three of them behind the store's back
        conn.execute(
            "update pipeline_runs set expires_at = '2000-01-01T00:00:00.000000Z' where run_id = any(%s)", (expired,)
        )
    barrier = threading.Barrier(6)
    reclaimed: list[list[str]] = []

    def reclaim() -> None:
        mine = PostgresControlStore(pg_url)
        barrier.wait(timeout=30)
        reclaimed.append(mine.reclaim_dead_reservations("org_quota"))

    threads = [threading.Thread(target=reclaim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(len(r) for r in reclaimed) == [0, 0, 0, 0, 0, 3]
    assert store.quota_usage("org_quota")["concurrent_running"] == 1
    assert store.get_run("org_quota", live)["status"] == "pending"
    assert {store.get_run("org_quota", r)["error"] for r in expired} == {"reclaimed: reservation expired"}
    assert store.quota_usage("org_quota")["failed_today"] == 3


def test_postgres_schema_creation_is_safe_when_concurrent(pg_url):
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait(timeout=30)
        try:
            PostgresControlStore(pg_url, REPO / "configs/system/plans.yml")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    store = PostgresControlStore(pg_url)
    store.create_org("org_schema")
    assert [o["org_slug"] for o in store.list_orgs()] == ["org_schema"]


# -- the rest of the interface, and identical shapes on both backends ------------------------------------
def test_steps_and_credentials(store):
    store.create_org("org_quota")
    run_id = reserve(store)
    first = store.start_step_attempt(run_id, "extract", "genai.payg_usage", 1)
    store.finish_step_attempt(first, "retrying", error="HTTP 503")
    second = store.start_step_attempt(run_id, "extract", "genai.payg_usage", 2)
    assert isinstance(first, int) and second > first
    store.finish_step_attempt(second, "completed", rows=42)
    store.record_step_skipped(run_id, "transform", "dbt.build", "upstream failed")
    steps = store.list_steps(run_id)
    assert [(s["step_id"], s["attempt"], s["status"], s["rows_written"]) for s in steps] == [
        ("extract", 1, "retrying", None),
        ("extract", 2, "completed", 42),
        ("transform", 0, "skipped", None),
    ]
    with pytest.raises(UsageError, match="unknown step status"):
        store.finish_step_attempt(second, "exploded")

    secret = StoredCredential(
        "org_quota", "openai", "openai_default", "local:k1", b"\x00wrap\xff", b"n" * 12, b"\x00c", ""
    )
    store.put_credential(secret)
    got = store.get_credential("org_quota", "openai", None)
    assert (got.wrapped_key, got.nonce, got.ciphertext, got.key_ref) == (
        b"\x00wrap\xff",
        b"n" * 12,
        b"\x00c",
        "local:k1",
    )
    assert got.updated_at.endswith("Z")
    assert store.rewrap_credential(got, key_ref="kms:v2", wrapped_key=b"\x01")
    assert not store.rewrap_credential(got, key_ref="kms:v3", wrapped_key=b"\x02")  # changed meanwhile
    assert [c.key_ref for c in store.list_stored_credentials("org_quota")] == ["kms:v2"]
    stale = store.get_credential("org_quota", "openai", None)
    # `credentials set` again under the same key version: a new nonce and wrapped key
    store.put_credential(dataclasses.replace(stale, nonce=b"m" * 12, wrapped_key=b"\x03"))
    assert not store.rewrap_credential(stale, key_ref="kms:v4", wrapped_key=b"\x04")
    assert store.get_credential("org_quota", "openai", None).wrapped_key == b"\x03"
    assert [sorted(c) for c in store.list_credentials("org_quota")] == [
        ["created_at", "credential_id", "key_ref", "provider", "updated_at"]
    ]
    with pytest.raises(UsageError, match="has no anthropic credential"):
        store.get_credential("org_quota", "anthropic", None)


def test_org_admin(store):
    created = store.create_org("org_admin", status="TRIAL")
    assert (created["plan_id"], created["subscription_status"]) == ("starter", "TRIAL")
    with pytest.raises(UsageError, match="already exists"):
        store.create_org("org_admin")
    assert store.set_plan("org_admin", "scale")["concurrent_limit"] == 10
    assert store.set_subscription_status("org_admin", "SUSPENDED")["subscription_status"] == "SUSPENDED"
    with pytest.raises(UsageError, match="unknown subscription status"):
        store.set_subscription_status("org_admin", "GONE")
    assert store.list_orgs() == [
        {
            "org_slug": "org_admin",
            "plan_id": "scale",
            "subscription_status": "SUSPENDED",
            "created_at": created["created_at"],
        }
    ]
    with pytest.raises(UsageError, match="is not a final run status"):
        store.finish_run("nope", "running")
    with pytest.raises(UsageError, match="unknown run 'nope'"):
        store.finish_run("nope", "failed")


def _shape(value):
    """Types, keys and the 'Z' suffix of a store result, without its ids and times."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, str) and value.endswith("Z"):
        return "iso-z"
    return type(value).__name__


def _exercise(store: ControlStore) -> list:
    tight_plan(store, concurrent=1)
    store.create_org("org_shape", plan_id="tight")
    run_id = reserve(store, "org_shape")
    step = store.start_step_attempt(run_id, "s", "t", 1)
    store.finish_step_attempt(step, "completed", rows=1)
    finish(store, run_id)
    return [
        store.get_org("org_shape"),
        store.list_orgs(),
        store.get_run("org_shape", run_id),
        store.list_runs("org_shape"),
        store.quota_usage("org_shape"),
        store.list_steps(run_id),
        store.list_transitions(run_id),
        store.get_plan("tight"),
    ]


def test_backends_return_the_same_shapes(settings, pg_url):
    plans = REPO / "configs/system/plans.yml"
    sqlite = _exercise(SqliteControlStore(Path(settings.control_url.removeprefix("sqlite:///")), plans))
    postgres = _exercise(PostgresControlStore(pg_url, plans))
    assert _shape(postgres) == _shape(sqlite)
    assert postgres[-1] == sqlite[-1]  # the Plan dataclass
    assert postgres[0] | {"created_at": ""} == sqlite[0] | {"created_at": ""}


# -- URLs, the CLI on PostgreSQL, and no password in errors ---------------------------------------------
def test_translate_paramstyle():
    assert translate("select * from t where a = ? and b = :day and c::text like '5%'") == (
        "select * from t where a = %s and b = %(day)s and c::text like '5%%'"
    )


def test_open_store_schemes(pg_url, tmp_path):
    assert isinstance(open_store(pg_url, None), PostgresControlStore)
    assert isinstance(open_store(pg_url.replace("postgresql://", "postgres://"), None), PostgresControlStore)
    assert isinstance(open_store(f"sqlite:///{tmp_path / 'c.db'}", None), SqliteControlStore)
    with pytest.raises(ConfigError, match="unsupported control store scheme 'mysql'"):
        open_store("mysql://u:pw@h/db", None)


def test_cli_on_postgres(env, pg_url, monkeypatch):
    from run import cli

    monkeypatch.setenv("FOCUSLINE_CONTROL_URL", pg_url)
    runner = CliRunner()
    created = runner.invoke(cli, ["orgs", "create", "org_cli_pg", "--json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["plan_id"] == "starter"
    changed = runner.invoke(cli, ["orgs", "set-plan", "org_cli_pg", "scale", "--json"])
    assert changed.exit_code == 0, changed.output
    listed = runner.invoke(cli, ["orgs", "list", "--json"])
    assert [o["plan_id"] for o in json.loads(listed.stdout)] == ["scale"]
    quota = runner.invoke(cli, ["orgs", "quota", "org_cli_pg", "--json"])
    assert json.loads(quota.stdout)["concurrent_limit"] == 10
    again = runner.invoke(cli, ["orgs", "create", "org_cli_pg"])
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert PostgresControlStore(pg_url).get_org("org_cli_pg")["plan_id"] == "scale"
    assert not (env / "state" / "control.db").exists()  # nothing went to the SQLite default


def test_cli_run_py_subprocess_on_postgres(env, pg_url):
    environ = {**os.environ, "FOCUSLINE_CONTROL_URL": pg_url}
    proc = subprocess.run(
        [sys.executable, "run.py", "orgs", "create", "org_sub_pg"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert PostgresControlStore(pg_url).get_org("org_sub_pg")["plan_id"] == "starter"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://focusline:s3cr3t-pw@127.0.0.1:{port}/db",
        "postgresql://focusline@127.0.0.1:{port}/db?password=s3cr3t-pw&sslmode=disable",
    ],
)
def test_connection_errors_never_show_the_password(env, monkeypatch, url):
    from run import cli

    url = url.format(port=free_port())  # nothing listens there
    monkeypatch.setenv("FOCUSLINE_CONTROL_URL", url)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["orgs", "list"])
    assert time.monotonic() - started < 30
    assert result.exit_code == 78, result.output
    assert "cannot connect to the control store postgresql://focusline" in result.stderr
    assert "***" in result.stderr
    assert "s3cr3t-pw" not in result.output + result.stderr
    assert "s3cr3t-pw" not in redact_url(url)


def test_holder_identity_survives_the_round_trip(store):
    """holder_started_at must keep sub-second precision (a 4-byte real would declare live runs dead)."""
    tight_plan(store, concurrent=1)
    store.create_org("org_quota", plan_id="tight")
    me = ProcessIdentity.current()
    assert me.started_at == psutil.Process().create_time()
    run_id = reserve(store, holder=me)
    assert store.reclaim_dead_reservations("org_quota") == []
    assert store.get_run("org_quota", run_id)["status"] == "pending"
