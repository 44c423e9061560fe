"""One exception root; the CLI edge maps each class to an exit code.

Every error carries structured context (org, pipeline, step, source, period ...) in ``context``.
Messages must never contain secrets: callers pass identifiers, never credential values.
"""

from __future__ import annotations

from typing import Any


class FocuslineError(Exception):
    """Root of every error focusline raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        return self.message


class ConfigError(FocuslineError):
    """A pipeline file, option or setting is invalid. Raised before anything runs."""

    exit_code = 78

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None, **context: Any) -> None:
        where = ": ".join(p for p in (file, field) if p)
        super().__init__(f"{where}: {message}" if where else message, file=file, field=field, **context)
        self.file = file
        self.field = field
        self.reason = message  # without the file/field prefix


class UsageError(FocuslineError):
    """The caller asked for something that does not exist (unknown org, run, pipeline)."""

    exit_code = 2


class InputDataError(FocuslineError):
    """Input data (a provider response, an export file) is malformed and cannot be trusted."""

    exit_code = 65


class RefusedError(FocuslineError):
    """Refused for now; trying later may work (exit 75, EX_TEMPFAIL)."""

    exit_code = 75


class QuotaExceededError(RefusedError):
    """The organisation's plan does not allow another run now."""


class WarehouseBusyError(RefusedError):
    """Another writer holds the organisation's warehouse longer than we are willing to wait."""


class ExtractError(FocuslineError):
    """A source could not be read."""


class TransientError(ExtractError):
    """Retryable: HTTP 429/5xx, timeouts, connection errors, truncated bodies."""


class TerminalError(ExtractError):
    """Not retryable: authentication, permission, bad request, schema drift."""


class LoadError(FocuslineError):
    """Rows could not be written to the warehouse; nothing was written."""


class StepTimeoutError(TransientError):
    """A step ran longer than its ``timeout_seconds``."""


class CancelledError(FocuslineError):
    """The run was cancelled (signal or pipeline timeout) while a step was running."""
