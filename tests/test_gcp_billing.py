"""GCP Cloud Billing export: the three file shapes (flattened CSV, nested JSON lines and Parquet) read into one
raw table, bad input named, invoice-month loads with export versions (late and restated data, crossover
rows), and the public samples plus generated nested exports converted to FOCUS 1.3 and reconciled to the
cent with dbt on DuckDB (the BigQuery run is in tests/test_gcp_billing_bigquery.py)."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from demo.gcp_billing import ACCOUNT, expected_totals, write_gcp_jsonl, write_gcp_parquet
from extract.files import list_files
from extract.gcp_billing.processor import GCP_BILLING_EXPORT_PROCESSOR, GcpBillingExportConfig
from extract.gcp_billing.reader import pyrepr_to_json, read_gcp_files
from extract.gcp_billing.table_source import invoice_months, parse_table_uri
from focusline.errors import ConfigError, InputDataError, TerminalError
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from run import cli
from tests.conftest import REPO, SHARED

GCP_SAMPLES = SHARED / "sample-data" / "raw" / "gcp"
SAMPLES = (
    "202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv",
    "2022-08-01_5.csv",
    "2024-03-01_5.csv",
)
CENT = Decimal("0.01")
ORG = "gcp_org"
PIPELINE = "cloud_gcp_billing"
JUNE = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))


def ctx_for(settings: Settings, start: dt.date, end: dt.date, org: str = ORG, run_id: str = "run-1") -> StepContext:
    return StepContext(
        org, PIPELINE, run_id, "extract_billing", start, end, "local", settings, {}, time.monotonic() + 300
    )


def run_gcp(settings: Settings, uri: Path | str, start: dt.date, end: dt.date, **config: Any) -> StepResult:
    return GCP_BILLING_EXPORT_PROCESSOR.run(
        ctx_for(settings, start, end), GcpBillingExportConfig(uri=str(uri), **config)
    )


def raw(settings: Settings, sql: str, org: str = ORG) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(settings.warehouse_path(org)), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def sample_billed(path: Path) -> dict[tuple[str, str], Decimal]:
    """Per (invoice month YYYY-MM-01, currency): cost + every credit, from the CSV with csv + ast + Decimal."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            month = row["invoice.month"]
            key = (f"{month[:4]}-{month[4:]}-01", row["currency"])
            totals[key] += Decimal(row["cost"])
            for credit in ast.literal_eval(row["credits"] or "[]"):
                totals[key] += Decimal(repr(credit["amount"]))
    return dict(totals)


def flatten_to_csv(parquet: Path, target: Path) -> Path:
    """The Parquet export flattened the way koku's CSVs are: dotted names, nested arrays as Python repr."""
    rows = pq.read_table(parquet).to_pylist()
    flat_rows = []
    for row in rows:
        flat: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, dict) and key not in ("credits",):
                for sub, sub_value in value.items():
                    flat[f"{key}.{sub}"] = repr(sub_value) if isinstance(sub_value, list) else sub_value
            elif isinstance(value, list):
                flat[key] = repr(value)
            else:
                flat[key] = value
        flat_rows.append(flat)
    names = sorted({k for r in flat_rows for k in r})
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for r in flat_rows:
            values = []
            for name in names:
                value = r.get(name)
                if isinstance(value, dt.datetime):
                    value = value.astimezone(dt.UTC).isoformat()  # 2026-06-01T13:00:00+00:00, as koku writes
                values.append("" if value is None else value)
            writer.writerow(values)
    return target


# -- reading ------------------------------------------------------------------------------------------------------


def test_python_repr_text_becomes_the_same_json() -> None:
    conn = duckdb.connect()
    texts = [
        "[{'name': 'FreeTrial:Credit-1', 'amount': -5e-06, 'full_name': None, 'id': 'x', 'type': 'PROMOTION'}]",
        """[{'key': "O'Brien", 'value': 'say "hi" \\\\ \\x07 None True'}]""",
        "[{'key': 'it\\'s \"both\"', 'value': True}]",
        '[{"key": "already", "value": "json \\"quoted\\""}]',
        "[]",
    ]
    for text in texts:
        converted = conn.execute(f"select {pyrepr_to_json('?')}", [text]).fetchone()[0]
        assert json.loads(converted) == json.loads(json.dumps(ast.literal_eval(text))), text


def test_csv_jsonl_and_parquet_land_in_one_typed_shape(tmp_path: Path) -> None:
    parquet = write_gcp_parquet(tmp_path / "export.parquet", 600, seed=5)
    jsonl = write_gcp_jsonl(tmp_path / "export.jsonl.gz", 600, seed=5)
    flat = flatten_to_csv(parquet, tmp_path / "export.csv")
    summary_sql = (
        "select count(*), sum(cost), sum(credits_amount), sum(credits_promotion_amount), "
        "sum(commitment_credit_amount), count(tags_object), count(distinct cast(tags_object as varchar)), "
        "count(labels), sum(usage_amount), "
        "min(usage_start_time), max(export_time), count(adjustment_info_type), sum(price_list_price), "
        "count(resource_global_name), count(distinct load_date), min(usage_date), "
        "string_agg(distinct credit_types, '|' order by credit_types) from gcp_rows"
    )
    shapes = {}
    for name, path in (("parquet", parquet), ("jsonl", jsonl), ("csv", flat)):
        batch = read_gcp_files(list_files(str(path)))
        try:
            shapes[name] = batch.conn.execute(summary_sql).fetchone()
            types = dict(batch.conn.execute("select column_name, column_type from (describe gcp_rows)").fetchall())
            formats = set(batch.formats.values())
        finally:
            batch.close()
        assert types["cost"] == "DECIMAL(38,9)" and types["credits"] == "JSON" and types["tags_object"] == "JSON"
        assert formats == {f"detailed/{'jsonl' if name == 'jsonl' else name}"}
    assert shapes["parquet"] == shapes["jsonl"] == shapes["csv"]
    count, cost, credits, promotion, commitment = shapes["parquet"][:5]
    assert count == 600 and promotion < 0 and commitment < 0 and credits < promotion
    # cost + credits agrees with the file read independently (FLOAT64 through its shortest repr)
    assert {k: v for k, v in expected_totals(parquet).items()} == {("2026-06-01", "USD"): cost + credits}
    # crossover and correction rows keep their usage day but are keyed into the invoice month
    assert shapes["parquet"][15] < dt.date(2026, 6, 1)


def test_labels_tags_and_credits_are_typed_views_of_the_nested_arrays(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    row = {
        "billing_account_id": "AAAAAA-BBBBBB-CCCCCC",
        "invoice": {"month": "202606"},
        "cost_type": "regular",
        "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
        "sku": {"id": "CF4E-A0C7-E3BF", "description": "N2 Instance Core running in Americas"},
        "usage_start_time": "2026-06-03 10:00:00 UTC",
        "usage_end_time": "2026-06-03 11:00:00 UTC",
        "project": {
            "id": "p1",
            "name": "P one",
            "labels": [{"key": "env", "value": "dev"}, {"key": "team", "value": "a"}],
        },
        "labels": [{"key": "env", "value": "prod"}],
        "system_labels": [{"key": "compute.googleapis.com/cores", "value": "4"}],
        "tags": [{"key": "cc", "value": "42", "inherited": True, "namespace": "123456789012"}],
        "cost": 1.25,
        "currency": "USD",
        "credits": [
            {"name": "SUD", "amount": -0.25, "type": "SUSTAINED_USAGE_DISCOUNT"},
            {"name": "Committed use discount: CPU", "amount": -0.5, "id": "c-1", "type": "COMMITTED_USAGE_DISCOUNT"},
            {"name": "FreeTrial:Credit-1", "amount": -0.125, "type": "PROMOTION"},
        ],
        "export_time": "2026-06-04 01:00:00 UTC",
        "brand_new_field": {"x": 1},
    }
    path.write_text(json.dumps(row) + "\n")
    batch = read_gcp_files(list_files(str(path)))
    try:
        got = batch.conn.execute(
            "select credits_amount, credits_promotion_amount, commitment_credit_amount, commitment_credit_type, "
            "commitment_credit_id, commitment_credit_name, credit_types, promotion_credit_names, "
            "cast(tags_object as varchar), usage_date, billing_period, load_date, x_source_format from gcp_rows"
        ).fetchone()
    finally:
        batch.close()
    assert got[:8] == (
        Decimal("-0.875"),
        Decimal("-0.125"),
        Decimal("-0.5"),
        "COMMITTED_USAGE_DISCOUNT",
        "c-1",
        "Committed use discount: CPU",
        "COMMITTED_USAGE_DISCOUNT,PROMOTION,SUSTAINED_USAGE_DISCOUNT",
        "FreeTrial:Credit-1",
    )
    # resource labels win over inherited project labels; tags by their namespaced key; system labels prefixed
    assert json.loads(got[8]) == {
        "env": "prod",
        "team": "a",
        "123456789012/cc": "42",
        "system/compute.googleapis.com/cores": "4",
    }
    assert got[9:] == (dt.date(2026, 6, 3), dt.date(2026, 6, 1), dt.date(2026, 6, 3), "standard/jsonl")


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (None, None, "not a GCP billing export: no field billing_account_id"),
        ("cost", "twelve", r"field cost: 1 value\(s\) like 'twelve' are not a decimal"),
        ("invoice.month", "2026-06", r"field invoice.month: 1 value\(s\) like '2026-06' are not a month YYYYMM"),
        ("usage_start_time", "yesterday", r"field usage_start_time: 1 value\(s\) like 'yesterday' are not a timestamp"),
        (
            "credits",
            "[{'name': 'x', 'amount': nan}]",
            r"field credits: 1 value\(s\) like .* are not a list of records( with decimal amounts)?",
        ),
        (
            "labels",
            "{'env': 'prod'}",
            r"field labels: 1 value\(s\) like .* are not a list of records( with decimal amounts)?",
        ),
        ("currency", "", r"field currency: 1 row\(s\) have no value \(first at data row 2\)"),
    ],
)
def test_bad_input_names_file_field_and_value(
    tmp_path: Path, header: str | None, row: str | None, message: str
) -> None:
    good = {
        "billing_account_id": "AAAAAA-BBBBBB-CCCCCC",
        "invoice.month": "202606",
        "cost_type": "regular",
        "usage_start_time": "2026-06-03 10:00:00+00:00",
        "cost": "1.5",
        "currency": "USD",
        "credits": "[]",
        "labels": "[]",
    }
    path = tmp_path / "bad.csv"
    if header is None:
        path = GCP_SAMPLES / "gcp_category_mapping.csv"
    else:
        bad = {**good, header: row}
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(good)
            writer.writerow(good.values())
            writer.writerow(bad.values())
    with pytest.raises(InputDataError, match=message) as caught:
        read_gcp_files(list_files(str(path)))
    assert str(path.resolve()) in str(caught.value)


def test_table_uris_are_checked_and_gs_is_not_available_yet(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export table itself is read on the emulator (tests/test_gcp_billing_table.py); here: what fails first."""
    assert parse_table_uri("bigquery://my-project.billing.gcp_billing_export_v1_0123") == (
        "my-project.billing.gcp_billing_export_v1_0123"
    )
    assert invoice_months(dt.date(2026, 5, 28), dt.date(2026, 7, 2)) == ("202605", "202607")
    for bad in ("bigquery://my-project.billing", "bigquery://My Project.b.t", "bigquery://p.d.t/extra"):
        with pytest.raises(ConfigError, match="not a BigQuery table URI"):
            run_gcp(settings, bad, *JUNE)
    monkeypatch.delenv("FOCUSLINE_BQ_PROJECT", raising=False)
    with pytest.raises(ConfigError, match="FOCUSLINE_BQ_PROJECT"):  # no BigQuery configured to read it with
        run_gcp(settings, "bigquery://my-project.billing.gcp_billing_export_resource_v1_0123", *JUNE)
    with pytest.raises(ConfigError, match="object store not available yet"):
        run_gcp(settings, "gs://bucket/exports/*.parquet", *JUNE)


@pytest.mark.parametrize(
    ("status", "reason", "error", "says"),
    [
        (403, "accessDenied", TerminalError, "not allowed to read the table"),
        (404, "notFound", ConfigError, "does not exist or is not visible"),
        (400, "invalidQuery", TerminalError, "cannot read the billing export table"),
    ],
)
def test_bigquery_answers_for_the_export_table_become_clear_errors(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, status: int, reason: str, error: type, says: str
) -> None:
    """A local HTTP server answering the BigQuery REST API's get-table call with BigQuery's error shape."""
    token = "ya29.secret-token-never-logged"
    body = json.dumps(
        {"error": {"code": status, "message": f"{reason}: Table my-project:billing.t", "errors": [{"reason": reason}]}}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for key, value in {
            "FOCUSLINE_BQ_PROJECT": "my-project",
            "FOCUSLINE_BQ_API_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
            "FOCUSLINE_BQ_METHOD": "oauth-secrets",
            "FOCUSLINE_BQ_TOKEN": token,
        }.items():
            monkeypatch.setenv(key, value)
        uri = "bigquery://my-project.billing.t"
        with pytest.raises(error) as raised:
            run_gcp(settings, uri, *JUNE)
    finally:
        server.shutdown()
    assert says in str(raised.value) and uri in str(raised.value) and token not in str(raised.value)


# -- late and restated data ---------------------------------------------------------------------------------------


def test_invoice_months_are_replaced_whole_and_older_exports_never_win(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    may_export = write_gcp_parquet(tmp_path / "may" / "x.parquet", 800, seed=1, invoice_month=dt.date(2026, 5, 1))
    run_gcp(settings, may_export, dt.date(2026, 5, 1), dt.date(2026, 6, 30))
    may = raw(settings, "select count(*), sum(cost) from raw.raw_gcp_billing where billing_period = '2026-05-01'")

    v2 = dt.datetime(2026, 7, 2, 6, tzinfo=dt.UTC)
    june_v2 = write_gcp_parquet(tmp_path / "v2" / "x.parquet", 900, seed=2, exported_at=v2)
    result = run_gcp(settings, june_v2, *JUNE)
    assert result.detail["loaded_periods"][0]["period"] == "2026-06-01"
    # the version is the export's own watermark, max(export_time), not the file's time
    assert dt.datetime.fromisoformat(result.detail["loaded_periods"][0]["version"]) >= v2.replace(tzinfo=None)
    # June's crossover and correction rows (May usage) are keyed into June and left May's rows alone
    assert (
        raw(settings, "select count(*), sum(cost) from raw.raw_gcp_billing where billing_period = '2026-05-01'") == may
    )
    crossover = raw(
        settings,
        "select count(*), min(x_pipeline_run_date) from raw.raw_gcp_billing "
        "where billing_period = '2026-06-01' and usage_date < billing_period",
    )
    assert crossover[0][0] > 0 and crossover[0][1] == dt.date(2026, 6, 1)

    # an older snapshot of June arrives late (its file is newer on disk): skipped, logged, nothing changes
    before = raw(settings, "select x_run_id, count(*), max(x_export_version) from raw.raw_gcp_billing group by 1")
    v1 = dt.datetime(2026, 7, 1, 6, tzinfo=dt.UTC)
    june_v1 = write_gcp_parquet(tmp_path / "v1" / "x.parquet", 1200, seed=3, exported_at=v1)
    caplog.set_level("WARNING")
    skipped = run_gcp(settings, june_v1, *JUNE)
    assert skipped.rows == 0 and skipped.detail["skipped_older_periods"][0]["period"] == "2026-06-01"
    assert "older than the loaded" in caplog.text
    assert (
        raw(settings, "select x_run_id, count(*), max(x_export_version) from raw.raw_gcp_billing group by 1") == before
    )

    # a newer export of June with fewer rows replaces the whole month; May is untouched
    v3 = dt.datetime(2026, 7, 3, 6, tzinfo=dt.UTC)
    june_v3 = write_gcp_parquet(tmp_path / "v3" / "x.parquet", 300, seed=4, exported_at=v3)
    run_gcp(settings, june_v3, *JUNE)
    assert raw(settings, "select count(*) from raw.raw_gcp_billing where billing_period = '2026-06-01'") == [(300,)]
    assert (
        raw(settings, "select count(*), sum(cost) from raw.raw_gcp_billing where billing_period = '2026-05-01'") == may
    )
    # the same export again is a plain re-run (idempotent)
    rows = raw(settings, "select count(*), sum(cost), sum(credits_amount) from raw.raw_gcp_billing")
    run_gcp(settings, june_v3, *JUNE)
    assert raw(settings, "select count(*), sum(cost), sum(credits_amount) from raw.raw_gcp_billing") == rows
    # an invoice month outside the run's range is left alone
    outside = run_gcp(settings, june_v3, dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    assert outside.rows == 0 and outside.detail["periods_outside_range"] == ["2026-06-01"]


# -- the real samples, end to end through the CLI and dbt (DuckDB) -----------------------------------------------


def write_config(configs: Path, uri: Path | str) -> None:
    text = (REPO / "configs/cloud/gcp/billing_export.yml").read_text()
    text = text.replace("export_uri: exports/gcp/billing", f"export_uri: {uri}")
    (configs / "cloud/gcp/billing_export.yml").write_text(text)


def mart_totals(settings: Settings, org: str) -> dict[tuple[str, str, str], Decimal]:
    rows = raw(
        settings,
        "select x_SourceFile, cast(cast(BillingPeriodStart as date) as varchar), BillingCurrency, sum(BilledCost) "
        "from main.cost_data_standard_1_3 where x_ProviderSlug = 'gcp' group by 1, 2, 3",
        org,
    )
    return {(f, p, c): v.quantize(CENT) for f, p, c, v in rows}


@pytest.mark.slow
def test_every_sample_converts_and_reconciles_to_the_cent(configs_copy: Path, settings: Settings) -> None:
    org = "gcp_samples"
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    expected: dict[tuple[str, str, str], Decimal] = {}
    for name in SAMPLES:
        path = GCP_SAMPLES / name
        write_config(configs_copy, path)
        periods = sorted(sample_billed(path))
        start, end = dt.date.fromisoformat(periods[0][0]), dt.date.fromisoformat(periods[-1][0])
        result = CliRunner().invoke(
            cli, ["run", org, "cloud/gcp/billing_export", "--start-date", str(start), "--end-date", str(end), "--json"]
        )
        assert result.exit_code == 0, result.output
        run = json.loads(result.output)
        assert run["status"] == "completed", run
        for (period, currency), total in sample_billed(path).items():
            expected[(str(path.resolve()), period, currency)] = total.quantize(CENT)
    assert len(expected) == 4  # 2024-03-01_5.csv holds two invoice months
    assert mart_totals(settings, org) == expected
    # re-running one month of a file whose usage and invoice months differ refreshes exactly what the load
    # replaced (the mart's window is the raw data date, x_pipeline_run_date): nothing lost, nothing doubled
    for day in ("2024-03-01", "2024-02-01"):
        result = CliRunner().invoke(
            cli, ["run", org, "cloud/gcp/billing_export", "--start-date", day, "--end-date", day]
        )
        assert result.exit_code == 0, result.output
        assert mart_totals(settings, org) == expected, day
    # the promotion credits of the 2020 sample are their own Credit rows and cancel its cost exactly
    credits = raw(
        settings,
        "select ChargeCategory, count(*), sum(BilledCost) from main.cost_data_standard_1_3 "
        "where x_SourceFile like '%202011_%' group by 1 order by 1",
        org,
    )
    assert credits == [("Credit", 8, Decimal("-0.000032")), ("Usage", 25, Decimal("0.000032"))]


def dbt_build(settings: Settings, org: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FOCUSLINE_WAREHOUSE_PATH": str(settings.warehouse_path(org)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    args = [str(dbt), "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO), *extra]
    args += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_samples_and_nested_exports_pass_the_full_build_with_conformance(settings: Settings, tmp_path: Path) -> None:
    """Samples + generated Parquet (USD) and JSON lines (EUR) in one warehouse, then `dbt build` of the whole
    project with the generated FOCUS 1.3 conformance tests enabled; every invoice month reconciles."""
    for name in SAMPLES:
        path = GCP_SAMPLES / name
        run_gcp(settings, path, dt.date(2020, 1, 1), dt.date(2026, 12, 31), credential_id=name.split("_")[0])
    parquet = write_gcp_parquet(tmp_path / "usd" / "export.parquet", 4000, seed=11)
    jsonl = write_gcp_jsonl(
        tmp_path / "eur" / "export.jsonl",
        4000,
        seed=12,
        invoice_month=dt.date(2026, 7, 1),
        currency="EUR",
        currency_conversion_rate=0.92,
    )
    for path in (parquet, jsonl):
        run_gcp(settings, path, dt.date(2026, 6, 1), dt.date(2026, 7, 31), credential_id=path.parent.name)
    from orchestrator.dbt_step import ensure_all_raw_tables

    ensure_all_raw_tables(settings, ORG, "local")
    result = dbt_build(settings, ORG, tmp_path, "--vars", json.dumps({"focus_conformance": True}))
    assert result.returncode == 0, result.stdout[-6000:]
    assert "focus_cau_listunitprice_c_005_c" in result.stdout  # the conformance tests did run

    expected = {}
    for path in (GCP_SAMPLES / n for n in SAMPLES):
        expected.update({(str(path.resolve()), p, c): v.quantize(CENT) for (p, c), v in sample_billed(path).items()})
    for path in (parquet, jsonl):
        expected.update({(str(path.resolve()), p, c): v.quantize(CENT) for (p, c), v in expected_totals(path).items()})
    assert mart_totals(settings, ORG) == expected

    def mart(sql: str) -> list[tuple[Any, ...]]:
        return raw(settings, sql.replace("{mart}", "main.cost_data_standard_1_3 where x_ProviderSlug = 'gcp'"))

    # every cost_type and credit class lands where the reference says
    classes = dict(
        (tuple(r[:3]), r[3])
        for r in mart(
            "select x_LineItem, ChargeCategory, coalesce(ChargeClass, '-'), count(*) from {mart} group by all"
        )
    )
    assert set(classes) == {
        ("regular", "Usage", "-"),
        ("tax", "Tax", "-"),
        ("adjustment", "Adjustment", "Correction"),
        ("rounding_error", "Adjustment", "-"),
        ("promotion_credit", "Credit", "-"),
    }
    # committed use discount: covered rows cost nothing after the credit and name the commitment
    covered = mart(
        "select count(*), sum(BilledCost), min(CommitmentDiscountCategory), min(CommitmentDiscountStatus), "
        "min(PricingCategory), min(CommitmentDiscountName), min(CommitmentDiscountUnit) from {mart} "
        "and CommitmentDiscountId is not null"
    )[0]
    assert covered[0] > 0 and covered[1] == 0
    assert covered[2:] == (
        "Usage",
        "Used",
        "Committed",
        "Committed use discount: N2 Cpu in Americas for 1 Year",
        "Hours",
    )
    # fee rows are recurring usage, offset by FEE_UTILIZATION_OFFSET credits in Billed/EffectiveCost
    fees = mart(
        "select min(ChargeFrequency), sum(BilledCost) < sum(ContractedCost), min(ServiceCategory) from {mart} "
        "and ChargeDescription like 'Commitment v1%'"
    )
    assert fees == [("Recurring", True, "Compute")]
    # EUR billing, USD pricing: PricingCurrencyEffectiveCost = EffectiveCost / currency_conversion_rate
    eur = mart(
        "select min(PricingCurrency), sum(EffectiveCost), sum(PricingCurrencyEffectiveCost) from {mart} "
        "and BillingCurrency = 'EUR'"
    )[0]
    assert eur[0] == "USD" and abs(eur[1] / Decimal("0.92") - eur[2]) < Decimal("0.0001") * 4000
    # tags: resource labels, project labels, namespaced tags, system/ labels; regions named; units in FOCUS form
    tagged = mart(
        "select Tags, RegionId, RegionName, PricingUnit, ConsumedUnit, ResourceType, SubAccountType from {mart} "
        "and ChargeDescription = 'N2 Instance Core running in Americas' and Tags is not null limit 1"
    )[0]
    assert {"team", "env", "cost-center", "123456789012/environment", "system/compute.googleapis.com/cores"} <= set(
        json.loads(tagged[0])
    )
    assert tagged[1:] == ("us-central1", "Iowa", "Hours", "Seconds", "instances", "Project")
    assert mart("select count(*) from {mart} and BillingAccountId = '" + ACCOUNT + "'")[0][0] > 0


def test_gcp_only_org_builds_with_an_empty_table(settings: Settings) -> None:
    from orchestrator.dbt_step import ensure_all_raw_tables

    ensure_all_raw_tables(settings, "aws_only", "local")
    assert raw(settings, "select count(*) from raw.raw_gcp_billing", "aws_only") == [(0,)]
