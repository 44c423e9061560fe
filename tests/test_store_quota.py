"""Control store and quota on a real SQLite file: lifecycle, atomic reserve, release, reclaim."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from focusline.errors import QuotaExceededError, UsageError
from orchestrator.store import ProcessIdentity, SqliteControlStore
from tests.conftest import tight_plan

DAY = dt.date(2026, 11, 1)


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
    import psutil

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


def _race(path: str, barrier, results) -> None:
    store = SqliteControlStore(Path(path))
    barrier.wait()
    try:
        reserve(store)
        results.put("won")
    except QuotaExceededError as exc:
        results.put(str(exc))


def test_reserve_is_exact_under_process_races(store):
    tight_plan(store, concurrent=3, daily=1000)
    store.create_org("org_quota", plan_id="tight")
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):
        barrier, results = ctx.Barrier(12), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(str(store.path), barrier, results)) for _ in range(12)]
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
