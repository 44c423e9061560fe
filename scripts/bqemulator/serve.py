"""Run bqemulator with focusline's test-only fixes for emulator gaps (never used in production).

Each patch corrects a place where bqemulator 1.4.0 (BigQuery SQL -> sqlglot -> DuckDB) gives a
different answer from BigQuery; the product SQL is valid BigQuery and is not changed for them.
Listed in DECISIONLOG.md ("BigQuery emulator gaps").

* ``CAST(x AS NUMERIC)`` / ``SAFE_CAST(x AS NUMERIC)``: sqlglot writes DuckDB's bare ``DECIMAL``,
  which is DECIMAL(18,3), so ``CAST('0.000001' AS NUMERIC)`` becomes 0.000. BigQuery's NUMERIC is
  DECIMAL(38,9). The emulator already pins ``NUMERIC '...'`` literals this way; we pin casts too.
  The same holds for every bare ``DECIMAL`` sqlglot writes after the emulator's type-aware rules
  rewrite a query (e.g. ``CAST(a / b AS NUMERIC)`` over NUMERIC columns, where the text pin above is
  lost when the tree is regenerated): the DuckDB generator writes a parameterless DECIMAL as
  DECIMAL(38, 9).
* ``CAST(x AS BIGNUMERIC)``: sqlglot writes DECIMAL(38,5) (5 fractional digits, where BigQuery
  keeps 38). We use DECIMAL(38,10), the emulator's own BIGNUMERIC representation.
* Column-name case: when a query reads a table and one of the emulator's type-aware rules rewrites
  it, the emulator runs sqlglot's ``qualify`` in the DuckDB dialect, which lower-cases every
  unquoted identifier, so ``select x as BilledCost`` comes back as ``billedcost`` (BigQuery keeps
  the case; dbt's contract check then fails). We qualify with case-sensitive normalisation.
* ``CREATE TABLE t (column types) ... AS (SELECT ...)``, the form dbt-bigquery writes for a model
  with an enforced contract: the emulator rewrites the combined form for DuckDB only when the body
  is a bare SELECT, not a parenthesised one, and DuckDB then fails with a syntax error. We let it
  see through the parentheses.

Usage (scripts/bqemulator/start.sh and tests/bq_emulator.py): ``python serve.py start --rest-port ...``
"""

from __future__ import annotations

import re
import sys
from typing import Any

import bqemulator.sql.rewriter.create_table_schema_ctas as schema_ctas
import bqemulator.sql.translator as translator
from bqemulator.cli import main
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

_CAST_NUMERIC = re.compile(r"(?i)\b(AS\s+)(BIG)?NUMERIC\b(?!\s*\()")


def _pin_numeric_casts(sql: str) -> str:
    return _CAST_NUMERIC.sub(lambda m: m.group(1) + ("BIGNUMERIC(38, 10)" if m.group(2) else "NUMERIC(38, 9)"), sql)


_original_rewrite = translator.rewrite_numeric_literals


def _rewrite_numeric(sql: str) -> str:
    return _original_rewrite(_pin_numeric_casts(sql))


translator.rewrite_numeric_literals = _rewrite_numeric

_original_datatype_sql = DuckDB.Generator.datatype_sql


def _datatype_sql_numeric(self: Any, expression: exp.DataType) -> str:
    if expression.this == exp.DataType.Type.DECIMAL and not expression.expressions:
        return "DECIMAL(38, 9)"
    return _original_datatype_sql(self, expression)


DuckDB.Generator.datatype_sql = _datatype_sql_numeric

_original_qualify = translator.qualify


def _qualify_keeping_case(expression: Any, **kwargs: Any) -> Any:
    kwargs["dialect"] = "duckdb, normalization_strategy = case_sensitive"
    return _original_qualify(expression, **kwargs)


translator.qualify = _qualify_keeping_case

_original_first_select = schema_ctas._first_select


def _first_select_in_parens(body: Any) -> Any:
    while isinstance(body, exp.Subquery | exp.Paren):
        body = body.this
    return _original_first_select(body)


schema_ctas._first_select = _first_select_in_parens

if __name__ == "__main__":
    sys.argv[0] = "bqemulator"
    main()
