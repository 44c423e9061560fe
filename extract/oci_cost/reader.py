"""Read OCI cost report CSVs (and deprecated usage report CSVs) into ``raw_oci_cost`` rows.

Everything happens in an in-memory DuckDB, as for AWS CUR: each file is read with DuckDB's CSV reader
(every column VARCHAR), mapped to the normalised column set of ``schema.RAW_OCI_COST`` by one generated
``select`` (explicit casts; ``tags/*`` columns into one JSON object) and appended to ``oci_rows``. No
Python loop touches a row. ``settle_batch`` then applies the rules that need every file of the load:

* a line item (tenant, ``lineItem/referenceNo``) found in several files is kept from the newest file
  only (OCI files are append-only; the same file present twice, e.g. ``.csv`` beside ``.csv.gz``,
  must not double the cost);
* usage report rows of a (tenant, billing period) that has cost report rows, in this load or
  already loaded, are dropped: the cost report carries the same usage, with its cost;
* rows without ``cost/currencyCode`` (usage reports, some zero-cost lines) get
  ``x_assumed_currency_code``: the step config's ``currency``, else the tenant's single currency in
  its cost reports (of this load and already loaded); without either the load fails and says what
  to set.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

import duckdb

from extract.billing_export import ExportBatch, open_batch_connection
from extract.files import FileInfo, read_relation
from extract.files import quote_identifier as _quote
from extract.files import sql_literal as _literal
from extract.oci_cost.schema import (
    COST_REPORT,
    FIXED_COLUMNS,
    MONEY,
    RAW_OCI_COST,
    REQUIRED,
    SOURCE_NAMES,
    USAGE_REPORT,
    classify,
    source_format,
)
from focusline.errors import InputDataError

logger = logging.getLogger(__name__)

_SOURCE = "src"
ROWS = "oci_rows"
_CURRENCY = "^[A-Z]{3}$"


def _text(column: str) -> str:
    """A source column as trimmed text, '' -> NULL."""
    return f"nullif(trim(cast({_quote(column)} as varchar)), '')"


def _typed(column: str, kind: str) -> str:
    if kind == "TIMESTAMP":  # OCI writes 2023-11-13T07:00Z (UTC, no seconds); the session time zone is UTC
        return f"cast(cast({_text(column)} as timestamptz) as timestamp)"
    if kind == "BOOLEAN":
        return f"cast({_text(column)} as boolean)"
    if kind == MONEY:  # through text: scientific notation is read exactly and rounded to 1e-9
        return f"cast({_text(column)} as {MONEY})"
    return _text(column)


def _json_object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object text of the non-empty values (key -> source column), NULL when all are empty."""
    if not pairs:
        return "cast(null as json)"
    entries = ", ".join(f"{{'k': {_literal(key)}, 'v': {_text(col)}}}" for key, col in pairs)
    return (
        f"cast(nullif(to_json(map_from_entries(list_filter([{entries}], lambda e: e.v is not null))), '{{}}') as json)"
    )


def normalise_sql(info: FileInfo, columns: list[str]) -> tuple[str, str]:
    """The select that maps the file's columns to raw_oci_cost, and the report type of the file."""
    fixed: dict[str, str] = {}
    tags: list[tuple[str, str]] = []
    unmapped: list[tuple[str, str]] = []
    for column in columns:
        where, name = classify(column)
        if where == "fixed" and name not in fixed:
            fixed[name] = column
        elif where == "tags":
            tags.append((name, column))
        else:
            unmapped.append((column, column))
    fmt = source_format(set(fixed))
    missing = [SOURCE_NAMES.get(n, n) for n in REQUIRED if n not in fixed]
    if fmt is None or missing:
        what = ", ".join(missing) if missing else "cost/myCost (cost report) or usage/billedQuantity (usage report)"
        raise InputDataError(
            f"{info.uri}: not an OCI cost or usage report: no column {what} "
            "(expected OCI's lineItem/..., product/..., usage/..., cost/... headers)",
            source=info.uri,
        )
    select = []
    for name, kind in FIXED_COLUMNS.items():
        column = fixed.get(name)
        select.append(f"{_typed(column, kind) if column else f'cast(null as {kind})'} as {name}")
    select += [
        f"{_json_object(tags)} as tags",
        f"{_json_object(unmapped)} as x_unmapped_columns",
        f"{_literal(fmt)} as x_source_format",
        "cast(null as varchar) as x_assumed_currency_code",
        f"{_literal(info.uri)} as x_source_file",
        f"cast({info.size} as bigint) as x_source_file_size",
        f"cast({_literal(info.modified_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat())} as timestamp) "
        "as x_source_file_modified_at",
        f"{_literal(info.sha256)} as x_source_file_sha256",
        "cast(row_number() over () as bigint) as x_source_row_number",
    ]
    return "select\n    " + ",\n    ".join(select) + f"\nfrom {_SOURCE}", fmt


def _diagnose(conn: duckdb.DuckDBPyConnection, columns: list[str]) -> str:
    """Which typed columns hold values that do not cast (for the error message)."""
    problems = []
    for column in columns:
        where, name = classify(column)
        kind = FIXED_COLUMNS.get(name) if where == "fixed" else None
        if kind not in (MONEY, "TIMESTAMP", "BOOLEAN"):
            continue
        target = {MONEY: MONEY, "TIMESTAMP": "timestamptz", "BOOLEAN": "boolean"}[kind]
        bad = conn.execute(
            f"select any_value({_text(column)}), count(*), min(rn) from "
            f"(select *, row_number() over () as rn from {_SOURCE}) "
            f"where {_text(column)} is not null and try_cast({_text(column)} as {target}) is null"
        ).fetchone()
        if bad and bad[1]:
            label = {MONEY: "decimal number", "TIMESTAMP": "timestamp", "BOOLEAN": "true/false"}[kind]
            problems.append(
                f"{column}: {bad[1]} value(s) like {bad[0]!r} (first at data row {bad[2]}) are not a {label}"
            )
    return "; ".join(problems)


def _check_file(conn: duckdb.DuckDBPyConnection, info: FileInfo, fmt: str) -> None:
    """Values every row needs: a tenant, a usage start, a currency for a cost (cost reports)."""
    checks = [
        ("line_item_tenant_id is null", "lineItem/tenantId is empty"),
        ("line_item_interval_usage_start is null", "lineItem/intervalUsageStart is empty"),
        (
            f"cost_currency_code is not null and not regexp_full_match(cost_currency_code, '{_CURRENCY}')",
            "cost/currencyCode is not an ISO 4217 code",
        ),
    ]
    if fmt == COST_REPORT:
        checks.append(
            ("cost_currency_code is null and coalesce(cost_my_cost, 0) <> 0", "cost/currencyCode is empty on a cost")
        )
    for condition, what in checks:
        count, first, currency, cost = conn.execute(
            f"select count(*), min(x_source_row_number), arg_min(cost_currency_code, x_source_row_number), "
            f"arg_min(cost_my_cost, x_source_row_number) from {ROWS} where x_source_file = ? and ({condition})",
            [info.uri],
        ).fetchone()
        if count:
            value = (
                f" (value {currency!r})" if "ISO" in what else (f" (cost/myCost {cost})" if "on a cost" in what else "")
            )
            raise InputDataError(
                f"{info.uri}: {what} on {count} row(s), first at data row {first}{value}", source=info.uri
            )


def read_oci_files(files: Iterable[FileInfo]) -> ExportBatch:
    """Normalise every file into one in-memory table ``oci_rows`` with raw_oci_cost's columns."""
    conn, spill = open_batch_connection()
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in RAW_OCI_COST.columns)
    conn.execute(f"create table {ROWS} ({columns_sql})")
    batch = ExportBatch(conn, ROWS, account_sql="line_item_tenant_id", spill_dir=spill)
    try:
        for info in files:
            columns = read_relation(conn, info, _SOURCE)
            select, fmt = normalise_sql(info, columns)
            try:
                conn.execute(
                    f"insert into {ROWS} by name select *, "
                    "cast(line_item_interval_usage_start as date) as usage_date, "
                    "cast(date_trunc('month', line_item_interval_usage_start) as date) as billing_period, "
                    f"cast(null as timestamp) as x_export_version from ({select})"
                )
            except duckdb.Error as exc:
                detail = _diagnose(conn, columns) or " ".join(str(exc).split())[:400]
                raise InputDataError(f"{info.uri}: malformed OCI report values: {detail}", source=info.uri) from None
            _check_file(conn, info, fmt)
            conn.execute(f"drop table {_SOURCE}")
            batch.files.append(info)
            batch.formats[info.uri] = fmt
            logger.info("%s: read as OCI %s", info.uri, fmt.replace("_", " "))
    except BaseException:
        batch.close()
        raise
    return batch


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = conn.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def settle_batch(
    batch: ExportBatch,
    *,
    currency: str | None,
    cost_periods_loaded: Iterable[dt.date] = (),
    loaded_currencies: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Apply the load-wide rules of the module doc to ``batch``; return what they changed (step detail).

    ``cost_periods_loaded``: billing periods of the load key that already hold cost report rows;
    ``loaded_currencies``: (tenant, cost/currencyCode) pairs already loaded for the organisation.
    """
    conn = batch.conn
    duplicates = _count(
        conn,
        f"delete from {ROWS} where rowid in (select rid from (select rowid as rid, x_source_file, "
        "first_value(x_source_file) over (partition by x_source_format, line_item_tenant_id, line_item_reference_no "
        "order by x_source_file_modified_at desc, x_source_file desc) as keep "
        f"from {ROWS} where line_item_reference_no is not null) where x_source_file <> keep)",
    )
    if duplicates:
        logger.warning("OCI: %d line item(s) found in more than one file; kept from the newest file", duplicates)
    loaded = sorted(set(cost_periods_loaded))
    conn.execute("create or replace temp table cost_periods_loaded (billing_period date)")
    if loaded:
        conn.executemany("insert into cost_periods_loaded values (?)", [(p,) for p in loaded])
    superseded = _count(
        conn,
        f"delete from {ROWS} u where x_source_format = '{USAGE_REPORT}' and ("
        f"exists (select 1 from {ROWS} c where c.x_source_format = '{COST_REPORT}' "
        "and c.line_item_tenant_id = u.line_item_tenant_id and c.billing_period = u.billing_period) "
        "or billing_period in (select billing_period from cost_periods_loaded))",
    )
    if superseded:
        logger.warning("OCI: %d usage report row(s) superseded by cost reports of the same periods", superseded)
    seen: dict[str, set[str]] = {}
    for tenant, code in [
        *conn.execute(
            f"select distinct line_item_tenant_id, cost_currency_code from {ROWS} where cost_currency_code is not null"
        ).fetchall(),
        *loaded_currencies,
    ]:
        seen.setdefault(tenant, set()).add(code.upper())
    tenant_currencies = {tenant: sorted(codes) for tenant, codes in seen.items()}
    if currency is not None:
        clash = {t: c for t, c in tenant_currencies.items() if c != [currency]}
        if clash:
            tenant, found = next(iter(clash.items()))
            raise InputDataError(
                f"step config currency {currency} disagrees with tenant {tenant}'s cost reports "
                f"(cost/currencyCode {', '.join(found)}); remove currency or correct it"
            )
        conn.execute(f"update {ROWS} set x_assumed_currency_code = ? where cost_currency_code is null", [currency])
    else:
        single = [(t, c[0]) for t, c in tenant_currencies.items() if len(c) == 1]
        conn.execute("create or replace temp table tenant_currency (tenant varchar, currency varchar)")
        if single:
            conn.executemany("insert into tenant_currency values (?, ?)", single)
        conn.execute(
            f"update {ROWS} set x_assumed_currency_code = t.currency from tenant_currency t "
            f"where {ROWS}.cost_currency_code is null and {ROWS}.line_item_tenant_id = t.tenant"
        )
    unresolved = conn.execute(
        f"select x_source_file, any_value(line_item_tenant_id), count(*), any_value(x_source_format) from {ROWS} "
        "where cost_currency_code is null and x_assumed_currency_code is null group by 1 order by 1 limit 1"
    ).fetchone()
    if unresolved:
        file, tenant, count, fmt = unresolved
        why = "a usage report states no currency" if fmt == USAGE_REPORT else "cost/currencyCode is empty"
        raise InputDataError(
            f"{file}: {count} row(s) without cost/currencyCode ({why}) and tenant {tenant} has no single currency "
            "in its cost reports (of this load or loaded before): set currency (the tenant's billing currency, "
            "e.g. USD) in the step config, or load the usage report together with the tenant's cost reports",
            source=file,
        )
    assumed = _count(conn, f"select count(*) from {ROWS} where x_assumed_currency_code is not null")
    return {"duplicate_rows_dropped": duplicates, "usage_rows_superseded": superseded, "currency_assumed_rows": assumed}
