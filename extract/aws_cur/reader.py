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
from extract.billing_export import ExportBatch, open_batch_connection
from extract.files import FileInfo, read_relation
from extract.files import quote_identifier as _quote
from extract.files import sql_literal as _literal
from focusline.errors import InputDataError

logger = logging.getLogger(__name__)

REQUIRED = ("line_item_line_item_type", "line_item_unblended_cost", "bill_billing_period_start_date")
_SOURCE = "src"
_ROWS = "cur_rows"


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


def _text_to_money(text: str) -> str:
    """Decimal text -> DECIMAL(38,9), rounded half away from zero at 1e-9.

    DuckDB parses text into DECIMAL(18,9) (64-bit) some 30x faster than into DECIMAL(38,9) (128-bit),
    with the same rounding; only values beyond 18 digits (|x| >= 1e9) take the 128-bit parse.
    """
    return f"coalesce(try_cast({text} as DECIMAL(18,9)), cast({text} as {MONEY}))"


def _decimal(column: str, kind: str) -> str:
    """Money from any source type: the value its shortest decimal spelling states (no binary noise).

    A DOUBLE is what its shortest text says (``0.1`` is 0.1, not 0.1000000000000000055...). Turning
    every double into text costs about a microsecond, so the value is rounded in binary where that
    cannot differ: below 1e4 the double and its shortest text are within 1e-12 x 1e9 of each other
    at the 9th decimal, so only values whose 10th+ decimals are within 0.01 of a half (ties such as
    ``0.0000000005``) need the text; tests/test_aws_cur_perf.py checks both ways agree.
    """
    upper = kind.upper()
    if upper == "DOUBLE":
        x = _quote(column)
        scaled = f"abs({x}) * 1000000000"
        return (
            f"case when abs({x}) < 10000 and abs({scaled} - floor({scaled}) - 0.5) > 0.01 "
            f"then cast({x} as {MONEY}) else {_text_to_money(f'cast({x} as varchar)')} end"
        )
    return _text_to_money(_as_text(column, kind))


def normalise_sql(
    info: FileInfo, types: dict[str, str], *, source: str = _SOURCE, row_number: str = "row_number() over ()"
) -> tuple[str, str]:
    """The select that maps the file's columns (``types``: name -> DuckDB type) to raw_aws_cur, and its format.

    ``source`` is the relation of the file's rows, ``row_number`` the SQL of a row's 1-based position in the file.
    """
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
        f"cast({row_number} as bigint) as x_source_row_number",
    ]
    return "select\n    " + ",\n    ".join(select) + f"\nfrom {source}", fmt


_FLOATS = ("FLOAT", "DOUBLE", "REAL")
_EXACT_NUMBERS = ("DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")
_SAFE_FOR_TIMESTAMP = ("TIMESTAMP", "DATE")


def _checks(types: dict[str, str]) -> list[tuple[str, str, str]]:
    """(source column, SQL of a value that would not convert, its target type) for each column whose
    conversion can fail: money from text or floats (NaN, infinity, beyond DECIMAL(38,9)), timestamps
    from text, map columns from JSON text. Typed Parquet integers, decimals and timestamps cannot fail."""
    checks = []
    for column, kind in types.items():
        where, name = classify(column)
        upper = kind.upper()
        if where == "fixed" and name in DECIMAL_COLUMNS:
            if upper in _FLOATS:
                bad = f"not isfinite({_quote(column)}) or abs({_quote(column)}) >= 1e29"
            elif upper.startswith(_EXACT_NUMBERS):
                continue
            else:
                text = _as_text(column, kind)
                bad = f"{text} is not null and try_cast({text} as {MONEY}) is null"
            checks.append((column, bad, "DECIMAL"))
        elif where == "fixed" and name in TIMESTAMP_COLUMNS and not upper.startswith(_SAFE_FOR_TIMESTAMP):
            text = _as_text(column, kind)
            checks.append((column, f"{text} is not null and try_cast({text} as timestamptz) is null", "timestamptz"))
        elif where == "map" and not upper.startswith("MAP"):
            text = f"nullif({_as_text(column, kind)}, '{{}}')"
            checks.append((column, f"{text} is not null and not json_valid({text})", "JSON object"))
    return checks


def _validate(
    conn: duckdb.DuckDBPyConnection,
    info: FileInfo,
    source: str,
    types: dict[str, str],
    rows: str,
    empty: frozenset[str] = frozenset(),
) -> None:
    """Check the file's rows: every value converts and every row has a billing period.

    ``rows`` is the file's normalised view; ``empty`` the columns known to hold no value (Parquet
    statistics), which need no check. One scan of the columns whose conversion can fail; only when
    it finds a problem, a second one names the values. Raises InputDataError naming the file.
    """
    checks = [check for check in _checks(types) if check[0] not in empty]
    period = next(c for c in types if classify(c) == ("fixed", "bill_billing_period_start_date"))
    any_bad = " or ".join(f"({bad})" for _, bad, _ in checks) or "false"
    try:
        missing, bad_rows = conn.execute(
            f"select count(*) filter (where {_as_text(period, types[period])} is null), "
            f"count(*) filter (where {any_bad}) from {source}"
        ).fetchone() or (0, 0)
        problems = []
        if bad_rows:
            parts = []
            for column, bad, _ in checks:
                parts += [
                    f"count(*) filter (where {bad})",
                    f"any_value(cast({_quote(column)} as varchar)) filter (where {bad})",
                ]
            found = conn.execute(f"select {', '.join(parts)} from {source}").fetchone()
            assert found is not None
            problems = [
                f"{column}: {found[2 * i]} value(s) like {found[2 * i + 1]!r} are not a {target}"
                for i, (column, _, target) in enumerate(checks)
                if found[2 * i]
            ]
        # what the checks do not cover (e.g. an unexpected source type) fails here, not in the load
        conn.execute(f"select count(*) from (select * from {rows} limit 1)").fetchone()
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:400]
        raise InputDataError(f"{info.uri}: malformed AWS CUR values: {detail}", source=info.uri) from None
    if problems:
        raise InputDataError(f"{info.uri}: malformed AWS CUR values: {'; '.join(problems)}", source=info.uri)
    if missing:
        raise InputDataError(f"{info.uri}: {missing} row(s) have no bill/BillingPeriodStartDate", source=info.uri)


def _empty_parquet_columns(conn: duckdb.DuckDBPyConnection, path: str) -> frozenset[str]:
    """Top-level columns whose every row group states only nulls (Parquet statistics; unknown = not empty)."""
    return frozenset(
        name
        for (name,) in conn.execute(
            f"select path_in_schema from parquet_metadata({path}) group by 1 "
            "having bool_and(coalesce(stats_null_count = row_group_num_rows, false))"
        ).fetchall()
    )


def _open(conn: duckdb.DuckDBPyConnection, info: FileInfo, name: str) -> tuple[dict[str, str], str, frozenset[str]]:
    """Relation ``name`` over the file's rows: its column types, the SQL of a row's position and the
    columns known to be empty.

    Parquet is a view straight over the file (read again by the load, never copied into memory; the
    row position is Parquet's own file_row_number); CSV and JSON lines are read once into a temp table
    (extract.files.read_relation, every CSV column as text) and numbered in their order.
    """
    if info.format == "parquet" and info.local_path is not None:
        path = _literal(str(info.local_path))
        try:
            conn.execute(
                f"create or replace temp view {name} as select * from read_parquet({path}, file_row_number = true)"
            )
            types = {row[0]: str(row[1]) for row in conn.execute(f"describe {name}").fetchall()}
            empty = _empty_parquet_columns(conn, path)
        except duckdb.Error as exc:
            detail = " ".join(str(exc).split())[:400]
            raise InputDataError(f"{info.uri}: cannot read as parquet: {detail}", source=info.uri) from None
        types.pop("file_row_number")
        return types, "file_row_number + 1", empty
    read_relation(conn, info, name)
    types = {row[0]: str(row[1]) for row in conn.execute(f"describe {name}").fetchall()}
    return types, "row_number() over ()", frozenset()


def read_cur_files(files: list[FileInfo]) -> ExportBatch:
    """Normalise every file into one relation ``cur_rows`` (a view) with raw_aws_cur's columns.

    Each file gets a view ``cur_file_<n>`` (its normalising select, see ``normalise_sql``) over its
    rows; ``cur_rows`` is their union. Every file is checked here (values convert, billing periods
    present), so a bad file fails before anything is loaded; the rows themselves are only read when
    the load streams them into the warehouse (extract.load.replace_query).
    """
    conn, spill = open_batch_connection()
    batch = ExportBatch(
        conn, _ROWS, account_sql="bill_payer_account_id", period_end_sql="bill_billing_period_end_date", spill_dir=spill
    )
    try:
        views = []
        for index, info in enumerate(files):
            source = f"{_SOURCE}_{index}"
            types, row_number, empty = _open(conn, info, source)
            select, fmt = normalise_sql(info, types, source=source, row_number=row_number)
            view = f"cur_file_{index}"
            conn.execute(
                f"create or replace temp view {view} as select *, "
                "cast(coalesce(line_item_usage_start_date, bill_billing_period_start_date) as date) as usage_date, "
                "cast(bill_billing_period_start_date as date) as billing_period, "
                f"cast(null as timestamp) as x_export_version from ({select})"
            )
            _validate(conn, info, source, types, view, empty)
            views.append(f"select {', '.join(name for name, _ in RAW_AWS_CUR.columns)} from {view}")
            batch.files.append(info)
            batch.formats[info.uri] = fmt
            logger.info("%s: read as %s", info.uri, fmt)
        if not views:  # pragma: no cover - list_files never returns an empty list
            columns_sql = ", ".join(f"{name} {kind}" for name, kind in RAW_AWS_CUR.columns)
            conn.execute(f"create temp table {_ROWS} ({columns_sql})")
        else:
            conn.execute(f"create or replace temp view {_ROWS} as " + "\nunion all\n".join(views))
    except BaseException:
        batch.close()
        raise
    return batch
