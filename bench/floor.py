"""The floor of ``make bench``: bench/floor.sql (one hand-written statement) from the Parquet files into a table.

Run as its own process (``python -m bench.floor --db OUT --files A,B,...``) so that it is measured like the
pipeline: wall time, peak RSS of the process, CPU time. Prints the row count and money sums as JSON.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "seeds" / "cloud"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def floor_sql(files: list[str], *, org: str, pipeline: str, credential: str, run_id: str) -> str:
    """bench/floor.sql with its placeholders filled (every value a quoted literal)."""
    template = string.Template((HERE / "floor.sql").read_text(encoding="utf-8"))
    plain = {"org": org, "pipeline": pipeline, "credential": credential, "run_id": run_id, "seeds": str(SEEDS)}
    for name, value in plain.items():
        if "'" in value:
            raise ValueError(f"{name} must not contain a quote: {value!r}")
    return template.substitute(files="[" + ", ".join(_literal(f) for f in files) + "]", **plain)


def run_floor(db: Path, files: list[str], **names: str) -> dict[str, object]:
    conn = duckdb.connect(str(db))
    try:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(floor_sql(files, **names))
        rows, billed, effective = conn.execute(
            "select count(*), sum(BilledCost), sum(EffectiveCost) from focus"
        ).fetchone() or (0, None, None)
    finally:
        conn.close()
    return {"rows": rows, "billed_cost": str(billed), "effective_cost": str(effective)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--files", required=True, help="comma-separated Parquet files")
    parser.add_argument("--org", default="bench")
    parser.add_argument("--pipeline", default="cloud_aws_cur")
    parser.add_argument("--credential", default="111122223333")
    parser.add_argument("--run-id", default="floor")
    args = parser.parse_args(argv)
    result = run_floor(
        args.db,
        args.files.split(","),
        org=args.org,
        pipeline=args.pipeline,
        credential=args.credential,
        run_id=args.run_id,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
