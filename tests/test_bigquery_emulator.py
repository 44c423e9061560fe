"""The BigQuery production path, run for real against a local emulator (tests/bq_emulator.py).

* the raw loader: load job into a staging table + one MERGE per idempotency key, partitioning and
  clustering, additive schema evolution, no streaming inserts, nothing left behind;
* ``python run.py run ORG genai/payg/openai --target bigquery`` end to end (fake OpenAI API ->
  BigQuery raw tables -> dbt on BigQuery -> FOCUS 1.3), and its parity with the DuckDB target on the
  same data: row count and BilledCost / EffectiveCost / ListCost per day, to the cent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from google.cloud import bigquery

from demo.openai_api import FakeOpenAIServer
from extract.bigquery_load import STAGING_PREFIX, bigquery_type
from extract.load import Lineage, RawTable, replace_rows
from extract.openai.schemas import RAW_OPENAI_COSTS
from focusline.bigquery import BigQuerySettings, org_dataset
from focusline.errors import ConfigError
from focusline.settings import Settings
from run import cli
from tests.bq_emulator import BigQueryEmulator, start_emulator

pytestmark = pytest.mark.slow

# Fixed at import and given to the fake: a run across midnight UTC must not move the fake's "yesterday".
END = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
START = END - dt.timedelta(days=4)
D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
CENT = Decimal("0.01")


@pytest.fixture(scope="session")
def bq_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    with start_emulator(tmp_path_factory.mktemp("bqemu")) as emulator:
        yield emulator


@pytest.fixture
def bq_env(bq_emulator: BigQueryEmulator, env: Path, monkeypatch: pytest.MonkeyPatch) -> BigQueryEmulator:
    for key, value in bq_emulator.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FOCUSLINE_ENV", "test")
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return bq_emulator


@pytest.fixture
def client(bq_env: BigQueryEmulator) -> Iterator[bigquery.Client]:
    client = BigQuerySettings.from_env().client()
    yield client
    client.close()


@pytest.fixture
def no_streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streaming inserts are not how focusline loads; fail loudly if anything tries."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("streaming insert used; the loader must use load jobs")

    monkeypatch.setattr(bigquery.Client, "insert_rows", refuse)
    monkeypatch.setattr(bigquery.Client, "insert_rows_json", refuse)


def cost_row(day: dt.date, amount: str, project: str = "proj_1", line_item: str = "gpt-5.4, input") -> dict[str, Any]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return {
        "result_object": "organization.costs.result",
        "bucket_start_at": start,
        "bucket_end_at": start + dt.timedelta(days=1),
        "bucket_date": day,
        "amount_value": Decimal(amount),
        "amount_currency": "usd",
        "line_item": line_item,
        "project_id": project,
        "result_json": json.dumps({"amount": {"value": amount, "currency": "usd"}, "line_item": line_item}),
        "x_request_url": "https://api.openai.com/v1/organization/costs?start_time=1",
    }


def rows_by_key(client: bigquery.Client, table: str) -> list[tuple[Any, ...]]:
    return [
        tuple(row.values())
        for row in client.query(
            f"select x_credential_id, x_pipeline_run_date, amount_value, line_item, x_run_id from {table} "
            "order by x_credential_id, x_pipeline_run_date, line_item"
        ).result()
    ]


def test_dataset_name_is_org_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOCUSLINE_ENV", raising=False)
    assert org_dataset("acme_corp") == "acme_corp_local"
    monkeypatch.setenv("FOCUSLINE_ENV", "prod")
    assert org_dataset("acme_corp") == "acme_corp_prod"
    monkeypatch.setenv("FOCUSLINE_ENV", "prod-eu; drop")
    with pytest.raises(ConfigError, match="FOCUSLINE_ENV"):
        org_dataset("acme_corp")


def test_bigquery_types_from_the_raw_column_spec() -> None:
    assert [bigquery_type(t) for t in ("VARCHAR", "BIGINT", "BOOLEAN", "DATE", "TIMESTAMP", "JSON")] == [
        "STRING",
        "INT64",
        "BOOL",
        "DATE",
        "TIMESTAMP",
        "JSON",
    ]
    assert bigquery_type("DECIMAL(38,9)") == "NUMERIC"
    assert bigquery_type("DECIMAL(38,12)") == "BIGNUMERIC"  # more than 9 fractional digits
    assert bigquery_type("DECIMAL(38, 0)") == "BIGNUMERIC"  # more than 29 integer digits


def test_loader_replaces_by_key_with_a_load_job_and_one_merge(
    bq_env: BigQueryEmulator, client: bigquery.Client, settings: Settings, no_streaming: None
) -> None:
    org = "bq_loader_org"
    table = f"`{bq_env.project}.{org}_test.raw_openai_costs`"
    key_a = Lineage(org, "genai_payg_openai", "openai_a", "run-1")
    key_b = Lineage(org, "genai_payg_openai", "openai_b", "run-1")
    replace_rows(
        settings, RAW_OPENAI_COSTS, [cost_row(D1, "1.5"), cost_row(D2, "2.25")], key_a, [D1, D2], target="bigquery"
    )
    replace_rows(settings, RAW_OPENAI_COSTS, [cost_row(D1, "7.000000001")], key_b, [D1], target="bigquery")

    # the same key again, restated: day 1 changed, day 2 gone upstream -> replaced, not appended
    rerun = Lineage(org, "genai_payg_openai", "openai_a", "run-2")
    rows = [cost_row(D1, "1.123456789", line_item="a"), cost_row(D1, "0.000000001", line_item="b")]
    assert replace_rows(settings, RAW_OPENAI_COSTS, rows, rerun, [D1, D2], target="bigquery") == 2
    assert rows_by_key(client, table) == [
        ("openai_a", D1, Decimal("1.123456789"), "a", "run-2"),
        ("openai_a", D1, Decimal("0.000000001"), "b", "run-2"),
        ("openai_b", D1, Decimal("7.000000001"), "gpt-5.4, input", "run-1"),  # other key untouched
    ]
    # an empty load of a named day deletes that day's rows of the key (data gone upstream)
    replace_rows(settings, RAW_OPENAI_COSTS, [], rerun, [D1], target="bigquery")
    assert [r[0] for r in rows_by_key(client, table)] == ["openai_b"]

    raw = client.get_table(f"{bq_env.project}.{org}_test.raw_openai_costs")
    assert raw.time_partitioning.field == "x_pipeline_run_date"
    assert raw.time_partitioning.type_ == "DAY"
    types = {f.name: f.field_type for f in raw.schema}
    assert types["amount_value"] == "NUMERIC"
    assert types["result_json"] == "JSON"
    assert types["bucket_start_at"] == "TIMESTAMP"
    assert types["x_pipeline_run_date"] == "DATE"
    assert [t.table_id for t in client.list_tables(f"{org}_test") if t.table_id.startswith(STAGING_PREFIX)] == []
    stored = next(iter(client.query(f"select bucket_start_at, result_json from {table}").result()))
    assert stored[0] == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert stored[1]["line_item"] == "gpt-5.4, input"


def test_loader_adds_new_columns_to_an_existing_table(
    bq_env: BigQueryEmulator, client: bigquery.Client, settings: Settings
) -> None:
    org = "bq_evolve_org"
    lineage = Lineage(org, "genai_payg_openai", "openai_default", "run-1")
    v1 = RawTable("raw_evolving", (("name", "VARCHAR"), ("day", "DATE")), date_column="day")
    v2 = RawTable(
        "raw_evolving",
        (("name", "VARCHAR"), ("day", "DATE"), ("tokens", "BIGINT"), ("amount", "DECIMAL(38,9)"), ("ok", "BOOLEAN")),
        date_column="day",
    )
    replace_rows(settings, v1, [{"name": "old", "day": D1}], lineage, [D1], target="bigquery")
    replace_rows(
        settings,
        v2,
        [{"name": "new", "day": D3, "tokens": 42, "amount": Decimal("0.5"), "ok": True}],
        lineage,
        [D3],
        target="bigquery",
    )
    table = f"`{bq_env.project}.{org}_test.raw_evolving`"
    assert [
        tuple(r.values()) for r in client.query(f"select name, tokens, amount, ok from {table} order by day").result()
    ] == [
        ("old", None, None, None),
        ("new", 42, Decimal("0.5"), True),
    ]
    # (bqemulator 1.4.0 does not show ALTER-added columns in tables.get, so the data is the check)
    replace_rows(settings, v2, [{"name": "again", "day": D3}], lineage, [D3], target="bigquery")  # idempotent DDL
    assert client.query(f"select count(*) from {table}").result().total_rows == 1


# -- the whole pipeline through the CLI, and parity with DuckDB -----------------------------------------------

PER_DAY_SQL = """
    select cast(cast(ChargePeriodStart as date) as string) as day,
           count(*) as focus_rows,
           sum(BilledCost) as billed_cost,
           sum(EffectiveCost) as effective_cost,
           sum(ListCost) as list_cost
    from {table} group by 1 order by 1
"""


def per_day(rows: list[tuple[Any, ...]]) -> dict[str, tuple[int, Decimal, Decimal, Decimal]]:
    return {
        str(day): (int(n), *(Decimal(v).quantize(CENT) for v in (billed, effective, listed)))
        for day, n, billed, effective, listed in rows
    }


def cli_run(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_pipeline_on_bigquery_matches_duckdb(
    bq_env: BigQueryEmulator, client: bigquery.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, key = "parity_org", "sk-admin-parity-" + "p" * 32
    with FakeOpenAIServer(admin_key=key, seed=org, usage_through=END) as api:
        monkeypatch.setenv("FOCUSLINE_OPENAI_BASE_URL", api.url)
        cli_run("orgs", "create", org, "--plan", "scale")
        cli_run("credentials", "set", org, "openai", stdin=key)
        span = ["--start-date", str(START), "--end-date", str(END)]
        bq = json.loads(cli_run("run", org, "genai/payg/openai", *span, "--target", "bigquery", "--json"))
        local = json.loads(cli_run("run", org, "genai/payg/openai", *span, "--target", "local", "--json"))
    assert bq["status"] == "completed", bq
    assert local["status"] == "completed", local

    bq_rows = [
        tuple(r.values())
        for r in client.query(
            PER_DAY_SQL.format(table=f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`")
        ).result()
    ]
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        duck_rows = conn.execute(PER_DAY_SQL.format(table="main.cost_data_standard_1_3")).fetchall()
    finally:
        conn.close()
    on_bigquery, on_duckdb = per_day(bq_rows), per_day(duck_rows)
    assert len(on_duckdb) == (END - START).days + 1
    assert on_bigquery == on_duckdb
    # both datasets live in the organisation's dataset, raw tables beside the dbt models
    tables = {t.table_id for t in client.list_tables(f"{org}_test")}
    assert {"raw_openai_usage", "raw_openai_costs", "cost_data_standard_1_3"} <= tables
    mart = client.get_table(f"{bq_env.project}.{org}_test.cost_data_standard_1_3")
    assert [f.name for f in mart.schema][:2] == ["AllocatedMethodDetails", "AllocatedMethodId"]  # case kept
    # bqemulator records neither the partitioning nor the clustering of a CTAS: check what dbt sent
    dbt_sql = "\n".join(p.read_text() for p in (settings.state_dir / "dbt").glob(f"{bq['run_id']}/*/logs/dbt.log"))
    assert "partition by timestamp_trunc(chargeperiodstart, day)" in dbt_sql
    assert "cluster by x_ProviderSlug, x_credential_id, SubAccountId" in dbt_sql
    assert "partition by usage_date" in dbt_sql

    # re-running a sub-range on BigQuery (window delete + merge in the incremental models, one MERGE
    # per key in the loader) replaces only that day and changes nothing: no duplicates, same money
    def raw_counts() -> dict[str, int]:
        return {
            t: next(iter(client.query(f"select count(*) as n from `{bq_env.project}.{org}_test.{t}`").result())).n
            for t in ("raw_openai_usage", "raw_openai_costs", "cost_data_standard_1_3")
        }

    before = raw_counts()
    with FakeOpenAIServer(admin_key=key, seed=org, usage_through=END) as api:
        monkeypatch.setenv("FOCUSLINE_OPENAI_BASE_URL", api.url)
        day = ["--start-date", str(END - dt.timedelta(days=1)), "--end-date", str(END - dt.timedelta(days=1))]
        again = json.loads(cli_run("run", org, "genai/payg/openai", *day, "--target", "bigquery", "--json"))
    assert again["status"] == "completed", again
    assert raw_counts() == before
    rerun_rows = [
        tuple(r.values())
        for r in client.query(
            PER_DAY_SQL.format(table=f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`")
        ).result()
    ]
    assert per_day(rerun_rows) == on_duckdb
    runs_per_day = {
        str(r.d): r.runs
        for r in client.query(
            f"select x_pipeline_run_date as d, count(distinct x_run_id) as runs "
            f"from `{bq_env.project}.{org}_test.raw_openai_usage` group by 1"
        ).result()
    }
    assert set(runs_per_day.values()) == {1}  # each day written by exactly one run
