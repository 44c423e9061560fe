"""Helpers for the dbt tests: dbt as a subprocess against a temp warehouse filled by the real loader.

dbt runs in a child process (dbt-duckdb keeps the DuckDB file open inside the process that ran it);
the test opens the file with DuckDB's default config only after dbt has exited.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from focusline.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
VOLATILE_COLUMNS = ("x_run_id", "x_ingested_at", "x_ingestion_date")


@dataclass
class DbtWarehouse:
    settings: Settings
    path: Path
    target_path: Path
    log_path: Path
    env: dict[str, str]

    def dbt(self, *args: str, vars: dict[str, Any] | None = None, quiet: bool = False, check: bool = True) -> str:
        command = [str(DBT)]
        if quiet:
            command.append("--quiet")
        command += [
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.log_path),
        ]
        if vars is not None:
            command += ["--vars", json.dumps(vars)]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}")
        return result.stdout

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        conn = duckdb.connect(str(self.path))
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def stable_rows(self, relation: str, order_by: str) -> list[tuple[Any, ...]]:
        """All rows without the per-run lineage values (run id, write time, write date)."""
        return self.query(f"select * exclude ({', '.join(VOLATILE_COLUMNS)}) from {relation} order by {order_by}")
