"""What the CLI commands do beyond one store call: kept here so run.py stays wiring only."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import click

from focusline.errors import ConfigError, InputDataError
from focusline.tenancy import validate_org_slug
from orchestrator.config import validate_all
from orchestrator.dbt_step import run_dbt
from orchestrator.report import emit, table
from orchestrator.service import RunReport, Services


def print_run_report(report: RunReport, as_json: bool) -> None:
    outcome = report.outcome
    steps = [
        {"step_id": s, "status": o.status, "attempts": o.attempts, "rows": o.rows, "error": o.error}
        for s, o in outcome.steps.items()
    ]
    summary = {
        "run_id": report.run_id,
        "org_slug": report.org_slug,
        "pipeline": report.pipeline.name,
        "pipeline_id": report.pipeline.pipeline_id,
        "start_date": report.start_date.isoformat(),
        "end_date": report.end_date.isoformat(),
        "status": outcome.status,
        "error": outcome.error,
    }
    if as_json:
        click.echo(json.dumps({**summary, "steps": steps}, indent=2, sort_keys=True))
        return
    emit(summary, False)
    click.echo("")
    table(steps)


def list_pipelines(services: Services, as_json: bool) -> None:
    pipelines, errors = validate_all(services.settings.configs_dir, services.registry)
    rows = [
        {
            "pipeline": p.name,
            "pipeline_id": p.pipeline_id,
            "provider": p.config.provider,
            "steps": len(p.config.steps),
            "schedule": p.config.schedule,
            "name": p.config.name,
        }
        for p in pipelines
    ]
    emit(rows, as_json)
    for error in errors:
        click.echo(f"invalid: {error}", err=True)
    if errors:
        raise ConfigError(f"{len(errors)} pipeline file(s) are invalid")


def validate_pipelines(services: Services) -> None:
    pipelines, errors = validate_all(services.settings.configs_dir, services.registry)
    for pipeline in pipelines:
        click.echo(f"ok       {pipeline.name} ({pipeline.pipeline_id}, {len(pipeline.config.steps)} steps)")
    for error in errors:
        click.echo(f"invalid  {error}", err=True)
    if errors:
        raise ConfigError(f"{len(errors)} of {len(pipelines) + len(errors)} pipeline file(s) are invalid")
    click.echo(f"{len(pipelines)} pipeline(s) valid")


def read_secret(provider: str) -> str:
    """The secret from stdin (a prompt without echo on a terminal); never from argv."""
    if sys.stdin is None:
        raise InputDataError("no stdin to read the secret from")
    if sys.stdin.isatty():
        return str(click.prompt(f"{provider} secret", hide_input=True))
    secret = sys.stdin.read().strip()
    if not secret:
        raise InputDataError(f"no {provider} secret on stdin: pipe it in, e.g. `... < keyfile`")
    return secret


def build_docs(services: Services, org: str | None) -> Path:
    """``dbt docs generate --static`` into the state dir; returns the self-contained page."""
    settings = services.settings
    work_dir = settings.state_dir / "docs"
    warehouse = settings.warehouse_path(validate_org_slug(org)) if org else settings.warehouse_dir / "docs.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    run_dbt(
        settings,
        ["docs", "generate", "--static"],
        target="local",
        work_dir=work_dir,
        warehouse_path=warehouse,
        deadline=time.monotonic() + 600,
        cancel_event=threading.Event(),
    )
    return work_dir / "target" / "static_index.html"
