"""A local BigQuery (bqemulator, in its own venv .bqemu/) for the BigQuery tests.

``start_emulator`` launches scripts/bqemulator/serve.py (bqemulator plus the test-only fixes listed
there) on a free 127.0.0.1 port with an in-memory catalog; ``BigQueryEmulator.env`` is what the
product needs to talk to it (the same ``FOCUSLINE_BQ_*`` variables as production, plus the dummy
``oauth-secrets`` token and the variables that stop google-auth probing a GCE metadata server).
A missing venv fails the test with the command that creates it: the BigQuery tests never skip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
EMULATOR_VENV = Path(os.environ.get("BQEMU_VENV") or PROJECT_DIR / ".bqemu")
SETUP_HINT = "scripts/bqemulator/setup.sh (or `make bqemu-setup`)"
PROJECT = "focusline-test"
STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class BigQueryEmulator:
    endpoint: str
    project: str
    log: Path

    def env(self) -> dict[str, str]:
        return {
            "FOCUSLINE_BQ_PROJECT": self.project,
            "FOCUSLINE_BQ_API_ENDPOINT": self.endpoint,
            "FOCUSLINE_BQ_LOCATION": "US",
            "FOCUSLINE_BQ_METHOD": "oauth-secrets",
            "FOCUSLINE_BQ_TOKEN": "emulator-dummy-token",
            "FOCUSLINE_BQ_JOB_RETRIES": "0",
            "FOCUSLINE_BQ_JOB_TIMEOUT_SECONDS": "120",
            "NO_GCE_CHECK": "true",
            "GCE_METADATA_HOST": "127.0.0.1:9",
            "GCE_METADATA_IP": "127.0.0.1:9",
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def start_emulator(state_dir: Path) -> Iterator[BigQueryEmulator]:
    python = EMULATOR_VENV / "bin" / "python"
    if not python.exists() or not (EMULATOR_VENV / ".ready").exists():
        pytest.fail(
            f"the BigQuery emulator venv {EMULATOR_VENV} is missing or incomplete: run {SETUP_HINT}", pytrace=False
        )
    port = _free_port()
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "bqemu.log"
    env = {**os.environ, "HOME": str(EMULATOR_VENV / "home"), "NO_GCE_CHECK": "true"}
    command = [
        str(python),
        str(PROJECT_DIR / "scripts" / "bqemulator" / "serve.py"),
        "start",
        "--rest-host",
        "127.0.0.1",
        "--rest-port",
        str(port),
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        "0",
        "--project",
        PROJECT,
        "--log-level",
        "warning",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets"):
            if process.poll() is not None:
                pytest.fail(
                    f"bqemulator exited at start-up ({process.returncode}); log {log}:\n{log.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"bqemulator did not answer on {endpoint} within {STARTUP_SECONDS:g}s; log {log}")
            time.sleep(0.3)
        yield BigQueryEmulator(endpoint, PROJECT, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
