"""Azure cost details: normalisation of every export flavour (EA / MCA / legacy usage, actual / amortized),
bad input, billing-period loads with export versions (late and restated data), the demo generator, and the
real public samples converted to FOCUS 1.3 through the CLI and dbt on DuckDB, reconciled to the cent and
checked against the generated FOCUS conformance tests (the BigQuery run is in tests/test_azure_cost_bigquery.py).

"Billed" in the reconciliation (reference/billing-sources.md 5.3, the FinOps toolkit conversion): the file's
billed cost column (CostInBillingCurrency / Cost / PreTaxCost) over every row except commitment-covered
usage (ChargeType Usage with PricingModel Reservation / SavingsPlan) and unused commitment
(UnusedReservation / UnusedSavingsPlan). Actual exports state covered usage at 0, so for them this is the
whole column; amortized exports carry amortised amounts there, which the purchase (actual export) bills.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
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

from demo.azure_cost import BILLING_PROFILE, write_azure_csv
from extract.azure_cost.processor import AZURE_COST_PROCESSOR, AzureCostConfig
from extract.azure_cost.reader import read_azure_files
from extract.azure_cost.schema import classify, header_key, source_format
from extract.files import list_files
from focusline.errors import InputDataError
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from run import cli
from tests.conftest import REPO, SHARED

AZURE = SHARED / "sample-data" / "raw" / "azure"
SAMPLES = (
    "EA_ActualCost_Small.csv",
    "EA_AmortizedCost_Small.csv",
    "EA_NoRows.csv",
    "azure_camelCased.csv",
    "azure_version_2.csv",
    "camel_azure_version_2.csv",
    "costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv",
    "sample-anonymous-ea-export-dataset.csv",
)
CENT = Decimal("0.01")
ORG = "azure_org"
PIPELINE = "cloud_azure_cost"
FOCUS_SUBCATEGORIES = REPO / "macros" / "focus" / "get_focus_enumerations.sql"


def ctx_for(settings: Settings, start: dt.date, end: dt.date, org: str = ORG, run_id: str = "run-1") -> StepContext:
    return StepContext(
        org, PIPELINE, run_id, "extract_cost_details", start, end, "local", settings, {}, time.monotonic() + 300
    )


def run_azure(settings: Settings, uri: Path | str, start: dt.date, end: dt.date, **config: object) -> StepResult:
    return AZURE_COST_PROCESSOR.run(ctx_for(settings, start, end), AzureCostConfig(uri=str(uri), **config))


def raw(settings: Settings, sql: str, org: str = ORG) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse_path(org)))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _date(text: str) -> dt.date:
    text = text.strip()
    if "/" in text:
        month, day, year = text.split(" ")[0].split("/")
        return dt.date(int(year), int(month), int(day))
    return dt.date.fromisoformat(text[:10])


def read_rows(path: Path) -> list[dict[str, str]]:
    """The file's rows with headers lower-cased (csv module, independent of the reader under test)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{k.lower(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _first(row: dict[str, str], *names: str) -> str:
    return next((row[n] for n in names if n in row), "")


def file_billed(path: Path) -> dict[tuple[str, str], Decimal]:
    """Per (billing period, currency): the billed cost of the file (module doc), summed with csv + Decimal."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in read_rows(path):
        charge = row.get("chargetype", "").lower()
        model = row.get("pricingmodel", "").lower().replace(" ", "")
        if charge in ("unusedreservation", "unusedsavingsplan") or (
            charge == "usage" and model in ("reservation", "savingsplan", "savingsplans")
        ):
            continue
        cost = _first(row, "costinbillingcurrency", "cost", "pretaxcost") or "0"
        currency = _first(row, "billingcurrencycode", "billingcurrency", "currency").upper()
        start = row.get("billingperiodstartdate")
        period = _date(start) if start else _date(_first(row, "date", "usagedatetime")).replace(day=1)
        totals[(period.isoformat(), currency)] += Decimal(cost)
    return dict(totals)


def file_cost(path: Path) -> tuple[int, Decimal]:
    rows = read_rows(path)
    return len(rows), sum(
        (Decimal(_first(r, "costinbillingcurrency", "cost", "pretaxcost") or "0") for r in rows), Decimal()
    )


# -- normalisation ------------------------------------------------------------------------------------------------


def test_headers_normalise_case_insensitively_to_one_name_set() -> None:
    assert header_key("\ufeffBillingAccountId") == header_key("billingAccountId") == header_key("billing_account_id")
    chosen, unmapped = classify(
        ["\ufeffBillingAccountId", "Cost", "costInBillingCurrency", "billing_currency_code", "SubscriptionGuid", "Foo"]
    )
    assert chosen == {
        "billing_account_id": "\ufeffBillingAccountId",
        "cost_in_billing_currency": "costInBillingCurrency",  # preferred over the older EA name
        "billing_currency": "billing_currency_code",
        "subscription_id": "SubscriptionGuid",
    }
    assert unmapped == ["Cost", "Foo"]
    assert classify(["UsageDateTime", "PreTaxCost", "Currency"])[0] == {
        "charge_date": "UsageDateTime",
        "cost_in_billing_currency": "PreTaxCost",
        "billing_currency": "Currency",
    }
    assert source_format(["costInBillingCurrency", "exchangeRatePricingToBilling"]) == "mca"
    assert source_format(["SubscriptionGuid", "PreTaxCost"]) == "legacy_usage"
    assert source_format(["BillingAccountId", "Cost", "BillingCurrency"]) == "ea"


EXPECTED_FORMATS = {
    "EA_ActualCost_Small.csv": "ea:actual",  # a reservation purchase
    "EA_AmortizedCost_Small.csv": "ea:amortized",  # reservation / savings plan usage with a cost
    "EA_NoRows.csv": "ea:actual",
    "azure_camelCased.csv": "legacy_usage:actual",
    "azure_version_2.csv": "ea:actual",
    "camel_azure_version_2.csv": "mca:actual",
    "costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv": "legacy_usage:actual",
    "sample-anonymous-ea-export-dataset.csv": "ea:actual",
}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_flavour_lands_in_one_typed_shape(name: str) -> None:
    path = AZURE / name
    batch = read_azure_files(list_files(str(path)))
    try:
        assert batch.formats == {str(path.resolve()): EXPECTED_FORMATS[name]}
        types = dict(batch.conn.execute("select column_name, column_type from (describe azure_rows)").fetchall())
        assert types["cost_in_billing_currency"] == "DECIMAL(38,9)" and types["tags"] == "JSON"
        assert types["usage_date"] == "DATE" and types["billing_period_end"] == "DATE"
        count, total = batch.conn.execute("select count(*), sum(cost_in_billing_currency) from azure_rows").fetchone()
        expected_count, expected_total = file_cost(path)
        assert count == expected_count
        # raw money is DECIMAL(38,9): each row rounded to 1e-9
        assert abs((total or Decimal(0)) - expected_total) <= Decimal("5e-10") * max(count, 1)
        bad = batch.conn.execute(
            "select count(*) from azure_rows where tags is not null and json_type(tags) <> 'OBJECT' "
            "or billing_period > usage_date or billing_period_end <= usage_date or billing_currency is null"
        ).fetchone()
        assert bad == (0,)
    finally:
        batch.close()


def test_ea_tags_without_braces_mca_dates_and_legacy_columns() -> None:
    batch = read_azure_files(list_files(str(AZURE / "sample-anonymous-ea-export-dataset.csv")))
    tags, period, end, usage = batch.conn.execute(
        "select any_value(tags), min(billing_period), min(billing_period_end), min(usage_date) from azure_rows"
    ).fetchone()
    batch.close()
    assert json.loads(tags) == {"tagA": "valueA", "tagB": "valueB", "tagC": "valueC"}  # was "tagA": "valueA",...
    assert (period, end, usage) == (dt.date(2023, 9, 1), dt.date(2023, 10, 1), dt.date(2023, 9, 2))  # 9/2/2023
    mca = read_azure_files(list_files(str(AZURE / "camel_azure_version_2.csv")))  # mixed line endings too
    row = mca.conn.execute(
        "select billing_period, billing_profile_id, pricing_currency, exchange_rate_pricing_to_billing, "
        "resource_id, resource_name, resource_type from azure_rows order by x_source_row_number limit 1"
    ).fetchone()
    mca.close()
    # no BillingPeriodStartDate in the file: the month of Date; InstanceName holds the resource id
    assert row[:4] == (dt.date(2023, 8, 1), "NF5V-BI6B-BG7-PGB", "USD", Decimal("1"))
    assert row[4].endswith("/storageAccounts/filtereddatademo") and row[5] == "filtereddatademo"
    assert row[6] == "microsoft.storage/storageaccounts"
    legacy = read_azure_files(list_files(str(AZURE / "costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv")))
    row = legacy.conn.execute(
        "select subscription_id, usage_date, effective_price, x_unmapped_columns from azure_rows "
        "order by x_source_row_number limit 1"
    ).fetchone()
    legacy.close()
    assert row[:3] == ("0039de71-ca37-4a17-a104-17665a50e7fc", dt.date(2019, 7, 29), Decimal("0"))
    assert json.loads(row[3]) == {"ServiceName": "Bandwidth", "ServiceTier": "Bandwidth"}  # nothing is lost


def test_actual_or_amortized_by_rows_by_name_or_by_config(tmp_path: Path, settings: Settings) -> None:
    on_demand = AZURE / "sample-anonymous-ea-export-dataset.csv"
    named = tmp_path / "export_AmortizedCost_2023-09.csv"
    shutil.copy(on_demand, named)
    assert set(read_azure_files(list_files(str(named))).formats.values()) == {"ea:amortized"}
    forced = read_azure_files(list_files(str(on_demand)), dataset="amortized")
    assert set(forced.formats.values()) == {"ea:amortized"}
    forced.close()
    # loaded side by side under their own keys: a new actual export leaves the amortized rows alone
    september = (dt.date(2023, 9, 1), dt.date(2023, 9, 30))
    run_azure(settings, AZURE / "EA_AmortizedCost_Small.csv", *september)
    actual = run_azure(settings, AZURE / "EA_ActualCost_Small.csv", *september)
    assert actual.detail["credential_ids"] == ["8611537"]
    assert raw(
        settings, "select x_credential_id, x_cost_dataset, count(*) from raw.raw_azure_cost group by all order by 1"
    ) == [
        ("8611537", "actual", 11),
        ("8611537:amortized", "amortized", 28),
    ]


# -- bad input ------------------------------------------------------------------------------------------------------

HEADER = "BillingAccountId,BillingPeriodStartDate,Date,CostInBillingCurrency,BillingCurrencyCode,Tags\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "1,09/01/2023,09/02/2023,twelve,USD,",
            "column CostInBillingCurrency: 1 value(s) like 'twelve' are not a number",
        ),
        ("1,09/01/2023,13/45/2023,1.5,USD,", "column Date: 1 value(s) like '13/45/2023' are not a date"),
        ('1,09/01/2023,09/02/2023,1.5,USD,"""a"": ""b"", broken"', "column Tags: 1 value(s) like"),
        ("1,09/01/2023,09/02/2023,1.5,,", "column BillingCurrencyCode: 1 row(s) have no currency"),
        ("1,09/01/2023,,1.5,USD,", "column Date: 1 row(s) have no date"),
    ],
)
def test_bad_values_name_file_column_and_value(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "1,09/01/2023,09/02/2023,1.5,USD,\n" + row + "\n")
    with pytest.raises(InputDataError) as error:
        read_azure_files(list_files(str(path)))
    assert str(path) in str(error.value) and message in str(error.value)


def test_files_that_are_not_cost_details_or_break_the_period_fail_clearly(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(InputDataError, match="not an Azure cost details export: no column for Date"):
        read_azure_files(list_files(str(AZURE / "Services.csv")))
    outside = tmp_path / "outside.csv"
    outside.write_text(HEADER + "1,09/01/2023,10/05/2023,1.5,USD,\n")
    with pytest.raises(InputDataError, match="outside the billing period"):
        run_azure(settings, outside, dt.date(2023, 9, 1), dt.date(2023, 10, 31))
    two = tmp_path / "two"
    two.mkdir()
    (two / "a.csv").write_text(HEADER + "1,09/01/2023,09/05/2023,1.5,USD,\n")
    (two / "b.csv").write_text(HEADER + "2,09/01/2023,09/05/2023,1.5,USD,\n")
    with pytest.raises(InputDataError, match="rows of 2 billing accounts"):
        run_azure(settings, two, dt.date(2023, 9, 1), dt.date(2023, 9, 30))
    assert run_azure(settings, two, dt.date(2023, 9, 1), dt.date(2023, 9, 30), credential_id="both").rows == 2


def test_header_only_export_converts_to_nothing(settings: Settings) -> None:
    result = run_azure(settings, AZURE / "EA_NoRows.csv", dt.date(2023, 9, 1), dt.date(2023, 9, 30))
    assert result.rows == 0 and result.detail["loaded_periods"] == [] and result.detail["files"] == 1


# -- late and restated data ------------------------------------------------------------------------------------------


def test_a_newer_export_replaces_the_month_and_an_older_one_never_wins(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    january = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    v1, v2, v3 = (dt.datetime(2026, 1, d, 6, tzinfo=dt.UTC) for d in (10, 11, 12))
    three_days = write_azure_csv(tmp_path / "v2.csv", 300, seed=2, days=3)
    assert run_azure(settings, three_days, *january, version=v2).rows == 300
    assert raw(settings, "select count(distinct usage_date) from raw.raw_azure_cost") == [(3,)]
    before = raw(
        settings, "select x_run_id, count(*), sum(cost_in_billing_currency) from raw.raw_azure_cost group by 1"
    )

    caplog.set_level("WARNING")
    late = run_azure(settings, write_azure_csv(tmp_path / "v1.csv", 500, seed=1, days=5), *january, version=v1)
    assert late.rows == 0
    assert late.detail["skipped_older_periods"] == [
        {"period": "2026-01-01", "version": "2026-01-10T06:00:00", "loaded": "2026-01-11T06:00:00"}
    ]
    assert "older than the loaded" in caplog.text
    assert (
        raw(settings, "select x_run_id, count(*), sum(cost_in_billing_currency) from raw.raw_azure_cost group by 1")
        == before
    )

    one_day = write_azure_csv(tmp_path / "v3.csv", 100, seed=3, days=1)
    assert run_azure(settings, one_day, *january, version=v3).rows == 100
    assert raw(
        settings, "select count(*), count(distinct usage_date), min(x_export_version) from raw.raw_azure_cost"
    ) == [(100, 1, v3.replace(tzinfo=None))]
    # the same version again is a plain re-run; a period outside the run's range is left alone
    rows = raw(settings, "select count(*), sum(cost_in_billing_currency) from raw.raw_azure_cost")
    run_azure(settings, one_day, *january, version=v3)
    assert raw(settings, "select count(*), sum(cost_in_billing_currency) from raw.raw_azure_cost") == rows
    outside = run_azure(settings, one_day, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert outside.rows == 0 and outside.detail["periods_outside_range"] == ["2026-01-01"]


def test_file_versions_decide_when_no_version_is_configured(settings: Settings, tmp_path: Path) -> None:
    newer, older = tmp_path / "newer.csv", tmp_path / "older.csv"
    write_azure_csv(newer, 50, seed=5)
    write_azure_csv(older, 80, seed=6)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    os.utime(newer, (1_700_086_400, 1_700_086_400))  # a day later
    january = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    run_azure(settings, newer, *january)
    assert run_azure(settings, older, *january).rows == 0
    assert raw(settings, "select count(*) from raw.raw_azure_cost") == [(50,)]


# -- the demo generator ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["ea", "mca"])
def test_generator_round_trips(tmp_path: Path, flavour: str) -> None:
    path = write_azure_csv(tmp_path / f"{flavour}.csv", 3000, seed=11, flavour=flavour)
    again = write_azure_csv(tmp_path / f"{flavour}-again.csv", 3000, seed=11, flavour=flavour)
    other = write_azure_csv(tmp_path / f"{flavour}-other.csv", 3000, seed=12, flavour=flavour)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(path) == digest(again) != digest(other)
    rows = read_rows(path)
    assert rows[0]["chargetype"] == "Purchase" and len(rows) == 3000
    assert {r["pricingmodel"] for r in rows} == {"Reservation", "Spot", "OnDemand"}
    batch = read_azure_files(list_files(str(path)))
    try:
        assert set(batch.formats.values()) == {f"{flavour}:actual"}
        got = batch.conn.execute(
            "select count(*), sum(cost_in_billing_currency), min(usage_date), max(usage_date), "
            "count(*) filter (where json_type(tags) = 'OBJECT'), any_value(billing_currency) from azure_rows"
        ).fetchone()
    finally:
        batch.close()
    count, total = file_cost(path)
    assert got[:4] == (count, total, dt.date(2026, 1, 1), dt.date(2026, 1, 31))  # costs have 9 decimals: exact
    assert got[4] == 2999 and got[5] == ("USD" if flavour == "ea" else "EUR")
    gz = write_azure_csv(tmp_path / "packed.csv.gz", 200, seed=11, flavour=flavour)
    packed = read_azure_files(list_files(str(gz)))
    assert packed.conn.execute("select count(*) from azure_rows").fetchone() == (200,)
    packed.close()


def test_parquet_export_with_typed_columns_lands_like_csv(tmp_path: Path) -> None:
    """Parquet exports type dates (DATE), money (DOUBLE) and text: the same raw rows as the CSV."""
    csv_path = write_azure_csv(tmp_path / "mca.csv", 500, seed=2, flavour="mca")
    parquet = tmp_path / "mca.parquet"
    conn = duckdb.connect()
    conn.execute(
        "copy (select * replace (strptime(date, '%m/%d/%Y')::date as date, "
        "cast(costInBillingCurrency as double) as costInBillingCurrency, cast(quantity as double) as quantity) "
        f"from read_csv('{csv_path}', all_varchar = true)) to '{parquet}' (format parquet)"
    )
    conn.close()
    shapes = []
    for path in (csv_path, parquet):
        batch = read_azure_files(list_files(str(path)))
        shapes.append(
            batch.conn.execute(
                "select count(*), sum(cost_in_billing_currency), sum(quantity), min(usage_date), max(usage_date), "
                "count(tags), any_value(x_source_format) from azure_rows"
            ).fetchone()
        )
        batch.close()
    assert shapes[0] == shapes[1]
    assert shapes[0][1] == file_cost(csv_path)[1]


def test_service_seed_keeps_one_category_per_service_name() -> None:
    enumerations = FOCUS_SUBCATEGORIES.read_text()
    with (REPO / "seeds/cloud/map_azure_services_to_service_categories.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    keys = [(r["match_on"], r["match_value"]) for r in rows]
    assert len(keys) == len(set(keys)) and all(v == v.lower() for _, v in keys)
    categories: dict[str, str] = {}
    meters = {r["match_value"]: r["service_category"] for r in rows if r["match_on"] == "meter_category"}
    for r in rows:
        assert f"'{r['service_subcategory']}'" in enumerations.split(f"'{r['service_category']}': [")[1].split("]")[0]
        assert categories.setdefault(r["service_name"], r["service_category"]) == r["service_category"], r
        if r["match_on"] == "consumed_service" and not r["service_name"].startswith("microsoft."):
            assert meters[r["service_name"].lower()] == r["service_category"], r  # an unmatched meter can't collide
        assert r["source"], r


# -- the real samples, end to end through the CLI and dbt (DuckDB) -----------------------------------------------


def write_config(configs: Path, uri: Path) -> None:
    text = (REPO / "configs/cloud/azure/cost_details.yml").read_text()
    text = text.replace("export_uri: exports/azure/cost_details", f"export_uri: {uri}")
    (configs / "cloud/azure/cost_details.yml").write_text(text)


@pytest.mark.slow
def test_every_sample_converts_and_reconciles_to_the_cent(configs_copy: Path, settings: Settings) -> None:
    # the amortized sample covers the actual one's account and month: alone in its organisation, its rows
    # reconcile on their own (together, the FOCUS model keeps only the actual export's purchase)
    orgs = {name: "azure_samples_amortized" if "Amortized" in name else "azure_samples" for name in SAMPLES}
    for org in set(orgs.values()):
        assert CliRunner().invoke(cli, ["orgs", "create", org, "--plan", "scale"]).exit_code == 0
    expected: dict[str, dict[tuple[str, str, str], Decimal]] = defaultdict(dict)
    for name in SAMPLES:
        path = AZURE / name
        write_config(configs_copy, path)
        billed = file_billed(path)
        start = dt.date.fromisoformat(next(iter(billed))[0]) if billed else dt.date(2023, 9, 1)
        result = CliRunner().invoke(
            cli,
            [
                "run",
                orgs[name],
                "cloud/azure/cost_details",
                "--start-date",
                str(start),
                "--end-date",
                str(start),
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["status"] == "completed", result.output
        for (period, currency), total in billed.items():
            expected[orgs[name]][(str(path.resolve()), period, currency)] = total
    assert len(expected["azure_samples"]) == 6  # every file but the header-only one has rows
    for org, totals in expected.items():
        got = raw(
            settings,
            "select x_SourceFile, cast(cast(BillingPeriodStart as date) as varchar), BillingCurrency, sum(BilledCost) "
            "from main.cost_data_standard_1_3 where x_ProviderSlug = 'azure' group by 1, 2, 3",
            org=org,
        )
        assert {(f, p, c): v.quantize(CENT) for f, p, c, v in got} == {k: v.quantize(CENT) for k, v in totals.items()}


@pytest.mark.slow
def test_samples_pass_dbt_build_and_the_focus_conformance_rules(settings: Settings, tmp_path: Path) -> None:
    """All samples and a generated EA and MCA month in one warehouse, `dbt build` of the whole project, then
    the generated FOCUS 1.3 conformance tests (run.py conformance) on the result."""
    ea = write_azure_csv(tmp_path / "gen" / "ea.csv", 400, seed=3, flavour="ea")
    mca = write_azure_csv(tmp_path / "gen" / "mca.csv", 400, seed=4, flavour="mca", period=dt.date(2026, 2, 1))
    for index, path in enumerate([*(AZURE / name for name in SAMPLES), ea, mca]):
        ctx = ctx_for(settings, dt.date(2019, 1, 1), dt.date(2026, 12, 31), run_id=f"run-{index}")
        AZURE_COST_PROCESSOR.run(ctx, AzureCostConfig(uri=str(path)))
    from orchestrator.conformance import run_conformance
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
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:]

    report = run_conformance(settings, ORG)
    # the only violation is real: koku's azure_version_2.csv bills in the placeholder currency "MC"
    assert [(r.rule_id, r.failing_rows) for r in report.failed()] == [("CAU-BillingCurrency-C-006-M", 5)]
    assert report.summary()["pass"] > 300

    focus = "main.cost_data_standard_1_3 where x_ProviderSlug = 'azure'"
    # actual + amortized of one account and month: the amortized rows and the actual purchase only
    september = raw(
        settings,
        f"select x_credential_id, x_LineItem, count(*), sum(BilledCost), sum(EffectiveCost) from {focus} "
        "and BillingAccountId = '8611537' and BillingPeriodStart = timestamp '2023-09-01' group by 1, 2 order by 1, 2",
    )
    amortized_billed = file_billed(AZURE / "EA_AmortizedCost_Small.csv")[("2023-09-01", "USD")]
    amortized_cost = file_cost(AZURE / "EA_AmortizedCost_Small.csv")[1]
    assert [row[:3] for row in september] == [("8611537", "Purchase", 1), ("8611537:amortized", "Usage", 28)]
    assert september[0][3:] == (Decimal("3.25"), Decimal("0"))
    # raw money is rounded to 1e-9 per row
    assert abs(september[1][3] - amortized_billed) <= Decimal("28") * Decimal("5e-10")
    assert abs(september[1][4] - amortized_cost) <= Decimal("28") * Decimal("5e-10")
    commitments = raw(
        settings,
        f"select CommitmentDiscountType, CommitmentDiscountCategory, CommitmentDiscountStatus, PricingCategory, "
        f"CommitmentDiscountUnit, sum(BilledCost), sum(EffectiveCost), count(*) from {focus} "
        "and CommitmentDiscountId is not null and ChargeCategory = 'Usage' "
        "and BillingPeriodStart = timestamp '2023-09-01' group by all order by 1",
    )
    assert commitments == [
        ("Reservation", "Usage", "Used", "Committed", "Hours", Decimal("0"), Decimal("0.493152"), 1),
        ("Savings Plan", "Spend", "Used", "Committed", "USD", Decimal("0"), Decimal("0.006000000"), 1),
    ]
    generated = raw(
        settings,
        f"select BillingAccountType, BillingAccountId, BillingCurrency, PricingCurrency, count(*), "
        f"sum(BilledCost), sum(PricingCurrencyEffectiveCost) from {focus} and x_SourceFile like '%mca.csv' "
        "group by all",
    )
    rows = read_rows(mca)
    billed = sum((Decimal(r["costinbillingcurrency"]) for r in rows), Decimal())
    effective_pc = sum((Decimal(r["costinpricingcurrency"]) for r in rows if r["chargetype"] != "Purchase"), Decimal())
    assert generated == [("Billing Profile", BILLING_PROFILE, "EUR", "USD", 400, billed, effective_pc)]
    detail = raw(
        settings,
        f"select ServiceName, ServiceCategory, ServiceSubcategory, RegionId, RegionName, Tags, ResourceType, "
        f"ConsumedUnit, PricingUnit from {focus} and x_SourceFile like '%ea.csv' and ServiceName = 'Log Analytics' "
        "and RegionId = 'westeurope' limit 1",
    )[0]
    assert detail[:5] == ("Log Analytics", "Management and Governance", "Observability", "westeurope", "West Europe")
    assert set(json.loads(detail[5])) == {"env", "team"} and detail[6] == "microsoft.operationalinsights/workspaces"
    assert detail[7:] == ("GB", "GB")
