"""OCI cost reports on the BigQuery production path (local emulator): the real samples through
``run.py run ORG cloud/oci/cost_report --target bigquery`` (files -> load job + MERGE -> dbt on BigQuery)
give the same FOCUS rows and BilledCost / EffectiveCost / ListCost per billing period, currency and cost
source as the DuckDB target: the tagged cost report, then the deprecated usage report (zero-cost rows
marked unpriced). Two runs per engine keep the test within its time limit; the other paths are covered
on DuckDB (tests/test_oci_cost.py)."""

from __future__ import annotations

import json
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
from tests.test_bigquery_emulator import bq_emulator, bq_env, client  # noqa: F401 - pytest fixtures
from tests.test_oci_cost import COST_SAMPLES, OCI_SAMPLES, USAGE_REPORT_DEVIATIONS, USAGE_SAMPLE, write_config

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")
PER_PERIOD_SQL = """
    select cast(cast(BillingPeriodStart as date) as string) as period, BillingCurrency as currency,
           x_CostSource as cost_source, count(*) as focus_rows, sum(BilledCost) as billed,
           sum(EffectiveCost) as effective, sum(ListCost) as listed, count(ContractedUnitPrice) as priced
    from {table} where x_ProviderSlug = 'oci' group by 1, 2, 3 order by 1, 2, 3
"""
# names, resource types and tags come from window functions, split_part and JSON on each engine
DETAIL_SQL = """
    select ServiceName as service, ServiceCategory as category, BillingAccountName as account,
           coalesce(ResourceType, '-') as resource_type, count(*) as focus_rows, count(Tags) as tagged,
           sum(PricingQuantity) as quantity
    from {table} where x_ProviderSlug = 'oci' group by 1, 2, 3, 4 order by 1, 2, 3, 4
"""
LOADS = (
    # (uri, extra config, date range): the tagged focus_converters cost report, then the usage report under
    # its own load key with the tenant's currency configured (its tenant has no cost report loaded here)
    (OCI_SAMPLES / COST_SAMPLES[0], "", ("2023-11-01", "2023-11-30")),
    (OCI_SAMPLES / USAGE_SAMPLE, "credential_id: oci-usage, currency: GBP", ("2022-04-01", "2022-04-30")),
)


def shape(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {
        (str(p), c, s): (int(n), *(Decimal(v).quantize(CENT) for v in (b, e, li)), int(k))
        for p, c, s, n, b, e, li, k in rows
    }


def test_samples_on_bigquery_match_duckdb(
    bq_env: BigQueryEmulator,  # noqa: F811
    client: bigquery.Client,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
) -> None:
    org = "oci_bq_org"
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    for uri, extra, (start, end) in LOADS:
        write_config(configs_copy, uri, extra)
        for target in ("bigquery", "local"):
            args = ["run", org, "cloud/oci/cost_report", "--start-date", start, "--end-date", end, "--json"]
            result = CliRunner().invoke(cli, [*args, "--target", target])
            assert result.exit_code == 0, result.output
            run = json.loads(result.output)
            assert run["status"] == "completed", run
    on_bq = shape(
        [
            tuple(r.values())
            for r in client.query(
                PER_PERIOD_SQL.format(table=f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`")
            ).result()
        ]
    )
    bq_table = f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`"
    detail_bq = [tuple(r.values()) for r in client.query(DETAIL_SQL.format(table=bq_table)).result()]
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        on_duckdb = shape(conn.execute(PER_PERIOD_SQL.format(table="main.cost_data_standard_1_3")).fetchall())
        detail_duckdb = conn.execute(DETAIL_SQL.format(table="main.cost_data_standard_1_3")).fetchall()
    finally:
        conn.close()
    assert len(detail_duckdb) >= 10
    assert [(*r[:6], Decimal(r[6]).quantize(CENT)) for r in detail_bq] == [
        (*r[:6], Decimal(r[6]).quantize(CENT)) for r in detail_duckdb
    ]
    assert on_duckdb == {
        ("2022-04-01", "GBP", "unpriced"): (6, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), 0),
        ("2023-11-01", "USD", "billed"): (506, Decimal("2.52"), Decimal("2.52"), Decimal("2.52"), 506),
    }
    assert on_bq == on_duckdb
    # the same verdict per FOCUS 1.3 rule on both engines: only the deprecated usage report's 6 unpriced rows fail
    report = conformance_on_both_engines(settings, org)
    assert {r.rule_id: r.failing_rows for r in report.failed(strict=True)} == dict.fromkeys(USAGE_REPORT_DEVIATIONS, 6)
    raw = client.get_table(f"{bq_env.project}.{org}_test.raw_oci_cost")
    types = {f.name: f.field_type for f in raw.schema}
    assert types["cost_my_cost"] == "NUMERIC" and types["tags"] == "JSON"
    assert types["line_item_is_correction"] in ("BOOL", "BOOLEAN")
