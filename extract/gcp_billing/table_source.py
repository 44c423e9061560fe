"""``bigquery://project.dataset.table``: the GCP billing export table itself as the source of a load.

The production path of a GCP billing export is the table Cloud Billing writes to
(``gcp_billing_export_v1_<account>`` or ``gcp_billing_export_resource_v1_<account>``). A load reads the
rows of the invoice months that overlap the run's date range (``invoice.month``, the unit a load
replaces), every column, through the BigQuery API, and streams them page by page into one Parquet file
in a private temporary directory. That file is read by the same reader as an exported file
(``reader.read_gcp_files``), so a table and its exported files give the same raw rows; its lineage
names the table (``x_source_file`` = the ``bigquery://`` URI, ``x_source_file_modified_at`` = the table's
last modification). The client comes from the ``FOCUSLINE_BQ_*`` settings (``focusline.bigquery``), also
when the run's target is DuckDB.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path

from extract.files import FileInfo, file_sha256
from focusline.bigquery import BigQuerySettings
from focusline.errors import ConfigError, TerminalError, TransientError

logger = logging.getLogger(__name__)

SCHEME = "bigquery://"
# project (optionally domain-scoped), dataset, table: BigQuery's own character sets
_TABLE_URI = re.compile(
    r"^bigquery://(?P<project>(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,29})"
    r"\.(?P<dataset>[A-Za-z0-9_]{1,1024})\.(?P<table>[A-Za-z0-9_$-]{1,1024})$"
)
_PAGE_ROWS = 50_000


def parse_table_uri(uri: str) -> str:
    """``project.dataset.table`` of a ``bigquery://`` source URI; a ConfigError naming the URI otherwise."""
    match = _TABLE_URI.fullmatch(uri)
    if not match:
        raise ConfigError(
            f"not a BigQuery table URI: {uri!r} (expected bigquery://project.dataset.table, e.g. "
            "bigquery://my-billing-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9)",
            field="uri",
        )
    return f"{match['project']}.{match['dataset']}.{match['table']}"


def invoice_months(start: dt.date, end: dt.date) -> tuple[str, str]:
    """The first and last ``invoice.month`` (YYYYMM) of the months that overlap ``start..end``."""
    return f"{start.year:04d}{start.month:02d}", f"{end.year:04d}{end.month:02d}"


def copy_export_table(
    uri: str, months: tuple[str, str], work_dir: Path, check_alive: Callable[[], None]
) -> FileInfo | None:
    """Copy the invoice months ``months`` (first, last: ``invoice_months``) from the export table into
    ``work_dir``/export.parquet; None when the table has no row in those months. A malformed ``uri`` is a
    ConfigError before anything is reached. ``check_alive`` runs between pages (cancel, deadline)."""
    import pyarrow.parquet as pq
    import requests
    from google.api_core import exceptions
    from google.auth.exceptions import GoogleAuthError
    from google.cloud import bigquery

    table_id = parse_table_uri(uri)
    first, last = months
    client = BigQuerySettings.from_env().client()
    try:
        table = client.get_table(table_id)
        columns = {field.name for field in table.schema}
        if "invoice" not in columns:
            raise ConfigError(
                f"{uri}: not a GCP billing export table: no field invoice.month "
                f"(its fields: {', '.join(sorted(columns)[:12])})",
                field="uri",
            )
        job = client.query(
            f"select * from `{table_id}` where invoice.month between @first_month and @last_month",
            job_config=bigquery.QueryJobConfig(
                query_parameters=[
                    bigquery.ScalarQueryParameter("first_month", "STRING", first),
                    bigquery.ScalarQueryParameter("last_month", "STRING", last),
                ]
            ),
        )
        rows = job.result(page_size=_PAGE_ROWS)
        path = work_dir / "export.parquet"
        writer = None
        try:
            for page in rows.to_arrow_iterable():
                check_alive()
                if page.num_rows == 0:  # an empty result still comes as one empty page
                    continue
                if writer is None:
                    writer = pq.ParquetWriter(path, page.schema)
                writer.write_batch(page)
        finally:
            if writer is not None:
                writer.close()
    except exceptions.NotFound as exc:
        raise ConfigError(
            f"{uri}: the BigQuery table does not exist or is not visible: {exc.message}", field="uri"
        ) from None
    except (exceptions.Unauthorized, exceptions.Forbidden) as exc:
        raise TerminalError(f"{uri}: not allowed to read the table: {exc.message}") from None
    except GoogleAuthError as exc:
        raise TerminalError(f"{uri}: no BigQuery credentials: {type(exc).__name__}") from None
    except (exceptions.ServerError, exceptions.TooManyRequests, exceptions.RetryError) as exc:
        raise TransientError(f"{uri}: BigQuery did not answer: {exc}") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"{uri}: BigQuery could not be reached: {type(exc).__name__}") from None
    except exceptions.BadRequest as exc:
        raise TerminalError(f"{uri}: cannot read the billing export table: {exc.message}") from None
    if writer is None:
        logger.info("%s: no rows in invoice months %s..%s", uri, first, last)
        return None
    size = path.stat().st_size
    logger.info("%s: copied invoice months %s..%s (%d bytes of Parquet)", uri, first, last, size)
    modified = table.modified or dt.datetime.now(dt.UTC)
    return FileInfo(
        uri=uri,
        size=size,
        modified_at=modified.astimezone(dt.UTC),
        sha256=file_sha256(path),
        local_path=path,
        file_format="parquet",
    )
