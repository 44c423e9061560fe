"""OCI cost reports: normalisation of cost and (deprecated) usage reports, bad input, billing-period loads
with export versions (late data, appended 6-hourly files, a file present twice), usage reports beside cost
reports, and the real public samples converted to FOCUS 1.3 through the CLI and dbt, reconciled to the
cent (the BigQuery run is in tests/test_oci_cost_bigquery.py)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from extract.files import list_files
from extract.oci_cost.processor import OCI_COST_REPORT_PROCESSOR, OciCostReportConfig
from extract.oci_cost.reader import read_oci_files
from extract.oci_cost.schema import classify
from focusline.errors import InputDataError
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from orchestrator.conformance import run_conformance
from run import cli
from tests.conftest import REPO, SHARED

OCI_SAMPLES = SHARED / "sample-data" / "raw" / "oci"
COST_SAMPLES = ("reports_cost-csv_0000000030000269.csv", "reports_cost-csv_0001000000603747.csv")
USAGE_SAMPLE = "reports_usage-csv_0001000000829494.csv"
CENT = Decimal("0.01")
# FOCUS 1.3 MUST rules a usage report's rows cannot meet: they need a SKU and its prices, which a usage
# report does not state (its rows are kept, at zero cost, marked x_CostSource unpriced)
USAGE_REPORT_DEVIATIONS = (
    "CAU-ConsumedQuantity-C-009-C",
    "CAU-ContractedUnitPrice-C-006-C",
    "CAU-ListUnitPrice-C-005-C",
    "CAU-PricingCategory-C-004-C",
    "CAU-PricingCurrencyListUnitPrice-C-005-C",
    "CAU-PricingQuantity-C-011-C",
    "CAU-SkuId-C-005-C",
    "CAU-SkuPriceId-C-005-C",
)
ORG = "oci_org"
PIPELINE = "cloud_oci_cost"
TENANT = "ocid1.tenancy.oc1..aaaatest"


def line(ref: str, start: str, cost: str, **overrides: str) -> dict[str, str]:
    """One cost report line (1 hour of COMPUTE in the tenancy's root compartment)."""
    begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    row = {
        "lineItem/referenceNo": ref,
        "lineItem/tenantId": TENANT,
        "lineItem/intervalUsageStart": begin.strftime("%Y-%m-%dT%H:%MZ"),
        "lineItem/intervalUsageEnd": (begin + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ"),
        "product/service": "COMPUTE",
        "product/compartmentId": TENANT,
        "product/compartmentName": "acme",
        "product/region": "eu-frankfurt-1",
        "product/availabilityDomain": "FRA-AD-1",
        "product/resourceId": "ocid1.instance.oc1.eu-frankfurt-1.abc",
        "usage/billedQuantity": "2",
        "cost/subscriptionId": "12345678",
        "cost/productSku": "B93113",
        "product/Description": "Standard - E4 - OCPU",
        "cost/unitPrice": str(abs(Decimal(cost)) / 2),
        "cost/myCost": cost,
        "cost/currencyCode": "EUR",
        "cost/skuUnitDescription": "OCPU Hours",
        "lineItem/isCorrection": "false",
        "lineItem/backreferenceNo": "",
        "tags/Finance.CostCenter": "cc-1",
        "tags/team": "",
    }
    row.update(overrides)
    return row


def write_report(path: Path, rows: list[dict[str, str]], mtime: dt.datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def ctx_for(settings: Settings, start: dt.date, end: dt.date, org: str = ORG, run_id: str = "run-1") -> StepContext:
    return StepContext(
        org, PIPELINE, run_id, "extract_cost_report", start, end, "local", settings, {}, time.monotonic() + 300
    )


def run_oci(settings: Settings, uri: Path | str, start: dt.date, end: dt.date, **config: object) -> StepResult:
    return OCI_COST_REPORT_PROCESSOR.run(ctx_for(settings, start, end), OciCostReportConfig(uri=str(uri), **config))


def raw(settings: Settings, sql: str, org: str = ORG) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def read_sample(name: str) -> list[dict[str, str]]:
    with (OCI_SAMPLES / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def tenant_currencies() -> dict[str, str]:
    """The single currency of each tenant in the cost report samples."""
    seen: dict[str, set[str]] = defaultdict(set)
    for name in COST_SAMPLES:
        for r in read_sample(name):
            if r["cost/currencyCode"]:
                seen[r["lineItem/tenantId"]].add(r["cost/currencyCode"])
    assert all(len(c) == 1 for c in seen.values())
    return {tenant: codes.pop() for tenant, codes in seen.items()}


def sample_my_cost(path: Path) -> dict[tuple[str, str], Decimal]:
    """Per (billing month, currency): cost/myCost summed with csv + Decimal (0 for a usage report).

    A line without cost/currencyCode (the usage report; two zero-cost koku lines) counts under its
    tenant's currency."""
    currencies = tenant_currencies()
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in read_sample(path.name):
        period = r["lineItem/intervalUsageStart"][:7] + "-01"
        currency = r.get("cost/currencyCode") or currencies[r["lineItem/tenantId"]]
        totals[(period, currency)] += Decimal(r.get("cost/myCost") or "0")
    return dict(totals)


# -- normalisation ------------------------------------------------------------------------------------------------


def test_columns_classify_case_insensitively() -> None:
    assert classify("lineItem/referenceNo") == ("fixed", "line_item_reference_no")
    assert classify("lineItem/backreferenceNo") == ("fixed", "line_item_back_reference_no")
    assert classify("lineItem/backReferenceNo") == ("fixed", "line_item_back_reference_no")
    assert classify("product/Description") == ("fixed", "product_description")
    assert classify("cost/myCost") == ("fixed", "cost_my_cost")
    assert classify("tags/Oracle-Tags.CreatedBy") == ("tags", "Oracle-Tags.CreatedBy")
    assert classify("tags/free-form-tag") == ("tags", "free-form-tag")
    assert classify("cost/somethingNew") == ("unmapped", "cost/somethingNew")


def test_cost_and_usage_reports_land_in_one_typed_shape() -> None:
    files = list_files(str(OCI_SAMPLES))
    batch = read_oci_files(files)
    try:
        types = dict(batch.conn.execute("select column_name, column_type from (describe oci_rows)").fetchall())
        assert types["cost_my_cost"] == "DECIMAL(38,9)" and types["tags"] == "JSON"
        assert types["line_item_interval_usage_start"] == "TIMESTAMP"
        assert types["line_item_is_correction"] == "BOOLEAN"
        shape = batch.conn.execute(
            "select x_source_format, count(*), sum(cost_my_cost), min(line_item_interval_usage_start), "
            "count(tags), max(usage_consumed_quantity) from oci_rows group by 1 order by 1"
        ).fetchall()
        tags = batch.conn.execute(
            "select tags from oci_rows where line_item_reference_no = '7108a1f83bdbad70487bf0cf99cbe260'"
        ).fetchone()[0]
    finally:
        batch.close()
    assert shape == [
        # 2.323760000E-9 and friends read exactly, rounded to 1e-9; timestamps without seconds parsed as UTC
        (
            "cost_report",
            511,
            Decimal("2.523629970"),
            dt.datetime(2022, 4, 21, 9, tzinfo=dt.UTC).replace(tzinfo=None),
            276,
            None,
        ),
        (
            "usage_report",
            6,
            None,
            dt.datetime(2022, 4, 20, 9, tzinfo=dt.UTC).replace(tzinfo=None),
            2,
            Decimal("899574120000000"),
        ),
    ]
    # defined tags keep namespace.key, empty tag cells are left out, values as delivered
    assert json.loads(tags) == {
        "Oracle-Tags.CreatedBy": "default/phil.newman@oracle.com",
        "OracleInternalReserved.CostCenter": "607825",
        "OracleInternalReserved.OwnerEmail": "marek.czajka@oracle.com",
        "OracleInternalReserved.Phonebook": "accounts",
        "OracleInternalReserved.ServiceType": "Other",
        "OracleInternalReserved.UsageType": "development-pre-production",
        "Valtest.Cat": "boots",
    }


# -- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"cost/myCost": "twelve"},
            r"cost/myCost: 1 value\(s\) like 'twelve' \(first at data row 2\) are not a decimal",
        ),
        ({"lineItem/intervalUsageStart": "yesterday"}, r"lineItem/intervalUsageStart: 1 value\(s\) like 'yesterday'"),
        ({"lineItem/isCorrection": "maybe"}, r"lineItem/isCorrection: 1 value\(s\) like 'maybe'.* not a true/false"),
        (
            {"cost/currencyCode": "euro"},
            r"cost/currencyCode is not an ISO 4217 code on 1 row\(s\), first at data row 2 ",
        ),
        ({"cost/currencyCode": ""}, r"cost/currencyCode is empty on a cost on 1 row\(s\), first at data row 2"),
        ({"lineItem/tenantId": ""}, r"lineItem/tenantId is empty on 1 row\(s\), first at data row 2"),
    ],
)
def test_bad_values_name_file_field_and_value(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    path = write_report(
        tmp_path / "bad.csv",
        [line("r1", "2026-06-01T00:00Z", "1.5"), line("r2", "2026-06-01T01:00Z", "2", **overrides)],
    )
    with pytest.raises(InputDataError, match=message) as caught:
        read_oci_files(list_files(str(path)))
    assert str(path.resolve()) in str(caught.value)


def test_a_file_that_is_not_an_oci_report_fails_clearly(tmp_path: Path) -> None:
    aws = SHARED / "sample-data" / "raw" / "aws" / "2023-06-01.csv"
    with pytest.raises(InputDataError, match="not an OCI cost or usage report: no column lineItem/tenantId"):
        read_oci_files(list_files(str(aws)))
    no_cost = write_report(
        tmp_path / "x.csv",
        [
            {
                "lineItem/tenantId": TENANT,
                "lineItem/intervalUsageStart": "2026-06-01T00:00Z",
                "product/service": "COMPUTE",
            }
        ],
    )
    with pytest.raises(InputDataError, match=r"no column cost/myCost .cost report. or usage/billedQuantity"):
        read_oci_files(list_files(str(no_cost)))


# -- late data, appended files, duplicates -------------------------------------------------------------------------

JUNE = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
V1, V2, V3 = (dt.datetime(2026, 6, d, 6, tzinfo=dt.UTC) for d in (10, 11, 12))


def test_newer_exports_replace_the_month_and_older_ones_never_win(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    three_days = [line(f"a{d}", f"2026-06-0{d}T10:00Z", "3") for d in (1, 2, 3)]
    result = run_oci(settings, write_report(tmp_path / "v2" / "r.csv", three_days), *JUNE, version=V2)
    assert result.detail["loaded_periods"] == [{"period": "2026-06-01", "version": "2026-06-11T06:00:00", "rows": 3}]
    assert result.detail["credential_id"] == TENANT
    before = raw(
        settings, "select x_run_id, count(*), sum(cost_my_cost), max(x_export_version) from raw.raw_oci_cost group by 1"
    )
    assert before[0][1:] == (3, Decimal("9"), V2.replace(tzinfo=None))

    # an older export of June arrives late: skipped, logged, reported; nothing changes
    caplog.set_level("WARNING")
    late = run_oci(settings, write_report(tmp_path / "v1" / "r.csv", three_days[:1]), *JUNE, version=V1)
    assert late.rows == 0 and late.detail["skipped_older_periods"][0]["period"] == "2026-06-01"
    assert "older than the loaded" in caplog.text
    assert raw(
        settings, "select x_run_id, count(*), sum(cost_my_cost), max(x_export_version) from raw.raw_oci_cost group by 1"
    ) == (before)

    # a newer export with fewer days: the whole month is replaced, vanished days are gone
    run_oci(settings, write_report(tmp_path / "v3" / "r.csv", three_days[:1]), *JUNE, version=V3)
    assert raw(
        settings, "select count(*), count(distinct usage_date), min(x_export_version) from raw.raw_oci_cost"
    ) == [(1, 1, V3.replace(tzinfo=None))]
    # a month outside the run's range is left alone
    outside = run_oci(settings, tmp_path / "v3", dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    assert outside.detail["periods_outside_range"] == ["2026-06-01"] and outside.rows == 0


def test_appended_six_hourly_files_reload_the_month_and_a_duplicate_file_counts_once(
    settings: Settings, tmp_path: Path
) -> None:
    exports = tmp_path / "reports" / "cost-csv"
    first = write_report(exports / "0001.csv", [line("a", "2026-06-01T01:00Z", "1")], V1)
    run_oci(settings, exports, *JUNE)
    assert raw(settings, "select count(*), max(x_export_version) from raw.raw_oci_cost") == [
        (1, V1.replace(tzinfo=None))
    ]
    # OCI appends a file (newer): the month is the union of both, at the newest file's time
    write_report(exports / "0002.csv", [line("b", "2026-06-01T07:00Z", "2"), line("c", "2026-05-31T23:00Z", "4")], V2)
    result = run_oci(settings, exports, dt.date(2026, 5, 1), dt.date(2026, 6, 30))
    assert sorted(p["period"] for p in result.detail["loaded_periods"]) == ["2026-05-01", "2026-06-01"]
    assert raw(
        settings,
        "select billing_period, count(*), sum(cost_my_cost), max(x_export_version) from raw.raw_oci_cost "
        "group by 1 order by 1",
    ) == [
        (dt.date(2026, 5, 1), 1, Decimal("4"), V2.replace(tzinfo=None)),
        (dt.date(2026, 6, 1), 2, Decimal("3"), V2.replace(tzinfo=None)),
    ]
    # the same file twice (an unpacked copy beside it): each line item is kept once, from the newest file
    shutil.copy(first, exports / "0001-copy.csv")
    os.utime(exports / "0001-copy.csv", (V3.timestamp(), V3.timestamp()))
    again = run_oci(settings, exports, *JUNE)
    assert again.detail["duplicate_rows_dropped"] == 1
    assert raw(
        settings, "select count(*), sum(cost_my_cost) from raw.raw_oci_cost where billing_period = '2026-06-01'"
    ) == [(2, Decimal("3"))]


# -- usage reports (deprecated: no cost columns) -------------------------------------------------------------------


def usage_line(ref: str, start: str) -> dict[str, str]:
    cost = line(ref, start, "0")
    keep = ("lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart", "lineItem/intervalUsageEnd")
    return {
        **{k: cost[k] for k in keep},
        "product/service": "COMPUTE",
        "product/resource": "PIC_COMPUTE_STANDARD_E4",
        "usage/consumedQuantity": "2",
        "usage/billedQuantity": "2",
        "usage/consumedQuantityUnits": "OCPU_HOURS",
        "lineItem/isCorrection": "false",
    }


def test_usage_reports_load_at_zero_cost_unless_cost_reports_cover_their_month(
    settings: Settings, tmp_path: Path
) -> None:
    usage = write_report(tmp_path / "usage-csv" / "u.csv", [usage_line("u1", "2026-06-02T00:00Z")])
    # alone, nothing says the tenant's currency: refused with what to do
    with pytest.raises(
        InputDataError, match=r"u\.csv: 1 row\(s\) without cost/currencyCode .a usage report.*set currency"
    ):
        run_oci(settings, usage, *JUNE)
    # with the tenant's currency configured: zero-cost rows, marked
    result = run_oci(settings, usage, *JUNE, currency="EUR")
    assert result.rows == 1 and result.detail["currency_assumed_rows"] == 1
    assert raw(settings, "select x_source_format, cost_my_cost, x_assumed_currency_code from raw.raw_oci_cost") == [
        ("usage_report", None, "EUR")
    ]
    # a configured currency that contradicts the tenant's cost reports is refused
    write_report(tmp_path / "cost-csv" / "c.csv", [line("c1", "2026-06-02T00:00Z", "5")])
    with pytest.raises(InputDataError, match=r"step config currency USD disagrees with tenant .*cost/currencyCode EUR"):
        run_oci(settings, tmp_path, *JUNE, currency="USD")
    # cost and usage reports of the same month in one load: the cost report supersedes the usage report
    both = run_oci(settings, tmp_path, *JUNE)
    assert both.detail["usage_rows_superseded"] == 1
    assert raw(settings, "select x_source_format, sum(cost_my_cost) from raw.raw_oci_cost group by 1") == [
        ("cost_report", Decimal("5"))
    ]
    # a later usage-only load of that month leaves the loaded cost report alone
    later = run_oci(settings, usage, *JUNE)
    assert later.rows == 0 and later.detail["usage_rows_superseded"] == 1
    assert raw(settings, "select x_source_format, count(*) from raw.raw_oci_cost group by 1") == [("cost_report", 1)]
    # July has no cost report: its usage rows load, in the tenant's currency from the loaded cost report
    july = write_report(tmp_path / "july" / "u.csv", [usage_line("u2", "2026-07-01T00:00Z")])
    run_oci(settings, july, dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    assert raw(
        settings, "select x_assumed_currency_code from raw.raw_oci_cost where x_source_format = 'usage_report'"
    ) == [("EUR",)]


# -- the real samples, end to end through the CLI and dbt (DuckDB) -----------------------------------------------


def write_config(configs: Path, uri: Path, extra: str = "") -> None:
    text = (REPO / "configs/cloud/oci/cost_report.yml").read_text()
    text = text.replace("export_uri: exports/oci/reports", f"export_uri: {uri}")
    if extra:
        text = text.replace('config: {uri: "${export_uri}"}', f'config: {{uri: "${{export_uri}}", {extra}}}')
    (configs / "cloud/oci/cost_report.yml").write_text(text)


@pytest.mark.slow
def test_every_sample_converts_and_reconciles_to_the_cent(configs_copy: Path, settings: Settings) -> None:
    """Each sample file through `run.py run ORG cloud/oci/cost_report` (extract + dbt build of the mart).

    The usage report shares tenant and month with the koku cost report; under its own load key it is
    not superseded, and takes the tenant's currency (GBP) from the loaded cost report."""
    org = "oci_samples"
    assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    expected: dict[tuple[str, str, str], Decimal] = {}
    for name in (*COST_SAMPLES, USAGE_SAMPLE):
        path = OCI_SAMPLES / name
        write_config(configs_copy, path, "credential_id: usage-report" if name == USAGE_SAMPLE else "")
        totals = sample_my_cost(path)
        start = dt.date.fromisoformat(next(iter(totals))[0])
        result = CliRunner().invoke(
            cli, ["run", org, "cloud/oci/cost_report", "--start-date", str(start), "--end-date", str(start), "--json"]
        )
        assert result.exit_code == 0, result.output
        run = json.loads(result.output)
        assert run["status"] == "completed", run
        for (period, currency), total in totals.items():
            expected[(str(path.resolve()), period, currency)] = total
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        got = conn.execute(
            "select x_SourceFile, cast(cast(BillingPeriodStart as date) as varchar), BillingCurrency, sum(BilledCost) "
            "from main.cost_data_standard_1_3 where x_ProviderSlug = 'oci' group by 1, 2, 3"
        ).fetchall()
        sources = conn.execute(
            "select x_CostSource, count(*), sum(EffectiveCost) from main.cost_data_standard_1_3 "
            "where x_ProviderSlug = 'oci' group by 1 order by 1"
        ).fetchall()
    finally:
        conn.close()
    assert {(f, p, c): v.quantize(CENT) for f, p, c, v in got} == {k: v.quantize(CENT) for k, v in expected.items()}
    assert expected[(str((OCI_SAMPLES / USAGE_SAMPLE).resolve()), "2022-04-01", "GBP")] == 0
    assert [(s, n) for s, n, _ in sources] == [("billed", 511), ("unpriced", 6)]
    # the generated FOCUS 1.3 conformance tests: the cost report rows meet every checkable MUST rule; the
    # usage report's 6 rows break exactly the rules that need a SKU price
    report = run_conformance(settings, org)
    assert {r.rule_id: r.failing_rows for r in report.failed(strict=True)} == dict.fromkeys(USAGE_REPORT_DEVIATIONS, 6)


@pytest.mark.slow
def test_samples_pass_the_full_dbt_build(settings: Settings, tmp_path: Path) -> None:
    """The cost report samples plus a correction in one warehouse, `dbt build` of the whole project, and
    the generated FOCUS 1.3 conformance tests: every checkable MUST rule holds."""
    for name in COST_SAMPLES:
        path = OCI_SAMPLES / name
        start = dt.date.fromisoformat(next(iter(sample_my_cost(path)))[0])
        ctx = ctx_for(settings, start, start, run_id=f"run-{name}")
        OCI_COST_REPORT_PROCESSOR.run(ctx, OciCostReportConfig(uri=str(path), credential_id=name[:24]))
    corrected = write_report(
        tmp_path / "corr.csv",
        [
            line("o1", "2026-06-01T00:00Z", "4", **{"tags/team": "ml"}),
            line(
                "c1",
                "2026-06-01T00:00Z",
                "-4",
                **{"usage/billedQuantity": "-2", "lineItem/isCorrection": "true", "lineItem/backreferenceNo": "o1"},
            ),
            line(
                "n1",
                "2026-06-01T01:00Z",
                "3",
                **{"product/compartmentId": "ocid1.compartment.oc1..dev", "product/compartmentName": "dev"},
            ),
        ],
    )
    OCI_COST_REPORT_PROCESSOR.run(ctx_for(settings, *JUNE, run_id="run-corr"), OciCostReportConfig(uri=str(corrected)))
    from orchestrator.dbt_step import ensure_all_raw_tables

    ensure_all_raw_tables(settings, ORG, "local")
    env = {
        **os.environ,
        "FOCUSLINE_WAREHOUSE_PATH": str(settings.warehouse_path(ORG)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    args = [str(dbt), "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    args += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:]
    conn = duckdb.connect(str(settings.warehouse_path(ORG)))
    try:
        june = conn.execute(
            "select ChargeCategory, ChargeClass, BilledCost, Tags, BillingAccountId, BillingAccountName, "
            "SubAccountId, SubAccountName, ServiceName, ServiceCategory, ServiceSubcategory, ResourceType, "
            "ContractedUnitPrice, PricingQuantity, PricingUnit, SkuPriceId from main.cost_data_standard_1_3 "
            "where x_ProviderSlug = 'oci' and BillingPeriodStart = '2026-06-01' order by ChargePeriodStart, BilledCost"
        ).fetchall()
        categories = conn.execute(
            "select x_ServiceCode, string_agg(distinct ServiceCategory, ','), string_agg(distinct ResourceType, ',') "
            "from main.cost_data_standard_1_3 where x_ProviderSlug = 'oci' and x_ServiceCode in "
            "('TELEMETRY', 'OBJECTSTORE', 'DATABASE') group by 1 order by 1"
        ).fetchall()
    finally:
        conn.close()
    acme = (TENANT, "acme", TENANT, "acme", "Compute", "Compute", "Virtual Machines", "instance")
    assert june == [
        (
            "Usage",
            "Correction",
            Decimal("-4"),
            '{"Finance.CostCenter":"cc-1"}',
            *acme,
            Decimal(2),  # the stated price; no quantity: OCI's delta is negative (raw keeps it)
            None,
            None,
            "B93113",
        ),
        (
            "Usage",
            None,
            Decimal("4"),
            '{"Finance.CostCenter":"cc-1","team":"ml"}',
            *acme,
            Decimal(2),
            Decimal(2),
            "OCPU Hours",
            "B93113",
        ),
        (
            "Usage",
            None,
            Decimal("3"),
            '{"Finance.CostCenter":"cc-1"}',
            TENANT,
            "acme",
            "ocid1.compartment.oc1..dev",
            "dev",
            "Compute",
            "Compute",
            "Virtual Machines",
            "instance",
            Decimal("1.5"),
            Decimal(2),
            "OCPU Hours",
            "B93113",
        ),
    ]
    assert categories == [
        ("DATABASE", "Databases", "autonomousdatabase"),
        ("OBJECTSTORE", "Storage", "bucket"),
        ("TELEMETRY", "Management and Governance", "metricnamespace"),
    ]
    report = run_conformance(settings, ORG)
    assert [(r.rule_id, r.detail) for r in report.failed(strict=True)] == []
    assert report.summary()["pass"] >= 380
