"""Run lifecycle: validate, reserve quota, run the DAG, record, release.

``pending -> validating -> running -> completed | failed | cancelled``; every transition is
recorded with its time. Config and organisation problems are refused before the reservation, so
a refused run writes nothing; once reserved, every exit path releases the slot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from focusline.bigquery import BigQuerySettings, org_dataset
from focusline.errors import UsageError
from focusline.settings import Settings
from focusline.tenancy import validate_org_slug
from orchestrator.config import Pipeline, load_pipeline
from orchestrator.credentials import CredentialService, KeyRing
from orchestrator.executor import Executor, RunContext, RunOutcome
from orchestrator.registry import Registry, default_registry
from orchestrator.store import ControlStore, ProcessIdentity, open_store

logger = logging.getLogger(__name__)

TARGETS = ("local", "bigquery")
MAX_RANGE_DAYS = 366
DEFAULT_LOOKBACK_DAYS = 3


@dataclass
class Services:
    settings: Settings
    store: ControlStore
    registry: Registry

    @classmethod
    def open(cls, settings: Settings | None = None, registry: Registry | None = None) -> Services:
        settings = settings or Settings.from_env()
        store = open_store(settings.control_url, settings.configs_dir / "system" / "plans.yml")
        return cls(settings, store, registry or default_registry())

    def credentials(self) -> CredentialService:
        """Local key file, or Cloud KMS when FOCUSLINE_KMS_KEY_NAME is set (see orchestrator/credentials.py)."""
        return CredentialService(self.store, KeyRing.from_settings(self.settings))


@dataclass
class RunReport:
    run_id: str
    org_slug: str
    pipeline: Pipeline
    start_date: dt.date
    end_date: dt.date
    outcome: RunOutcome


def resolve_dates(pipeline: Pipeline, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Defaults: end = today (UTC), start = end - lookback_days. Both inclusive."""
    lookback = pipeline.config.variables.get("lookback_days", DEFAULT_LOOKBACK_DAYS)
    end = end or dt.datetime.now(dt.UTC).date()
    start = start or end - dt.timedelta(days=int(lookback))
    if start > end:
        raise UsageError(f"--start-date {start} is after --end-date {end}")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise UsageError(f"date range {start}..{end} is longer than {MAX_RANGE_DAYS} days; split it into several runs")
    return start, end


@contextlib.contextmanager
def _cancel_on_signals(event: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM cancel the run (recorded as cancelled) instead of killing it mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        logger.warning("received %s: cancelling the run", signal.Signals(signum).name)
        event.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_pipeline(
    services: Services,
    org_slug: str,
    pipeline_name: str,
    *,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    target: str = "local",
) -> RunReport:
    settings, store = services.settings, services.store
    validate_org_slug(org_slug)
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    dataset = org_dataset(org_slug)  # FOCUSLINE_ENV checked before anything is reserved
    if target == "bigquery":
        BigQuerySettings.from_env()  # a missing project or credential setting is a config error now
    store.get_org(org_slug)
    pipeline = load_pipeline(settings.configs_dir, pipeline_name, services.registry)
    start, end = resolve_dates(pipeline, start_date, end_date)

    run_id = store.reserve_run(
        org_slug,
        pipeline_id=pipeline.pipeline_id,
        pipeline_name=pipeline.name,
        start_date=start,
        end_date=end,
        target=target,
        timeout_minutes=pipeline.config.timeout_minutes,
        holder=ProcessIdentity.current(),
    )
    logger.info("run %s: %s for %s, %s..%s on %s", run_id, pipeline.name, org_slug, start, end, target)
    run = RunContext(
        org_slug=org_slug,
        run_id=run_id,
        start_date=start,
        end_date=end,
        target=target,
        settings=settings,
        variables={
            **pipeline.config.variables,
            "org_slug": org_slug,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "run_id": run_id,
            "pipeline_id": pipeline.pipeline_id,
            "org_dataset": dataset,
            "credential_id": "",
        },
    )
    outcome: RunOutcome | None = None
    try:
        with _cancel_on_signals(run.cancel_event):
            store.transition(run_id, "validating")
            credentials = services.credentials()
            with contextlib.suppress(UsageError):  # no or several credentials: steps say which they need
                run.variables["credential_id"] = store.get_credential(
                    org_slug, pipeline.config.provider, None
                ).credential_id
            run.get_credential = lambda provider, credential_id: credentials.get(org_slug, provider, credential_id)
            store.transition(run_id, "running")
            outcome = Executor(store, services.registry).run(pipeline, run)
    except BaseException as exc:
        status = "cancelled" if isinstance(exc, KeyboardInterrupt) or run.cancel_event.is_set() else "failed"
        store.finish_run(run_id, status, f"{type(exc).__name__}: {exc}")
        raise
    store.finish_run(run_id, outcome.status, outcome.error)
    logger.info("run %s %s", run_id, outcome.status)
    return RunReport(run_id, org_slug, pipeline, start, end, outcome)
