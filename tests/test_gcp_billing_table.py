"""The GCP billing export table as a source (``uri: bigquery://project.dataset.table``), on the local
BigQuery emulator: the rows of the run's invoice months are read from the table and give the same raw rows
and FOCUS totals as the same data read from an exported Parquet file."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from google.cloud import bigquery

from demo.gcp_billing import expected_totals, write_gcp_parquet
from extract.gcp_billing.processor import GCP_BILLING_EXPORT_PROCESSOR, GcpBillingExportConfig
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from run import cli
from tests.bq_emulator import BigQueryEmulator
from tests.test_bigquery_emulator import bq_emulator, bq_env, client  # noqa: F401 - pytest fixtures
from tests.test_gcp_billing import PIPELINE, mart_totals, raw, write_config

pytestmark = pytest.mark.slow

APRIL = ["--start-date", "2024-04-01", "--end-date", "2024-04-30"]
# lineage columns that name where the rows came from (a table, or a file), and the run
WHERE_FROM = {"x_source_file", "x_source_file_size", "x_source_file_modified_at", "x_source_file_sha256"}
PER_RUN = {"x_run_id", "x_ingested_at", "x_ingestion_date"}


def bigquery_field(name: str, kind: pa.DataType, mode: str = "NULLABLE") -> bigquery.SchemaField:
    """The BigQuery column of an Arrow field of the export's Parquet (its REPEATED RECORDs, RECORDs, leaves)."""
    if pa.types.is_list(kind):
        return bigquery_field(name, kind.value_type, "REPEATED")
    if pa.types.is_struct(kind):
        return bigquery.SchemaField(name, "RECORD", mode=mode, fields=[bigquery_field(f.name, f.type) for f in kind])
    if pa.types.is_timestamp(kind):
        return bigquery.SchemaField(name, "TIMESTAMP", mode=mode)
    if pa.types.is_decimal(kind):  # the export's price.effective_price and price.list_price are NUMERIC
        return bigquery.SchemaField(name, "NUMERIC", mode=mode)
    leaf = {pa.string(): "STRING", pa.float64(): "FLOAT64", pa.int64(): "INT64", pa.bool_(): "BOOL"}[kind]
    return bigquery.SchemaField(name, leaf, mode=mode)


def create_export_table(bq: bigquery.Client, table_id: str, files: list[Path]) -> None:
    """A table with the export's nested schema, loaded from the export's Parquet files (as Cloud Billing writes)."""
    schema = [bigquery_field(f.name, f.type) for f in pq.read_schema(files[0])]
    bq.create_dataset(table_id.rsplit(".", 1)[0], exists_ok=True)
    bq.create_table(bigquery.Table(table_id, schema=schema))
    for path in files:
        with path.open("rb") as handle:
            config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET)
            bq.load_table_from_file(handle, table_id, job_config=config).result()


def run_gcp(org: str, *span: str) -> dict:
    result = CliRunner().invoke(cli, ["run", org, "cloud/gcp/billing_export", *span, "--json"])
    assert result.output, result
    return json.loads(result.output)


def raw_rows(settings: Settings, org: str) -> list[tuple]:
    columns = [
        r[0]
        for r in raw(settings, "describe raw.raw_gcp_billing", org)
        if r[0] not in WHERE_FROM | PER_RUN | {"x_org_slug"}
    ]
    return sorted(raw(settings, f"select {', '.join(columns)} from raw.raw_gcp_billing", org), key=repr)


@pytest.mark.timeout(900)
def test_export_table_loads_like_its_files(
    bq_env: BigQueryEmulator,  # noqa: F811
    client: bigquery.Client,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
    tmp_path: Path,
) -> None:
    march = write_gcp_parquet(tmp_path / "march.parquet", 300, seed=5, invoice_month=dt.date(2024, 3, 1))
    april = write_gcp_parquet(tmp_path / "files" / "april.parquet", 500, seed=21, invoice_month=dt.date(2024, 4, 1))
    table_id = f"{bq_env.project}.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9"
    create_export_table(client, table_id, [march, april])
    uri = f"bigquery://{table_id}"

    for org, source in (("from_table", uri), ("from_files", str(april.parent))):
        write_config(configs_copy, source)
        assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
        run = run_gcp(org, *APRIL)
        assert run["status"] == "completed", run

    # only April's invoice month was read from the table; its rows are the file's, row for row
    assert raw(settings, "select distinct billing_period from raw.raw_gcp_billing", "from_table") == [
        (dt.date(2024, 4, 1),)
    ]
    assert raw_rows(settings, "from_table") == raw_rows(settings, "from_files")
    assert raw(settings, "select distinct x_source_file from raw.raw_gcp_billing", "from_table") == [(uri,)]
    want = {
        (period, currency): total.quantize(Decimal("0.01"))
        for (period, currency), total in expected_totals(april).items()
    }
    for org in ("from_table", "from_files"):
        got = {(p, c): v for (_, p, c), v in mart_totals(settings, org).items()}
        assert got == want, org

    # the step reads only the run's invoice months from the table (March is not even outside the range:
    # it is never read), and a range with no invoice month in the table loads nothing and says so
    def extract(start: dt.date, end: dt.date) -> StepResult:
        ctx = StepContext(
            "from_table",
            PIPELINE,
            "run-direct",
            "extract_billing",
            start,
            end,
            "local",
            settings,
            {},
            time.monotonic() + 300,
        )
        return GCP_BILLING_EXPORT_PROCESSOR.run(ctx, GcpBillingExportConfig(uri=uri))

    april_only = extract(dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    assert april_only.rows == 500 and april_only.detail["periods_outside_range"] == []
    assert [p["period"] for p in april_only.detail["loaded_periods"]] == ["2024-04-01"]
    empty = extract(dt.date(2023, 1, 1), dt.date(2023, 1, 31))
    assert empty.rows == 0 and empty.detail["invoice_months"] == ["202301", "202301"]
    assert raw(settings, "select count(*) from raw.raw_gcp_billing", "from_table") == [(500,)]


def test_missing_table_and_bad_uri_fail_clearly(
    bq_env: BigQueryEmulator,  # noqa: F811
    configs_copy: Path,
    settings: Settings,
) -> None:
    assert CliRunner().invoke(cli, ["orgs", "create", "no_table", "--plan", "scale"]).exit_code == 0
    for uri, message in (
        (f"bigquery://{bq_env.project}.billing_export.gcp_billing_export_v1_nope", "does not exist"),
        ("bigquery://not a table", "not a BigQuery table URI"),
    ):
        write_config(configs_copy, uri)
        result = CliRunner().invoke(cli, ["run", "no_table", "cloud/gcp/billing_export", *APRIL])
        assert result.exit_code != 0
        assert message in result.output, result.output
        assert uri.removeprefix("bigquery://").split(".")[-1] in result.output
