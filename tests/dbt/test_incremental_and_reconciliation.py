"""dbt on the section 7 OpenAI fixtures: money and tokens reconcile with the sources, a re-run is
idempotent, and a date-window run rewrites exactly its days."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from tests.dbt import openai_fixtures as fixtures
from tests.dbt.dbt_harness import DbtWarehouse

pytestmark = pytest.mark.slow

MART = "main.cost_data_standard_1_3"
PRICED = "main.int_genai_usage_priced"


def expected_tokens_per_class() -> Counter[tuple[dt.date, str]]:
    """Token counts per (day, token class) computed straight from the fixture payloads."""
    expected: Counter[tuple[dt.date, str]] = Counter()
    for row in fixtures.COMPLETIONS:
        day = row["day"]
        expected[(day, "input_uncached")] += row["input_uncached_tokens"]
        expected[(day, "input_cached")] += row["input_cached_tokens"]
        expected[(day, "cache_write_30m")] += row["input_cache_write_30m_tokens"]
        expected[(day, "cache_write_12h")] += row["input_cache_write_12h_tokens"]
        expected[(day, "output")] += row["output_tokens"]
    for row in fixtures.EMBEDDINGS:
        expected[(row["day"], "input_uncached")] += row["input_tokens"]
    return +expected  # drop zero classes, as the models do


@pytest.fixture(scope="module")
def built(dbt_warehouse: DbtWarehouse) -> DbtWarehouse:
    dbt_warehouse.dbt("build")
    return dbt_warehouse


def test_billed_cost_per_day_reconciles_with_costs_api(built: DbtWarehouse) -> None:
    rows = built.query(
        f"select cast(ChargePeriodStart as date), sum(BilledCost) from {MART} "
        "where x_CostSource = 'billed' group by 1 order by 1"
    )
    assert dict(rows) == fixtures.EXPECTED_BILLED_PER_DAY
    # every billed row's EffectiveCost equals its BilledCost; estimates (embeddings: no cost rows)
    # stay at list price
    estimated = built.query(
        f"select cast(ChargePeriodStart as date), sum(BilledCost) from {MART} "
        "where x_CostSource = 'estimated' group by 1 order by 1"
    )
    assert dict(estimated) == {fixtures.DAY_1: Decimal("0.105"), fixtures.DAY_2: Decimal("0.03")}
    assert built.query(f"select count(*) from {MART} where EffectiveCost <> BilledCost") == [(0,)]


def test_token_counts_per_class_equal_the_source(built: DbtWarehouse) -> None:
    rows = built.query(
        f"select cast(ChargePeriodStart as date), x_TokenType, sum(ConsumedQuantity) from {MART} group by 1, 2"
    )
    assert {(day, token_type): int(total) for day, token_type, total in rows} == dict(expected_tokens_per_class())


def test_fixture_list_costs_match_the_reference(built: DbtWarehouse) -> None:
    # genai-apis.md 7.1: at list price gpt-5.4 costs 5.025 / 2.85 and gpt-6-sol 2.10 / 1.45
    rows = built.query(
        f"select cast(ChargePeriodStart as date), SkuId, sum(ListCost) from {MART} "
        "where x_UsageEndpoint = 'completions' group by 1, 2"
    )
    assert {(day, sku): cost for day, sku, cost in rows} == {
        (fixtures.DAY_1, "gpt-5.4"): Decimal("5.025"),
        (fixtures.DAY_1, "gpt-6-sol"): Decimal("2.1"),
        (fixtures.DAY_2, "gpt-5.4"): Decimal("2.85"),
        (fixtures.DAY_2, "gpt-6-sol"): Decimal("1.45"),
    }


def test_rerun_is_idempotent(built: DbtWarehouse) -> None:
    before_mart = built.stable_rows(MART, "x_ChargeRowId")
    before_priced = built.stable_rows(PRICED, "usage_line_id")
    # the same data loaded again by a new run, then dbt again: same rows (run ids/write times aside)
    fixtures.load_fixtures(built.settings, run_id="00000000-0000-4000-8000-000000000002")
    built.dbt("run", "--select", "+cost_data_standard_1_3")
    assert built.stable_rows(MART, "x_ChargeRowId") == before_mart
    assert built.stable_rows(PRICED, "usage_line_id") == before_priced
    assert built.query(f"select distinct x_run_id from {MART}") == [("00000000-0000-4000-8000-000000000002",)]


def test_sub_range_run_rewrites_only_its_days(built: DbtWarehouse) -> None:
    day_1_before = built.query(
        f"select * from {MART} where cast(ChargePeriodStart as date) = '2026-11-01' order by x_ChargeRowId"
    )
    # restated data for both days: day 1 costs change, day 2 costs change and day-2 embeddings vanish
    new_run = "00000000-0000-4000-8000-000000000003"
    restated_costs = [{**row, "amount_value": row["amount_value"] + Decimal("1")} for row in fixtures.cost_rows()]
    usage_without_day_2_embeddings = [
        row
        for row in fixtures.usage_rows()
        if not (row["endpoint"] == "embeddings" and row["bucket_date"] == fixtures.DAY_2)
    ]
    fixtures.load_fixtures(built.settings, run_id=new_run, usage=usage_without_day_2_embeddings, costs=restated_costs)
    window = {"org_slug": fixtures.ORG, "start_date": "2026-11-02", "end_date": "2026-11-02"}
    built.dbt("run", "--select", "+cost_data_standard_1_3", vars=window)

    # day 1 is untouched: same rows, same lineage (old run id), old amounts
    day_1_after = built.query(
        f"select * from {MART} where cast(ChargePeriodStart as date) = '2026-11-01' order by x_ChargeRowId"
    )
    assert day_1_after == day_1_before
    # day 2 is rebuilt from the restated sources: new amounts, new run id, vanished rows gone
    billed = built.query(
        f"select sum(BilledCost) from {MART} where x_CostSource = 'billed' "
        "and cast(ChargePeriodStart as date) = '2026-11-02'"
    )
    assert billed == [(Decimal("6.30"),)]
    assert built.query(
        f"select count(*) from {MART} where cast(ChargePeriodStart as date) = '2026-11-02' "
        "and x_UsageEndpoint = 'embeddings'"
    ) == [(0,)]
    assert built.query(
        f"select distinct x_run_id from {MART} where cast(ChargePeriodStart as date) = '2026-11-02'"
    ) == [(new_run,)]

    # the same window again: identical rows
    day_2 = built.stable_rows(MART, "x_ChargeRowId")
    built.dbt("run", "--select", "+cost_data_standard_1_3", vars=window)
    assert built.stable_rows(MART, "x_ChargeRowId") == day_2
