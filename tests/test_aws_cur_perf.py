"""The AWS CUR extract's fast paths keep its behaviour: money from DOUBLE equals the shortest-text conversion,
text parses to the same DECIMAL(38,9), Parquet is read lazily yet checked up front, and the streaming load
(extract.load.replace_query) writes what replace_arrow writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from demo.aws_cur import write_cur2_parquet, write_cur2_parquet_scaled
from extract.aws_cur.reader import _decimal, _text_to_money, read_cur_files
from extract.aws_cur.schema import RAW_AWS_CUR
from extract.files import list_files
from extract.load import Lineage, RawTable, replace_arrow, replace_query
from focusline.errors import InputDataError, LoadError
from focusline.settings import Settings

ORG = "perf_org"


def test_money_from_double_equals_its_shortest_text() -> None:
    """2M doubles of every magnitude, incl. 10-decimal ties (x.xxxxxxxxx5) and values beyond 1e4 and 1e9."""
    conn = duckdb.connect()
    conn.execute(
        "create table t as select x from ("
        " select (hash(i) % 1000000000000) / 1e12 * pow(10, cast(hash(i * 7) % 24 as int) - 12) as x"
        " from range(700000) r(i)"
        " union all select round((hash(i) % 100000000) / 1e7 * 0.0000166667, 10) from range(400000) r(i)"
        " union all select round((hash(i) % 1000000000) / 1e4, 10) * (1 - 2 * (i % 2)) from range(400000) r(i)"
        " union all select (i * 0.00000000005)::double from range(500000) r(i)"
        " union all select unnest([0.0, -0.0, 1e-10, 5e-10, -5e-10, 9999.9999999995, 10000.0000000005, 1e28, -1e28])"
        ")"
    )
    text = "cast(cast(x as varchar) as decimal(38,9))"
    differ = conn.execute(
        f"select count(*), any_value(x) from t where {text} is distinct from {_decimal('x', 'DOUBLE')}"
    )
    assert differ.fetchone() == (0, None)
    ties = conn.execute(f"select count(*) from t where {text} <> cast(x as decimal(38,9))").fetchone()
    assert ties is not None and ties[0] > 1000  # the binary rounding alone would be wrong here: the check has teeth


def test_money_from_text_parses_like_decimal_38_9() -> None:
    values = [
        "5.2E-9", "1e+28", "-0.0000000005", "0.0000000005", "1.0000000005", "999999999.9999999995",
        "-999999999.9999999995", "0.1234567890123456789", "12345678901.5", "1E-10", "5e-10", "123456789.123456789",
        "0", "-0", ".5", "5.", "+1.5", "1e-20", "99999999999999999999999999999", "0.00000000049999999999",
    ]  # fmt: skip
    conn = duckdb.connect()
    for value in values:
        got = conn.execute(f"select {_text_to_money('$1::varchar')}, cast($1::varchar as decimal(38,9))", [value])
        fast, reference = got.fetchone() or (None, None)
        assert fast == reference, value


def test_parquet_is_checked_before_anything_loads(tmp_path: Path) -> None:
    path = write_cur2_parquet(tmp_path / "ok.parquet", dt.date(2026, 6, 1), days=1, hours=2)
    table = pq.read_table(path)
    costs = table.column("line_item_unblended_cost").to_pylist()
    costs[3] = float("nan")
    bad = table.set_column(
        table.schema.get_field_index("line_item_unblended_cost"), "line_item_unblended_cost", pa.array(costs)
    )
    pq.write_table(bad, tmp_path / "bad.parquet")
    with pytest.raises(
        InputDataError, match=r"bad.parquet: malformed AWS CUR values: line_item_unblended_cost: 1 value"
    ):
        read_cur_files(list_files(str(tmp_path / "bad.parquet")))
    no_period = table.set_column(
        table.schema.get_field_index("bill_billing_period_start_date"),
        "bill_billing_period_start_date",
        pa.nulls(table.num_rows, table.schema.field("bill_billing_period_start_date").type),
    )
    pq.write_table(no_period, tmp_path / "no_period.parquet")
    with pytest.raises(InputDataError, match=r"no_period.parquet: \d+ row\(s\) have no bill/BillingPeriodStartDate"):
        read_cur_files(list_files(str(tmp_path / "no_period.parquet")))


def test_parquet_rows_are_numbered_in_file_order(tmp_path: Path) -> None:
    path = write_cur2_parquet(tmp_path / "cur.parquet", dt.date(2026, 6, 1), days=1, hours=3)
    batch = read_cur_files(list_files(str(path)))
    try:
        numbered = batch.conn.execute("select x_source_row_number, identity_line_item_id from cur_rows").fetchall()
    finally:
        batch.close()
    ids = pq.read_table(path).column("identity_line_item_id").to_pylist()
    assert sorted(numbered) == [(i + 1, line_id) for i, line_id in enumerate(ids)]


def _warehouse(settings: Settings, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse_path(ORG)), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_streaming_load_writes_what_the_arrow_load_writes(settings: Settings, tmp_path: Path) -> None:
    write_cur2_parquet_scaled(tmp_path / "export", 3000, first_period=dt.date(2026, 6, 1), periods=1)
    batch = read_cur_files(list_files(str(tmp_path / "export")))
    days = [dt.date(2026, 6, 1) + dt.timedelta(days=i) for i in range(30)]
    query = "select * exclude (x_export_version), timestamp '2026-07-01 06:00:00' as x_export_version from cur_rows"
    try:
        arrow = batch.conn.sql(query).to_arrow_table()
        streamed = replace_query(settings, RAW_AWS_CUR, batch.conn, query, Lineage(ORG, "p", "streamed", "r1"), days)
        assert streamed == 3000
        assert replace_arrow(settings, RAW_AWS_CUR, arrow, Lineage(ORG, "p", "arrow", "r1"), days) == 3000
        with pytest.raises(LoadError, match="outside the loaded range"):
            replace_query(settings, RAW_AWS_CUR, batch.conn, query, Lineage(ORG, "p", "streamed", "r2"), days[:5])
    finally:
        batch.close()
    columns = [name for name, _ in RAW_AWS_CUR.all_columns if name not in ("x_credential_id", "x_ingested_at")]
    by_key = _warehouse(
        settings,
        f"select x_credential_id, count(*), count(distinct ({', '.join(columns)})), "
        "sum(line_item_unblended_cost), min(x_pipeline_run_date), max(x_pipeline_run_date) "
        "from raw.raw_aws_cur group by 1 order by 1",
    )
    assert [row[1:] for row in by_key] == [by_key[0][1:], by_key[0][1:]] and by_key[0][1] == 3000
    # every column equal row for row (the failed re-load changed nothing)
    differ = _warehouse(
        settings,
        f"select count(*) from (select {', '.join(columns)} from raw.raw_aws_cur where x_credential_id = 'arrow' "
        f"except select {', '.join(columns)} from raw.raw_aws_cur where x_credential_id = 'streamed')",
    )
    assert differ == [(0,)]


def test_streaming_load_rejects_unknown_columns_and_missing_dates(settings: Settings) -> None:
    table = RawTable("raw_stream_check", (("day", "DATE"), ("amount", "DECIMAL(38,9)")), date_column="day")
    conn = duckdb.connect()
    lineage = Lineage(ORG, "p", "c", "r1")
    d1 = dt.date(2026, 6, 1)
    with pytest.raises(LoadError, match=r"columns not in the table: \['other'\]"):
        replace_query(settings, table, conn, "select date '2026-06-01' as day, 1 as other", lineage, [d1])
    with pytest.raises(LoadError, match="have no day"):
        replace_query(settings, table, conn, "select cast(null as date) as day, 1.5 as amount", lineage, [d1])
    rows = "select date '2026-06-01' as day, cast(2.5 as decimal(38,9)) as amount"
    assert replace_query(settings, table, conn, rows, lineage, [d1]) == 1
    assert replace_query(settings, table, conn, rows, lineage, [d1]) == 1  # replaced, not appended
    assert _warehouse(settings, "select count(*), sum(amount) from raw.raw_stream_check") == [(1, Decimal("2.5"))]
