"""focusline command line: parses, calls orchestrator/, maps errors to exit codes. No logic here."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from focusline import __version__
from focusline.errors import FocuslineError, RefusedError

EXIT_RUN_FAILED = 1


def _services() -> Any:
    from orchestrator.service import Services

    return Services.open()


def edge(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one clear stderr line and the documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FocuslineError as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                logging.exception("details")
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="focusline")
@click.option(
    "--log-level",
    envvar="FOCUSLINE_LOG_LEVEL",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.option("--verbose", is_flag=True, help="Same as --log-level DEBUG: details and tracebacks.")
def cli(log_level: str, verbose: bool) -> None:
    """focusline: GenAI, cloud and SaaS spend to one FOCUS 1.3 table per organisation."""
    logging.basicConfig(
        level="DEBUG" if verbose else log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("urllib3", "dbt", "google"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


DATE = click.DateTime(formats=["%Y-%m-%d"])


@cli.command()
@click.argument("org")
@click.argument("pipeline")
@click.option("--start-date", type=DATE, help="First data day (UTC, inclusive). Default: end - lookback_days.")
@click.option("--end-date", type=DATE, help="Last data day (UTC, inclusive). Default: today.")
@click.option("--target", type=click.Choice(["local", "bigquery"]), default="local", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@edge
def run(
    org: str, pipeline: str, start_date: dt.datetime | None, end_date: dt.datetime | None, target: str, as_json: bool
) -> None:
    """Run PIPELINE (path under configs/ without .yml, e.g. genai/payg/openai) for ORG."""
    from orchestrator.commands import print_run_report
    from orchestrator.service import run_pipeline

    report = run_pipeline(
        _services(),
        org,
        pipeline,
        start_date=start_date and start_date.date(),
        end_date=end_date and end_date.date(),
        target=target,
    )
    print_run_report(report, as_json)
    if report.outcome.refused:
        click.echo(f"error: refused for now: {report.outcome.error}", err=True)
        sys.exit(RefusedError.exit_code)
    if report.outcome.status != "completed":
        sys.exit(EXIT_RUN_FAILED)


@cli.group()
def pipelines() -> None:
    """List and validate pipeline configs."""


@pipelines.command("list")
@click.option("--json", "as_json", is_flag=True)
@edge
def pipelines_list(as_json: bool) -> None:
    from orchestrator.commands import list_pipelines

    list_pipelines(_services(), as_json)


@pipelines.command("validate")
@edge
def pipelines_validate() -> None:
    """Validate every file under configs/; exit 78 on the first bad file (all are reported)."""
    from orchestrator.commands import validate_pipelines

    validate_pipelines(_services())


@cli.command()
@click.argument("org")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@edge
def status(org: str, run_id: str, as_json: bool) -> None:
    """Status of one run."""
    from orchestrator.report import emit

    emit(_services().store.get_run(org, run_id), as_json)


@cli.command()
@click.argument("org")
@click.option("--pipeline", help="Only this pipeline (id or config path).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@edge
def history(org: str, pipeline: str | None, limit: int, as_json: bool) -> None:
    """Recent runs of ORG, newest first."""
    from orchestrator.report import emit

    rows = _services().store.list_runs(org, pipeline, limit)
    emit(rows, as_json, ["run_id", "pipeline_name", "status", "start_date", "end_date", "created_at", "error"])


@cli.command()
@click.argument("org")
@click.argument("run_id")
@click.option("--steps", "show", flag_value="steps", default=True, help="Step attempts (default).")
@click.option("--transitions", "show", flag_value="transitions", help="Status transitions with times.")
@click.option("--json", "as_json", is_flag=True)
@edge
def logs(org: str, run_id: str, show: str, as_json: bool) -> None:
    """Step attempts or status transitions of one run."""
    from orchestrator.report import emit

    store = _services().store
    store.get_run(org, run_id)  # the run must belong to ORG
    rows = store.list_steps(run_id) if show == "steps" else store.list_transitions(run_id)
    emit(rows, as_json)


@cli.group()
def orgs() -> None:
    """Organisations and their plans."""


@orgs.command("create")
@click.argument("org")
@click.option("--plan", help="Plan id from configs/system/plans.yml (default: its default_plan).")
@click.option("--status", "subscription", default="ACTIVE", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@edge
def orgs_create(org: str, plan: str | None, subscription: str, as_json: bool) -> None:
    from orchestrator.report import emit

    emit(_services().store.create_org(org, plan, subscription), as_json)


@orgs.command("list")
@click.option("--json", "as_json", is_flag=True)
@edge
def orgs_list(as_json: bool) -> None:
    from orchestrator.report import emit

    emit(_services().store.list_orgs(), as_json)


@orgs.command("set-plan")
@click.argument("org")
@click.argument("plan")
@click.option("--json", "as_json", is_flag=True)
@edge
def orgs_set_plan(org: str, plan: str, as_json: bool) -> None:
    from orchestrator.report import emit

    emit(_services().store.set_plan(org, plan), as_json)


@orgs.command("set-status")
@click.argument("org")
@click.argument("subscription_status")
@edge
def orgs_set_status(org: str, subscription_status: str) -> None:
    """Subscription status: ACTIVE, TRIAL (may run), PAST_DUE, SUSPENDED, CANCELLED."""
    from orchestrator.report import emit

    emit(_services().store.set_subscription_status(org, subscription_status), False)


@orgs.command("quota")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True)
@edge
def orgs_quota(org: str, as_json: bool) -> None:
    """Today's and this month's usage against the plan."""
    from orchestrator.report import emit

    emit(_services().store.quota_usage(org), as_json)


@cli.group()
def credentials() -> None:
    """Encrypted provider credentials (the secret is read from stdin, never from arguments)."""


@credentials.command("set")
@click.argument("org")
@click.argument("provider")
@click.option("--credential-id", help="Stable id (default: <provider>_default); becomes x_credential_id.")
@edge
def credentials_set(org: str, provider: str, credential_id: str | None) -> None:
    from orchestrator.commands import read_secret

    secret = read_secret(provider)
    stored = _services().credentials().set(org, provider, secret, credential_id)
    click.echo(f"stored {provider} credential {stored!r} for {org} (encrypted)")


@credentials.command("list")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True)
@edge
def credentials_list(org: str, as_json: bool) -> None:
    from orchestrator.report import emit

    emit(_services().store.list_credentials(org), as_json)


@credentials.command("rewrap")
@click.option("--org", help="Only this organisation (default: every organisation).")
@click.option("--json", "as_json", is_flag=True)
@edge
def credentials_rewrap(org: str | None, as_json: bool) -> None:
    """Re-wrap data keys under the current key (new KMS primary version, or local key file -> KMS).

    The secrets' ciphertext is not touched; prints counts, never secrets. Exit 1 if any failed.
    """
    from orchestrator.report import emit

    report = _services().credentials().rewrap(org)
    if as_json:
        emit(report.as_dict(), as_json=True)
    else:
        click.echo(report.summary())
        for org_slug, credential_id, message in report.failures:
            click.echo(f"failed: {org_slug}/{credential_id}: {message}", err=True)
    if report.failures:
        sys.exit(EXIT_RUN_FAILED)


@cli.command()
@click.option("--org", help="Organisation whose warehouse fills the catalog (column types).")
@edge
def docs(org: str | None) -> None:
    """Build the static dbt docs site (lineage from sources to the FOCUS table)."""
    from orchestrator.commands import build_docs

    click.echo(f"docs site: {build_docs(_services(), org)}")


@cli.command()
@click.argument("org")
@click.option("--target", type=click.Choice(["local", "bigquery"]), default="local", show_default=True)
@click.option("--applicability", help="Comma-separated ApplicabilityCriteria (default: dbt_project.yml's declaration).")
@click.option("--strict", is_flag=True, help="Known deviations fail too.")
@click.option("--json", "as_json", is_flag=True)
@edge
def conformance(org: str, target: str, applicability: str | None, strict: bool, as_json: bool) -> None:
    """Check ORG's FOCUS table against the FOCUS 1.3 MUST rules; exit 1 when one fails."""
    from orchestrator.conformance import print_report, run_conformance

    criteria = [c.strip() for c in applicability.split(",") if c.strip()] if applicability is not None else None
    report = run_conformance(_services().settings, org, target=target, criteria=criteria)
    print_report(report, as_json)
    if report.failed(strict):
        sys.exit(EXIT_RUN_FAILED)


@cli.command("conformance-generate")
def conformance_generate() -> None:
    """Regenerate the FOCUS 1.3 conformance tests and rule list from the requirements model."""
    from orchestrator.conformance import generate

    click.echo(" ".join(f"{k}={v}" for k, v in generate().items()))


@cli.command()
@click.option("--days", type=click.IntRange(1, 90), default=7, show_default=True)
@click.option("--target", type=click.Choice(["local", "bigquery"]), default="local", show_default=True)
@edge
def demo(days: int, target: str) -> None:
    """The main job on the embedded default: no accounts, a local fake OpenAI API, DuckDB."""
    from demo.main import run_demo

    run_demo(_services(), days, target=target)


if __name__ == "__main__":
    cli()
