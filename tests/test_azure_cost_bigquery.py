"""Azure cost details on the BigQuery production path (local emulator): the EA actual + amortized samples and a
generated MCA month through ``run.py run ORG cloud/azure/cost_details --target bigquery`` (files -> load job +
MERGE -> dbt on BigQuery) give the same FOCUS rows, BilledCost / EffectiveCost / ListCost per billing period and
currency as the DuckDB target."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from google.cloud import bigquery

from demo.azure_cost import write_azure_csv
from focusline.settings import Settings
from run import cli
from tests.bq_emulator import BigQueryEmulator
from tests.conformance_parity import conformance_on_both_engines
from tests.conftest import SHARED
from tests.test_azure_cost import write_config
from tests.test_bigquery_emulator import bq_emulator, bq_env, client  # noqa: F401 - pytest fixtures

pytestmark = pytest.mark.slow

AZURE = SHARED / "sample-data" / "raw" / "azure"
CENT = Decimal("0.01")
PER_PERIOD_SQL = """
    select cast(cast(BillingPeriodStart as date) as string) as period, BillingCurrency as currency,
           count(*) as focus_rows, sum(BilledCost) as billed, sum(EffectiveCost) as effective,
           sum(ListCost) as listed, sum(PricingCurrencyEffectiveCost) as effective_pc
    from {table} where x_ProviderSlug = 'azure' group by 1, 2 order by 1, 2
"""


def shape(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(str(p), c): (int(n), *(Decimal(v).quantize(CENT) for v in values)) for p, c, n, *values in rows}


def test_azure_cost_on_bigquery_matches_duckdb(
    bq_env: BigQueryEmulator,  # noqa: F811
    client: bigquery.Client,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
    tmp_path: Path,
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("EA_ActualCost_Small.csv", "EA_AmortizedCost_Small.csv"):
        shutil.copy(AZURE / name, exports / name)
    write_azure_csv(exports / "mca-2023-10.csv", 300, seed=9, flavour="mca", period=dt.date(2023, 10, 1))
    write_config(configs_copy, exports)
    config = configs_copy / "cloud/azure/cost_details.yml"
    # three billing accounts in one location: one explicit load key (amortized rows get ':amortized')
    config.write_text(
        config.read_text().replace(
            'config: {uri: "${export_uri}"}', 'config: {uri: "${export_uri}", credential_id: "azure_demo"}'
        )
    )
    org = "azure_bq_org"
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    span = ["--start-date", "2023-09-01", "--end-date", "2023-10-31", "--json"]
    for target in ("bigquery", "local"):
        result = CliRunner().invoke(cli, ["run", org, "cloud/azure/cost_details", *span, "--target", target])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["status"] == "completed", result.output
    table = f"`{bq_env.project}.{org}_test.cost_data_standard_1_3`"
    on_bq = shape([tuple(r.values()) for r in client.query(PER_PERIOD_SQL.format(table=table)).result()])
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        on_duckdb = shape(conn.execute(PER_PERIOD_SQL.format(table="main.cost_data_standard_1_3")).fetchall())
    finally:
        conn.close()
    # September 2023: the 28 amortized rows plus the actual export's reservation purchase (3.25 billed)
    assert on_duckdb[("2023-09-01", "USD")] == (
        29,
        Decimal("19.05"),
        Decimal("16.30"),
        Decimal("20.23"),
        Decimal("16.30"),
    )
    assert on_duckdb[("2023-10-01", "EUR")][0] == 300
    assert on_bq == on_duckdb
    # every FOCUS 1.3 MUST rule that can be checked on data holds on both engines
    report = conformance_on_both_engines(settings, org)
    assert [(r.rule_id, r.failing_rows) for r in report.failed(strict=True)] == []
    raw = client.get_table(f"{bq_env.project}.{org}_test.raw_azure_cost")
    types = {f.name: f.field_type for f in raw.schema}
    assert types["cost_in_billing_currency"] == "NUMERIC" and types["tags"] == "JSON"
    credentials = {
        row.x_credential_id
        for row in client.query(f"select distinct x_credential_id from `{bq_env.project}.{org}_test.raw_azure_cost`")
    }
    assert credentials == {"azure_demo", "azure_demo:amortized"}
    # an older export of the same months is refused on BigQuery too
    older = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).isoformat()
    config.write_text(
        config.read_text().replace('credential_id: "azure_demo"}', f'credential_id: "azure_demo", version: "{older}"}}')
    )
    result = CliRunner().invoke(cli, ["run", org, "cloud/azure/cost_details", *span, "--target", "bigquery"])
    assert result.exit_code == 0, result.output
    steps = {s["step_id"]: s for s in json.loads(result.output)["steps"]}
    assert steps["extract_cost_details"]["rows"] == 0
