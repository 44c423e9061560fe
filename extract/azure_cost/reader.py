"""Read Azure cost details exports (EA, MCA, legacy usage; actual or amortized; CSV or Parquet) into raw rows.

Everything happens in an in-memory DuckDB: each file is read with DuckDB's reader (CSV as VARCHAR,
Parquet with its own types), checked (required columns, values that do not parse: the error names the
file, the column and a value), mapped to ``schema.RAW_AZURE_COST`` by one generated ``select`` and
appended to ``azure_rows``. No Python loop ever touches a row.

Whether a file is an *actual* or an *amortized* export is decided per file (``x_cost_dataset``):

* amortized when it has unused-commitment rows (ChargeType UnusedReservation / UnusedSavingsPlan) or
  commitment-covered usage with a cost (actual exports state that usage at 0);
* actual when it has commitment purchases or refunds (amortized exports leave them out);
* otherwise (on-demand rows only, the two exports are the same) by its name (``amortized`` /
  ``amortised`` in the path), else actual; ``dataset`` in the step config overrides all of this.
"""

from __future__ import annotations

import datetime as dt
import logging

import duckdb

from extract.azure_cost.schema import (
    ACCOUNT_COLUMNS,
    CANONICAL,
    MONEY,
    RAW_AZURE_COST,
    REQUIRED,
    classify,
    source_format,
)
from extract.billing_export import ExportBatch, open_batch_connection
from extract.files import FileInfo, read_relation
from extract.files import quote_identifier as _quote
from extract.files import sql_literal as _literal
from focusline.errors import InputDataError

logger = logging.getLogger(__name__)

DATASETS = ("actual", "amortized")
ROWS_TABLE = "azure_rows"
ACCOUNT_SQL = "coalesce(billing_account_id, subscription_id)"
_SOURCE = "src"
_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
)
_COMMITMENT_MODELS = "('reservation', 'savingsplan', 'savingsplans')"
# the exclusive end of a billing period: BillingPeriodEndDate is inclusive (09/30/2023) in every export
# seen; one that already names the next period's first day is taken as exclusive; none: one month
PERIOD_END_SQL = (
    "case when billing_period_end_date is null then cast(billing_period + interval 1 month as date) "
    "when billing_period_end_date > billing_period and day(billing_period_end_date) = day(billing_period) "
    "then billing_period_end_date else cast(billing_period_end_date + interval 1 day as date) end"
)


def _text(column: str) -> str:
    """A source column as trimmed text, '' -> NULL."""
    return f"nullif(trim(cast({_quote(column)} as varchar)), '')"


def _date(column: str, kind: str) -> str:
    upper = kind.upper()
    if upper == "DATE" or upper.startswith("TIMESTAMP"):
        return f"cast({_quote(column)} as date)"
    formats = "[" + ", ".join(_literal(f) for f in _DATE_FORMATS) + "]"
    text = _text(column)
    iso = f"cast(try_cast({text} as timestamptz) as timestamp)"
    return f"cast(coalesce(try_strptime({text}, {formats}), {iso}) as date)"


def _money(column: str) -> str:
    # through text, so a Parquet DOUBLE keeps its shortest decimal spelling (no binary noise)
    return f"try_cast({_text(column)} as {MONEY})"


def _tags_text(column: str) -> str:
    """EA writes the tag object without its braces; wrap it. NULL for an empty object."""
    text = _text(column)
    return (
        f"nullif(case when {text} is null then null when left({text}, 1) = '{{' then {text} "
        f"else '{{' || {text} || '}}' end, '{{}}')"
    )


def _is_object(text_sql: str) -> str:
    # json_type raises on invalid JSON even behind an AND: guard it with a CASE
    return f"(case when json_valid({text_sql}) then json_type({text_sql}) = 'OBJECT' else false end)"


def _json_object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object text of the non-empty values, or NULL when all are empty."""
    if not pairs:
        return "cast(null as json)"
    entries = ", ".join(f"{{'k': {_literal(key)}, 'v': {value}}}" for key, value in pairs)
    return (
        f"cast(nullif(to_json(map_from_entries(list_filter([{entries}], lambda e: e.v is not null))), '{{}}') as json)"
    )


def _checks(chosen: dict[str, str], types: dict[str, str]) -> list[tuple[str, str, str]]:
    """(source column, value text, kind) of every typed column whose values must parse."""
    checks = []
    for name, column in chosen.items():
        kind = CANONICAL[name][0]
        if kind == MONEY:
            checks.append((column, _text(column), "number"))
        elif kind == "DATE" and not (types[column].upper() == "DATE" or types[column].upper().startswith("TIMESTAMP")):
            checks.append((column, _text(column), "date (m/d/Y or ISO)"))
        elif name == "tags":
            checks.append((column, _tags_text(column), "JSON object"))
    return checks


def _validate(conn: duckdb.DuckDBPyConnection, info: FileInfo, chosen: dict[str, str], types: dict[str, str]) -> None:
    """Every money, date and tags value parses; else InputDataError naming file, column, count and a value."""
    checks = _checks(chosen, types)
    if not checks:
        return
    parts = []
    for column, text, kind in checks:
        if kind == "number":
            bad = f"{text} is not null and try_cast({text} as {MONEY}) is null"
        elif kind == "JSON object":
            bad = f"{text} is not null and not coalesce({_is_object(text)}, false)"
        else:
            bad = f"{text} is not null and ({_date(column, types[column])}) is null"
        parts.append(f"count(*) filter (where {bad}), any_value({text}) filter (where {bad})")
    row = conn.execute(f"select {', '.join(parts)} from {_SOURCE}").fetchone()
    assert row is not None
    problems = []
    for index, (column, _, kind) in enumerate(checks):
        count, example = row[2 * index], row[2 * index + 1]
        if count:
            problems.append(f"column {column}: {count} value(s) like {example!r} are not a {kind}")
    if problems:
        raise InputDataError(f"{info.uri}: malformed Azure cost details: {'; '.join(problems)}", source=info.uri)


def _dataset(conn: duckdb.DuckDBPyConnection, info: FileInfo, chosen: dict[str, str]) -> str:
    """actual | amortized, from the file's rows (see the module doc), else its name."""
    charge = _text(chosen["charge_type"]) if "charge_type" in chosen else "cast(null as varchar)"
    model = _text(chosen["pricing_model"]) if "pricing_model" in chosen else "cast(null as varchar)"
    cost = _money(chosen["cost_in_billing_currency"])
    committed = f"replace(lower({model}), ' ', '') in {_COMMITMENT_MODELS}"
    row = conn.execute(
        f"select count(*) filter (where lower({charge}) in ('unusedreservation', 'unusedsavingsplan') "
        f"or (lower({charge}) = 'usage' and {committed} and {cost} <> 0)), "
        f"count(*) filter (where lower({charge}) in ('purchase', 'refund') and {committed}) from {_SOURCE}"
    ).fetchone()
    assert row is not None
    amortized_signs, actual_signs = row
    if amortized_signs:
        return "amortized"
    if actual_signs:
        return "actual"
    name = info.uri.lower()
    return "amortized" if "amortized" in name or "amortised" in name else "actual"


def normalise_sql(info: FileInfo, types: dict[str, str], dataset: str) -> tuple[str, str]:
    """The select that maps the file's columns (``types``: name -> DuckDB type) to raw_azure_cost, and its format."""
    columns = list(types)
    chosen, unmapped = classify(columns)
    fmt = source_format(columns)
    exprs: dict[str, str] = {}
    extra_unmapped: list[tuple[str, str]] = [(c, _text(c)) for c in unmapped]
    for name, (kind, _) in CANONICAL.items():
        column = chosen.get(name)
        if column is None:
            exprs[name] = f"cast(null as {kind})"
        elif kind == MONEY:
            exprs[name] = _money(column)
        elif kind == "DATE":
            exprs[name] = _date(column, types[column])
        elif name == "tags":
            exprs[name] = f"cast({_tags_text(column)} as json)"
        elif name == "additional_info":
            text = _text(column)
            exprs[name] = f"case when {_is_object(text)} then cast({text} as json) end"
            extra_unmapped.append((column, f"case when not coalesce({_is_object(text)}, false) then {text} end"))
        else:
            exprs[name] = _text(column)
    resource_id = exprs["resource_id"]
    # ARM type from the id: provider namespace + every other segment after the last /providers/
    arm_type = (
        f"case when {resource_id} is null then null "
        f"when strpos(lower({resource_id}), '/providers/') > 0 then array_to_string(list_filter("
        f"string_split(trim(split_part(lower({resource_id}), '/providers/', -1), '/'), '/'), "
        f"lambda segment, i: i = 1 or i % 2 = 0), '/') "
        f"when regexp_matches(lower({resource_id}), '^/subscriptions/[^/]+/resourcegroups/[^/]+/?$') "
        "then 'microsoft.resources/resourcegroups' "
        f"when regexp_matches(lower({resource_id}), '^/subscriptions/[^/]+/?$') "
        "then 'microsoft.resources/subscriptions' "
        "end"
    )
    exprs["resource_type"] = f"lower(coalesce({exprs['resource_type']}, {arm_type}))"
    exprs["resource_name"] = (
        f"coalesce({exprs['resource_name']}, nullif(split_part(trim({resource_id}, '/'), '/', -1), ''))"
    )
    exprs["billing_currency"] = f"upper({exprs['billing_currency']})"
    exprs["pricing_currency"] = f"upper({exprs['pricing_currency']})"
    select = [f"{exprs[name]} as {name}" for name in CANONICAL]
    select += [
        f"{_json_object(extra_unmapped)} as x_unmapped_columns",
        f"{_literal(dataset)} as x_cost_dataset",
        f"{_literal(fmt)} as x_source_format",
        f"{_literal(info.uri)} as x_source_file",
        f"cast({info.size} as bigint) as x_source_file_size",
        f"cast({_literal(info.modified_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat())} as timestamp) "
        "as x_source_file_modified_at",
        f"{_literal(info.sha256)} as x_source_file_sha256",
        "cast(row_number() over () as bigint) as x_source_row_number",
    ]
    return "select\n    " + ",\n    ".join(select) + f"\nfrom {_SOURCE}", fmt


def _check_columns(info: FileInfo, chosen: dict[str, str]) -> None:
    missing = [label for name, label in REQUIRED if name not in chosen]
    if not any(name in chosen for name in ACCOUNT_COLUMNS):
        missing.append("BillingAccountId or SubscriptionId")
    if missing:
        raise InputDataError(
            f"{info.uri}: not an Azure cost details export: no column for {', '.join(missing)} "
            "(expected EA / MCA cost details or the legacy usage details headers)",
            source=info.uri,
        )


def _check_rows(conn: duckdb.DuckDBPyConnection, info: FileInfo, chosen: dict[str, str]) -> None:
    """Values every row needs: a date, a billing currency and an account."""
    required = (("charge_date", "usage_date", "date"), ("billing_currency", "billing_currency", "currency"))
    for name, column, label in required:
        missing = conn.execute(
            f"select count(*) from {ROWS_TABLE} where x_source_file = ? and {column} is null", [info.uri]
        ).fetchone()
        if missing and missing[0]:
            raise InputDataError(
                f"{info.uri}: column {chosen[name]}: {missing[0]} row(s) have no {label}", source=info.uri
            )
    missing = conn.execute(
        f"select count(*) from {ROWS_TABLE} where x_source_file = ? and {ACCOUNT_SQL} is null", [info.uri]
    ).fetchone()
    if missing and missing[0]:
        columns = " / ".join(chosen[c] for c in ACCOUNT_COLUMNS if c in chosen)
        raise InputDataError(
            f"{info.uri}: column {columns}: {missing[0]} row(s) have no billing account or subscription",
            source=info.uri,
        )


def read_azure_files(files: list[FileInfo], *, dataset: str | None = None) -> ExportBatch:
    """Normalise every file into one in-memory table ``azure_rows`` with raw_azure_cost's columns."""
    if dataset is not None and dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    conn, spill = open_batch_connection()
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in RAW_AZURE_COST.columns)
    conn.execute(f"create table {ROWS_TABLE} ({columns_sql})")
    batch = ExportBatch(conn, ROWS_TABLE, account_sql=ACCOUNT_SQL, period_end_sql="billing_period_end", spill_dir=spill)
    try:
        for info in files:
            read_relation(conn, info, _SOURCE)
            types = {row[0]: str(row[1]) for row in conn.execute(f"describe {_SOURCE}").fetchall()}
            chosen, _ = classify(list(types))
            _check_columns(info, chosen)
            _validate(conn, info, chosen, types)
            kind = dataset or _dataset(conn, info, chosen)
            select, fmt = normalise_sql(info, types, kind)
            conn.execute(
                f"insert into {ROWS_TABLE} by name select *, {PERIOD_END_SQL} as billing_period_end from ("
                "select * exclude (charge_date), charge_date as usage_date, "
                "coalesce(billing_period_start_date, cast(date_trunc('month', charge_date) as date)) "
                "as billing_period, "
                f"cast(null as timestamp) as x_export_version from ({select}))"
            )
            _check_rows(conn, info, chosen)
            conn.execute(f"drop table {_SOURCE}")
            batch.files.append(info)
            batch.formats[info.uri] = f"{fmt}:{kind}"
            logger.info("%s: read as %s %s", info.uri, fmt, kind)
    except BaseException:
        batch.close()
        raise
    return batch
