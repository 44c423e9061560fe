"""Read GCP Cloud Billing export files (CSV flattened, JSON lines and Parquet, standard or detailed) into
``raw_gcp_billing`` rows.

Everything happens in an in-memory DuckDB, as for AWS CUR: each file is read with DuckDB's reader, every
field of ``schema.FIELDS`` is found in it (a flat dotted column ``service.description`` as in the CSV, a
struct field ``service.description`` as in Parquet and JSON lines, or a JSON object member), cast by one
generated ``select`` and appended to ``gcp_rows``; a second ``select`` derives the dates and the typed views
of the nested arrays. No Python loop ever touches a row.

* CSV is read as text; its nested arrays are the Python-repr text of the flattening tool
  (``[{'name': 'FreeTrial', 'amount': -5e-06, 'full_name': None}]``), converted to JSON by a tokenising
  SQL expression (quoted strings are re-quoted, ``None``/``True``/``False`` outside strings become
  ``null``/``true``/``false``); JSON text is accepted as it is.
* JSON lines are read with the export's schema given explicitly (leaves as text, arrays as JSON), so no
  type is guessed from a sample and money keeps the text the export wrote.
* Parquet keeps its own types: FLOAT64 money goes through its shortest decimal text into DECIMAL(38,9).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

import duckdb

from extract.billing_export import ExportBatch, open_batch_connection
from extract.files import FileInfo, read_relation
from extract.files import quote_identifier as _quote
from extract.files import sql_literal as _literal
from extract.gcp_billing.schema import (
    ANCESTOR_SHAPE,
    COMMITMENT_CREDIT_TYPES,
    CREDIT_SHAPE,
    DETAILED_ONLY,
    FIELDS,
    LABEL_SHAPE,
    MONEY,
    RAW_GCP_BILLING,
    REQUIRED,
    SYSTEM_LABEL_PREFIX,
    TAG_SHAPE,
    Kind,
)
from focusline.errors import InputDataError

logger = logging.getLogger(__name__)

_SOURCE = "src"
_ROWS = "gcp_rows"
_SHAPES = {
    "credits": CREDIT_SHAPE,
    "labels": LABEL_SHAPE,
    "system_labels": LABEL_SHAPE,
    "project.labels": LABEL_SHAPE,
    "project.ancestors": ANCESTOR_SHAPE,
    "tags": TAG_SHAPE,
}
_NULL_TYPES = {"text": "VARCHAR", "decimal": MONEY, "timestamp": "TIMESTAMP", "json": "JSON"}
# one token of a Python-repr (or JSON) text: a '...' string, a "..." string, or a run of anything else
_TOKEN = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^'"]+"""


def jsonl_columns() -> dict[str, str]:
    """The export's schema for DuckDB's JSON reader: records as STRUCTs of text, REPEATED RECORDs as JSON."""
    groups: dict[str, list[str]] = defaultdict(list)
    top: dict[str, str] = {}
    for path, _, kind in FIELDS:
        head, _, rest = path.partition(".")
        leaf = "JSON" if kind == "json" else "VARCHAR"
        if rest:
            groups[head].append(f"{_quote(rest)} {leaf}")
        else:
            top[head] = leaf
    for head, members in groups.items():
        top[head] = f"STRUCT({', '.join(members)})"
    return top


def _read_source(conn: duckdb.DuckDBPyConnection, info: FileInfo) -> None:
    """Table ``src`` over the file: CSV all text, Parquet typed, JSON lines with the export's schema."""
    if info.format != "jsonl":
        read_relation(conn, info, _SOURCE)
        return
    columns = "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in jsonl_columns().items()) + "}"
    try:
        conn.execute(
            f"create or replace temp table {_SOURCE} as select * from read_json(?, format = 'newline_delimited', "
            f"compression = 'auto', columns = {columns})",
            [str(info.local_path)],
        )
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:400]
        raise InputDataError(
            f"{info.uri}: cannot read as a JSON lines billing export: {detail}", source=info.uri
        ) from None


def _resolve(path: str, types: dict[str, duckdb.DuckDBPyType]) -> tuple[str, str] | None:
    """(SQL expression, DuckDB type name) of an export field in the source, or None when the file lacks it."""
    if path in types:  # a top-level field, or a flattened dotted column
        return _quote(path), str(types[path])
    head, _, rest = path.partition(".")
    if not rest or head not in types:
        return None
    kind = types[head]
    if kind.id == "struct":
        children = {name: child for name, child in kind.children}
        if rest in children:
            return f"{_quote(head)}.{_quote(rest)}", str(children[rest])
        return None
    if str(kind) == "JSON":
        return f"json_extract({_quote(head)}, {_literal('$.' + rest)})", "JSON"
    return None


def _text(expr: str, kind: str) -> str:
    if kind == "JSON":
        return f"nullif(trim({expr} ->> '$'), '')"
    return f"nullif(trim(cast({expr} as varchar)), '')"


def pyrepr_to_json(text_expr: str) -> str:
    """SQL: Python-repr (or JSON) text of lists/dicts -> JSON text (not validated here)."""
    backslash, quote, dquote = "\\", "'", '"'

    def unhex(expr: str) -> str:  # Python's \xNN escape is \u00NN in JSON
        pattern, replacement = backslash * 2 + "x([0-9a-fA-F]{2})", backslash * 2 + "u00" + backslash + "1"
        return f"regexp_replace({expr}, {_literal(pattern)}, {_literal(replacement)}, 'g')"

    inner = "substr(t, 2, length(t) - 2)"
    unquoted = f"replace({inner}, {_literal(backslash + quote)}, {_literal(quote)})"
    escaped = f"replace({unquoted}, {_literal(dquote)}, {_literal(backslash + dquote)})"
    single = f"{_literal(dquote)} || {unhex(escaped)} || {_literal(dquote)}"
    bare = "t"
    for word, json_word in (("None", "null"), ("True", "true"), ("False", "false")):
        bare = (
            f"regexp_replace({bare}, {_literal(backslash + 'b' + word + backslash + 'b')}, {_literal(json_word)}, 'g')"
        )
    return (
        f"array_to_string(list_transform(regexp_extract_all({text_expr}, {_literal(_TOKEN)}), lambda t: "
        f"case when t[1] = {_literal(quote)} then {single} when t[1] = {_literal(dquote)} then {unhex('t')} "
        f"else {bare} end), '')"
    )


def _json_text(expr: str, kind: str) -> str:
    """A nested field as JSON text (NULL when empty); still to be validated."""
    upper = kind.upper()
    if upper == "JSON":
        value = f"cast({expr} as varchar)"
    elif upper.endswith("]") or upper.startswith(("STRUCT", "MAP")):
        value = f"cast(to_json({expr}) as varchar)"
    else:
        value = pyrepr_to_json(_text(expr, kind))
    return f"nullif(nullif(nullif(trim({value}), '[]'), '{{}}'), 'null')"


def _timestamp(expr: str, kind: str) -> str:
    upper = kind.upper()
    if upper.startswith("TIMESTAMP"):  # WITH TIME ZONE renders in the session's UTC
        return f"cast({expr} as timestamp)"
    return f"cast(cast(replace({_text(expr, kind)}, ' UTC', '+00:00') as timestamptz) as timestamp)"


def _typed(kind: Kind, expr: str, source_kind: str) -> str:
    if kind == "text":
        return _text(expr, source_kind)
    if kind == "decimal":
        # through text, so a FLOAT64 keeps its shortest decimal spelling (no binary noise)
        return f"cast({_text(expr, source_kind)} as {MONEY})"
    if kind == "timestamp":
        return _timestamp(expr, source_kind)
    return f"cast({_json_text(expr, source_kind)} as json)"


def _json_object(pairs: list[tuple[str, str, str]]) -> str:
    """A JSON object text of the non-empty (key, expr, type) values, or NULL when all are empty."""
    if not pairs:
        return "cast(null as json)"
    entries = []
    for key, expr, kind in pairs:
        upper = kind.upper()
        value = f"cast(to_json({expr}) as varchar)" if upper.endswith("]") or upper.startswith("STRUCT") else None
        entries.append(f"{{'k': {_literal(key)}, 'v': {value or _text(expr, kind)}}}")
    return (
        f"cast(nullif(to_json(map_from_entries(list_filter([{', '.join(entries)}], lambda e: e.v is not null))), "
        "'{}') as json)"
    )


def normalise_sql(info: FileInfo, types: dict[str, duckdb.DuckDBPyType]) -> str:
    """The select mapping the file's columns to the export fields of raw_gcp_billing (x_source_format: the
    export flavour, standard or detailed, by its columns or, for JSON lines, by its resource values)."""
    found: dict[str, tuple[str, str]] = {}
    for path, _, _ in FIELDS:
        resolved = _resolve(path, types)
        if resolved is not None:
            found[path] = resolved
    missing = [path for path in REQUIRED if path not in found]
    if missing:
        raise InputDataError(
            f"{info.uri}: not a GCP billing export: no field {', '.join(missing)} "
            "(expected the BigQuery export's fields, nested or flattened as service.description)",
            source=info.uri,
        )
    used_heads = {path.partition(".")[0] for path in found} | set(found)
    unmapped = [(name, _quote(name), str(kind)) for name, kind in types.items() if name not in used_heads]
    flavour = "detailed" if any(path in found for path in DETAILED_ONLY) else "standard"
    flavour_sql = _literal(f"{flavour}/{info.format}")
    if info.format == "jsonl":  # the schema is given, so the fields always exist: the values tell
        detailed = " or ".join(f"{column} is not null" for path, column, _ in FIELDS if path in DETAILED_ONLY)
        flavour_sql = f"case when bool_or({detailed}) over () then 'detailed/jsonl' else 'standard/jsonl' end"
    select = []
    for path, column, kind in FIELDS:
        if path in found:
            expr, source_kind = found[path]
            select.append(f"{_typed(kind, expr, source_kind)} as {column}")
        else:
            select.append(f"cast(null as {_NULL_TYPES[kind]}) as {column}")
    select += [
        f"{_json_object(unmapped)} as x_unmapped_columns",
        f"{flavour_sql} as x_source_format",
        f"{_literal(info.uri)} as x_source_file",
        f"cast({info.size} as bigint) as x_source_file_size",
        f"cast({_literal(info.modified_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat())} as timestamp) "
        "as x_source_file_modified_at",
        f"{_literal(info.sha256)} as x_source_file_sha256",
        "cast(row_number() over () as bigint) as x_source_row_number",
    ]
    return "select\n    " + ",\n    ".join(select) + f"\nfrom {_SOURCE}"


def derived_sql(normalised: str) -> str:
    """The raw_gcp_billing row: the normalised fields plus dates and typed views of credits and labels."""
    cud_types = ", ".join(_literal(t) for t in COMMITMENT_CREDIT_TYPES)
    promotion = (
        "lambda c: upper(coalesce(c.type, '')) = 'PROMOTION' "
        "or (c.type is null and coalesce(c.name, c.id, '') ilike 'FreeTrial%')"
    )
    commitment = f"lambda c: upper(c.type) in ({cud_types}) or (c.type is null and c.name ilike 'Committed%')"
    entries = (
        f"list_concat("
        f"list_transform(from_json(system_labels, {_literal(LABEL_SHAPE)}), "
        f"lambda e: {{'k': {_literal(SYSTEM_LABEL_PREFIX)} || e.key, 'v': e.value}}), "
        f"list_transform(from_json(project_labels, {_literal(LABEL_SHAPE)}), lambda e: {{'k': e.key, 'v': e.value}}), "
        f"list_transform(from_json(tags, {_literal(TAG_SHAPE)}), "
        "lambda e: {'k': coalesce(e.namespace || '/', '') || e.key, 'v': e.value}), "
        f"list_transform(from_json(labels, {_literal(LABEL_SHAPE)}), lambda e: {{'k': e.key, 'v': e.value}}))"
    )
    return f"""
with normalised as (
{normalised}
),
parsed as (
    select
        *,
        from_json(credits, {_literal(CREDIT_SHAPE)}) as _credits,
        list_reverse(list_filter({entries}, lambda e: e.k is not null)) as _tag_entries
    from normalised
),
split as (
    select
        *,
        list_filter(_credits, {promotion}) as _promotion,
        list_filter(_credits, {commitment}) as _commitment,
        list_filter(_tag_entries, lambda e, i: list_position(list_transform(_tag_entries, lambda x: x.k), e.k) = i)
            as _tags
    from parsed
)
select
    * exclude (_credits, _tag_entries, _promotion, _commitment, _tags),
    cast(coalesce(list_sum(list_transform(_credits, lambda c: cast(c.amount as {MONEY}))), 0) as {MONEY})
        as credits_amount,
    cast(coalesce(list_sum(list_transform(_promotion, lambda c: cast(c.amount as {MONEY}))), 0) as {MONEY})
        as credits_promotion_amount,
    cast(coalesce(list_sum(list_transform(_commitment, lambda c: cast(c.amount as {MONEY}))), 0) as {MONEY})
        as commitment_credit_amount,
    coalesce(upper(_commitment[1].type), case when len(_commitment) > 0 then 'COMMITTED_USAGE_DISCOUNT' end)
        as commitment_credit_type,
    _commitment[1].id as commitment_credit_id,
    coalesce(_commitment[1].full_name, _commitment[1].name) as commitment_credit_name,
    nullif(array_to_string(list_sort(list_distinct(list_transform(_credits, lambda c: upper(c.type)))), ','), '')
        as credit_types,
    nullif(array_to_string(
        list_distinct(list_transform(_promotion, lambda c: coalesce(c.full_name, c.name))), ', '
    ), '') as promotion_credit_names,
    cast(nullif(to_json(map_from_entries(_tags)), '{{}}') as json) as tags_object,
    coalesce(cast(usage_start_time as date), cast(strptime(invoice_month, '%Y%m') as date)) as usage_date,
    cast(strptime(invoice_month, '%Y%m') as date) as billing_period,
    least(
        greatest(coalesce(cast(usage_start_time as date), cast(strptime(invoice_month, '%Y%m') as date)),
                 cast(strptime(invoice_month, '%Y%m') as date)),
        last_day(cast(strptime(invoice_month, '%Y%m') as date))
    ) as load_date,
    cast(null as timestamp) as x_export_version
from split
"""


def _diagnose(conn: duckdb.DuckDBPyConnection, info: FileInfo, types: dict[str, duckdb.DuckDBPyType]) -> str:
    """Which fields hold values that do not convert (for the error message): field, count, a sample value."""
    problems = []
    for path, _, kind in FIELDS:
        resolved = _resolve(path, types)
        if resolved is None:
            continue
        expr, source_kind = resolved
        text = _text(expr, source_kind)
        if path == "invoice.month":
            bad_sql = f"not regexp_full_match({text}, '[0-9]{{4}}(0[1-9]|1[0-2])')"
            target = "month YYYYMM"
        elif kind == "decimal":
            bad_sql = f"try_cast({text} as {MONEY}) is null"
            target = "decimal"
        elif kind == "timestamp" and not source_kind.upper().startswith("TIMESTAMP"):
            bad_sql = f"try_cast(replace({text}, ' UTC', '+00:00') as timestamptz) is null"
            target = "timestamp"
        elif kind == "json":
            value = _json_text(expr, source_kind)
            shape = _literal(_SHAPES[path])
            bad_sql = (
                f"{value} is not null and (not coalesce(json_valid({value}), false) "
                f"or json_type(cast({value} as json)) <> 'ARRAY' "
                f"or try_cast(from_json(cast({value} as json), {shape}) as varchar) is null)"
            )
            text = f"cast({expr} as varchar)"
            target = "list of records"
            if path == "credits":  # every amount must be a number (JSON text may hold NaN)
                amounts = f"from_json(cast({value} as json), {shape})"
                bad_sql += (
                    f" or (coalesce(json_valid({value}), false) and json_type(cast({value} as json)) = 'ARRAY' "
                    f"and list_bool_or(list_transform({amounts}, "
                    f"lambda c: c.amount is not null and try_cast(c.amount as {MONEY}) is null)))"
                )
                target = "list of records with decimal amounts"
        else:
            continue
        bad = conn.execute(
            f"select any_value({text}), count(*) from {_SOURCE} where {text} is not null and ({bad_sql})"
        ).fetchone()
        if bad and bad[1]:
            sample = str(bad[0])[:120]
            problems.append(f"field {path}: {bad[1]} value(s) like {sample!r} are not a {target}")
    return "; ".join(problems)


def _check_rows(conn: duckdb.DuckDBPyConnection, info: FileInfo) -> None:
    """Every required field has a value; every nested field is a list (a JSON object is valid JSON, not a list)."""
    for path, column, kind in FIELDS:
        if kind != "json":
            continue
        row = conn.execute(
            f"select count(*), any_value(cast({column} as varchar)), min(x_source_row_number) from {_ROWS} "
            f"where x_source_file = ? and json_type({column}) <> 'ARRAY'",
            [info.uri],
        ).fetchone()
        if row and row[0]:
            raise InputDataError(
                f"{info.uri}: malformed GCP billing export values: field {path}: {row[0]} value(s) like "
                f"{str(row[1])[:120]!r} are not a list of records (first at data row {row[2]})",
                source=info.uri,
            )
    columns = {path: column for path, column, _ in FIELDS}
    for path in REQUIRED:
        column = columns[path]
        row = conn.execute(
            f"select count(*), min(x_source_row_number) from {_ROWS} where x_source_file = ? and {column} is null",
            [info.uri],
        ).fetchone()
        if row and row[0]:
            raise InputDataError(
                f"{info.uri}: field {path}: {row[0]} row(s) have no value (first at data row {row[1]})",
                source=info.uri,
            )


def read_gcp_files(files: list[FileInfo]) -> ExportBatch:
    """Normalise every file into one in-memory table ``gcp_rows`` with raw_gcp_billing's columns."""
    conn, spill = open_batch_connection()
    columns_sql = ", ".join(f"{name} {kind}" for name, kind in RAW_GCP_BILLING.columns)
    conn.execute(f"create table {_ROWS} ({columns_sql})")
    batch = ExportBatch(conn, _ROWS, account_sql="billing_account_id", version_sql="export_time", spill_dir=spill)
    try:
        for info in files:
            _read_source(conn, info)
            relation = conn.sql(f"select * from {_SOURCE}")
            types = dict(zip(relation.columns, relation.types, strict=True))
            select = normalise_sql(info, types)
            try:
                conn.execute(f"insert into {_ROWS} by name {derived_sql(select)}")
            except duckdb.Error as exc:
                detail = _diagnose(conn, info, types) or " ".join(str(exc).split())[:400]
                raise InputDataError(
                    f"{info.uri}: malformed GCP billing export values: {detail}", source=info.uri
                ) from None
            _check_rows(conn, info)
            conn.execute(f"drop table {_SOURCE}")
            found = conn.execute(f"select any_value(x_source_format) from {_ROWS} where x_source_file = ?", [info.uri])
            flavour = (found.fetchone() or [None])[0] or f"standard/{info.format}"
            batch.files.append(info)
            batch.formats[info.uri] = flavour
            logger.info("%s: read as a %s export", info.uri, flavour)
    except BaseException:
        batch.close()
        raise
    return batch
