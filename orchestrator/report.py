"""Plain output for the CLI: aligned tables for people, stable JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click


def emit(rows: Sequence[dict[str, Any]] | dict[str, Any], as_json: bool, columns: Sequence[str] | None = None) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True, default=str))
        return
    if isinstance(rows, dict):
        width = max((len(k) for k in rows), default=0)
        for key, value in rows.items():
            click.echo(f"{key.ljust(width)}  {'' if value is None else value}")
        return
    table(rows, columns)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    if not rows:
        click.echo("(none)")
        return
    columns = list(columns or rows[0].keys())
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
