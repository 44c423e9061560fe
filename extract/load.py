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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from focusline.errors import LoadError
from focusline.settings import Settings
from focusline.tenancy import validate_org_slug
from focusline.warehouse import connect, warehouse_lock

logger = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
TARGETS = ("local", "bigquery")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
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
    (dataset ``<org_slug>_<env>``, extract/bigquery_load.py).
    """
    if target not in TARGETS:
        raise LoadError(f"{table.name}: unknown target {target!r} (one of {', '.join(TARGETS)})")
    validate_org_slug(lineage.org_slug)
    dates = sorted(set(dates))
    if not dates:
        raise LoadError(f"{table.name}: a load must name the data dates it replaces")
    outside = sorted({str(_as_date(r[table.date_column])) for r in rows} - {str(d) for d in dates})
    if outside:
        raise LoadError(
            f"{table.name}: rows dated {outside} are outside the loaded range {dates[0]}..{dates[-1]}",
            org=lineage.org_slug,
            pipeline=lineage.pipeline_id,
        )
    arrow_rows = _to_arrow(table, rows, lineage)
    if target == "bigquery":
        from extract.bigquery_load import replace_rows_bigquery  # imports google-cloud-bigquery only when used

        return replace_rows_bigquery(table, arrow_rows, lineage, dates)
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in table.all_columns)
    qualified = f"{RAW_SCHEMA}.{table.name}"
    with warehouse_lock(settings, lineage.org_slug) as path:
        conn = connect(path, timeout=settings.warehouse_lock_timeout_seconds)
        try:
            conn.execute("begin transaction")
            conn.execute(f"create schema if not exists {RAW_SCHEMA}")
            conn.execute(f"create table if not exists {qualified} ({columns_sql})")
            existing = {
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [RAW_SCHEMA, table.name],
                ).fetchall()
            }
            for name, kind in table.all_columns:
                if name not in existing:  # additive schema evolution: new provider fields
                    conn.execute(f"alter table {qualified} add column {name} {kind}")
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
        len(rows),
    )
    return len(rows)
