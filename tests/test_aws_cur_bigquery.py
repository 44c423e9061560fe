"""AWS CUR on the BigQuery production path (local emulator): the real samples through
``run.py run ORG cloud/aws/cur --target bigquery`` (files -> load job + MERGE -> dbt on BigQuery) give
the same FOCUS BilledCost / EffectiveCost / ListCost per billing period as the DuckDB target."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from google.cloud import bigquery

from focusline.settings import Settings
from orchestrator.conformance import run_conformance
from run import cli
from tests.bq_emulator import BigQueryEmulator
from tests.conftest import SHARED
from tests.test_aws_cur import write_config
from tests.test_bigquery_emulator import bq_emulator, bq_env, client  # noqa: F401 - pytest fixtures

pytestmark = pytest.mark.slow

SAMPLE = SHARED / "sample-data" / "raw" / "aws" / "sample-anonymous-aws-export-dataset.csv"
CENT = Decimal("0.01")
PER_PERIOD_SQL = """
    select cast(cast(BillingPeriodStart as date) as string) as period, BillingCurrency as currency,
           count(*) as focus_rows, sum(BilledCost) as billed, sum(EffectiveCost) as effective,
           sum(ListCost) as listed
    from {table} where x_ProviderSlug = 'aws' group by 1, 2 order by 1, 2
"""


def shape(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], tuple[int, Decimal, Decimal, Decimal]]:
    return {(str(p), c): (int(n), *(Decimal(v).quantize(CENT) for v in (b, e, li))) for p, c, n, b, e, li in rows}


def test_cur_on_bigquery_matches_duckdb(
    bq_env: BigQueryEmulator,  # noqa: F811
    client: bigquery.Client,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
) -> None:
    org = "aws_bq_org"
    write_config(configs_copy, SAMPLE)
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    span = ["--start-date", "2023-11-01", "--end-date", "2023-11-30", "--json"]
    results = {}
    for target in ("bigquery", "local"):
        result = CliRunner().invoke(cli, ["run", org, "cloud/aws/cur", *span, "--target", target])
        assert result.exit_code == 0, result.output
        results[target] = json.loads(result.output)
        assert results[target]["status"] == "completed", results[target]
    on_bq = shape(
        [
            tuple(r.values())
            for r in client.query(
                PER_PERIOD_SQL.format(table=f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`")
            ).result()
        ]
    )
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        on_duckdb = shape(conn.execute(PER_PERIOD_SQL.format(table="main.cost_data_standard_1_3")).fetchall())
    finally:
        conn.close()
    assert on_duckdb == {("2023-11-01", "USD"): (1281, Decimal("1.68"), Decimal("1.68"), Decimal("3.36"))}
    assert on_bq == on_duckdb
    # the generated FOCUS 1.3 conformance tests hold on BigQuery too (the JSON / regex macros' BigQuery side)
    report = run_conformance(settings, org, target="bigquery")
    assert [(r.rule_id, r.detail) for r in report.failed(strict=True)] == []
    assert report.summary()["pass"] >= 400
    raw = client.get_table(f"{bq_env.project}.{org}_test.raw_aws_cur")
    types = {f.name: f.field_type for f in raw.schema}
    assert types["line_item_unblended_cost"] == "NUMERIC" and types["resource_tags"] == "JSON"
    # a second, older export of the month is refused on BigQuery too
    older = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).isoformat()
    text = (
        (configs_copy / "cloud/aws/cur.yml")
        .read_text()
        .replace('config: {uri: "${export_uri}"}', f'config: {{uri: "${{export_uri}}", version: "{older}"}}')
    )
    (configs_copy / "cloud/aws/cur.yml").write_text(text)
    result = CliRunner().invoke(cli, ["run", org, "cloud/aws/cur", *span, "--target", "bigquery"])
    assert result.exit_code == 0, result.output
    steps = {s["step_id"]: s for s in json.loads(result.output)["steps"]}
    assert steps["extract_cur"]["rows"] == 0
