"""The DAG executor on real threads and a real SQLite control store, with processors of the tests' own."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from focusline.errors import TerminalError, TransientError
from focusline.steps import StepContext, StepResult
from orchestrator.config import load_pipeline
from orchestrator.executor import Executor, RunContext
from orchestrator.registry import Registry
from orchestrator.store import ProcessIdentity


class SleepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 0
    fail_times: int = 0  # raise TransientError on the first N attempts
    terminal: bool = False


class Sleep:
    """Sleeps, optionally failing the first attempts; counts calls per step."""

    config_model = SleepConfig

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()
        self.intervals: dict[str, tuple[float, float]] = {}

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        assert isinstance(config, SleepConfig)
        with self.lock:
            self.calls[ctx.step_id] = self.calls.get(ctx.step_id, 0) + 1
            call = self.calls[ctx.step_id]
        started = time.monotonic()
        ctx.sleep(config.seconds)
        self.intervals[ctx.step_id] = (started, time.monotonic())
        if config.terminal:
            raise TerminalError("bad credentials")
        if call <= config.fail_times:
            raise TransientError(f"flaky attempt {call}")
        return StepResult(rows=call)


@pytest.fixture
def store(control_store):
    """Every executor test runs on SQLite and PostgreSQL control stores."""
    return control_store


def pipeline_file(tmp_path: Path, steps: list[dict], timeout_minutes: int = 30) -> Path:
    body = {
        "pipeline_id": "exec_test",
        "name": "t",
        "provider": "test",
        "domain": "test",
        "version": "1",
        "timeout_minutes": timeout_minutes,
        "steps": steps,
    }
    path = tmp_path / "configs" / "t" / "p.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body))
    return path


def execute(tmp_path, store, settings, steps, timeout_minutes=30, cancel_after=None):
    sleep = Sleep()
    registry = Registry({"test.sleep": sleep})
    pipeline_file(tmp_path, steps, timeout_minutes)
    pipeline = load_pipeline(tmp_path / "configs", "t/p", registry)
    store.create_org("exec_org", plan_id="scale") if not store.list_orgs() else None
    run_id = store.reserve_run(
        "exec_org",
        pipeline_id="exec_test",
        pipeline_name="t/p",
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 1, 1),
        target="local",
        timeout_minutes=timeout_minutes,
        holder=ProcessIdentity.current(),
    )
    store.transition(run_id, "validating")
    store.transition(run_id, "running")
    run = RunContext("exec_org", run_id, dt.date(2026, 1, 1), dt.date(2026, 1, 1), "local", settings, {})
    if cancel_after is not None:
        threading.Timer(cancel_after, run.cancel_event.set).start()
    outcome = Executor(store, registry).run(pipeline, run)
    store.finish_run(run_id, outcome.status, outcome.error)
    return outcome, store.list_steps(run_id), sleep


def step(step_id, *, deps=(), trigger="on_success", **config):
    retry = config.pop("retry", None)
    timeout = config.pop("timeout_seconds", 60)
    body = {
        "step_id": step_id,
        "ps_type": "test.sleep",
        "depends_on": list(deps),
        "trigger": trigger,
        "timeout_seconds": timeout,
        "config": config,
    }
    if retry:
        body["retry"] = retry
    return body


def test_independent_steps_run_concurrently(tmp_path, store, settings):
    started = time.monotonic()
    outcome, _, sleep = execute(tmp_path, store, settings, [step("a", seconds=2), step("b", seconds=2)])
    elapsed = time.monotonic() - started
    assert outcome.status == "completed"
    (a0, a1), (b0, b1) = sleep.intervals["a"], sleep.intervals["b"]
    assert max(a0, b0) < min(a1, b1)  # the two sleeps overlapped
    assert elapsed < 3.5, f"two 2 s steps took {elapsed:.2f} s together"


def test_dependencies_order_steps(tmp_path, store, settings):
    outcome, _, sleep = execute(
        tmp_path, store, settings, [step("a", seconds=0.3), step("b", deps=["a"]), step("c", deps=["b"])]
    )
    assert outcome.status == "completed"
    assert sleep.intervals["a"][1] <= sleep.intervals["b"][0] <= sleep.intervals["c"][0]


def test_transient_errors_retry_with_every_attempt_recorded(tmp_path, store, settings):
    outcome, steps, sleep = execute(
        tmp_path, store, settings, [step("flaky", fail_times=2, retry={"max_attempts": 3, "backoff_seconds": 0.1})]
    )
    assert outcome.status == "completed"
    assert [(s["attempt"], s["status"]) for s in steps] == [(1, "retrying"), (2, "retrying"), (3, "completed")]
    assert "flaky attempt 1" in steps[0]["error"]
    assert sleep.calls["flaky"] == 3


def test_backoff_is_exponential(tmp_path, store, settings):
    started = time.monotonic()
    outcome, _steps, _ = execute(
        tmp_path, store, settings, [step("flaky", fail_times=2, retry={"max_attempts": 3, "backoff_seconds": 0.5})]
    )
    assert outcome.status == "completed"
    # waits 0.5 s then 1.0 s between the three attempts
    assert time.monotonic() - started >= 1.5


def test_terminal_errors_do_not_retry(tmp_path, store, settings):
    outcome, steps, sleep = execute(
        tmp_path, store, settings, [step("auth", terminal=True, retry={"max_attempts": 5, "backoff_seconds": 0.1})]
    )
    assert outcome.status == "failed"
    assert sleep.calls["auth"] == 1
    assert [(s["attempt"], s["status"]) for s in steps] == [(1, "failed")]
    assert "TerminalError: bad credentials" in outcome.error


def test_retries_exhausted_fails(tmp_path, store, settings):
    outcome, steps, _ = execute(
        tmp_path, store, settings, [step("flaky", fail_times=9, retry={"max_attempts": 2, "backoff_seconds": 0})]
    )
    assert outcome.status == "failed"
    assert [s["status"] for s in steps] == ["retrying", "failed"]


def test_triggers_and_skipped_dependants(tmp_path, store, settings):
    outcome, steps, sleep = execute(
        tmp_path,
        store,
        settings,
        [
            step("extract", terminal=True),
            step("transform", deps=["extract"]),
            step("report", deps=["transform"]),
            step("alert", deps=["extract"], trigger="on_failure"),
            step("cleanup", deps=["extract"], trigger="always"),
            step("celebrate", deps=["cleanup"], trigger="on_failure"),
        ],
    )
    status = {s: o.status for s, o in outcome.steps.items()}
    assert status == {
        "extract": "failed",
        "transform": "skipped",
        "report": "skipped",
        "alert": "completed",
        "cleanup": "completed",
        "celebrate": "skipped",
    }
    assert outcome.status == "failed"
    recorded = {s["step_id"]: s for s in steps}
    assert recorded["transform"]["status"] == "skipped" and "extract failed" in recorded["transform"]["error"]
    assert recorded["report"]["status"] == "skipped" and "transform skipped" in recorded["report"]["error"]
    assert "transform" not in sleep.calls and "report" not in sleep.calls


def test_step_timeout(tmp_path, store, settings):
    started = time.monotonic()
    outcome, steps, _ = execute(tmp_path, store, settings, [step("slow", seconds=30, timeout_seconds=1)])
    assert time.monotonic() - started < 10
    assert outcome.status == "failed"
    assert "timed out after 1s" in steps[0]["error"]


def test_cancel_marks_running_and_pending(tmp_path, store, settings):
    outcome, steps, _ = execute(
        tmp_path, store, settings, [step("slow", seconds=30), step("after", deps=["slow"])], cancel_after=0.5
    )
    assert outcome.status == "cancelled"
    recorded = {s["step_id"]: s["status"] for s in steps}
    assert recorded == {"slow": "failed", "after": "skipped"}


@pytest.mark.parametrize("minutes", [1])
def test_pipeline_timeout_is_enforced(tmp_path, store, settings, monkeypatch, minutes):
    # timeout_minutes is whole minutes; shrink the clock instead of waiting one: 60 s -> 0.6 s
    import orchestrator.executor as executor

    real = time.monotonic
    start = real()
    monkeypatch.setattr(executor.time, "monotonic", lambda: start + (real() - start) * 100)
    outcome, _steps, _ = execute(
        tmp_path, store, settings, [step("slow", seconds=3000, timeout_seconds=86400)], timeout_minutes=minutes
    )
    assert outcome.status == "failed"
    assert "pipeline timed out after 1 minute(s)" in outcome.error
