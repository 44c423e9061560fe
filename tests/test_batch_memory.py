"""A reader's in-memory DuckDB is bounded and spills to a private directory, and the streaming load works on a
connection that has already spilled (a 10M-row GCP export failed with DuckDB's "Cannot switch temporary
directory after the current one has been used"; 10M Azure rows took 15.4 GB RSS unbounded)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import pytest

from extract.billing_export import BATCH_MEMORY_LIMIT, ExportBatch, open_batch_connection
from extract.files import list_files
from extract.focus_export.reader import read_focus_files
from extract.gcp_billing.reader import read_gcp_files
from extract.load import Lineage, RawTable, replace_query
from focusline.errors import InputDataError
from focusline.settings import Settings
from tests.conftest import SHARED

ORG = "spill_org"
ROWS = 3_000_000


def _spilled_connection(spill: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose table is larger than its memory, so its pages went to ``spill``."""
    conn = duckdb.connect(config={"memory_limit": "64MB", "temp_directory": str(spill)})
    conn.execute(
        "create table spilled as select date '2026-06-01' + cast(i % 30 as int) as day, "
        "md5(cast(i as varchar)) || md5(cast(i + 1 as varchar)) as payload from range(?) r(i)",
        [ROWS],
    )
    assert conn.execute("select count(*) from duckdb_temporary_files()").fetchone()[0] > 0
    return conn


def test_streaming_load_from_a_connection_that_has_spilled(settings: Settings, tmp_path: Path) -> None:
    spill = tmp_path / "reader-spill"
    conn = _spilled_connection(spill)
    table = RawTable("raw_spill_check", (("day", "DATE"), ("payload", "VARCHAR")), date_column="day")
    days = [dt.date(2026, 6, 1) + dt.timedelta(days=n) for n in range(30)]
    lineage = Lineage(ORG, "p", "c", "r1")
    loaded = replace_query(settings, table, conn, "select day, payload from spilled", lineage, days)
    assert loaded == ROWS
    # the load leaves the connection's bounds as they were opened (a spilled temp dir cannot be switched)
    assert conn.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill)
    conn.close()
    warehouse = duckdb.connect(str(settings.warehouse_path(ORG)), read_only=True)
    try:
        assert warehouse.execute(
            "select count(*), count(distinct payload), count(distinct x_pipeline_run_date) from raw.raw_spill_check"
        ).fetchone() == (ROWS, ROWS, 30)
    finally:
        warehouse.close()


def test_batch_connection_is_bounded_and_removes_its_spill_dir() -> None:
    conn, spill = open_batch_connection()
    batch = ExportBatch(conn, "t", account_sql="1", spill_dir=spill)
    assert spill.is_dir() and spill.name.startswith("focusline-batch-")
    assert conn.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill)
    limit = duckdb.connect(config={"memory_limit": BATCH_MEMORY_LIMIT})
    expected = limit.execute("select current_setting('memory_limit')").fetchone()[0]
    limit.close()
    assert conn.execute("select current_setting('memory_limit')").fetchone()[0] == expected
    assert conn.execute("select current_setting('TimeZone')").fetchone()[0] == "UTC"
    # more than the cap is stored: pages go to the private dir, never to .tmp in the working directory
    conn.execute("set memory_limit = '64MB'")
    conn.execute("create table big as select md5(cast(i as varchar)) as s from range(2000000) r(i)")
    spilled = conn.execute("select path from duckdb_temporary_files()").fetchall()
    assert spilled and all(Path(path).parent == spill for (path,) in spilled)
    batch.close()
    assert not spill.exists()


@pytest.mark.parametrize("reader", [read_gcp_files, read_focus_files])
def test_a_rejected_file_leaves_no_spill_dir(reader: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    not_an_export = list_files(str(SHARED / "sample-data" / "raw" / "aws" / "aws_category_mapping.csv"))
    with pytest.raises(InputDataError, match=r"aws_category_mapping\.csv"):
        reader(not_an_export)  # type: ignore[operator]
    assert not list(tmp_path.glob("focusline-batch-*"))
