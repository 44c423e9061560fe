"""``ps_type: dbt.build``: build a selection for one organisation and date window.

dbt runs through ``dbtRunner`` in a child process (orchestrator/dbt_invoke.py) with a private
target and log directory per run, so concurrent runs never share dbt's ``target/``. On the local
target the organisation's warehouse lock is held for the whole invocation; on the bigquery target
dbt writes to the organisation's dataset ``<org_slug>_<env>`` (``FOCUSLINE_BQ_DATASET``). A failing model or test
fails the step with the node's name and dbt's message, read from ``run_results.json``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from focusline.bigquery import org_dataset
from focusline.errors import CancelledError, StepTimeoutError, TerminalError
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from focusline.warehouse import warehouse_lock

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.2


class DbtBuildConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: Literal["build", "run", "test", "seed"] = "build"
    select: str = Field(default="+cost_data_standard_1_3", min_length=1)
    exclude: str | None = None
    full_refresh: bool = False
    # the incremental models' date window: the run's days, or every calendar month they touch
    # (billing exports restate whole months, so their rebuild must cover the whole month)
    window: Literal["days", "months"] = "days"


def dbt_window(start: dt.date, end: dt.date, window: str) -> tuple[dt.date, dt.date]:
    """The dbt vars window for a run of ``start``..``end`` (inclusive)."""
    if window == "months":
        last = calendar.monthrange(end.year, end.month)[1]
        return start.replace(day=1), end.replace(day=last)
    return start, end


def ensure_all_raw_tables(settings: Settings, org_slug: str, target: str) -> None:
    """Every provider's raw table exists (empty when it has no data), so every organisation builds.

    The dbt sources of all providers are in one project; an organisation with OpenAI data and no
    AWS export (or the reverse) reads empty tables instead of failing on a missing relation.
    """
    from extract.aws_cur.schema import RAW_AWS_CUR
    from extract.azure_cost.schema import RAW_AZURE_COST
    from extract.focus_export.schema import RAW_FOCUS_EXPORT
    from extract.gcp_billing.schema import RAW_GCP_BILLING
    from extract.load import ensure_raw_tables
    from extract.oci_cost.schema import RAW_OCI_COST
    from extract.openai.schemas import RAW_OPENAI_COSTS, RAW_OPENAI_USAGE

    ensure_raw_tables(
        settings,
        (
            RAW_OPENAI_USAGE,
            RAW_OPENAI_COSTS,
            RAW_AWS_CUR,
            RAW_OCI_COST,
            RAW_FOCUS_EXPORT,
            RAW_GCP_BILLING,
            RAW_AZURE_COST,
        ),
        org_slug,
        target=target,
    )


def dbt_env(warehouse_path: Path | None, dataset: str | None = None) -> dict[str, str]:
    """dbt's environment: the organisation's DuckDB file (local) or BigQuery dataset (bigquery)."""
    env = dict(os.environ)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    if warehouse_path is not None:
        env["FOCUSLINE_WAREHOUSE_PATH"] = str(warehouse_path)
    if dataset is not None:
        env["FOCUSLINE_BQ_DATASET"] = dataset  # profiles.yml bigquery target: one dataset per organisation
    return env


def failed_nodes(run_results: Path) -> list[str]:
    """'<node>: <message>' for each node dbt reported as error or fail."""
    data = json.loads(run_results.read_text(encoding="utf-8"))
    failures = []
    for result in data.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            message = " ".join(str(result.get("message") or "").split())
            failures.append(f"{result.get('unique_id')}: {message}")
    return failures


def run_dbt(
    settings: Settings,
    args: list[str],
    *,
    target: str,
    work_dir: Path,
    warehouse_path: Path | None,
    deadline: float,
    cancel_event: threading.Event,
    dataset: str | None = None,
) -> None:
    """Run one dbt invocation in a child process, stopped at ``deadline`` or on ``cancel_event``."""
    project_dir = settings.project_dir
    target_path = work_dir / "target"
    log_path = work_dir / "logs"
    argv = [
        sys.executable,
        "-m",
        "orchestrator.dbt_invoke",
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target",
        target,
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]
    work_dir.mkdir(parents=True, exist_ok=True)
    output_file = work_dir / "dbt_output.log"
    started = time.monotonic()
    with output_file.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=project_dir,
            env=dbt_env(warehouse_path, dataset),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while process.poll() is None:
                if cancel_event.is_set() or time.monotonic() >= deadline:
                    os.killpg(process.pid, signal.SIGTERM)
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait()
                    if cancel_event.is_set():
                        raise CancelledError("dbt stopped: cancelled")
                    raise StepTimeoutError("dbt stopped: out of time")
                time.sleep(_POLL_SECONDS)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    elapsed = time.monotonic() - started
    run_results = target_path / "run_results.json"
    if process.returncode == 0:
        logger.info("dbt %s finished in %.1fs", args[0], elapsed)
        return
    failures = failed_nodes(run_results) if run_results.exists() else []
    if not failures:
        tail = output_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
        failures = [" | ".join(line.strip() for line in tail if line.strip())]
    raise TerminalError(
        f"dbt {args[0]} failed ({len(failures)} node(s)): " + " || ".join(failures) + f" [log: {output_file}]"
    )


class DbtBuildProcessor:
    config_model = DbtBuildConfig

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        assert isinstance(config, DbtBuildConfig)
        start, end = dbt_window(ctx.start_date, ctx.end_date, config.window)
        dbt_vars = {
            "org_slug": ctx.org_slug,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }
        ensure_all_raw_tables(ctx.settings, ctx.org_slug, ctx.target)
        args = [config.command, "--select", config.select, "--vars", json.dumps(dbt_vars)]
        if config.exclude:
            args += ["--exclude", config.exclude]
        if config.full_refresh:
            args.append("--full-refresh")
        work_dir = ctx.settings.state_dir / "dbt" / ctx.run_id / ctx.step_id
        limits = {"deadline": ctx.deadline, "cancel_event": ctx.cancel_event, "target": ctx.target}
        if ctx.target == "local":
            with warehouse_lock(ctx.settings, ctx.org_slug) as path:
                run_dbt(ctx.settings, args, work_dir=work_dir, warehouse_path=path, **limits)
        else:  # bigquery: the organisation's dataset; BigQuery itself serialises concurrent DML
            dataset = org_dataset(ctx.org_slug)
            run_dbt(ctx.settings, args, work_dir=work_dir, warehouse_path=None, dataset=dataset, **limits)
        results = work_dir / "target" / "run_results.json"
        nodes = json.loads(results.read_text(encoding="utf-8")).get("results", []) if results.exists() else []
        shutil.rmtree(work_dir / "target", ignore_errors=True)  # private per run; logs are kept
        return StepResult(rows=0, detail={"nodes": len(nodes)})


DBT_BUILD_PROCESSOR = DbtBuildProcessor()
