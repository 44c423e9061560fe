"""``ps_type: aws.cur``: AWS Cost and Usage Report files -> ``raw_aws_cur``, one billing period at a time.

CUR rewrites the whole month on every delivery, so the unit of a load is the billing period:

* the files of ``uri`` are read together (an export splits a period over several files);
* a load replaces every day of each billing period the files cover (also days that no longer have
  rows), for billing periods that overlap the run's date range; other periods are left alone;
* every row carries the export version of its period (``x_export_version``: ``version`` from the
  config, else the newest modified time among the period's files). A period whose version is older
  than the one already loaded for (org, pipeline, credential, period) is skipped with a warning and
  listed in the step detail (``skipped_older_periods``): a late, older export never overwrites a
  newer one. An equal version is loaded again (re-runs are idempotent).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

from extract.aws_cur.reader import CurBatch, read_cur_files
from extract.aws_cur.schema import RAW_AWS_CUR
from extract.files import list_files
from extract.load import Lineage, query_raw, replace_arrow
from focusline.errors import InputDataError
from focusline.steps import StepContext, StepResult

logger = logging.getLogger(__name__)

PS_TYPE = "aws.cur"
_CREDENTIAL = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class AwsCurConfig(BaseModel):
    """``config`` of an ``aws.cur`` step."""

    model_config = ConfigDict(extra="forbid")

    uri: str = Field(min_length=1, description="file, directory or glob; s3:// accepted, not available yet")
    credential_id: str | None = Field(
        default=None, description="the account key of the loads; default: the files' single payer account id"
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


def _period_days(start: dt.date, end: dt.date | None) -> list[dt.date]:
    """Every day of a billing period (``end`` exclusive; a calendar month when the file has no end)."""
    if end is None or end <= start:
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1]) + dt.timedelta(days=1)
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


@dataclass(frozen=True)
class AwsCurProcessor:
    config_model: type[BaseModel] = field(default=AwsCurConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, AwsCurConfig):
            raise TypeError(f"expected AwsCurConfig, got {type(config).__name__}")
        files = list_files(config.uri)
        ctx.check_alive()
        batch = read_cur_files(files)
        try:
            return self._load(ctx, config, batch)
        finally:
            batch.conn.close()

    def _load(self, ctx: StepContext, config: AwsCurConfig, batch: CurBatch) -> StepResult:
        periods = batch.periods()
        detail: dict[str, object] = {
            "files": len(batch.files),
            "formats": sorted(set(batch.formats.values())),
            "loaded_periods": [],
            "skipped_older_periods": [],
            "periods_outside_range": [],
        }
        payers = sorted({p for info in periods.values() for p in info["payers"]})  # type: ignore[attr-defined]
        credential_id = config.credential_id
        if credential_id is None:
            if len(payers) > 1:
                raise InputDataError(
                    f"{config.uri}: rows of {len(payers)} payer accounts ({', '.join(payers[:5])}); "
                    "set credential_id in the step config (one load key per export)",
                    step=ctx.step_id,
                )
            credential_id = payers[0] if payers else "aws_cur_default"
        lineage = Lineage(ctx.org_slug, ctx.pipeline_id, credential_id, ctx.run_id)
        loaded = {
            period: version
            for period, version in query_raw(
                ctx.settings,
                RAW_AWS_CUR,
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
            period_days = _period_days(period, info["end"])  # type: ignore[arg-type]
            if period_days[-1] < ctx.start_date or period_days[0] > ctx.end_date:
                detail["periods_outside_range"].append(str(period))  # type: ignore[attr-defined]
                continue
            version = _naive_utc(config.version) if config.version else info["newest"]
            assert isinstance(version, dt.datetime)
            previous = loaded.get(period)
            if isinstance(previous, dt.datetime) and _naive_utc(previous) > version:
                logger.warning(
                    "aws cur %s: billing period %s export version %s is older than the loaded %s; skipped",
                    config.uri,
                    period,
                    version.isoformat(),
                    _naive_utc(previous).isoformat(),
                )
                detail["skipped_older_periods"].append(  # type: ignore[attr-defined]
                    {"period": str(period), "version": version.isoformat(), "loaded": _naive_utc(previous).isoformat()}
                )
                continue
            to_load[period] = version
            ends[period] = period_days[-1] + dt.timedelta(days=1)
            days += period_days
        if not to_load:
            return StepResult(rows=0, detail=detail)
        conn = batch.conn
        conn.execute("create temp table load_versions (billing_period date, period_end date, version timestamp)")
        conn.executemany("insert into load_versions values (?, ?, ?)", [(p, ends[p], v) for p, v in to_load.items()])
        stray = conn.execute(
            "select r.billing_period, min(r.usage_date), max(r.usage_date), count(*) from cur_rows r "
            "join load_versions v using (billing_period) "
            "where r.usage_date < v.billing_period or r.usage_date >= v.period_end group by 1 order by 1"
        ).fetchall()
        if stray:
            period, first, last, count = stray[0]
            raise InputDataError(
                f"{config.uri}: {count} row(s) of billing period {period} start on {first}..{last}, "
                "outside the billing period",
                step=ctx.step_id,
            )
        ctx.check_alive()
        data = conn.sql(
            "select r.* exclude (x_export_version), v.version as x_export_version from cur_rows r "
            "join load_versions v using (billing_period)"
        ).to_arrow_table()
        written = replace_arrow(ctx.settings, RAW_AWS_CUR, data, lineage, days, target=ctx.target)
        detail["loaded_periods"] = [
            {"period": str(p), "version": v.isoformat(), "rows": periods[p]["rows"]} for p, v in to_load.items()
        ]
        detail["credential_id"] = credential_id
        return StepResult(rows=written, detail=detail)


AWS_CUR_PROCESSOR = AwsCurProcessor()
