"""Raw loader: add the seven ``x_*`` lineage columns and replace by the idempotency key.

Idempotency key: ``(x_org_slug, x_pipeline_id, x_credential_id, x_pipeline_run_date)``. A load
names the data dates it covers; every row of those keys is deleted and the new rows inserted in one
transaction, so a re-run of any range leaves the same rows (lineage run ids aside) and a failed load
leaves the table as it was. On DuckDB that is one transaction on the organisation's file (schema
``raw``); on BigQuery one MERGE from a load-job staging table (extract/bigquery_load.py).

Column types are written in DuckDB's spelling; extract/bigquery_load.py maps them to BigQuery's.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from focusline.errors import LoadError, WarehouseBusyError
from focusline.settings import Settings
from focusline.tenancy import validate_org_slug
from focusline.warehouse import connect, warehouse_lock

logger = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
TARGETS = ("local", "bigquery")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")  # AWS names reach 64 characters
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("x_org_slug", "VARCHAR"),
    ("x_pipeline_id", "VARCHAR"),
    ("x_credential_id", "VARCHAR"),
    ("x_pipeline_run_date", "DATE"),
    ("x_run_id", "VARCHAR"),
    ("x_ingested_at", "TIMESTAMP"),
    ("x_ingestion_date", "DATE"),
)


@dataclass(frozen=True)
class Lineage:
    org_slug: str
    pipeline_id: str
    credential_id: str
    run_id: str


@dataclass(frozen=True)
class RawTable:
    """A raw landing table: its columns (DuckDB types) and which column holds the data date."""

    name: str
    columns: tuple[tuple[str, str], ...]
    date_column: str

    def __post_init__(self) -> None:
        names = [self.name, *(c for c, _ in self.columns)]
        bad = [n for n in names if not _IDENTIFIER.fullmatch(n) or n.startswith("x_pipeline")]
        if bad:
            raise ValueError(f"invalid raw identifiers: {bad}")
        if self.date_column not in dict(self.columns):
            raise ValueError(f"{self.name}: date_column {self.date_column!r} is not a column")

    @property
    def all_columns(self) -> tuple[tuple[str, str], ...]:
        return (*self.columns, *LINEAGE_COLUMNS)


def _arrow_type(duckdb_type: str) -> pa.DataType:
    match = _DECIMAL.match(duckdb_type)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    return {
        "VARCHAR": pa.string(),
        "JSON": pa.string(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
    }[duckdb_type]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"not a date: {value!r}")


def _naive_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _to_arrow(table: RawTable, rows: Sequence[Mapping[str, Any]], lineage: Lineage) -> pa.Table:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    data: dict[str, list[Any]] = {name: [] for name, _ in table.all_columns}
    known = {name for name, _ in table.columns}
    for index, row in enumerate(rows):
        unknown = set(row) - known
        if unknown:
            raise LoadError(f"{table.name}: row {index} has columns not in the table: {sorted(unknown)}")
        for name, _ in table.columns:
            data[name].append(_naive_utc(row.get(name)))
        data["x_pipeline_run_date"].append(_as_date(row[table.date_column]))
    n = len(rows)
    data["x_org_slug"] = [lineage.org_slug] * n
    data["x_pipeline_id"] = [lineage.pipeline_id] * n
    data["x_credential_id"] = [lineage.credential_id] * n
    data["x_run_id"] = [lineage.run_id] * n
    data["x_ingested_at"] = [now] * n
    data["x_ingestion_date"] = [now.date()] * n
    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in table.all_columns])
    try:
        return pa.Table.from_pydict(data, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, decimal.InvalidOperation) as exc:
        raise LoadError(f"{table.name}: a value does not fit its column type: {exc}") from None


def _with_lineage(table: RawTable, data: pa.Table, lineage: Lineage) -> pa.Table:
    """``data`` (the table's own columns) plus the seven lineage columns, vectorised (no row loop)."""
    known = {name for name, _ in table.columns}
    unknown = sorted(set(data.column_names) - known)
    if unknown:
        raise LoadError(f"{table.name}: columns not in the table: {unknown}")
    n = data.num_rows
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    try:
        for name, kind in table.columns:
            wanted = _arrow_type(kind)
            if name in data.column_names:
                column = data.column(name)
                if pa.types.is_timestamp(column.type) and column.type.tz is not None:
                    column = pc.cast(column, pa.timestamp("us", tz="UTC"))
                    column = column.cast(pa.timestamp("us"))  # naive values hold UTC
                arrays[name] = column if column.type == wanted else column.cast(wanted)
            else:
                arrays[name] = pa.nulls(n, wanted)
        run_date = arrays[table.date_column]
        if not pa.types.is_date32(run_date.type):
            run_date = pc.cast(run_date, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, decimal.InvalidOperation) as exc:
        raise LoadError(f"{table.name}: a value does not fit its column type: {exc}") from None
    if run_date.null_count:
        raise LoadError(f"{table.name}: {run_date.null_count} row(s) have no {table.date_column} (the data date)")
    arrays["x_org_slug"] = pa.array([lineage.org_slug] * n, pa.string())
    arrays["x_pipeline_id"] = pa.array([lineage.pipeline_id] * n, pa.string())
    arrays["x_credential_id"] = pa.array([lineage.credential_id] * n, pa.string())
    arrays["x_pipeline_run_date"] = run_date
    arrays["x_run_id"] = pa.array([lineage.run_id] * n, pa.string())
    arrays["x_ingested_at"] = pa.array([now] * n, pa.timestamp("us"))
    arrays["x_ingestion_date"] = pa.array([now.date()] * n, pa.date32())
    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in table.all_columns])
    return pa.Table.from_arrays([arrays[name] for name, _ in table.all_columns], schema=schema)


def _create_table_sql(table: RawTable, catalog: str | None = None) -> str:
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in table.all_columns)
    schema = f"{catalog}.{RAW_SCHEMA}" if catalog else RAW_SCHEMA
    return f"create table if not exists {schema}.{table.name} ({columns_sql})"


def _ensure_duckdb_table(conn: duckdb.DuckDBPyConnection, table: RawTable, catalog: str | None = None) -> None:
    """Create the raw table when missing; add columns it lacks (additive schema evolution).

    ``catalog``: the warehouse ATTACHed under that name (default: the connection's own database).
    """
    schema = f"{catalog}.{RAW_SCHEMA}" if catalog else RAW_SCHEMA
    qualified = f"{schema}.{table.name}"
    conn.execute(f"create schema if not exists {schema}")
    conn.execute(_create_table_sql(table, catalog))
    catalog_sql = "table_catalog = ?" if catalog else "table_catalog = current_database()"
    existing = {
        r[0]
        for r in conn.execute(
            f"select column_name from information_schema.columns where {catalog_sql} and table_schema = ? "
            "and table_name = ?",
            [*([catalog] if catalog else []), RAW_SCHEMA, table.name],
        ).fetchall()
    }
    for name, kind in table.all_columns:
        if name not in existing:  # additive schema evolution: new provider fields
            conn.execute(f"alter table {qualified} add column {name} {kind}")


def ensure_raw_tables(settings: Settings, tables: Iterable[RawTable], org_slug: str, *, target: str = "local") -> None:
    """Create every raw table of ``tables`` that does not exist yet, empty (nothing else changes).

    The dbt sources of every provider then exist for every organisation, so an organisation that
    has no data from a provider (yet) still builds: its staging models read an empty table.
    """
    if target not in TARGETS:
        raise LoadError(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    validate_org_slug(org_slug)
    tables = list(tables)
    if target == "bigquery":
        from extract.bigquery_load import ensure_tables_bigquery

        ensure_tables_bigquery(tables, org_slug)
        return
    with warehouse_lock(settings, org_slug) as path:
        conn = connect(path, timeout=settings.warehouse_lock_timeout_seconds)
        try:
            conn.execute("begin transaction")
            for table in tables:
                _ensure_duckdb_table(conn, table)
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
        finally:
            conn.close()


def replace_rows(
    settings: Settings,
    table: RawTable,
    rows: Sequence[Mapping[str, Any]],
    lineage: Lineage,
    dates: Iterable[dt.date],
    *,
    target: str = "local",
) -> int:
    """Replace the rows of ``dates`` for this lineage key with ``rows``; return the rows written.

    Every row's data date must be one of ``dates``: a load never touches a key it did not name.
    ``target`` is the step's warehouse: ``local`` (the organisation's DuckDB file) or ``bigquery``
    (dataset ``<org_slug>_<env>``, extract/bigquery_load.py). For many rows use ``replace_arrow``.
    """
    arrow_rows = _to_arrow(table, rows, lineage)
    return _replace(settings, table, arrow_rows, lineage, dates, target=target)


def replace_arrow(
    settings: Settings,
    table: RawTable,
    data: pa.Table,
    lineage: Lineage,
    dates: Iterable[dt.date],
    *,
    target: str = "local",
) -> int:
    """The bulk variant of ``replace_rows``: the rows come as an Arrow table of the table's columns.

    Lineage columns are added column-wise (no Python loop per row) and the rows are inserted with
    DuckDB's Arrow scan; the transaction, the date check and the BigQuery path are the ones of
    ``replace_rows``. Missing columns are NULL; a DuckDB relation can be passed as ``rel.to_arrow_table()``.
    """
    return _replace(settings, table, _with_lineage(table, data, lineage), lineage, dates, target=target)


def replace_query(
    settings: Settings,
    table: RawTable,
    conn: duckdb.DuckDBPyConnection,
    query: str,
    lineage: Lineage,
    dates: Iterable[dt.date],
    *,
    target: str = "local",
) -> int:
    """The streaming variant of ``replace_arrow``: the rows are the result of ``query`` on ``conn``.

    ``conn`` is a DuckDB connection holding the rows to load (e.g. an ``ExportBatch``'s in-memory
    database; ``query`` may read its tables, views and files) and ``query`` selects the table's own
    columns by name (missing ones are NULL). On the local target the organisation's warehouse is
    ATTACHed to ``conn`` under its writer lock and the rows go from ``query`` straight into the raw
    table in one transaction (delete the key's dates, insert; the lineage columns added in SQL), so
    they never pass through Python or Arrow. ``conn``'s memory is bounded where it was opened
    (``extract.billing_export.open_batch_connection``: a memory cap and a private spill directory, set
    before anything is stored, since DuckDB cannot switch a temp directory once it has been used); this
    function does not change it. Same checks, transaction and result as ``replace_arrow``; on BigQuery
    the rows are fetched as Arrow and loaded by ``replace_arrow``.
    """
    if target not in TARGETS:
        raise LoadError(f"{table.name}: unknown target {target!r} (one of {', '.join(TARGETS)})")
    if target == "bigquery":
        return replace_arrow(settings, table, conn.sql(query).to_arrow_table(), lineage, dates, target=target)
    validate_org_slug(lineage.org_slug)
    dates = sorted(set(dates))
    if not dates:
        raise LoadError(f"{table.name}: a load must name the data dates it replaces")
    conn.execute("set TimeZone = 'UTC'")  # TIMESTAMPTZ values land as naive UTC, as replace_arrow stores them
    known = {name for name, _ in table.columns}
    columns = conn.sql(query).columns
    unknown = sorted(set(columns) - known)
    if unknown:
        raise LoadError(f"{table.name}: columns not in the table: {unknown}")
    if table.date_column not in columns:
        raise LoadError(f"{table.name}: the rows have no {table.date_column} (the data date)")
    run_date = f"cast(q.{table.date_column} as date)"
    present = conn.execute(f"select distinct {run_date} from ({query}) q").fetchall()
    if any(day is None for (day,) in present):
        raise LoadError(f"{table.name}: some row(s) have no {table.date_column} (the data date)")
    outside = sorted({str(day) for (day,) in present} - {str(d) for d in dates})
    if outside:
        raise LoadError(
            f"{table.name}: rows dated {outside[:10]} are outside the loaded range {dates[0]}..{dates[-1]}",
            org=lineage.org_slug,
            pipeline=lineage.pipeline_id,
        )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    qualified = f"{_ATTACHED}.{RAW_SCHEMA}.{table.name}"
    with warehouse_lock(settings, lineage.org_slug) as path:
        _attach(conn, path, timeout=settings.warehouse_lock_timeout_seconds)
        try:
            conn.execute("begin transaction")
            try:
                _ensure_duckdb_table(conn, table, _ATTACHED)
                deleted = conn.execute(
                    f"delete from {qualified} where x_org_slug = ? and x_pipeline_id = ? "
                    "and x_credential_id = ? and x_pipeline_run_date in (select unnest(?::date[]))",
                    [lineage.org_slug, lineage.pipeline_id, lineage.credential_id, dates],
                ).fetchone()
                inserted = conn.execute(
                    f"insert into {qualified} by name select q.*, ? as x_org_slug, ? as x_pipeline_id, "
                    f"? as x_credential_id, {run_date} as x_pipeline_run_date, ? as x_run_id, "
                    f"cast(? as timestamp) as x_ingested_at, cast(? as date) as x_ingestion_date from ({query}) q",
                    [lineage.org_slug, lineage.pipeline_id, lineage.credential_id, lineage.run_id, now, now.date()],
                ).fetchone()
                conn.execute("commit")
            except Exception as exc:
                conn.execute("rollback")
                if isinstance(exc, LoadError):
                    raise
                raise LoadError(f"{table.name}: load failed, nothing written: {exc}", org=lineage.org_slug) from exc
        finally:
            conn.execute(f"detach {_ATTACHED}")
    rows = inserted[0] if inserted else 0
    logger.info(
        "%s.%s: replaced %s rows over %s day(s) %s..%s with %s rows",
        RAW_SCHEMA,
        table.name,
        deleted[0] if deleted else 0,
        len(dates),
        dates[0],
        dates[-1],
        rows,
    )
    return rows


_ATTACHED = "focusline_warehouse"


def _attach(conn: duckdb.DuckDBPyConnection, path: Path, *, timeout: float) -> None:
    """ATTACH the warehouse file as ``_ATTACHED``, waiting (bounded) while a process outside focusline holds it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as {_ATTACHED}")
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise WarehouseBusyError(f"cannot open warehouse {path}: another process holds it ({exc})") from None
            time.sleep(0.2)


def _replace(
    settings: Settings,
    table: RawTable,
    arrow_rows: pa.Table,
    lineage: Lineage,
    dates: Iterable[dt.date],
    *,
    target: str,
) -> int:
    """One load: check the dates, then delete the key's dates and insert ``arrow_rows`` atomically."""
    if target not in TARGETS:
        raise LoadError(f"{table.name}: unknown target {target!r} (one of {', '.join(TARGETS)})")
    validate_org_slug(lineage.org_slug)
    dates = sorted(set(dates))
    if not dates:
        raise LoadError(f"{table.name}: a load must name the data dates it replaces")
    present = {str(d) for d in pc.unique(arrow_rows.column("x_pipeline_run_date")).to_pylist()}
    outside = sorted(present - {str(d) for d in dates})
    if outside:
        raise LoadError(
            f"{table.name}: rows dated {outside[:10]} are outside the loaded range {dates[0]}..{dates[-1]}",
            org=lineage.org_slug,
            pipeline=lineage.pipeline_id,
        )
    if target == "bigquery":
        from extract.bigquery_load import replace_rows_bigquery  # imports google-cloud-bigquery only when used

        return replace_rows_bigquery(table, arrow_rows, lineage, dates)
    qualified = f"{RAW_SCHEMA}.{table.name}"
    with warehouse_lock(settings, lineage.org_slug) as path:
        conn = connect(path, timeout=settings.warehouse_lock_timeout_seconds)
        try:
            conn.execute("begin transaction")
            _ensure_duckdb_table(conn, table)
            deleted = conn.execute(
                f"delete from {qualified} where x_org_slug = ? and x_pipeline_id = ? "
                "and x_credential_id = ? and x_pipeline_run_date in (select unnest(?::date[]))",
                [lineage.org_slug, lineage.pipeline_id, lineage.credential_id, dates],
            ).fetchone()
            conn.register("incoming_rows", arrow_rows)
            conn.execute(f"insert into {qualified} by name select * from incoming_rows")
            conn.unregister("incoming_rows")
            conn.execute("commit")
        except Exception as exc:
            conn.execute("rollback")
            if isinstance(exc, LoadError):
                raise
            raise LoadError(f"{qualified}: load failed, nothing written: {exc}", org=lineage.org_slug) from exc
        finally:
            conn.close()
    logger.info(
        "%s: replaced %s rows over %s day(s) %s..%s with %s rows",
        qualified,
        deleted[0] if deleted else 0,
        len(dates),
        dates[0],
        dates[-1],
        arrow_rows.num_rows,
    )
    return arrow_rows.num_rows


def query_raw(
    settings: Settings, table: RawTable, org_slug: str, sql: str, params: list[Any], *, target: str = "local"
) -> list[tuple[Any, ...]]:
    """Rows of a read-only ``sql`` over one raw table (``{table}`` in ``sql``); [] when it does not exist.

    ``sql`` is written by focusline (identifiers fixed), values come as positional ``?`` parameters
    (DuckDB) which the BigQuery path binds as named parameters ``@p0, @p1, ...``.
    """
    validate_org_slug(org_slug)
    if target == "bigquery":
        from extract.bigquery_load import query_raw_bigquery

        return query_raw_bigquery(table, org_slug, sql, params)
    path = settings.warehouse_path(org_slug)
    if not path.exists():
        return []
    with warehouse_lock(settings, org_slug) as locked:
        conn = connect(locked, timeout=settings.warehouse_lock_timeout_seconds)
        try:
            exists = conn.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [RAW_SCHEMA, table.name],
            ).fetchone()
            if not exists or not exists[0]:
                return []
            return conn.execute(sql.format(table=f"{RAW_SCHEMA}.{table.name}"), params).fetchall()
        finally:
            conn.close()
