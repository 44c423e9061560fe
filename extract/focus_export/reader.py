"""Read provider-native FOCUS export files (CSV, Parquet, JSON lines; FOCUS 0.5 to 1.3) into ``raw_focus_export`` rows.

Each file is read with DuckDB's reader (CSV all text, Parquet and JSON lines with their own types),
mapped to the typed column set of ``schema.RAW_FOCUS_EXPORT`` by one generated ``select`` (explicit
casts, no Python row loop) and appended to ``focus_rows``. The FOCUS version of the file is detected
from its columns unless the config states it. A file that is not a FOCUS export, lacks a Mandatory
column the upgrade cannot derive, or holds a value that does not cast fails with an InputDataError
naming the file, the column and a value.
"""

from __future__ import annotations

import datetime as dt
import logging

import duckdb

from extract.billing_export import ExportBatch, open_batch_connection
from extract.files import FileInfo, read_relation
from extract.files import quote_identifier as _quote
from extract.files import sql_literal as _literal
from extract.focus_export.schema import (
    FOCUS_COLUMNS,
    FOCUS_TYPES,
    MONEY,
    NOT_NULL,
    RAW_FOCUS_EXPORT,
    RENAMES,
    REQUIRED,
    classify,
    detect_version,
    raw_name,
)
from focusline.errors import InputDataError

logger = logging.getLogger(__name__)

_SOURCE = "src"
_ROWS = "focus_rows"
_CAST_TARGET = {"Decimal": MONEY, "Date/Time": "timestamptz", "JSON": "json"}
RAW_FOCUS_EXPORT_TYPES = dict(RAW_FOCUS_EXPORT.columns)


def _text(column: str) -> str:
    """A source column as trimmed text; '' and the literal NULL (official FOCUS sample) are NULL."""
    value = f"trim(cast({_quote(column)} as varchar))"
    return f"(case when upper({value}) in ('', 'NULL') then null else {value} end)"


def _typed(column: str, source_type: str, kind: str) -> str:
    """The expression of one FOCUS column of the file in its raw type."""
    upper = source_type.upper()
    if kind == "Date/Time":
        if upper.startswith("TIMESTAMP") or upper == "DATE":
            return f"cast({_quote(column)} as timestamp)"  # TIMESTAMPTZ renders in the session zone: UTC
        return f"cast(cast({_text(column)} as timestamptz) as timestamp)"
    if kind == "Decimal":
        # through text, so a Parquet DOUBLE keeps its shortest decimal spelling (no binary noise)
        return f"cast({_text(column)} as {MONEY})"
    if kind == "JSON":
        if upper.startswith(("MAP", "STRUCT")):
            return f"cast(nullif(to_json({_quote(column)}), '{{}}') as json)"
        return f"cast({_text(column)} as json)"
    return _text(column)


def _json_object(columns: list[str]) -> str:
    """The non-empty values of ``columns`` as one JSON object text under the source names, NULL when none."""
    if not columns:
        return "cast(null as json)"
    entries = ", ".join(f"{{'k': {_literal(c)}, 'v': {_text(c)}}}" for c in columns)
    return (
        f"cast(nullif(to_json(map_from_entries(list_filter([{entries}], lambda e: e.v is not null))), '{{}}') as json)"
    )


def map_columns(info: FileInfo, columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """FOCUS 1.3 name -> source column of the file, and the source columns that are not FOCUS columns."""
    found: dict[str, str] = {}
    unmapped: list[str] = []
    for column in columns:
        name = classify(column)
        if name is None:
            unmapped.append(column)
            continue
        target = RENAMES.get(name, name)
        if target in found:
            raise InputDataError(
                f"{info.uri}: columns {found[target]!r} and {column!r} are both FOCUS column {target}",
                source=info.uri,
            )
        found[target] = column
    return found, unmapped


def normalise_sql(
    info: FileInfo, types: dict[str, str], *, focus_version: str | None = None, provider: str | None = None
) -> tuple[str, str]:
    """The select that maps the file's columns (``types``: name -> DuckDB type) to raw_focus_export, and its version."""
    columns = list(types)
    found, unmapped = map_columns(info, columns)
    missing = [name for name in REQUIRED if name not in found]
    if "ProviderName" not in found and "ServiceProviderName" not in found:
        missing.append("ProviderName or ServiceProviderName")
    if len(missing) == len(REQUIRED) + 1 or "BilledCost" not in found:
        raise InputDataError(
            f"{info.uri}: not a FOCUS export: no column for {', '.join(missing[:6])} "
            "(expected FOCUS column names such as BilledCost, ChargePeriodStart, BillingAccountId)",
            source=info.uri,
        )
    if missing:
        raise InputDataError(
            f"{info.uri}: FOCUS column(s) {', '.join(missing)} missing: Mandatory in every FOCUS version and "
            "not derivable from the other columns, so the file cannot be upgraded to FOCUS 1.3",
            source=info.uri,
        )
    version = focus_version or detect_version({name for name in (classify(c) for c in columns) if name})
    select: list[str] = []
    for name, kind, _ in FOCUS_COLUMNS:
        column = found.get(name)
        expression = f"cast(null as {RAW_FOCUS_EXPORT_TYPES[raw_name(name)]})"
        if column is not None:
            expression = _typed(column, types[column], kind)
        select.append(f"{expression} as {raw_name(name)}")
    present = "," + ",".join(name for name, _, _ in FOCUS_COLUMNS if name in found) + ","
    select += [
        f"{_literal(version)} as x_focus_version",
        f"{_literal(present)} as x_source_focus_columns",
        f"{_literal(provider) if provider else 'cast(null as varchar)'} as x_provider_hint",
        f"{_json_object(unmapped)} as x_unmapped_columns",
        f"{_literal(info.uri)} as x_source_file",
        f"cast({info.size} as bigint) as x_source_file_size",
        f"cast({_literal(info.modified_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat())} as timestamp) "
        "as x_source_file_modified_at",
        f"{_literal(info.sha256)} as x_source_file_sha256",
        "cast(row_number() over () as bigint) as x_source_row_number",
    ]
    return "select\n    " + ",\n    ".join(select) + f"\nfrom {_SOURCE}", version


def _diagnose(conn: duckdb.DuckDBPyConnection, info: FileInfo, types: dict[str, str]) -> str:
    """Which typed columns hold values that do not cast: column, count, an example value and its row."""
    found, _ = map_columns(info, list(types))
    problems = []
    for name, column in found.items():
        kind = FOCUS_TYPES[name]
        if kind not in _CAST_TARGET or (
            kind == "Date/Time" and types[column].upper().startswith(("TIMESTAMP", "DATE"))
        ):
            continue
        target = _CAST_TARGET[kind]
        bad = conn.execute(
            f"select any_value(v), count(*), min(n) from (select {_text(column)} as v, row_number() over () as n "
            f"from {_SOURCE}) where v is not null and try_cast(v as {target}) is null"
        ).fetchone()
        if bad and bad[1]:
            label = {"Decimal": "decimal number", "Date/Time": "date/time", "JSON": "JSON value"}[kind]
            problems.append(
                f"column {column}: {bad[1]} value(s) like {bad[0]!r} (first at row {bad[2]}) are not a {label}"
            )
    return "; ".join(problems)


def _check_not_null(conn: duckdb.DuckDBPyConnection, info: FileInfo, found: dict[str, str]) -> None:
    for name in NOT_NULL:
        column = raw_name(name)
        empty = conn.execute(
            f"select count(*), min(x_source_row_number) from {_ROWS} where x_source_file = ? and {column} is null",
            [info.uri],
        ).fetchone()
        if empty and empty[0]:
            raise InputDataError(
                f"{info.uri}: column {found[name]}: {empty[0]} row(s) are empty or NULL (first at row {empty[1]}); "
                f"{name} is Mandatory and must not be null",
                source=info.uri,
            )


def read_focus_files(
    files: list[FileInfo], *, focus_version: str | None = None, provider: str | None = None
) -> ExportBatch:
    """Normalise every file into one in-memory table ``focus_rows`` with raw_focus_export's columns."""
    conn, spill = open_batch_connection()
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in RAW_FOCUS_EXPORT.columns)
    conn.execute(f"create table {_ROWS} ({columns_sql})")
    batch = ExportBatch(
        conn, _ROWS, account_sql="billing_account_id", period_end_sql="billing_period_end", spill_dir=spill
    )
    try:
        for info in files:
            read_relation(conn, info, _SOURCE)
            types = {row[0]: str(row[1]) for row in conn.execute(f"describe {_SOURCE}").fetchall()}
            select, version = normalise_sql(info, types, focus_version=focus_version, provider=provider)
            # usage_date: the UTC day of ChargePeriodStart, kept inside the row's billing period (a charge
            # may start before its billing period, e.g. late usage or a correction): loads replace whole
            # billing periods by their days, so a row must never sit on a day of another period
            try:
                conn.execute(
                    f"insert into {_ROWS} by name select *, "
                    "greatest(cast(billing_period_start as date), least(cast(charge_period_start as date), "
                    "cast(coalesce(billing_period_end, billing_period_start + interval 1 month) as date) - 1)) "
                    "as usage_date, "
                    "cast(billing_period_start as date) as billing_period, "
                    f"cast(null as timestamp) as x_export_version from ({select})"
                )
            except duckdb.Error as exc:
                detail = _diagnose(conn, info, types) or " ".join(str(exc).split())[:400]
                raise InputDataError(f"{info.uri}: malformed FOCUS values: {detail}", source=info.uri) from None
            found, _ = map_columns(info, list(types))
            _check_not_null(conn, info, found)
            conn.execute(f"drop table {_SOURCE}")
            batch.files.append(info)
            batch.formats[info.uri] = f"{info.format} focus-{version}"
            logger.info("%s: read as FOCUS %s (%s)", info.uri, version, info.format)
    except BaseException:
        batch.close()
        raise
    return batch
