"""``run.py demo``: the main job on the embedded default, with no accounts.

Starts the fake OpenAI organisation API on 127.0.0.1 (realistic generated usage and costs in the
API's exact shapes), creates the demo organisation and its encrypted admin key, runs the real
``genai/payg/openai`` pipeline over the last N complete days (HTTP extract -> raw DuckDB -> dbt ->
FOCUS 1.3) and prints where the FOCUS table is with a short cost summary. ``--target bigquery`` runs
the same job against BigQuery (``FOCUSLINE_BQ_*``; `make test` points it at a local emulator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from typing import Any

import click
import duckdb

from demo.openai_api import FakeOpenAIServer
from focusline.bigquery import BigQuerySettings, org_dataset
from focusline.errors import FocuslineError, UsageError
from orchestrator.commands import print_run_report
from orchestrator.report import table
from orchestrator.service import Services, run_pipeline

DEMO_ORG = "demo_org"
DEMO_PLAN = "professional"
PIPELINE = "genai/payg/openai"
FOCUS_TABLE = "main.cost_data_standard_1_3"


def _ensure_org(services: Services, org: str) -> None:
    try:
        services.store.get_org(org)
    except UsageError:
        services.store.create_org(org, DEMO_PLAN)


# the same SQL on DuckDB and BigQuery; {table} is a validated relation name
BY_DAY_SQL = """
    select cast(ChargePeriodStart as date) as day,
           count(*) as focus_rows,
           sum(ListCost) as list_cost,
           sum(BilledCost) as billed_cost,
           sum(EffectiveCost) as effective_cost,
           string_agg(distinct x_CostSource, ',' order by x_CostSource) as cost_source
    from {table} group by 1 order by 1
"""
BY_MODEL_SQL = """
    select coalesce(x_ModelName, '(billed, no usage)') as model,
           sum(ConsumedQuantity) as tokens,
           sum(ListCost) as list_cost,
           sum(BilledCost) as billed_cost
    from {table} group by 1 order by billed_cost desc, model
"""


def focus_relation(target: str, org: str) -> str:
    """The FOCUS table of ``org`` on ``target``, as a relation name for SQL."""
    if target == "bigquery":
        return f"`{BigQuerySettings.from_env().project}.{org_dataset(org)}.cost_data_standard_1_3`"
    return FOCUS_TABLE


def query_focus(target: str, warehouse: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the DuckDB file (read after dbt has released it) or on BigQuery."""
    if target == "bigquery":
        client = BigQuerySettings.from_env().client()
        try:
            return [tuple(row.values()) for row in client.query(sql).result()]
        finally:
            client.close()
    conn = duckdb.connect(warehouse)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def summarise(warehouse: str, target: str = "local", org: str = DEMO_ORG) -> dict[str, list[dict[str, Any]]]:
    """Cost by day and by model from the FOCUS table."""
    relation = focus_relation(target, org)
    by_day = query_focus(target, warehouse, BY_DAY_SQL.format(table=relation))
    by_model = query_focus(target, warehouse, BY_MODEL_SQL.format(table=relation))
    money = "{:,.2f}".format
    return {
        "by_day": [
            {
                "day": d,
                "rows": n,
                "ListCost": money(lc),
                "BilledCost": money(bc),
                "EffectiveCost": money(ec),
                "x_CostSource": src,
            }
            for d, n, lc, bc, ec, src in by_day
        ],
        "by_model": [
            {"model": m, "tokens": f"{int(t or 0):,}", "ListCost": money(lc), "BilledCost": money(bc)}
            for m, t, lc, bc in by_model
        ],
    }


def run_demo(services: Services, days: int, org: str = DEMO_ORG, target: str = "local") -> None:
    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)  # complete days only
    start = end - dt.timedelta(days=days - 1)
    admin_key = "sk-admin-demo-" + secrets.token_hex(16)  # a fresh key per demo; never printed
    with FakeOpenAIServer(admin_key=admin_key, seed=org) as api:
        settings = dataclasses.replace(services.settings, openai_base_url=api.url)
        services = dataclasses.replace(services, settings=settings)
        _ensure_org(services, org)
        services.credentials().set(org, "openai", admin_key)
        click.echo(f"demo: fake OpenAI organisation API on {api.url}; running {PIPELINE} for {org}, {start}..{end}")
        started = time.monotonic()
        report = run_pipeline(services, org, PIPELINE, start_date=start, end_date=end, target=target)
        wall = time.monotonic() - started
    print_run_report(report, as_json=False)
    if report.outcome.status != "completed":
        raise FocuslineError(f"demo run {report.run_id} {report.outcome.status}: {report.outcome.error}")
    steps = services.store.list_steps(report.run_id)
    dbt_seconds = sum(
        (dt.datetime.fromisoformat(s["finished_at"]) - dt.datetime.fromisoformat(s["started_at"])).total_seconds()
        for s in steps
        if s["ps_type"] == "dbt.build"
    )
    warehouse = settings.warehouse_path(org)
    summary = summarise(str(warehouse), target, org)
    if target == "bigquery":
        click.echo(f"\nFOCUS 1.3 table: {focus_relation(target, org)} on BigQuery")
    else:
        click.echo(f"\nFOCUS 1.3 table: {FOCUS_TABLE} in {warehouse}")
        query = f"import duckdb; duckdb.connect('{warehouse}').sql('from {FOCUS_TABLE}').show()"
        click.echo(f'  .venv/bin/python -c "{query}"')
    click.echo(f"run wall time {wall:.1f}s, of which the dbt step {dbt_seconds:.1f}s\n")
    click.echo("Cost by day (USD)")
    table(summary["by_day"])
    click.echo("\nCost by model (USD)")
    table(summary["by_model"])
