"""Read AWS CUR files (legacy CSV, Athena-style snake case, CUR 2.0 CSV/Parquet) into ``raw_aws_cur`` rows.

Everything happens in an in-memory DuckDB: each file is read with DuckDB's reader (CSV as VARCHAR,
Parquet with its own types), mapped to the normalised column set of ``schema.RAW_AWS_CUR`` by one
generated ``select`` (explicit casts; maps built with ``to_json``), and appended to ``cur_rows``.
No Python loop ever touches a row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

import duckdb

from extract.aws_cur.schema import (
    DECIMAL_COLUMNS,
    FIXED_COLUMNS,
    MAP_COLUMNS,
    MONEY,
    RAW_AWS_CUR,
    TIMESTAMP_COLUMNS,
    classify,
    source_format,
)
from extract.billing_export import ExportBatch
from extract.files import FileInfo, read_relation
from focusline.errors import InputDataError

logger = logging.getLogger(__name__)

REQUIRED = ("line_item_line_item_type", "line_item_unblended_cost", "bill_billing_period_start_date")
_SOURCE = "src"
_ROWS = "cur_rows"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _as_text(column: str, kind: str) -> str:
    """A source column as trimmed text, '' -> NULL."""
    return f"nullif(trim(cast({_quote(column)} as varchar)), '')"


def _json_object(pairs: list[tuple[str, str]], types: dict[str, str]) -> str:
    """A JSON object text of the non-empty values, or NULL when all are empty (DuckDB's to_json of a MAP)."""
    if not pairs:
        return "cast(null as json)"
    entries = ", ".join(f"{{'k': {_literal(key)}, 'v': {_as_text(col, types[col])}}}" for key, col in pairs)
    return (
        f"cast(nullif(to_json(map_from_entries(list_filter([{entries}], lambda e: e.v is not null))), '{{}}') as json)"
    )


def _map_column(column: str, kind: str) -> str:
    """A CUR 2.0 map column (Parquet MAP or JSON text in CSV) as a JSON object text, NULL when empty."""
    if kind.upper().startswith("MAP"):
        return f"cast(nullif(to_json({_quote(column)}), '{{}}') as json)"
    return f"cast(nullif(nullif(trim(cast({_quote(column)} as varchar)), ''), '{{}}') as json)"


def _timestamp(column: str, kind: str) -> str:
    upper = kind.upper()
    if upper.startswith("TIMESTAMP WITH TIME ZONE") or upper == "TIMESTAMPTZ":
        return f"cast({_quote(column)} as timestamp)"  # session time zone is UTC
    if upper.startswith("TIMESTAMP"):
        return f"cast({_quote(column)} as timestamp)"
    return f"cast(cast({_as_text(column, kind)} as timestamptz) as timestamp)"


def _decimal(column: str, kind: str) -> str:
    # through text, so a Parquet DOUBLE keeps its shortest decimal spelling (no binary noise)
    return f"cast({_as_text(column, kind)} as {MONEY})"


def normalise_sql(info: FileInfo, types: dict[str, str]) -> tuple[str, str]:
    """The select that maps the file's columns (``types``: name -> DuckDB type) to raw_aws_cur, and its format."""
    columns = list(types)
    fixed: dict[str, str] = {}
    maps: dict[str, str] = {}
    flattened: dict[str, list[tuple[str, str]]] = defaultdict(list)
    unmapped: list[tuple[str, str]] = []
    for column in columns:
        where, name = classify(column)
        if where == "fixed" and name not in fixed:
            fixed[name] = column
        elif where == "map":
            maps[name] = column
        elif where in MAP_COLUMNS:
            flattened[where].append((name, column))
        else:
            unmapped.append((column, column))
    missing = [name for name in REQUIRED if name not in fixed]
    if missing:
        raise InputDataError(
            f"{info.uri}: not an AWS Cost and Usage Report: no column for {', '.join(missing)} "
            f"(expected legacy CUR lineItem/... or CUR 2.0 line_item_... headers)",
            source=info.uri,
        )
    select: list[str] = []
    for name, kind in FIXED_COLUMNS.items():
        column = fixed.get(name)
        if column is None:
            expression = f"cast(null as {kind})"
        elif name in TIMESTAMP_COLUMNS:
            expression = _timestamp(column, types[column])
        elif name in DECIMAL_COLUMNS:
            expression = _decimal(column, types[column])
        else:
            expression = _as_text(column, types[column])
        select.append(f"{expression} as {name}")
    for name in MAP_COLUMNS:
        if name in maps:
            expression = _map_column(maps[name], types[maps[name]])
        else:
            expression = _json_object(flattened.get(name, []), types)
        select.append(f"{expression} as {name}")
    select.append(f"{_json_object(unmapped, types)} as x_unmapped_columns")
    fmt = source_format(columns)
    select += [
        f"{_literal(fmt)} as x_source_format",
        f"{_literal(info.uri)} as x_source_file",
        f"cast({info.size} as bigint) as x_source_file_size",
        f"cast({_literal(info.modified_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat())} as timestamp) "
        "as x_source_file_modified_at",
        f"{_literal(info.sha256)} as x_source_file_sha256",
        "cast(row_number() over () as bigint) as x_source_row_number",
    ]
    return "select\n    " + ",\n    ".join(select) + f"\nfrom {_SOURCE}", fmt


def _diagnose(conn: duckdb.DuckDBPyConnection, types: dict[str, str]) -> str:
    """Which fixed columns hold values that do not cast (for the error message)."""
    problems = []
    for column in types:
        where, name = classify(column)
        if where != "fixed" or name not in DECIMAL_COLUMNS + TIMESTAMP_COLUMNS:
            continue
        target = MONEY if name in DECIMAL_COLUMNS else "timestamptz"
        bad = conn.execute(
            f"select any_value({_as_text(column, types[column])}), count(*) from {_SOURCE} "
            f"where {_as_text(column, types[column])} is not null "
            f"and try_cast({_as_text(column, types[column])} as {target}) is null"
        ).fetchone()
        if bad and bad[1]:
            problems.append(f"{column}: {bad[1]} value(s) like {bad[0]!r} are not a {target.split('(')[0]}")
    return "; ".join(problems)


def read_cur_files(files: list[FileInfo]) -> ExportBatch:
    """Normalise every file into one in-memory table ``cur_rows`` with raw_aws_cur's columns."""
    conn = duckdb.connect()
    conn.execute("set TimeZone = 'UTC'")
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in RAW_AWS_CUR.columns)
    conn.execute(f"create table {_ROWS} ({columns_sql})")
    batch = ExportBatch(conn, _ROWS, account_sql="bill_payer_account_id", period_end_sql="bill_billing_period_end_date")
    for info in files:
        read_relation(conn, info, _SOURCE)
        types = {row[0]: str(row[1]) for row in conn.execute(f"describe {_SOURCE}").fetchall()}
        select, fmt = normalise_sql(info, types)
        try:
            conn.execute(
                f"insert into {_ROWS} by name select *, "
                "cast(coalesce(line_item_usage_start_date, bill_billing_period_start_date) as date) as usage_date, "
                "cast(bill_billing_period_start_date as date) as billing_period, "
                f"cast(null as timestamp) as x_export_version from ({select})"
            )
        except duckdb.Error as exc:
            detail = _diagnose(conn, types) or " ".join(str(exc).split())[:400]
            raise InputDataError(f"{info.uri}: malformed AWS CUR values: {detail}", source=info.uri) from None
        missing_period = conn.execute(
            f"select count(*) from {_ROWS} where x_source_file = ? and billing_period is null", [info.uri]
        ).fetchone()
        if missing_period and missing_period[0]:
            raise InputDataError(
                f"{info.uri}: {missing_period[0]} row(s) have no bill/BillingPeriodStartDate", source=info.uri
            )
        conn.execute(f"drop table {_SOURCE}")
        batch.files.append(info)
        batch.formats[info.uri] = fmt
        logger.info("%s: read as %s", info.uri, fmt)
    return batch
