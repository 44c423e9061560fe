"""Child-process entry point: one dbt invocation through dbt's programmatic runner (dbtRunner).

The orchestrator runs dbt in a child process so that a step timeout can stop it, each run gets
its own interpreter state (dbt's docs call concurrent in-process invocations unsafe) and the
DuckDB file is released when the invocation ends. Exit code 0 = success, 1 = dbt reported
failures, 2 = dbt could not run at all.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv)
    if result.exception is not None:
        print(f"dbt could not run: {result.exception}", file=sys.stderr)
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
