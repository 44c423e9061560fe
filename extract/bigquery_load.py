"""Raw loader on BigQuery: a load job into a staging table, then one MERGE that replaces the key.

For the rows of one load (one raw table, one lineage key, the dates it names):

1. the organisation's dataset ``<org_slug>_<env>`` and the raw table are created when missing; the
   table is partitioned by day on ``x_pipeline_run_date`` and clustered on
   ``(x_pipeline_id, x_credential_id)``; columns the table lacks are added (additive evolution);
2. the rows go into a fresh staging table through a **load job** (newline-delimited JSON, resumable
   upload: ``load_table_from_file`` without ``size``), never streaming inserts, so they are
   immediately visible to DML and cost nothing to ingest;
3. one ``MERGE`` deletes every row of the key's dates and inserts the staged rows. A single DML
   statement is atomic on BigQuery: readers see the old rows or the new ones, and a failure leaves
   the table as it was;
4. the staging table is dropped (it also expires by itself after a day if the drop never ran).

Values are bound as query parameters; identifiers (project, dataset, table, columns) are validated
before they are written into SQL.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import decimal
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import requests
from google.api_core import exceptions as google_exceptions
from google.cloud import bigquery

from extract.load import LINEAGE_COLUMNS, Lineage, RawTable
from focusline.bigquery import BigQuerySettings, org_dataset
from focusline.errors import LoadError, TransientError

logger = logging.getLogger(__name__)

PARTITION_COLUMN = "x_pipeline_run_date"
CLUSTER_COLUMNS = ("x_pipeline_id", "x_credential_id")
STAGING_PREFIX = "_focusline_stage_"
STAGING_EXPIRY = dt.timedelta(days=1)
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_SIMPLE_TYPES = {
    "VARCHAR": "STRING",
    "JSON": "JSON",
    "BIGINT": "INT64",
    "DOUBLE": "FLOAT64",
    "BOOLEAN": "BOOL",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
}
_TRANSIENT = (
    google_exceptions.TooManyRequests,
    google_exceptions.InternalServerError,
    google_exceptions.BadGateway,
    google_exceptions.ServiceUnavailable,
    google_exceptions.GatewayTimeout,
    google_exceptions.RetryError,
    requests.ConnectionError,
    requests.Timeout,
    concurrent.futures.TimeoutError,
)


def bigquery_type(duckdb_type: str) -> str:
    """The BigQuery column type for a RawTable column type (DuckDB spelling).

    DECIMAL(p,s) is NUMERIC when it fits NUMERIC's 29 integer + 9 fractional digits, else BIGNUMERIC.
    """
    match = _DECIMAL.match(duckdb_type)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        return "NUMERIC" if scale <= 9 and precision - scale <= 29 else "BIGNUMERIC"
    try:
        return _SIMPLE_TYPES[duckdb_type]
    except KeyError:
        raise LoadError(f"no BigQuery type for raw column type {duckdb_type!r}") from None


def bigquery_schema(table: RawTable) -> list[bigquery.SchemaField]:
    lineage = {name for name, _ in LINEAGE_COLUMNS}
    return [
        bigquery.SchemaField(
            name,
            bigquery_type(kind),
            mode="REQUIRED" if name in lineage else "NULLABLE",
        )
        for name, kind in table.all_columns
    ]


def _json_value(bq_type: str, value: Any) -> str:
    """One value as NDJSON text in the form BigQuery's JSON loader reads for ``bq_type``."""
    if value is None:
        return "null"
    if bq_type == "JSON":
        # the provider's JSON text as sent (numbers keep their digits); valid JSON needs no raw
        # newline outside strings, so folding them to spaces keeps the value and makes one line
        try:
            json.loads(value)
        except (TypeError, ValueError) as exc:
            raise LoadError(f"a JSON column value is not valid JSON: {exc}") from None
        return str(value).replace("\r", " ").replace("\n", " ")
    if bq_type in ("NUMERIC", "BIGNUMERIC"):
        return f'"{decimal.Decimal(value):f}"'  # a string: exact, never through a float
    if bq_type == "TIMESTAMP":
        return json.dumps(value.isoformat(sep=" ") + "+00:00")  # naive values hold UTC
    if bq_type == "DATE":
        return json.dumps(value.isoformat())
    return json.dumps(value)


def to_ndjson(arrow_rows: pa.Table, schema: Sequence[bigquery.SchemaField]) -> bytes:
    types = [(field.name, field.field_type) for field in schema]
    lines = []
    for row in arrow_rows.to_pylist():
        fields = ", ".join(f"{json.dumps(name)}: {_json_value(kind, row[name])}" for name, kind in types)
        lines.append("{" + fields + "}")
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8")


def _fail(what: str, exc: Exception, lineage: Lineage) -> Exception:
    detail = " ".join(str(exc).split())[:800]
    if isinstance(exc, _TRANSIENT) or "concurrent update" in detail.lower():
        return TransientError(f"{what}: {detail}", org=lineage.org_slug, pipeline=lineage.pipeline_id)
    return LoadError(f"{what}, nothing written: {detail}", org=lineage.org_slug, pipeline=lineage.pipeline_id)


def _ensure_table(
    client: bigquery.Client, settings: BigQuerySettings, dataset_id: str, table: RawTable
) -> bigquery.Table:
    dataset = bigquery.Dataset(f"{settings.project}.{dataset_id}")
    dataset.location = settings.location
    client.create_dataset(dataset, exists_ok=True)
    schema = bigquery_schema(table)
    table_id = f"{settings.project}.{dataset_id}.{table.name}"
    try:
        existing = client.get_table(table_id)
    except google_exceptions.NotFound:
        new = bigquery.Table(table_id, schema=schema)
        new.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=PARTITION_COLUMN
        )
        new.clustering_fields = list(CLUSTER_COLUMNS)
        new.description = (
            f"focusline raw table, replaced per (x_org_slug, x_pipeline_id, x_credential_id, {PARTITION_COLUMN})"
        )
        return client.create_table(new, exists_ok=True)
    have = {field.name: field.field_type for field in existing.schema}
    clashes = [
        f"{f.name} is {have[f.name]}, expected {f.field_type}"
        for f in schema
        if f.name in have and not _same_type(have[f.name], f.field_type)
    ]
    if clashes:
        raise LoadError(f"{table_id}: existing columns have other types: {'; '.join(clashes)}")
    missing = [field for field in schema if field.name not in have]
    if missing:  # additive schema evolution: new provider fields become new NULLABLE columns
        # DDL rather than update_table(schema): IF NOT EXISTS makes concurrent loaders safe and a
        # retry after a partial failure harmless. One column per statement (new fields are rare).
        for field in missing:
            ddl = f"alter table `{table_id}` add column if not exists `{field.name}` {field.field_type}"
            client.query(ddl).result(timeout=settings.job_timeout_seconds)
        logger.info("%s: added columns %s", table_id, [f.name for f in missing])
        existing = client.get_table(table_id)
    return existing


def _same_type(actual: str, wanted: str) -> bool:
    legacy = {
        "INTEGER": "INT64",
        "FLOAT": "FLOAT64",
        "BOOLEAN": "BOOL",
        "DECIMAL": "NUMERIC",
        "BIGDECIMAL": "BIGNUMERIC",
    }
    return legacy.get(actual, actual) == legacy.get(wanted, wanted)


@contextlib.contextmanager
def _staging_table(
    client: bigquery.Client, dataset_id: str, table: RawTable, schema: list[bigquery.SchemaField], project: str
) -> Iterator[str]:
    table_id = f"{project}.{dataset_id}.{STAGING_PREFIX}{table.name}_{uuid.uuid4().hex[:16]}"
    staging = bigquery.Table(table_id, schema=schema)
    staging.expires = dt.datetime.now(dt.UTC) + STAGING_EXPIRY
    client.create_table(staging)
    try:
        yield table_id
    finally:
        with contextlib.suppress(Exception):  # it expires by itself; never mask the load's own error
            client.delete_table(table_id, not_found_ok=True)


def merge_sql(target_id: str, staging_id: str, columns: Sequence[str]) -> str:
    """Replace the key's dates in ``target_id`` by the rows of ``staging_id`` (one atomic statement)."""
    names = ", ".join(f"`{name}`" for name in columns)
    return f"""merge `{target_id}` as target
using `{staging_id}` as source
on false
when not matched by source
    and target.x_org_slug = @org_slug
    and target.x_pipeline_id = @pipeline_id
    and target.x_credential_id = @credential_id
    and target.{PARTITION_COLUMN} in unnest(@dates)
    then delete
when not matched then
    insert ({names}) values ({names})"""


def replace_rows_bigquery(table: RawTable, arrow_rows: pa.Table, lineage: Lineage, dates: list[dt.date]) -> int:
    """BigQuery side of ``extract.load.replace_rows`` (rows already checked and typed there)."""
    settings = BigQuerySettings.from_env()
    dataset_id = org_dataset(lineage.org_slug)
    target_id = f"{settings.project}.{dataset_id}.{table.name}"
    schema = bigquery_schema(table)
    payload = to_ndjson(arrow_rows, schema)
    timeout = settings.job_timeout_seconds
    labels = {"focusline_org": lineage.org_slug, "focusline_run": lineage.run_id.lower()[:63]}
    client = settings.client()
    try:
        step = "create the dataset or table"
        _ensure_table(client, settings, dataset_id, table)
        with _staging_table(client, dataset_id, table, schema, settings.project) as staging_id:
            if arrow_rows.num_rows:
                step = "load the rows into the staging table"
                load_config = bigquery.LoadJobConfig(
                    schema=schema,
                    source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                    write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                    create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
                    labels=labels,
                )
                # no size: a resumable upload (the multipart upload of load_table_from_json is not
                # needed, and bqemulator cannot read it)
                load_job = client.load_table_from_file(
                    io.BytesIO(payload), staging_id, job_config=load_config, job_id_prefix="focusline_load_"
                )
                load_job.result(timeout=timeout)
            step = "replace the key's rows (MERGE)"
            query_config = bigquery.QueryJobConfig(
                query_parameters=[
                    bigquery.ScalarQueryParameter("org_slug", "STRING", lineage.org_slug),
                    bigquery.ScalarQueryParameter("pipeline_id", "STRING", lineage.pipeline_id),
                    bigquery.ScalarQueryParameter("credential_id", "STRING", lineage.credential_id),
                    bigquery.ArrayQueryParameter("dates", "DATE", dates),
                ],
                labels=labels,
            )
            columns = [field.name for field in schema]
            merge_job = client.query(
                merge_sql(target_id, staging_id, columns), job_config=query_config, job_id_prefix="focusline_merge_"
            )
            merge_job.result(timeout=timeout)
    except (LoadError, TransientError):
        raise
    except Exception as exc:  # google-api-core, requests and job errors
        raise _fail(f"{target_id}: could not {step}", exc, lineage) from exc
    finally:
        client.close()
    affected = merge_job.num_dml_affected_rows or 0
    logger.info(
        "%s: replaced %s rows over %s day(s) %s..%s with %s rows (load job + MERGE)",
        target_id,
        max(affected - arrow_rows.num_rows, 0),
        len(dates),
        dates[0],
        dates[-1],
        arrow_rows.num_rows,
    )
    return arrow_rows.num_rows


def ensure_tables_bigquery(tables: Sequence[RawTable], org_slug: str) -> None:
    """Create the organisation's dataset and every raw table of ``tables`` that is missing (empty)."""
    settings = BigQuerySettings.from_env()
    dataset_id = org_dataset(org_slug)
    client = settings.client()
    try:
        for table in tables:
            _ensure_table(client, settings, dataset_id, table)
    except LoadError:
        raise
    except Exception as exc:  # google-api-core, requests and job errors
        lineage = Lineage(org_slug, "", "", "")
        raise _fail(f"{settings.project}.{dataset_id}: could not create the raw tables", exc, lineage) from exc
    finally:
        client.close()


def query_raw_bigquery(table: RawTable, org_slug: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``extract.load.query_raw`` on BigQuery: ``?`` placeholders become ``@p0, @p1, ...``; [] without the table."""
    settings = BigQuerySettings.from_env()
    table_id = f"{settings.project}.{org_dataset(org_slug)}.{table.name}"
    parts = sql.split("?")
    text = parts[0] + "".join(f"@p{i}{part}" for i, part in enumerate(parts[1:]))
    query_params = [_scalar_parameter(f"p{i}", value) for i, value in enumerate(params)]
    client = settings.client()
    try:
        try:
            client.get_table(table_id)
        except google_exceptions.NotFound:
            return []
        job = client.query(
            text.format(table=f"`{table_id}`"), job_config=bigquery.QueryJobConfig(query_parameters=query_params)
        )
        return [tuple(row.values()) for row in job.result(timeout=settings.job_timeout_seconds)]
    finally:
        client.close()


def _scalar_parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter:
    if isinstance(value, dt.datetime):
        return bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
    if isinstance(value, dt.date):
        return bigquery.ScalarQueryParameter(name, "DATE", value)
    if isinstance(value, bool):
        return bigquery.ScalarQueryParameter(name, "BOOL", value)
    if isinstance(value, int):
        return bigquery.ScalarQueryParameter(name, "INT64", value)
    return bigquery.ScalarQueryParameter(name, "STRING", None if value is None else str(value))
