"""Billing-period loads shared by every cloud billing export (AWS CUR, GCP, Azure, OCI, native FOCUS).

A billing export restates whole periods (AWS rewrites the month on every delivery, GCP and Azure
restate the open month and the previous one until the invoice), so the unit of a load is the
billing period, not the day:

* a source reader normalises every file of ``uri`` into one in-memory DuckDB table (an
  ``ExportBatch``) with the raw table's columns, among them ``billing_period`` (first day, DATE),
  ``usage_date`` (the data date) and ``x_export_version``;
* a load replaces every day of each billing period the files cover (also days that no longer have
  rows), for billing periods that overlap the run's date range; other periods are left alone;
* every row carries the export version of its period (``version`` from the config, else the export's own
  watermark when the source has one, GCP's ``max(export_time)``, else the newest modified time among the
  period's files). A period whose version is older than the one already
  loaded for (org, pipeline, credential, period) is skipped with a warning and listed in the step
  detail (``skipped_older_periods``): a late, older export never overwrites a newer one. An equal
  version is loaded again (re-runs are idempotent).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from extract.files import FileInfo
from extract.load import Lineage, RawTable, query_raw, replace_query
from focusline.errors import InputDataError
from focusline.steps import StepContext, StepResult

logger = logging.getLogger(__name__)

_CREDENTIAL = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class ExportSourceConfig(BaseModel):
    """``config`` of a billing-export step (``aws.cur``, ``gcp.billing_export``, ``azure.cost_details``, ...)."""

    model_config = ConfigDict(extra="forbid")

    uri: str = Field(min_length=1, description="file, directory or glob; s3:// gs:// az:// accepted, not available yet")
    credential_id: str | None = Field(
        default=None, description="the account key of the loads; default: the files' single billing account"
    )
    version: dt.datetime | None = Field(
        default=None, description="explicit export version (UTC timestamp); default: newest file modified time"
    )

    @field_validator("credential_id")
    @classmethod
    def _credential(cls, value: str | None) -> str | None:
        if value is not None and not _CREDENTIAL.fullmatch(value):
            raise ValueError("credential_id must be 1-100 of A-Z a-z 0-9 _ . : -")
        return value

    @field_validator("version")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("version needs a time zone, e.g. 2026-07-03T06:00:00Z")
        return value


@dataclass
class ExportBatch:
    """The normalised rows of every file of one source, in ``conn`` (table ``table``).

    ``account_sql`` is the SQL expression of the billing account of a row (the default load key);
    ``period_end_sql`` the exclusive end of its billing period when the export states one (else a
    calendar month is assumed).
    """

    conn: duckdb.DuckDBPyConnection
    table: str
    account_sql: str
    period_end_sql: str | None = None
    files: list[FileInfo] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    # SQL of a row's own export watermark (GCP ``export_time``); when set, a period's version is its maximum
    # (else the newest file modified time): an older snapshot stays older however recently its file was copied
    version_sql: str | None = None
    # the private directory ``conn`` spills to (see ``open_batch_connection``), removed by ``close``
    spill_dir: Path | None = None

    def periods(self) -> dict[dt.date, dict[str, Any]]:
        """Per billing period: rows, end date, accounts and the newest modified time of its files."""
        end = f"max(cast({self.period_end_sql} as date))" if self.period_end_sql else "cast(null as date)"
        newest_sql = "max(x_source_file_modified_at)"
        if self.version_sql:
            newest_sql = f"coalesce(max(cast({self.version_sql} as timestamp)), {newest_sql})"
        out: dict[dt.date, dict[str, Any]] = {}
        for period, period_end, rows, accounts, newest in self.conn.execute(
            f"select billing_period, {end}, count(*), "
            f"list(distinct cast({self.account_sql} as varchar) order by cast({self.account_sql} as varchar)), "
            f"{newest_sql} from {self.table} group by 1 order by 1"
        ).fetchall():
            out[period] = {"end": period_end, "rows": rows, "accounts": [a for a in accounts if a], "newest": newest}
        return out

    def close(self) -> None:
        self.conn.close()
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)


# DuckDB memory of a reader's in-memory database, for reading and for the streaming load (replace_query):
# beyond it, pages spill to the batch's private temp dir. DuckDB's default is 80% of RAM: 10M Azure cost rows
# held in memory took 15.4 GB RSS; 10M CUR rows load in ~1 GB RSS at this cap, as fast as uncapped (bench)
BATCH_MEMORY_LIMIT = "1GB"


def open_batch_connection() -> tuple[duckdb.DuckDBPyConnection, Path]:
    """The in-memory DuckDB a reader normalises files into, and the private directory it spills to.

    The memory cap and the spill directory are set before anything is stored: DuckDB cannot switch a
    connection's temp directory once it has spilled, and an in-memory database otherwise spills to
    ``.tmp`` in the working directory. The directory is under the system temp dir (``TMPDIR``); pass it
    to ``ExportBatch(spill_dir=...)`` so ``close`` removes it.
    """
    spill = Path(tempfile.mkdtemp(prefix="focusline-batch-"))
    try:
        conn = duckdb.connect(config={"memory_limit": BATCH_MEMORY_LIMIT, "temp_directory": str(spill)})
        conn.execute("set TimeZone = 'UTC'")
    except Exception:
        shutil.rmtree(spill, ignore_errors=True)
        raise
    return conn, spill


def period_days(start: dt.date, end: dt.date | None) -> list[dt.date]:
    """Every day of a billing period (``end`` exclusive; a calendar month when the file has no end)."""
    if end is None or end <= start:
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1]) + dt.timedelta(days=1)
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def load_billing_periods(
    ctx: StepContext,
    config: ExportSourceConfig,
    batch: ExportBatch,
    raw_table: RawTable,
    *,
    source_name: str,
    default_credential: str,
) -> StepResult:
    """Replace the billing periods of ``batch`` that overlap the run's range in ``raw_table`` (see module doc)."""
    periods = batch.periods()
    detail: dict[str, Any] = {
        "files": len(batch.files),
        "formats": sorted(set(batch.formats.values())),
        "loaded_periods": [],
        "skipped_older_periods": [],
        "periods_outside_range": [],
    }
    accounts = sorted({a for info in periods.values() for a in info["accounts"]})
    credential_id = config.credential_id
    if credential_id is None:
        if len(accounts) > 1:
            raise InputDataError(
                f"{config.uri}: rows of {len(accounts)} billing accounts ({', '.join(accounts[:5])}); "
                "set credential_id in the step config (one load key per export)",
                step=ctx.step_id,
            )
        credential_id = accounts[0] if accounts else default_credential
        if not _CREDENTIAL.fullmatch(credential_id):
            credential_id = re.sub(r"[^A-Za-z0-9_.:-]", "_", credential_id)[:100]
    lineage = Lineage(ctx.org_slug, ctx.pipeline_id, credential_id, ctx.run_id)
    loaded = {
        period: version
        for period, version in query_raw(
            ctx.settings,
            raw_table,
            ctx.org_slug,
            "select billing_period, max(x_export_version) from {table} "
            "where x_org_slug = ? and x_pipeline_id = ? and x_credential_id = ? group by 1",
            [ctx.org_slug, ctx.pipeline_id, credential_id],
            target=ctx.target,
        )
    }
    to_load: dict[dt.date, dt.datetime] = {}
    ends: dict[dt.date, dt.date] = {}
    days: list[dt.date] = []
    for period, info in periods.items():
        covered = period_days(period, info["end"])
        if covered[-1] < ctx.start_date or covered[0] > ctx.end_date:
            detail["periods_outside_range"].append(str(period))
            continue
        version = _naive_utc(config.version) if config.version else info["newest"]
        previous = loaded.get(period)
        if isinstance(previous, dt.datetime) and _naive_utc(previous) > version:
            logger.warning(
                "%s %s: billing period %s export version %s is older than the loaded %s; skipped",
                source_name,
                config.uri,
                period,
                version.isoformat(),
                _naive_utc(previous).isoformat(),
            )
            detail["skipped_older_periods"].append(
                {"period": str(period), "version": version.isoformat(), "loaded": _naive_utc(previous).isoformat()}
            )
            continue
        to_load[period] = version
        ends[period] = covered[-1] + dt.timedelta(days=1)
        days += covered
    if not to_load:
        return StepResult(rows=0, detail=detail)
    conn = batch.conn
    conn.execute("create or replace temp table load_versions (billing_period date, period_end date, version timestamp)")
    conn.executemany("insert into load_versions values (?, ?, ?)", [(p, ends[p], v) for p, v in to_load.items()])
    day = f"r.{raw_table.date_column}"  # the load key's data date (usage_date for AWS CUR)
    stray = conn.execute(
        f"select r.billing_period, min({day}), max({day}), count(*) from {batch.table} r "
        "join load_versions v using (billing_period) "
        f"where {day} < v.billing_period or {day} >= v.period_end group by 1 order by 1"
    ).fetchall()
    if stray:
        period, first, last, count = stray[0]
        raise InputDataError(
            f"{config.uri}: {count} row(s) of billing period {period} start on {first}..{last}, "
            "outside the billing period",
            step=ctx.step_id,
        )
    ctx.check_alive()
    # streamed from the batch into the warehouse (never materialised in Python), see load.replace_query
    rows = (
        f"select r.* exclude (x_export_version), v.version as x_export_version from {batch.table} r "
        "join load_versions v using (billing_period)"
    )
    written = replace_query(ctx.settings, raw_table, conn, rows, lineage, days, target=ctx.target)
    detail["loaded_periods"] = [
        {"period": str(p), "version": v.isoformat(), "rows": periods[p]["rows"]} for p, v in to_load.items()
    ]
    detail["credential_id"] = credential_id
    return StepResult(rows=written, detail=detail)
