"""FOCUS exports on the BigQuery production path (local emulator): the official FOCUS 1.0 sample through
``run.py run ORG cloud/focus/export --target bigquery`` (file -> load job + MERGE -> dbt on BigQuery) gives
the same FOCUS 1.3 rows, BilledCost / EffectiveCost / ListCost and upgraded columns per billing period as the
DuckDB target, and BilledCost equals the file's own sum to the cent."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from google.cloud import bigquery

from focusline.settings import Settings
from run import cli
from tests.bq_emulator import BigQueryEmulator
from tests.conformance_parity import conformance_on_both_engines
from tests.conftest import REPO
from tests.test_bigquery_emulator import bq_emulator, bq_env, client  # noqa: F401 - pytest fixtures
from tests.test_focus_export import SAMPLE

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")
PER_PERIOD_SQL = """
    select cast(cast(BillingPeriodStart as date) as string) as period, BillingCurrency as currency,
           x_ProviderSlug as provider, count(*) as focus_rows, sum(BilledCost) as billed,
           sum(EffectiveCost) as effective, sum(ListCost) as listed,
           count(distinct ServiceSubcategory) as subcategories,
           sum(case when HostProviderName = ServiceProviderName then 1 else 0 end) as hosted,
           sum(case when PricingCurrency = BillingCurrency then 1 else 0 end) as priced
    from {table} where x_pipeline_id = 'cloud_focus_export' group by 1, 2, 3 order by 1, 2, 3
"""


def shape(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {
        (str(p), c, s): (int(n), *(Decimal(v).quantize(CENT) for v in (b, e, li)), int(k), int(h), int(pc))
        for p, c, s, n, b, e, li, k, h, pc in rows
    }


def write_config(configs: Path, config: str) -> None:
    text = (REPO / "configs/cloud/focus/export.yml").read_text()
    text = text.replace("export_uri: exports/focus", f"export_uri: {SAMPLE}")
    text = text.replace('config: {uri: "${export_uri}"}', f"config: {{{config}}}")
    (configs / "cloud/focus/export.yml").write_text(text)


def test_official_sample_on_bigquery_matches_duckdb(
    bq_env: BigQueryEmulator,  # noqa: F811
    client: bigquery.Client,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
) -> None:
    org = "focus_bq_org"
    write_config(configs_copy, 'uri: "${export_uri}", credential_id: focus_sample')
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    span = ["--start-date", "2024-09-01", "--end-date", "2024-10-31", "--json"]
    for target in ("bigquery", "local"):
        result = CliRunner().invoke(cli, ["run", org, "cloud/focus/export", *span, "--target", target])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["status"] == "completed", result.output
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
        billed = conn.execute(
            "select cast(cast(BillingPeriodStart as date) as varchar), BillingCurrency, sum(BilledCost) "
            "from main.cost_data_standard_1_3 where x_pipeline_id = 'cloud_focus_export' group by 1, 2"
        ).fetchall()
    finally:
        conn.close()
    assert on_bq == on_duckdb
    # the upgraded official sample meets every FOCUS 1.3 MUST rule that can be checked on data, on both engines
    report = conformance_on_both_engines(settings, org)
    assert [(r.rule_id, r.failing_rows) for r in report.failed(strict=True)] == []
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            expected[(row["BillingPeriodStart"][:10], row["BillingCurrency"])] += Decimal(row["BilledCost"])
    assert {(p, c): v.quantize(CENT) for p, c, v in billed} == {k: v.quantize(CENT) for k, v in expected.items()}
    assert {k[2] for k in on_duckdb} == {"aws", "azure", "oci"} and sum(v[0] for v in on_duckdb.values()) == 1000
    assert all(v[5] == v[0] and v[6] == v[0] for v in on_duckdb.values())  # every row upgraded on both engines
    raw = client.get_table(f"{bq_env.project}.{org}_test.raw_focus_export")
    types = {f.name: f.field_type for f in raw.schema}
    assert types["billed_cost"] == "NUMERIC" and types["tags"] == "JSON" and types["charge_period_start"] == "TIMESTAMP"
    # an older export of the same periods is refused on BigQuery too
    older = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).isoformat()
    write_config(configs_copy, f'uri: "${{export_uri}}", credential_id: focus_sample, version: "{older}"')
    result = CliRunner().invoke(cli, ["run", org, "cloud/focus/export", *span, "--target", "bigquery"])
    assert result.exit_code == 0, result.output
    steps = {s["step_id"]: s for s in json.loads(result.output)["steps"]}
    assert steps["extract_focus"]["rows"] == 0
