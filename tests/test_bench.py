"""`make bench` at a small size (20k rows: every line item type occurs): the harness runs the real pipeline, the
floor and both re-processing runs, writes its results, and the pipeline's FOCUS rows equal the hand-written
floor's. Speed is never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from bench.run import main as bench_main
from bench.run import parse_size

pytestmark = pytest.mark.slow

MEASUREMENTS = ("pipeline", "floor", "reprocess_day_dbt", "reprocess_day_pipeline")
FIELDS = ("wall_s", "rows", "rows_per_s", "peak_rss_mb", "peak_rss_mb_by_process", "cpu_s", "exit_code", "detail")


def test_sizes_parse() -> None:
    assert [parse_size(s) for s in ("2k", "100k", "1M", "10M", "1500")] == [2000, 100_000, 1_000_000, 10_000_000, 1500]
    with pytest.raises(ValueError, match="not a size"):
        parse_size("ten")


def test_bench_harness_at_20k_rows(tmp_path: Path) -> None:
    results = tmp_path / "results"
    assert (
        bench_main(
            [
                "--sizes",
                "20k",
                "--bench-dir",
                str(tmp_path / "bench"),
                "--results-dir",
                str(results),
                "--keep",
                "--sources",
                "aws",
            ]
        )
        == 0
    )
    (json_file,) = results.glob("*.json")
    table_rows = [line for line in json_file.with_suffix(".md").read_text().splitlines() if line.startswith("| 20k | ")]
    assert [row.split(" | ")[1] for row in table_rows] == list(MEASUREMENTS)
    result = json.loads(json_file.read_text())
    assert {"started_at", "finished_at", "environment", "targets", "sizes", "verdict"} <= set(result)
    (size,) = result["sizes"]
    assert size["rows"] == 20_000 and size["data"]["files"] == 3  # 3 billing periods, one file each
    by_name = {m["name"]: m for m in size["measurements"]}
    assert tuple(by_name) == MEASUREMENTS
    for m in by_name.values():
        assert all(f in m for f in FIELDS) and m["exit_code"] == 0 and m["wall_s"] > 0 and m["peak_rss_mb"] > 0
    pipeline, floor = by_name["pipeline"], by_name["floor"]
    assert set(pipeline["detail"]["steps_s"]) == {"extract_cur", "transform"}
    assert pipeline["detail"]["dbt_mart_model_s"] is not None and pipeline["detail"]["dbt_tests_s"] > 0
    assert pipeline["detail"]["ratio_to_floor"] > 0 and by_name["reprocess_day_dbt"]["detail"]["fraction_of_full"] > 0
    assert by_name["reprocess_day_pipeline"]["detail"]["steps_rows.extract_cur"] > 0  # the day's month, reloaded
    # the same FOCUS rows: count and money sums, after the full build and after each re-processing run; one row per
    # CUR row, plus one Unused row per recurring commitment fee with an unused part
    (unused_fees,) = (
        duckdb.connect()
        .execute(
            f"select count(*) from read_parquet('{tmp_path}/bench/data/*/data/*/*.parquet') "
            "where line_item_line_item_type = 'SavingsPlanRecurringFee' "
            "and savings_plan_total_commitment_to_date <> savings_plan_used_commitment"
        )
        .fetchone()
    )
    assert unused_fees > 0 and floor["detail"]["focus"]["rows"] == 20_000 + unused_fees
    for name in ("pipeline", "reprocess_day_dbt", "reprocess_day_pipeline"):
        assert by_name[name]["detail"]["focus"] == floor["detail"]["focus"], name
    assert [v["target"] for v in result["verdict"]] == [
        "wall time, 90 days to FOCUS",
        "peak RSS (process tree)",
        "pipeline / floor wall time",
        "re-process one day (dbt) / full",
    ]
    kinds = {r[0] for r in duckdb.connect().execute(
        f"select distinct line_item_line_item_type from read_parquet('{tmp_path}/bench/data/*/data/*/*.parquet')"
    ).fetchall()}  # fmt: skip
    assert {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "Tax"} <= kinds
    # the floor's columns are FOCUS columns of the mart, with the mart's types, and its values agree row by row
    work = tmp_path / "bench" / "work" / "20k"
    conn = duckdb.connect(str(work / "floor.duckdb"), read_only=True)
    try:
        conn.execute(f"attach '{work / 'warehouse' / 'bench.duckdb'}' as wh (read_only)")
        floor_types = conn.execute("select column_name, column_type from (describe focus)").fetchall()
        mart_types = dict(
            conn.execute("select column_name, column_type from (describe wh.main.cost_data_standard_1_3)").fetchall()
        )
        assert len(floor_types) > 80 and all(mart_types.get(name) == kind for name, kind in floor_types), floor_types
        lineage = ("x_run_id", "x_ingested_at", "x_ingestion_date", "x_ExportVersion")  # per run, not per mapping
        compared = [name for name, _ in floor_types if name not in lineage]
        columns = ", ".join(compared)
        differ = conn.execute(
            f"select count(*) from (select {columns} from focus except "
            f"select {columns} from wh.main.cost_data_standard_1_3 where x_ProviderSlug = 'aws')"
        ).fetchone()
    finally:
        conn.close()
    assert differ == (0,)
