"""Offline BigQuery check: compile every node for the bigquery target with no server, parse as BigQuery.

``dbt compile`` for BigQuery opens a connection and looks relations up; the wrapper below (tooling.md
section 2.4) stubs those lookups, so the whole project compiles with a dummy token and an unreachable
endpoint, once as a first build and once with the ``is_incremental()`` branch (vars set). Each
compiled file must parse with sqlglot's BigQuery dialect and contain none of the DuckDB-only
spellings sqlglot would silently accept. A syntax-level signal for developers without the emulator;
tests/test_bigquery_emulator.py runs the SQL for real.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot

from tests.conftest import REPO

pytestmark = pytest.mark.slow

WRAPPER = """
import os, sys
from dbt.adapters.bigquery.impl import BigQueryAdapter
from dbt.adapters.bigquery.relation import BigQueryRelation
from dbt.cli.main import dbtRunner

EXISTING = os.environ.get("BQ_OFFLINE_EXISTING") == "1"  # 1 => compile the is_incremental() branch

def get_relation(self, database, schema, identifier, *args, **kwargs):
    if not EXISTING:
        return None
    return BigQueryRelation.create(database=database, schema=schema, identifier=identifier, type="table")

BigQueryAdapter.get_relation = get_relation
BigQueryAdapter.list_relations_without_caching = lambda self, schema_relation: []
result = dbtRunner().invoke(["compile", "--no-populate-cache", *sys.argv[1:]])
sys.exit(0 if result.success else 1)
"""

# DuckDB spellings that BigQuery rejects but sqlglot's BigQuery reader accepts (and rewrites)
DUCKDB_ONLY = {
    "hugeint": re.compile(r"\bhugeint\b", re.I),
    "varchar": re.compile(r"\bvarchar\b", re.I),
    "bigint": re.compile(r"\bbigint\b", re.I),
    ":: cast": re.compile(r"::"),
    "// integer division": re.compile(r"\s//\s"),
    "select * exclude": re.compile(r"\bexclude\s*\(", re.I),
    '"double quoted" identifier': re.compile(r'"\w+"\s*\.\s*"\w+"'),
}


def compile_bigquery(tmp_path: Path, name: str, existing: bool) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "FOCUSLINE_BQ_METHOD": "oauth-secrets",
        "FOCUSLINE_BQ_TOKEN": "offline-dummy-token",
        "FOCUSLINE_BQ_PROJECT": "offline-project-123",
        "FOCUSLINE_BQ_DATASET": "acme_corp_local",
        "FOCUSLINE_BQ_API_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there: offline for sure
        "FOCUSLINE_BQ_JOB_RETRIES": "0",
        "BQ_OFFLINE_EXISTING": "1" if existing else "0",
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = ["--project-dir", str(REPO), "--profiles-dir", str(REPO), "--target", "bigquery"]
    args += ["--target-path", str(tmp_path / name / "target"), "--log-path", str(tmp_path / name / "logs")]
    if existing:
        args += ["--vars", json.dumps({"org_slug": "acme_corp", "start_date": "2026-11-01", "end_date": "2026-11-03"})]
    return subprocess.Popen(
        [sys.executable, "-c", WRAPPER, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_every_node_compiles_offline_for_bigquery_and_parses_as_bigquery(tmp_path: Path) -> None:
    runs = {name: compile_bigquery(tmp_path, name, existing) for name, existing in (("first", False), ("incr", True))}
    for name, process in runs.items():
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"offline bigquery compile ({name}) failed:\n{output[-5000:]}"

    problems: list[str] = []
    checked = 0
    for name in runs:
        compiled = sorted((tmp_path / name / "target" / "compiled" / "focusline").rglob("*.sql"))
        assert any(p.parent.name == "marts" for p in compiled), f"no mart compiled in {name}"
        for path in compiled:
            sql = path.read_text(encoding="utf-8")
            checked += 1
            try:
                sqlglot.parse(sql, read="bigquery")
            except sqlglot.errors.SqlglotError as exc:
                problems.append(f"{name}/{path.name}: not BigQuery syntax: {str(exc)[:300]}")
            code = re.sub(r"--[^\n]*", "", sql)  # comments may say anything
            for spelling, pattern in DUCKDB_ONLY.items():
                if pattern.search(code):
                    problems.append(f"{name}/{path.name}: DuckDB-only {spelling}")
    assert checked >= 40, f"only {checked} compiled files"
    assert not problems, "\n".join(problems)

    incremental = (tmp_path / "incr" / "target" / "compiled" / "focusline" / "models" / "marts").rglob("*.sql")
    mart = next(iter(incremental)).read_text(encoding="utf-8")
    assert "between date '2026-11-01' and date '2026-11-03'" in mart  # the window branch was compiled
