"""The OpenAI pipeline end to end, through the real CLI: fake API on 127.0.0.1, DuckDB, SQLite, dbt."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from demo.openai_api import FakeOpenAIServer, expected_costs, expected_usage
from orchestrator.store import SqliteControlStore
from run import cli
from tests.conftest import REPO, tight_plan

pytestmark = pytest.mark.slow

# The fake serves usage through END, fixed at import: a suite that runs across midnight UTC must not
# see the fake's "yesterday" move under it (CI did, and the lagging Costs day was billed, not estimated).
END = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
START = END - dt.timedelta(days=4)
KEY_A = "sk-admin-test-" + "a" * 32
KEY_B = "sk-admin-test-" + "b" * 32
LINEAGE_RUN_COLUMNS = ("x_run_id", "x_ingested_at", "x_ingestion_date")


def cli_ok(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def setup_org(org: str, key: str, plan: str = "scale") -> None:
    cli_ok("orgs", "create", org, "--plan", plan)
    cli_ok("credentials", "set", org, "openai", stdin=key)


def run_openai(org: str, start: dt.date = START, end: dt.date = END, pipeline: str = "genai/payg/openai"):
    return CliRunner().invoke(cli, ["run", org, pipeline, "--start-date", str(start), "--end-date", str(end), "--json"])


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table's rows, minus the per-run lineage columns, sorted."""
    conn = duckdb.connect(str(warehouse))
    try:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            "order by 1, 2"
        ).fetchall()
        out = {}
        for schema, name in tables:
            cols = [
                c[0]
                for c in conn.execute(f'describe "{schema}"."{name}"').fetchall()
                if c[0] not in LINEAGE_RUN_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{name}"] = sorted(
                conn.execute(f'select {select} from "{schema}"."{name}"').fetchall(), key=repr
            )
        return out
    finally:
        conn.close()


@pytest.fixture
def api_a():
    with FakeOpenAIServer(admin_key=KEY_A, seed="org_alpha", usage_through=END) as api:
        yield api


@pytest.fixture
def pointed(env, monkeypatch, api_a):
    monkeypatch.setenv("FOCUSLINE_OPENAI_BASE_URL", api_a.url)
    return env


def test_rerun_is_idempotent_and_subrange_replaces_only_its_days(pointed, api_a):
    setup_org("org_alpha", KEY_A)
    first = run_openai("org_alpha")
    assert first.exit_code == 0, first.output
    warehouse = pointed / "warehouse" / "org_alpha.duckdb"
    before = snapshot(warehouse)
    assert {"raw.raw_openai_usage", "raw.raw_openai_costs", "main.cost_data_standard_1_3"} <= set(before)
    assert all(before[t] for t in ("raw.raw_openai_usage", "main.cost_data_standard_1_3"))

    assert run_openai("org_alpha").exit_code == 0
    assert snapshot(warehouse) == before  # no duplicates, nothing changed

    sub_day = START + dt.timedelta(days=2)
    assert run_openai("org_alpha", sub_day, sub_day).exit_code == 0
    assert snapshot(warehouse) == before
    conn = duckdb.connect(str(warehouse))
    runs = dict(
        conn.execute(
            "select x_pipeline_run_date, count(distinct x_run_id) from raw.raw_openai_usage group by 1"
        ).fetchall()
    )
    latest = conn.execute(
        "select x_run_id from raw.raw_openai_usage where x_pipeline_run_date = ? limit 1", [sub_day]
    ).fetchone()[0]
    other_runs = {
        r[0]
        for r in conn.execute(
            "select distinct x_run_id from raw.raw_openai_usage where x_pipeline_run_date <> ?", [sub_day]
        ).fetchall()
    }
    conn.close()
    assert set(runs.values()) == {1}
    assert latest not in other_runs  # only the sub-range day was rewritten by the third run


def test_money_and_tokens_reconcile_with_the_api(pointed, api_a):
    setup_org("org_alpha", KEY_A)
    assert run_openai("org_alpha").exit_code == 0
    conn = duckdb.connect(str(pointed / "warehouse" / "org_alpha.duckdb"))
    billed = dict(
        conn.execute(
            "select cast(ChargePeriodStart as date), sum(BilledCost) from main.cost_data_standard_1_3 "
            "where x_CostSource = 'billed' group by 1"
        ).fetchall()
    )
    tokens = conn.execute("select sum(ConsumedQuantity) from main.cost_data_standard_1_3").fetchone()[0]
    estimated_days = {
        r[0]
        for r in conn.execute(
            "select distinct cast(ChargePeriodStart as date) from main.cost_data_standard_1_3 "
            "where x_CostSource = 'estimated'"
        ).fetchall()
    }
    conn.close()
    want: dict[dt.date, Decimal] = {}
    for row in expected_costs(START, END, seed="org_alpha", usage_through=END):
        want[row["day"]] = want.get(row["day"], Decimal(0)) + row["amount"]
    assert {d: round(v, 2) for d, v in billed.items()} == {d: round(v, 2) for d, v in want.items()}
    usage = expected_usage(START, END, seed="org_alpha", usage_through=END)
    assert tokens == sum(r.get("input_tokens", 0) + r.get("output_tokens", 0) for r in usage)
    assert END in estimated_days  # the Costs API lags a day: the estimate stands in


def test_two_organisations_never_see_each_other(pointed, api_a, monkeypatch):
    setup_org("org_alpha", KEY_A)
    assert run_openai("org_alpha").exit_code == 0
    with FakeOpenAIServer(admin_key=KEY_B, seed="org_beta", usage_through=END) as api_b:
        monkeypatch.setenv("FOCUSLINE_OPENAI_BASE_URL", api_b.url)
        setup_org("org_beta", KEY_B)
        assert run_openai("org_beta").exit_code == 0
    for org in ("org_alpha", "org_beta"):
        conn = duckdb.connect(str(pointed / "warehouse" / f"{org}.duckdb"))
        for table in ("raw.raw_openai_usage", "raw.raw_openai_costs", "main.cost_data_standard_1_3"):
            slugs = {r[0] for r in conn.execute(f"select distinct x_org_slug from {table}").fetchall()}
            assert slugs == {org}, (org, table, slugs)
        conn.close()
    history = CliRunner().invoke(cli, ["history", "org_beta", "--json"])
    assert len(yaml.safe_load(history.output)) == 1


def test_rate_limit_then_success(pointed, api_a):
    setup_org("org_alpha", KEY_A)
    api_a.inject("rate_limit", 1, endpoint="completions")
    result = run_openai("org_alpha", END, END, "genai/payg/openai")
    assert result.exit_code == 0, result.output
    statuses = [r.status for r in api_a.requests if "completions" in r.path]
    assert statuses[:2] == [429, 200]


def test_401_fails_at_once_with_a_clear_message(pointed, api_a):
    setup_org("org_alpha", "sk-admin-wrong-" + "c" * 30)
    result = run_openai("org_alpha")
    assert result.exit_code == 1
    assert "401" in result.output and "admin key" in result.output
    assert "c" * 30 not in result.output
    assert len([r for r in api_a.requests if "completions" in r.path]) == 1  # no retry
    run = yaml.safe_load(result.output)
    steps = {s["step_id"]: s for s in run["steps"]}
    assert steps["extract_usage"]["attempts"] == 1 and steps["transform"]["status"] == "skipped"


def test_truncated_body_fails_clearly_and_writes_nothing(pointed, api_a):
    setup_org("org_alpha", KEY_A)
    assert run_openai("org_alpha", END, END).exit_code == 0
    warehouse = pointed / "warehouse" / "org_alpha.duckdb"
    before = snapshot(warehouse)
    api_a.inject("truncate", None, endpoint="costs")
    result = run_openai("org_alpha", END, END)
    assert result.exit_code == 1
    assert "JSON" in result.output or "json" in result.output
    assert snapshot(warehouse)["raw.raw_openai_costs"] == before["raw.raw_openai_costs"]


def test_secret_never_appears_in_logs_errors_or_records(pointed, api_a, caplog):
    secret = KEY_A
    setup_org("org_alpha", secret)
    api_a.inject("rate_limit", 1)
    result = run_openai("org_alpha", END, END)
    assert result.exit_code == 0
    bad = CliRunner().invoke(cli, ["credentials", "set", "org_alpha", "nope"], input=secret)
    assert bad.exit_code == 65
    everything = result.output + bad.output + caplog.text
    for path in pointed.rglob("*"):
        if path.is_file():
            everything += path.read_bytes().decode("latin-1")
    assert secret not in everything
    assert secret[-12:] not in everything


# -- quota and locking across real processes ---------------------------------------------------------


def write_extract_only(configs: Path) -> None:
    path = configs / "test" / "usage_only.yml"
    path.parent.mkdir(parents=True)
    path.write_text(
        yaml.safe_dump(
            {
                "pipeline_id": "test_usage_only",
                "name": "usage only",
                "provider": "openai",
                "domain": "payg",
                "version": "1",
                "steps": [
                    {
                        "step_id": "extract_usage",
                        "ps_type": "genai.payg_usage",
                        "config": {"provider": "openai", "endpoints": ["completions"]},
                    }
                ],
            }
        )
    )


def spawn_run(org: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "run.py", "run", org, "test/usage_only", "--start-date", str(END), "--end-date", str(END)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_limit_across_processes(pointed, api_a, configs_copy, cli_control_store):
    store = cli_control_store
    write_extract_only(configs_copy)
    tight_plan(store, concurrent=2)
    setup_org("org_alpha", KEY_A, plan="tight")
    api_a.inject("slow", None, seconds=3)
    procs = [spawn_run("org_alpha", dict(os.environ)) for _ in range(5)]
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 0, 75, 75, 75], results
    refused = [err for code, err in results if code == 75]
    assert all("Concurrent pipeline limit (2) reached" in err for err in refused)
    assert len(store.list_runs("org_alpha")) == 2  # refused runs wrote nothing
    assert store.quota_usage("org_alpha")["concurrent_running"] == 0


def test_daily_limit_via_cli(pointed, api_a, configs_copy, cli_control_store):
    store = cli_control_store
    write_extract_only(configs_copy)
    tight_plan(store, daily=2, concurrent=5)
    setup_org("org_alpha", KEY_A, plan="tight")
    assert run_openai("org_alpha", END, END, "test/usage_only").exit_code == 0
    assert run_openai("org_alpha", END, END, "test/usage_only").exit_code == 0
    third = run_openai("org_alpha", END, END, "test/usage_only")
    assert third.exit_code == 75
    assert "Daily pipeline limit (2) reached" in third.output


def test_killed_run_reservation_is_reclaimed(pointed, api_a, configs_copy, cli_control_store):
    store = cli_control_store
    write_extract_only(configs_copy)
    tight_plan(store, concurrent=1)
    setup_org("org_alpha", KEY_A, plan="tight")
    api_a.inject("slow", 1, seconds=30)
    victim = spawn_run("org_alpha", dict(os.environ))
    deadline = time.monotonic() + 30
    while not any(r["status"] == "running" for r in store.list_runs("org_alpha")):
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    api_a.clear_faults()
    result = run_openai("org_alpha", END, END, "test/usage_only")
    assert result.exit_code == 0, result.output
    runs = store.list_runs("org_alpha")
    dead = [r for r in runs if r["status"] == "failed"]
    assert len(dead) == 1 and "reclaimed" in dead[0]["error"]


def test_same_org_writers_queue_then_give_up_clearly(pointed, settings):
    from focusline.errors import WarehouseBusyError
    from focusline.warehouse import warehouse_lock

    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    holder = hold_warehouse_lock(settings.warehouse_path("org_lock"))
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="organisation 'org_lock' is busy"):
            with warehouse_lock(settings, "org_lock", timeout=1):
                pass
        assert time.monotonic() - started >= 1
    finally:
        holder.kill()
        holder.wait()
    with warehouse_lock(settings, "org_lock", timeout=1):
        pass  # free again once the holder is gone


def test_store_file_is_the_default_sqlite(pointed):
    setup_org("org_alpha", KEY_A)
    assert SqliteControlStore(pointed / "state" / "control.db").get_org("org_alpha")["plan_id"] == "scale"


def hold_warehouse_lock(path: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, time\n"
            f"fd = os.open({str(path)!r} + '.lock', os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_busy_warehouse_makes_the_run_exit_75(pointed, api_a, configs_copy, settings, monkeypatch):
    write_extract_only(configs_copy)
    setup_org("org_alpha", KEY_A)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    holder = hold_warehouse_lock(settings.warehouse_path("org_alpha"))
    monkeypatch.setenv("FOCUSLINE_WAREHOUSE_LOCK_TIMEOUT", "1")
    try:
        result = run_openai("org_alpha", END, END, "test/usage_only")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 75, result.output
    assert "organisation 'org_alpha' is busy" in result.output
    assert not settings.warehouse_path("org_alpha").exists()  # nothing half-written


def test_failing_dbt_node_fails_the_step_with_its_name(pointed, configs_copy):
    path = configs_copy / "test" / "dbt_only.yml"
    path.parent.mkdir(parents=True)
    path.write_text(
        yaml.safe_dump(
            {
                "pipeline_id": "test_dbt_only",
                "name": "dbt only",
                "provider": "openai",
                "domain": "payg",
                "version": "1",
                "steps": [
                    {"step_id": "transform", "ps_type": "dbt.build", "config": {"select": "stg_openai__usage_results"}}
                ],
            }
        )
    )
    # no data: the dbt step creates the raw tables empty, the staging view builds, and the singular
    # test selected with it fails because the mart was never built
    cli_ok("orgs", "create", "org_empty")
    result = run_openai("org_empty", END, END, "test/dbt_only")
    assert result.exit_code == 1, result.output
    step = yaml.safe_load(result.output)["steps"][0]
    assert step["status"] == "failed"
    assert "test.focusline.assert_token_counts_match_openai_usage_per_day" in step["error"]
    assert "cost_data_standard_1_3" in step["error"]
