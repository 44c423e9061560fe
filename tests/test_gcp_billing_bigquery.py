"""GCP billing export on the BigQuery production path (local emulator): a public sample (two invoice months)
and a generated nested Parquet export through ``run.py run ORG cloud/gcp/billing_export --target bigquery``
(files -> load job + MERGE -> dbt on BigQuery) give the same FOCUS BilledCost / EffectiveCost / ListCost per
invoice month as the DuckDB target, and those reconcile to the files' own cost + credits."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from google.cloud import bigquery

from demo.gcp_billing import expected_totals, write_gcp_parquet
from extract.gcp_billing.processor import GCP_BILLING_EXPORT_PROCESSOR, GcpBillingExportConfig
from focusline.settings import Settings
from focusline.steps import StepContext
from run import cli
from tests.bq_emulator import BigQueryEmulator
from tests.conformance_parity import conformance_on_both_engines
from tests.conftest import SHARED
from tests.test_bigquery_emulator import bq_emulator, bq_env, client  # noqa: F401 - pytest fixtures
from tests.test_gcp_billing import PIPELINE, sample_billed, write_config

pytestmark = pytest.mark.slow

SAMPLES = SHARED / "sample-data" / "raw" / "gcp"
CENT = Decimal("0.01")
PER_PERIOD_SQL = """
    select cast(cast(BillingPeriodStart as date) as string) as period, BillingCurrency as currency,
           count(*) as focus_rows, sum(BilledCost) as billed, sum(EffectiveCost) as effective,
           sum(ListCost) as listed
    from {table} where x_ProviderSlug = 'gcp' group by 1, 2 order by 1, 2
"""
UNIT_PRICES_SQL = (
    "select x_ChargeRowId, ListUnitPrice, ContractedUnitPrice from {table} "
    "where x_ProviderSlug = 'gcp' and SkuPriceId is not null"
)


def shape(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], tuple[int, Decimal, Decimal, Decimal]]:
    return {(str(p), c): (int(n), *(Decimal(v).quantize(CENT) for v in (b, e, li))) for p, c, n, b, e, li in rows}


# two pipeline runs with dbt, one of them on the emulator (minutes on a shared 2-core machine)
@pytest.mark.timeout(1200)
def test_gcp_billing_on_bigquery_matches_duckdb(
    bq_env: BigQueryEmulator,  # noqa: F811
    client: bigquery.Client,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
    tmp_path: Path,
) -> None:
    org = "gcp_bq_org"
    # every source in one export location under one load key: one run per target (the emulator is slow)
    export = tmp_path / "export"
    generated = write_gcp_parquet(export / "april.parquet", 800, seed=21, invoice_month=dt.date(2024, 4, 1))
    expected = {key: value.quantize(CENT) for key, value in expected_totals(generated).items()}
    shutil.copy(SAMPLES / "2024-03-01_5.csv", export / "2024-03-01_5.csv")
    expected.update({key: value.quantize(CENT) for key, value in sample_billed(export / "2024-03-01_5.csv").items()})
    write_config(configs_copy, export)
    text = (configs_copy / "cloud/gcp/billing_export.yml").read_text()
    text = text.replace('config: {uri: "${export_uri}"}', 'config: {uri: "${export_uri}", credential_id: "gcp-all"}')
    (configs_copy / "cloud/gcp/billing_export.yml").write_text(text)
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    span = ["--start-date", "2024-02-01", "--end-date", "2024-04-30", "--json"]
    for target in ("bigquery", "local"):
        result = CliRunner().invoke(cli, ["run", org, "cloud/gcp/billing_export", *span, "--target", target])
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
    conn = duckdb.connect(str(settings.warehouse_path(org)), read_only=True)
    try:
        on_duckdb = shape(conn.execute(PER_PERIOD_SQL.format(table="main.cost_data_standard_1_3")).fetchall())
    finally:
        conn.close()
    assert (
        set(on_duckdb)
        == set(expected)
        == {
            ("2024-02-01", "USD"),
            ("2024-03-01", "USD"),
            ("2024-04-01", "USD"),
        }
    )
    assert {key: value[1] for key, value in on_duckdb.items()} == expected
    assert on_bq == on_duckdb
    # the unit prices GCP's mapping derives by division (allocate_amount) are the same, row by row
    bq_prices = {
        r["x_ChargeRowId"]: (r["ListUnitPrice"], r["ContractedUnitPrice"])
        for r in client.query(UNIT_PRICES_SQL.format(table=f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`"))
    }
    conn = duckdb.connect(str(settings.warehouse_path(org)), read_only=True)
    try:
        duckdb_prices = {
            r[0]: r[1:] for r in conn.execute(UNIT_PRICES_SQL.format(table="main.cost_data_standard_1_3")).fetchall()
        }
    finally:
        conn.close()
    assert sum(1 for prices in duckdb_prices.values() if prices[0] is not None) > 500
    assert bq_prices == duckdb_prices
    # every FOCUS 1.3 MUST rule that can be checked on data holds, with the same verdict on both engines
    report = conformance_on_both_engines(settings, org)
    assert [(r.rule_id, r.failing_rows) for r in report.failed(strict=True)] == []
    raw = client.get_table(f"{bq_env.project}.{org}_test.raw_gcp_billing")
    types = {f.name: f.field_type for f in raw.schema}
    assert types["cost"] == "NUMERIC" and types["credits"] == "JSON" and types["tags_object"] == "JSON"
    # an older export of a month is refused on BigQuery too (the extract step alone: no second dbt build)
    older = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    april = (dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    ctx = StepContext(
        org, PIPELINE, "run-older", "extract_billing", *april, "bigquery", settings, {}, time.monotonic() + 300
    )
    config = GcpBillingExportConfig(uri=str(export), credential_id="gcp-all", version=older)
    skipped = GCP_BILLING_EXPORT_PROCESSOR.run(ctx, config)
    assert skipped.rows == 0 and skipped.detail["skipped_older_periods"][0]["period"] == "2024-04-01"
    after = client.query(
        f"select count(*) as n from `{bq_env.project}.{org}_test.raw_gcp_billing` where x_run_id = 'run-older'"
    ).result()
    assert [r["n"] for r in after] == [0]
