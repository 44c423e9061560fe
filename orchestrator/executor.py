"""DAG executor: runs a pipeline's steps in dependency order, independent steps concurrently.

Per step: ``timeout_seconds`` and retries with exponential backoff for transient errors only;
``trigger`` decides whether a step runs once its dependencies are done (on_success: all completed;
on_failure: at least one failed; always). Steps whose trigger does not fire are recorded as skipped
with the reason. Every attempt is recorded in the control store.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from focusline.errors import (
    CancelledError,
    ConfigError,
    FocuslineError,
    RefusedError,
    StepTimeoutError,
    TransientError,
)
from focusline.settings import Settings
from focusline.steps import StepContext, StepResult
from orchestrator.config import Pipeline, StepConfig, resolve_templates
from orchestrator.registry import Registry
from orchestrator.store import ControlStore

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.2


@dataclass
class RunContext:
    org_slug: str
    run_id: str
    start_date: Any  # dt.date
    end_date: Any  # dt.date
    target: str
    settings: Settings
    variables: dict[str, Any]
    get_credential: Callable[[str, str | None], tuple[str, str]] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)


@dataclass
class StepOutcome:
    status: str  # completed | failed | skipped
    attempts: int = 0
    rows: int = 0
    error: str | None = None
    refused: bool = False  # failed because something was busy (e.g. the warehouse lock): retry later


@dataclass
class RunOutcome:
    status: str  # completed | failed | cancelled
    steps: dict[str, StepOutcome]
    error: str | None = None

    @property
    def refused(self) -> bool:
        """The run failed only because a resource was busy: the CLI exits 75, not 1."""
        failed = [o for o in self.steps.values() if o.status == "failed"]
        return bool(failed) and all(o.refused for o in failed)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FocuslineError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


class Executor:
    def __init__(self, store: ControlStore, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    def run(self, pipeline: Pipeline, run: RunContext) -> RunOutcome:
        steps = {s.step_id: s for s in pipeline.config.steps}
        deadline = time.monotonic() + pipeline.config.timeout_minutes * 60
        outcomes: dict[str, StepOutcome] = {}
        running: dict[cf.Future[StepOutcome], str] = {}
        step_events: dict[str, threading.Event] = {}
        run_error: str | None = None
        final_status: str | None = None
        pool = cf.ThreadPoolExecutor(max_workers=max(1, min(len(steps), 8)), thread_name_prefix="step")
        try:
            while len(outcomes) < len(steps):
                stop_reason = None
                if run.cancel_event.is_set():
                    stop_reason, final_status = "run cancelled", "cancelled"
                elif time.monotonic() >= deadline:
                    stop_reason = f"pipeline timed out after {pipeline.config.timeout_minutes} minute(s)"
                    final_status = "failed"
                if stop_reason:
                    run_error = stop_reason
                    for event in step_events.values():
                        event.set()
                    # running steps see their event within a poll interval and record their attempt
                    cf.wait(list(running), timeout=5)
                    for future, step_id in running.items():
                        done_outcome = future.result() if future.done() else None
                        outcomes[step_id] = StepOutcome(
                            "failed", done_outcome.attempts if done_outcome else 0, error=stop_reason
                        )
                    running.clear()
                    for step_id, step in steps.items():
                        if step_id not in outcomes:
                            self._skip(run, step, stop_reason, outcomes)
                    break
                for step_id, step in steps.items():
                    if step_id in outcomes or step_id in running.values():
                        continue
                    if not all(dep in outcomes for dep in step.depends_on):
                        continue
                    reason = self._trigger_blocks(step, outcomes)
                    if reason:
                        self._skip(run, step, reason, outcomes)
                        continue
                    event = threading.Event()
                    step_events[step_id] = event
                    running[pool.submit(self._run_step, pipeline, step, run, deadline, event)] = step_id
                if not running:
                    continue
                done, _ = cf.wait(list(running), timeout=_POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    step_id = running.pop(future)
                    outcomes[step_id] = future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if final_status is None:
            failed = [s for s, o in outcomes.items() if o.status == "failed"]
            final_status = "failed" if failed else "completed"
            if failed:
                run_error = "; ".join(f"{s}: {outcomes[s].error}" for s in failed)
        return RunOutcome(final_status, outcomes, run_error)

    @staticmethod
    def _trigger_blocks(step: StepConfig, outcomes: dict[str, StepOutcome]) -> str | None:
        states = {dep: outcomes[dep].status for dep in step.depends_on}
        if step.trigger == "always":
            return None
        if step.trigger == "on_failure":
            if any(s == "failed" for s in states.values()):
                return None
            return "trigger on_failure: no dependency failed"
        not_ok = [f"{dep} {state}" for dep, state in states.items() if state != "completed"]
        return f"dependency {', '.join(not_ok)}" if not_ok else None

    def _skip(self, run: RunContext, step: StepConfig, reason: str, outcomes: dict[str, StepOutcome]) -> None:
        logger.info("step %s skipped: %s", step.step_id, reason)
        self.store.record_step_skipped(run.run_id, step.step_id, step.ps_type, reason)
        outcomes[step.step_id] = StepOutcome("skipped", error=reason)

    def _run_step(
        self, pipeline: Pipeline, step: StepConfig, run: RunContext, pipeline_deadline: float, cancel: threading.Event
    ) -> StepOutcome:
        processor = self.registry.get(step.ps_type)
        assert processor is not None  # checked when the pipeline was loaded
        try:
            config = processor.config_model.model_validate(resolve_templates(step.config, run.variables))
        except ValidationError as exc:
            error = ConfigError(f"after templating: {exc.errors()[0]['msg']}", file=str(pipeline.file))
            step_run = self.store.start_step_attempt(run.run_id, step.step_id, step.ps_type, 1)
            self.store.finish_step_attempt(step_run, "failed", error=str(error))
            return StepOutcome("failed", 1, error=str(error))
        attempts = step.retry.max_attempts
        for attempt in range(1, attempts + 1):
            step_run = self.store.start_step_attempt(run.run_id, step.step_id, step.ps_type, attempt)
            deadline = min(time.monotonic() + step.timeout_seconds, pipeline_deadline)
            ctx = StepContext(
                org_slug=run.org_slug,
                pipeline_id=pipeline.pipeline_id,
                run_id=run.run_id,
                step_id=step.step_id,
                start_date=run.start_date,
                end_date=run.end_date,
                target=run.target,
                settings=run.settings,
                variables=run.variables,
                deadline=deadline,
                cancel_event=threading.Event(),
                get_credential=run.get_credential,
            )
            started = time.monotonic()
            try:
                result = self._call_with_timeout(processor.run, ctx, config, step, cancel)
            except BaseException as exc:  # recorded, then retried or reported; never lost
                error = _describe(exc)
                retry = isinstance(exc, TransientError) and attempt < attempts and not cancel.is_set()
                self.store.finish_step_attempt(step_run, "retrying" if retry else "failed", error=error)
                logger.warning("step %s attempt %d/%d failed: %s", step.step_id, attempt, attempts, error)
                if not retry:
                    return StepOutcome("failed", attempt, error=error, refused=isinstance(exc, RefusedError))
                backoff = step.retry.backoff_seconds * (2 ** (attempt - 1))
                if cancel.wait(min(backoff, max(pipeline_deadline - time.monotonic(), 0))):
                    return StepOutcome("failed", attempt, error=error)
                continue
            self.store.finish_step_attempt(step_run, "completed", rows=result.rows)
            logger.info(
                "step %s completed: %d rows in %.1fs (attempt %d)",
                step.step_id,
                result.rows,
                time.monotonic() - started,
                attempt,
            )
            return StepOutcome("completed", attempt, rows=result.rows)
        raise AssertionError("unreachable")

    @staticmethod
    def _call_with_timeout(
        func: Callable[..., StepResult], ctx: StepContext, config: Any, step: StepConfig, cancel: threading.Event
    ) -> StepResult:
        """Run the processor in its own thread; on timeout or cancel, tell it to stop and fail now.

        Processors check ``ctx.check_alive()`` between units of work and the dbt step kills its
        subprocess, so an abandoned attempt stops soon after; its result is discarded.
        """
        box: dict[str, Any] = {}
        timed_out = StepTimeoutError(f"step {step.step_id} timed out after {step.timeout_seconds}s", step=step.step_id)

        def target() -> None:
            try:
                box["result"] = func(ctx, config)
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"step-{step.step_id}", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(timeout=min(_POLL_SECONDS, max(ctx.remaining_seconds(), 0.01)))
            if cancel.is_set() and worker.is_alive():
                ctx.cancel_event.set()
                raise CancelledError("step cancelled", step=step.step_id)
            if ctx.remaining_seconds() <= 0 and worker.is_alive():
                ctx.cancel_event.set()
                raise timed_out
        if isinstance(box.get("error"), StepTimeoutError):  # the processor noticed the deadline first
            raise timed_out from box["error"]
        if "error" in box:
            raise box["error"]
        result = box["result"]
        if not isinstance(result, StepResult):
            raise TypeError(f"processor {step.ps_type} returned {type(result).__name__}, not StepResult")
        return result
