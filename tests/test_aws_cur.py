"""AWS CUR: file sources, normalisation of every CUR flavour, billing-period loads with export
versions (late and restated data), and the real public samples converted to FOCUS 1.3 and
reconciled to the cent with dbt on DuckDB (the BigQuery run is in tests/test_aws_cur_bigquery.py)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from demo.aws_cur import cur2_rows, expected_unblended, write_cur2_parquet
from extract.aws_cur.processor import AWS_CUR_PROCESSOR, AwsCurConfig
from extract.aws_cur.reader import read_cur_files
from extract.aws_cur.schema import classify, snake_case
from extract.files import list_files, resolve_store
from extract.load import Lineage, RawTable, replace_arrow, replace_rows
from focusline.errors import ConfigError, InputDataError
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from orchestrator.conformance import run_conformance
from run import cli
from tests.conftest import REPO, SHARED

AWS_SAMPLES = SHARED / "sample-data" / "raw" / "aws"
CUR_SAMPLES = (
    "sample-anonymous-aws-export-dataset.csv",
    "2023-06-01.csv",
    "2023-06-01-not-final.csv",
    "2022-07-01-alt-columns.csv",
    "test_cur.csv",
)
CENT = Decimal("0.01")
ORG = "aws_org"
PIPELINE = "cloud_aws_cur"


def ctx_for(settings: Settings, start: dt.date, end: dt.date, org: str = ORG, run_id: str = "run-1") -> StepContext:
    return StepContext(org, PIPELINE, run_id, "extract_cur", start, end, "local", settings, {}, time.monotonic() + 300)


def run_cur(settings: Settings, uri: Path | str, start: dt.date, end: dt.date, **config: object) -> StepResult:
    return AWS_CUR_PROCESSOR.run(ctx_for(settings, start, end), AwsCurConfig(uri=str(uri), **config))


def raw(settings: Settings, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse_path(ORG)))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def sample_unblended(path: Path) -> dict[tuple[str, str], Decimal]:
    """Per (billing period, currency): the file's unblended cost column summed with csv + Decimal."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            cost = row.get("lineItem/UnblendedCost", row.get("line_item_unblended_cost")) or "0"
            period = row.get("bill/BillingPeriodStartDate", row.get("bill_billing_period_start_date"))
            currency = row.get("lineItem/CurrencyCode", row.get("line_item_currency_code"))
            totals[(period[:10], currency)] += Decimal(cost)
    return dict(totals)


# -- file sources ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["s3://bucket/cur/", "gs://bucket/cur/*.csv", "az://container/cur"])
def test_object_store_uris_are_accepted_but_not_available_yet(uri: str) -> None:
    store = resolve_store(uri)
    with pytest.raises(ConfigError, match="object store not available yet"):
        store.list(uri)
    with pytest.raises(ConfigError, match="object store not available yet"):
        list_files(uri)


def test_local_sources_file_directory_glob_with_identity(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    plain = tmp_path / "a" / "one.csv"
    plain.write_text("x,y\n1,2\n")
    packed = tmp_path / "a" / "two.csv.gz"
    packed.write_bytes(gzip.compress(b"x,y\n3,4\n"))
    (tmp_path / "a" / "notes.md").write_text("ignored")
    assert [f.uri for f in list_files(str(plain))] == [str(plain.resolve())]
    both = list_files(str(tmp_path))
    assert [Path(f.uri).name for f in both] == ["one.csv", "two.csv.gz"]
    assert [Path(f.uri).name for f in list_files(str(tmp_path / "**" / "*.gz"))] == ["two.csv.gz"]
    info = both[0]
    assert info.size == plain.stat().st_size and len(info.sha256) == 64
    assert info.modified_at.tzinfo is not None
    with pytest.raises(ConfigError, match="does not exist"):
        list_files(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="matches no"):
        list_files(str(tmp_path / "a" / "*.parquet"))


def test_column_names_normalise_to_cur2() -> None:
    assert snake_case("UnblendedCost") == "unblended_cost"
    assert classify("lineItem/UnblendedCost") == ("fixed", "line_item_unblended_cost")
    assert classify("reservation/ReservationARN") == ("fixed", "reservation_reservation_a_r_n")
    assert classify("savingsPlan/SavingsPlanArn") == ("fixed", "savings_plan_savings_plan_a_r_n")
    assert classify("pricing/publicOnDemandCost") == ("fixed", "pricing_public_on_demand_cost")
    assert classify("product/ProductName") == ("product", "product_name")
    assert classify("product/regionCode") == ("fixed", "product_region_code")
    assert classify("resourceTags/user:team") == ("resource_tags", "user_team")
    assert classify("costCategory/Team") == ("cost_category", "Team")
    assert classify("resource_tags_user_team") == ("resource_tags", "user_team")
    assert classify("product_product_name") == ("product", "product_name")
    assert classify("resource_tags") == ("map", "resource_tags")
    assert classify("pricing/OfferingClasspricing/PurchaseOption") == (
        "unmapped",
        "pricing/OfferingClasspricing/PurchaseOption",
    )


# -- normalisation ------------------------------------------------------------------------------------------------


def test_cur2_parquet_and_csv_land_in_one_typed_shape(tmp_path: Path) -> None:
    period = dt.date(2026, 6, 1)
    parquet = write_cur2_parquet(tmp_path / "cur2" / "part-0.parquet", period, days=1, hours=2)
    rows = pq.read_table(parquet).to_pylist()
    # the same rows as CUR 2.0 CSV (maps as JSON text) and JSON lines
    csv_path = tmp_path / "cur2.csv.gz"
    names = sorted({k for r in rows for k in r})
    with gzip.open(csv_path, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for r in rows:
            writer.writerow(
                [
                    json.dumps(dict(v)) if isinstance(v, list) else (v.isoformat() if isinstance(v, dt.datetime) else v)
                    for v in (r.get(n) for n in names)
                ]
            )
    batches = {name: read_cur_files(list_files(str(path))) for name, path in (("parquet", parquet), ("csv", csv_path))}
    shapes = {}
    for name, batch in batches.items():
        shapes[name] = batch.conn.execute(
            "select sum(line_item_unblended_cost), count(*), count(resource_tags), "
            "min(json_extract_string(product, '$.product_name')), min(line_item_usage_start_date) from cur_rows"
        ).fetchall()
        types = dict(batch.conn.execute("select column_name, column_type from (describe cur_rows)").fetchall())
        assert types["line_item_unblended_cost"] == "DECIMAL(38,9)"
        assert types["resource_tags"] == "JSON"
        batch.conn.close()
    assert shapes["parquet"] == shapes["csv"]
    rows_written = cur2_rows(period, days=1, hours=2)
    # raw money is DECIMAL(38,9): each row rounded to 1e-9, so the sums agree within n x 5e-10
    assert abs(shapes["parquet"][0][0] - expected_unblended(rows_written)) <= Decimal("5e-10") * len(rows_written)


def test_a_file_that_is_not_a_cur_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not an AWS Cost and Usage Report"):
        read_cur_files(list_files(str(AWS_SAMPLES / "aws_category_mapping.csv")))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "bill/BillingPeriodStartDate,lineItem/LineItemType,lineItem/UnblendedCost\n"
        "2026-06-01T00:00:00Z,Usage,1.5\n2026-06-01T00:00:00Z,Usage,twelve\n"
    )
    with pytest.raises(InputDataError, match="lineItem/UnblendedCost: 1 value"):
        read_cur_files(list_files(str(bad)))


def test_bulk_and_dict_loads_share_one_path(settings: Settings) -> None:
    table = RawTable("raw_bulk_check", (("day", "DATE"), ("amount", "DECIMAL(38,18)")), date_column="day")
    lineage = Lineage(ORG, PIPELINE, "acct", "run-1")
    d1 = dt.date(2026, 6, 1)
    replace_rows(settings, table, [{"day": d1, "amount": Decimal("1.000000000000000001")}], lineage, [d1])
    assert raw(settings, "select amount from raw.raw_bulk_check") == [(Decimal("1.000000000000000001"),)]
    data = pa.table(
        {"day": pa.array([d1, d1]), "amount": pa.array([Decimal("2.5"), Decimal("0.5")], pa.decimal128(38, 18))}
    )
    assert replace_arrow(settings, table, data, lineage, [d1]) == 2
    assert raw(settings, "select sum(amount), count(*) from raw.raw_bulk_check") == [(Decimal("3"), 2)]
    with pytest.raises(Exception, match="outside the loaded range"):
        replace_arrow(settings, table, data, lineage, [d1 + dt.timedelta(days=1)])


# -- late and restated data ---------------------------------------------------------------------------------------


def test_a_load_replaces_whole_billing_periods_and_older_versions_never_win(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    period = dt.date(2026, 6, 1)
    june = (period, dt.date(2026, 6, 30))
    v1 = dt.datetime(2026, 6, 10, 6, tzinfo=dt.UTC)
    v2 = dt.datetime(2026, 6, 11, 6, tzinfo=dt.UTC)
    v3 = dt.datetime(2026, 6, 12, 6, tzinfo=dt.UTC)
    three_days = write_cur2_parquet(tmp_path / "v2" / "cur.parquet", period, days=3, hours=2, seed=2)
    result = run_cur(settings, three_days, *june, version=v2)
    assert result.detail["loaded_periods"][0]["period"] == "2026-06-01"
    assert raw(settings, "select count(distinct usage_date) from raw.raw_aws_cur") == [(3,)]

    # an older export of the month arrives late: skipped, logged, reported, nothing changes
    before = raw(settings, "select x_run_id, count(*), max(x_export_version) from raw.raw_aws_cur group by 1")
    late = write_cur2_parquet(tmp_path / "v1" / "cur.parquet", period, days=5, hours=2, seed=1)
    caplog.set_level("WARNING")
    skipped = run_cur(settings, late, *june, version=v1)
    assert skipped.rows == 0
    assert skipped.detail["skipped_older_periods"] == [
        {"period": "2026-06-01", "version": "2026-06-10T06:00:00", "loaded": "2026-06-11T06:00:00"}
    ]
    assert "older than the loaded" in caplog.text
    assert raw(settings, "select x_run_id, count(*), max(x_export_version) from raw.raw_aws_cur group by 1") == before

    # a newer restatement with fewer days: the whole month is replaced, vanished days are gone
    one_day = write_cur2_parquet(tmp_path / "v3" / "cur.parquet", period, days=1, hours=2, seed=3)
    run_cur(settings, one_day, *june, version=v3)
    # day 1 usage plus the month's tax rows (dated on the period start): days 2 and 3 are gone
    assert raw(settings, "select count(distinct usage_date), min(x_export_version) from raw.raw_aws_cur") == [
        (1, v3.replace(tzinfo=None))
    ]
    assert raw(settings, "select max(usage_date) from raw.raw_aws_cur") == [(dt.date(2026, 6, 1),)]
    # the same version again is a plain re-run (idempotent)
    rows = raw(settings, "select count(*), sum(line_item_unblended_cost) from raw.raw_aws_cur")
    run_cur(settings, one_day, *june, version=v3)
    assert raw(settings, "select count(*), sum(line_item_unblended_cost) from raw.raw_aws_cur") == rows
    # a period outside the run's range is left alone
    outside = run_cur(settings, one_day, dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    assert outside.detail["periods_outside_range"] == ["2026-06-01"] and outside.rows == 0


def test_final_and_not_final_exports_by_file_time(settings: Settings, tmp_path: Path) -> None:
    """koku's not-final / final pair: the newer file wins whatever order they arrive in."""
    final = tmp_path / "final.csv"
    not_final = tmp_path / "not-final.csv"
    shutil.copy(AWS_SAMPLES / "2023-06-01.csv", final)
    shutil.copy(AWS_SAMPLES / "2023-06-01-not-final.csv", not_final)
    os.utime(not_final, (1_700_000_000, 1_700_000_000))
    os.utime(final, (1_700_086_400, 1_700_086_400))  # a day later
    june = (dt.date(2023, 6, 1), dt.date(2023, 6, 30))
    run_cur(settings, final, *june, credential_id="payer")
    late = run_cur(settings, not_final, *june, credential_id="payer")
    assert late.rows == 0 and late.detail["skipped_older_periods"]
    assert raw(settings, "select distinct bill_invoice_id from raw.raw_aws_cur") == [("987654321",)]


# -- the real samples, end to end through the CLI and dbt (DuckDB) -----------------------------------------------


def write_config(configs: Path, uri: Path) -> None:
    text = (REPO / "configs/cloud/aws/cur.yml").read_text()
    text = text.replace("export_uri: exports/aws/cur", f"export_uri: {uri}")
    (configs / "cloud/aws/cur.yml").write_text(text)


@pytest.mark.slow
def test_every_sample_converts_and_reconciles_to_the_cent(configs_copy: Path, settings: Settings) -> None:
    org = "aws_samples"
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    expected: dict[tuple[str, str, str], Decimal] = {}
    for name in CUR_SAMPLES:
        path = AWS_SAMPLES / name
        write_config(configs_copy, path)
        period = next(iter(sample_unblended(path)))[0]
        start = dt.date.fromisoformat(period)
        result = CliRunner().invoke(
            cli, ["run", org, "cloud/aws/cur", "--start-date", str(start), "--end-date", str(start), "--json"]
        )
        assert result.exit_code == 0, result.output
        run = json.loads(result.output)
        assert run["status"] == "completed", run
        for (p, currency), total in sample_unblended(path).items():
            expected[(str(path.resolve()), p, currency)] = total
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        got = conn.execute(
            "select x_SourceFile, cast(cast(BillingPeriodStart as date) as varchar), BillingCurrency, sum(BilledCost) "
            "from main.cost_data_standard_1_3 where x_ProviderSlug = 'aws' group by 1, 2, 3"
        ).fetchall()
    finally:
        conn.close()
    # 2023-06-01 and its not-final twin have different payer accounts: two load keys, both present
    assert {(f, p, c): v.quantize(CENT) for f, p, c, v in got} == {k: v.quantize(CENT) for k, v in expected.items()}


def dbt_build(settings: Settings, tmp_path: Path, *extra: str) -> None:
    """``dbt build`` of the whole project into ORG's warehouse (every raw table created first)."""
    from orchestrator.dbt_step import ensure_all_raw_tables

    ensure_all_raw_tables(settings, ORG, "local")
    env = {
        **os.environ,
        "FOCUSLINE_WAREHOUSE_PATH": str(settings.warehouse_path(ORG)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    args = [str(dbt), "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO), *extra]
    args += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:]


@pytest.mark.slow
def test_unused_commitment_gets_rows_of_its_own(settings: Settings, tmp_path: Path) -> None:
    """FOCUS discount handling: the unused part of a recurring commitment fee is a Usage row with
    CommitmentDiscountStatus Unused (EffectiveCost = the unused amount, BilledCost 0); the fee's Purchase row
    bills the fee and has EffectiveCost 0, so EffectiveCost moves, never doubles."""
    period = dt.date(2026, 6, 1)
    path = write_cur2_parquet(tmp_path / "cur" / "part-0.parquet", period, days=1, hours=3)
    fees = pq.read_table(path, filters=[("line_item_line_item_type", "=", "SavingsPlanRecurringFee")])
    unused = [
        Decimal(repr(total)) - Decimal(repr(used))
        for total, used in zip(
            fees.column("savings_plan_total_commitment_to_date").to_pylist(),
            fees.column("savings_plan_used_commitment").to_pylist(),
            strict=True,
        )
    ]
    assert len(unused) == 3 and all(amount > 0 for amount in unused)
    run_cur(settings, path, period, period)
    dbt_build(settings, tmp_path, "--select", "+cost_data_standard_1_3")
    rows = raw(
        settings,
        "select ChargeCategory, CommitmentDiscountStatus, ChargeFrequency, count(*), sum(BilledCost), "
        "sum(EffectiveCost), count(distinct x_ChargeRowId), any_value(CommitmentDiscountId) "
        "from main.cost_data_standard_1_3 where x_AwsLineItemType = 'SavingsPlanRecurringFee' group by 1, 2, 3 "
        "order by 1",
    )
    fee_billed = sum((Decimal(repr(c)) for c in fees.column("line_item_unblended_cost").to_pylist()), Decimal(0))
    sp_arn = fees.column("savings_plan_savings_plan_a_r_n")[0].as_py()
    assert rows == [
        ("Purchase", None, "Recurring", 3, fee_billed, Decimal(0), 3, sp_arn),
        ("Usage", "Unused", "Usage-Based", 3, Decimal(0), sum(unused, Decimal(0)), 3, sp_arn),
    ]
    # the unused rows are new charge rows (ids of their own), not replacements
    (total_rows,) = raw(settings, "select count(*) from main.cost_data_standard_1_3")[0]
    assert total_rows == pq.read_metadata(path).num_rows + 3
    report = run_conformance(settings, ORG)
    assert [(r.rule_id, r.detail) for r in report.failed(strict=True)] == []


@pytest.mark.slow
def test_samples_pass_the_generated_mart_tests(settings: Settings, tmp_path: Path) -> None:
    """All samples in one warehouse (with an OpenAI-less org), then `dbt build` of the whole project."""
    for name in CUR_SAMPLES:
        path = AWS_SAMPLES / name
        start = dt.date.fromisoformat(next(iter(sample_unblended(path)))[0])
        ctx = ctx_for(settings, start, start, run_id=f"run-{name}")
        AWS_CUR_PROCESSOR.run(ctx, AwsCurConfig(uri=str(path), credential_id=name.split(".")[0].replace("_", "-")))
    dbt_build(settings, tmp_path)
    conn = duckdb.connect(str(settings.warehouse_path(ORG)))
    try:
        categories = dict(
            conn.execute(
                "select x_AwsLineItemType, string_agg(distinct ChargeCategory, ',') from main.cost_data_standard_1_3 "
                "group by 1"
            ).fetchall()
        )
        covered = conn.execute(
            "select sum(BilledCost), sum(EffectiveCost), any_value(CommitmentDiscountId), "
            "any_value(PricingCategory) from main.cost_data_standard_1_3 "
            "where x_AwsLineItemType = 'SavingsPlanCoveredUsage'"
        ).fetchone()
        marketplace = conn.execute(
            "select distinct ServiceProviderName, PublisherName, InvoiceIssuerName, HostProviderName "
            "from main.cost_data_standard_1_3 where x_SourceFile like '%alt-columns%'"
        ).fetchall()
    finally:
        conn.close()
    assert categories == {"Usage": "Usage", "Tax": "Tax", "SavingsPlanCoveredUsage": "Usage"}
    assert covered[0] == Decimal("60") and covered[1] == Decimal("0.6")  # SP effective cost 0.1 per row
    assert covered[2] is None and covered[3] == "Committed"  # the koku rows carry no SP ARN
    assert marketplace == [("Red Hat, Inc.", "Red Hat, Inc.", "Amazon Web Services, Inc.", "Amazon Web Services")]
    # the FOCUS 1.3 conformance tests generated from the requirements model: every checkable MUST rule holds
    report = run_conformance(settings, ORG)
    assert [(r.rule_id, r.detail) for r in report.failed(strict=True)] == []
    assert report.summary()["pass"] >= 400


def test_openai_only_org_builds_with_empty_aws_table(settings: Settings) -> None:
    from orchestrator.dbt_step import ensure_all_raw_tables

    ensure_all_raw_tables(settings, "openai_only", "local")
    conn = duckdb.connect(str(settings.warehouse_path("openai_only")))
    try:
        tables = {r[0] for r in conn.execute("select table_name from information_schema.tables").fetchall()}
        assert {"raw_aws_cur", "raw_openai_usage", "raw_openai_costs"} <= tables
        assert conn.execute("select count(*) from raw.raw_aws_cur").fetchone() == (0,)
    finally:
        conn.close()


def test_cancel_event_is_honoured(settings: Settings, tmp_path: Path) -> None:
    ctx = ctx_for(settings, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    ctx.cancel_event = threading.Event()
    ctx.cancel_event.set()
    path = write_cur2_parquet(tmp_path / "c.parquet", dt.date(2026, 6, 1), days=1, hours=1)
    with pytest.raises(Exception, match="cancelled"):
        AWS_CUR_PROCESSOR.run(ctx, AwsCurConfig(uri=str(path)))
