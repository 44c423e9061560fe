"""FOCUS 1.3 conformance: the generated files are up to date with the requirements model, every MUST
rule of the Cost and Usage dataset is covered or listed as not checkable, and the generated tests
pass on good data and name the broken rules on bad data (slow part: real dbt against DuckDB)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pytest

from focusline.settings import Settings
from orchestrator import conformance
from orchestrator.conformance import ConformanceReport, run_conformance

SAMPLES = conformance.PROJECT_DIR.parent / "shared" / "sample-data" / "handmade-focus-1.3"
DUCKDB_TYPES = {"Decimal": "DECIMAL(38,9)", "String": "VARCHAR", "Date/Time": "TIMESTAMP", "JSON": "JSON"}


def test_generated_files_are_up_to_date() -> None:
    for path, text in conformance.generated_files().items():
        stale = f"{path.name} is stale: run `python run.py conformance-generate`"
        assert path.read_text(encoding="utf-8") == text, stale


def test_every_must_rule_is_covered_or_listed_with_a_reason() -> None:
    model = conformance.load_model()
    must = {
        rule_id
        for rule_id, rule in model["ModelRules"].items()
        if rule_id.startswith("CAU-")
        and rule["Status"] != "Removed"
        and rule["ValidationCriteria"]["Keyword"] in ("MUST", "MUST NOT")
    }
    rows = list(csv.DictReader(io.StringIO(conformance.CSV_PATH.read_text(encoding="utf-8"))))
    assert {row["rule_id"] for row in rows} == must
    tests = set(re.findall(r"^\s+name: (focus_cau_\w+)$", conformance.YAML_PATH.read_text(), flags=re.MULTILINE))
    for row in rows:
        if row["checkable"] == "yes":
            assert row["dbt_test"] in tests, row["rule_id"]
        else:
            assert row["reason"].strip(), f"{row['rule_id']} is not checkable but gives no reason"
            assert not row["dbt_test"]
    counts = conformance.counts(conformance.classify(model))
    readme = (conformance.PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert f"{counts['checkable']} MUST rules checkable on data" in readme
    assert f"{counts['not_checkable']} not checkable" in readme


def test_composites_resolve_to_their_parts() -> None:
    entries = {e.rule_id: e for e in conformance.classify(conformance.load_model())}
    billed = entries["CAU-BilledCost-C-000-M"]
    assert billed.checkable == "composite" and "CAU-BilledCost-C-003-M" in billed.parts
    # a part inherits its composite's Condition: "When ListUnitPrice is not null, ... MUST be non-negative"
    assert entries["CAU-ListUnitPrice-C-008-M"].condition == {
        "CheckFunction": "CheckNotValue",
        "ColumnName": "ListUnitPrice",
        "Value": None,
    }


# --- against data (dbt) --------------------------------------------------------------------------


def _spec_types() -> dict[str, str]:
    source = (conformance.PROJECT_DIR / "macros" / "focus" / "get_focus_columns.sql").read_text()
    return dict(re.findall(r"\('(\w+)', '(Decimal|String|Date/Time|JSON)', '\w+', (?:true|false)\)", source))


def _load_csv_as_focus_table(csv_path: Path, warehouse: Path) -> None:
    """The hand-made FOCUS file as cost_data_standard_1_3 with the mart's column types."""
    types = _spec_types()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(warehouse))
    try:
        header = conn.execute(f"select * from read_csv('{csv_path}', all_varchar = true) limit 0").description
        names = [column[0] for column in header]
        assert sorted(names) == sorted(types), "sample file must have the 65 FOCUS columns"
        select = ", ".join(f"cast({name} as {DUCKDB_TYPES[types[name]]}) as {name}" for name in types)
        conn.execute(
            f"create table cost_data_standard_1_3 as select {select} from read_csv('{csv_path}', all_varchar = true)"
        )
    finally:
        conn.close()


def _statuses(report: ConformanceReport) -> dict[str, str]:
    return {r.rule_id: r.status for r in report.results}


@pytest.fixture
def csv_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("FOCUSLINE_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("FOCUSLINE_STATE_DIR", str(tmp_path / "state"))
    if not SAMPLES.exists():
        pytest.skip(f"hand-made FOCUS samples not found at {SAMPLES}")
    return Settings.from_env()


@pytest.mark.slow
def test_handmade_ok_file_passes_and_bad_file_names_the_broken_rules(csv_settings: Settings) -> None:
    _load_csv_as_focus_table(SAMPLES / "focus13_ok.csv", csv_settings.warehouse_path("sample_ok"))
    _load_csv_as_focus_table(SAMPLES / "focus13_bad.csv", csv_settings.warehouse_path("sample_bad"))

    ok = run_conformance(csv_settings, "sample_ok")
    assert [(r.rule_id, r.detail) for r in ok.failed(strict=True)] == []
    assert _statuses(ok)["CAU-BilledCost-C-003-M"] == "pass"

    bad = run_conformance(csv_settings, "sample_bad")
    failed = {r.rule_id: r for r in bad.failed()}
    assert set(failed) == {
        "CAU-BilledCost-C-003-M",  # empty BilledCost in row 3: MUST NOT be null
        "CAU-BillingCurrency-C-003-M",  # 'usd': CurrencyFormat (a three-letter code must be ISO 4217)
        "CAU-BillingCurrency-C-006-M",  # 'usd': a national currency code
        "CAU-ChargeCategory-C-003-M",  # 'Usages': one of the allowed values
        "CAU-ConsumedQuantity-C-004-C",  # ... and so ConsumedQuantity must be null ("ChargeCategory is not Usage")
    }, {k: v.detail for k, v in failed.items()}
    assert all(r.failing_rows == 1 for r in failed.values())
    statuses = _statuses(bad)
    assert statuses["CAU-BilledCost-C-000-M"] == "fail"  # the composite follows its part
    assert statuses["CAU-CostAndUsage-D-000-M"] == "fail"
    assert statuses["CAU-BillingCurrency-C-005-M"] == "not-checkable"  # dynamic: listed, not skipped
