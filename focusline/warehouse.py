"""The organisation's DuckDB file: one writer at a time, queued rather than crashing.

DuckDB lets one process write a file. Writers of the same organisation (threads of one run,
or separate processes) take an exclusive ``flock`` on ``<org>.duckdb.lock`` first and wait for it,
bounded by ``FOCUSLINE_WAREHOUSE_LOCK_TIMEOUT``; then exit 75 with a clear message. ``flock`` locks
belong to an open file description, so two threads of one process exclude each other too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from focusline.errors import WarehouseBusyError
from focusline.settings import Settings
from focusline.tenancy import validate_org_slug

_POLL_SECONDS = 0.05


@contextlib.contextmanager
def warehouse_lock(settings: Settings, org_slug: str, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the organisation's writer lock; yield the warehouse path."""
    validate_org_slug(org_slug)
    path = settings.warehouse_path(org_slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = settings.warehouse_lock_timeout_seconds if timeout is None else timeout
    deadline = time.monotonic() + wait
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"organisation {org_slug!r} is busy: another run is writing its warehouse "
                        f"{path}; waited {wait:g}s (FOCUSLINE_WAREHOUSE_LOCK_TIMEOUT). Try again later.",
                        org=org_slug,
                    ) from None
                time.sleep(_POLL_SECONDS)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def connect(path: Path, *, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting (bounded) while a process outside focusline holds it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise WarehouseBusyError(f"cannot open warehouse {path}: another process holds it ({exc})") from None
            time.sleep(_POLL_SECONDS * 4)
