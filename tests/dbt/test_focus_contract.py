"""The mart's columns are the 65 FOCUS 1.3 columns in spec order, then x_ columns only, with spec
types; the contract YAML agrees with get_focus_columns() (the single source of truth)."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from jinja2 import Template

from tests.dbt.dbt_harness import PROJECT_DIR, DbtWarehouse

pytestmark = pytest.mark.slow

SPEC = PROJECT_DIR.parent / "shared" / "reference" / "focus-1.3.md"
MART_YML = PROJECT_DIR / "models" / "marts" / "cost_data_standard_1_3.yml"
DATA_TYPE_MACRO = PROJECT_DIR / "macros" / "focus" / "get_focus_data_type.sql"
DUCKDB_TYPES = {"Decimal": "DECIMAL(38,9)", "String": "VARCHAR", "Date/Time": "TIMESTAMP", "JSON": "JSON"}


def spec_columns() -> list[tuple[str, str]]:
    """(column, data type) of the FOCUS 1.3 Cost and Usage table, in the order of section 2."""
    if not SPEC.exists():
        pytest.skip(f"FOCUS reference notes not found at {SPEC}")
    text = SPEC.read_text()
    section = text.split("## 2. Cost and Usage dataset")[1].split("\n## 3.")[0]
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| ([^|]+?) \|", section, flags=re.MULTILINE)
    assert [int(n) for n, _, _ in rows] == list(range(1, 66))
    return [(name, data_type.strip()) for _, name, data_type in rows]


@pytest.fixture(scope="module")
def built(dbt_warehouse: DbtWarehouse) -> DbtWarehouse:
    dbt_warehouse.dbt("build")
    return dbt_warehouse


@pytest.fixture(scope="module")
def focus_columns(dbt_warehouse: DbtWarehouse) -> list[dict]:
    out = dbt_warehouse.dbt("run-operation", "print_focus_columns", quiet=True)
    line = next(line for line in out.splitlines() if line.startswith("[{"))
    return json.loads(line)


def test_spec_table_has_65_alphabetical_columns() -> None:
    names = [name for name, _ in spec_columns()]
    assert len(names) == 65
    assert names == sorted(names)


def test_mart_columns_are_focus_in_spec_order_then_x_columns(built: DbtWarehouse) -> None:
    columns = built.query(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'cost_data_standard_1_3' order by ordinal_position"
    )
    spec = spec_columns()
    assert [name for name, _ in columns[:65]] == [name for name, _ in spec]
    assert [data_type for _, data_type in columns[:65]] == [DUCKDB_TYPES[t] for _, t in spec]
    custom = [name for name, _ in columns[65:]]
    assert custom and all(name.startswith("x_") for name in custom), custom
    for name in (
        "x_org_slug",
        "x_pipeline_id",
        "x_credential_id",
        "x_pipeline_run_date",
        "x_run_id",
        "x_ingested_at",
        "x_ingestion_date",
        "x_ModelName",
        "x_TokenType",
        "x_ServiceTier",
        "x_ApiKeyId",
        "x_CostSource",
        "x_EstimatedCost",
    ):
        assert name in custom


def test_get_focus_columns_matches_spec(focus_columns: list[dict]) -> None:
    spec = spec_columns()
    assert [(c["name"], c["spec_type"]) for c in focus_columns[:65]] == spec
    assert all(not c["is_custom"] for c in focus_columns[:65])
    assert all(c["is_custom"] and c["name"].startswith("x_") for c in focus_columns[65:])


def _contract(target_type: str) -> list[tuple[str, str]]:
    model = yaml.safe_load(MART_YML.read_text())["models"][0]
    assert model["config"]["contract"]["enforced"] is True
    target = {"type": target_type}
    return [
        (column["name"], Template(str(column["data_type"])).render(target=target).strip())
        for column in model["columns"]
    ]


def test_contract_yaml_agrees_with_get_focus_columns_on_duckdb(focus_columns: list[dict]) -> None:
    assert _contract("duckdb") == [(c["name"], c["data_type"]) for c in focus_columns]


def test_contract_yaml_agrees_with_get_focus_columns_on_bigquery(focus_columns: list[dict]) -> None:
    # the bigquery__ variant's type map, read from the macro source (no BigQuery connection here)
    source = DATA_TYPE_MACRO.read_text().split("bigquery__get_focus_data_type")[1]
    bigquery_types = dict(re.findall(r"'([A-Za-z/]+)': '([a-z0-9(),]+)'", source))
    expected = [(c["name"], bigquery_types[c["spec_type"]]) for c in focus_columns]
    assert _contract("bigquery") == expected


def test_invalid_org_slug_stops_compilation(dbt_warehouse: DbtWarehouse) -> None:
    out = dbt_warehouse.dbt("compile", "--select", "stg_openai__costs", vars={"org_slug": "x' or '1'='1"}, check=False)
    assert "must match ^[a-z0-9_]{3,50}$" in out
