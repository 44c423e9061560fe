"""The contract between the executor and a processor (one ``ps_type``)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from focusline.errors import CancelledError, StepTimeoutError
from focusline.settings import Settings


@dataclass
class StepContext:
    """Everything a processor may use. Processors never read the control store directly."""

    org_slug: str
    pipeline_id: str
    run_id: str
    step_id: str
    start_date: dt.date  # inclusive, UTC
    end_date: dt.date  # inclusive, UTC
    target: str  # dbt target: local | bigquery
    settings: Settings
    variables: dict[str, Any]
    deadline: float  # time.monotonic() value after which the step must stop
    cancel_event: threading.Event = field(default_factory=threading.Event)
    # (provider, credential_id or None) -> (credential_id, secret). Secrets stay in memory only.
    get_credential: Callable[[str, str | None], tuple[str, str]] | None = None

    def remaining_seconds(self) -> float:
        return self.deadline - time.monotonic()

    def check_alive(self) -> None:
        """Raise if the step was cancelled or ran out of time; call between units of work."""
        if self.cancel_event.is_set():
            raise CancelledError("step cancelled", step=self.step_id)
        if self.remaining_seconds() <= 0:
            raise StepTimeoutError("step timed out", step=self.step_id)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake up early (and raise) on cancellation or timeout."""
        if seconds > self.remaining_seconds():
            self.cancel_event.wait(max(self.remaining_seconds(), 0))
            self.check_alive()
        if self.cancel_event.wait(seconds):
            self.check_alive()

    def dates(self) -> list[dt.date]:
        days = (self.end_date - self.start_date).days
        return [self.start_date + dt.timedelta(days=i) for i in range(days + 1)]


@dataclass
class StepResult:
    rows: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


class Processor(Protocol):
    """A ``ps_type``: a pydantic model for its ``config`` block and a function that runs it."""

    config_model: type[BaseModel]

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult: ...
