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
  keeps 38). We use DECIMAL(38,10), the emulator's own BIGNUMERIC representation, in the text pin
  and in the generator: a query that reads a view gets the view's BigQuery body inlined by the
  emulator and regenerated, past the text pin (GCP's unit prices, divided in BIGNUMERIC, lost every
  digit past the 5th in the mart while the view alone was right).
* Column-name case: when a query reads a table and one of the emulator's type-aware rules rewrites
  it, the emulator runs sqlglot's ``qualify`` in the DuckDB dialect, which lower-cases every
  unquoted identifier, so ``select x as BilledCost`` comes back as ``billedcost`` (BigQuery keeps
  the case; dbt's contract check then fails). We qualify with case-sensitive normalisation.
* ``CREATE TABLE t (column types) ... AS (SELECT ...)``, the form dbt-bigquery writes for a model
  with an enforced contract: the emulator rewrites the combined form for DuckDB only when the body
  is a bare SELECT, not a parenthesised one, and DuckDB then fails with a syntax error. We let it
  see through the parentheses.
* Division with a NUMERIC or BIGNUMERIC operand: BigQuery divides exactly (NUMERIC rounds the
  quotient half away from zero at 9 digits, BIGNUMERIC keeps 38). The emulator's DIV_DECIMAL rule
  lets DuckDB divide in DOUBLE and casts the quotient to DECIMAL(38, 9), so ``trunc(a / b, 9)``
  rounds where BigQuery truncates and loses digits past the 16th significant one (GCP's derived
  unit prices missed the ``ListCost = ListUnitPrice x PricingQuantity`` tolerance). We divide in
  Python ``Decimal`` through a UDF instead: NUMERIC / NUMERIC rounds half away from zero at 9
  digits; a BIGNUMERIC operand gives the emulator's BIGNUMERIC, DECIMAL(38, 10), truncated, so a
  ``trunc(..., 9)`` over it gives BigQuery's answer.

Usage (scripts/bqemulator/start.sh and tests/bq_emulator.py): ``python serve.py start --rest-port ...``
"""

from __future__ import annotations

import decimal
import re
import sys
from typing import Any

import bqemulator.sql.builtin_udfs as builtin_udfs
import bqemulator.sql.rewriter.create_table_schema_ctas as schema_ctas
import bqemulator.sql.rules.aggregate_types as aggregate_types
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
    if expression.this == exp.DataType.Type.BIGDECIMAL and not expression.expressions:
        return "DECIMAL(38, 10)"
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

# 80 digits hold any DECIMAL(38, s) quotient and its quantized form (the default context's 28 do not).
# A zero divisor raises, as BigQuery's ``/`` does; SAFE_DIVIDE's CASE keeps it from reaching the UDF.
_EXACT = decimal.Context(prec=80, traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero])


def _exact_divider(scale: int, rounding: str) -> Any:
    quantum = decimal.Decimal(1).scaleb(-scale)

    def divide(a: decimal.Decimal, b: decimal.Decimal) -> decimal.Decimal:
        return _EXACT.divide(a, b).quantize(quantum, rounding=rounding, context=_EXACT)

    return divide


_original_register_udfs = builtin_udfs.register_builtin_udfs


def _register_udfs(connection: Any) -> None:
    _original_register_udfs(connection)
    for name, scale, rounding in (
        ("focusline_numeric_div", 9, decimal.ROUND_HALF_UP),  # BigQuery NUMERIC: half away from zero
        ("focusline_bignumeric_div", 10, decimal.ROUND_DOWN),  # truncated: trunc(..., 9) over it is exact
    ):
        dtype = f"DECIMAL(38, {scale})"
        connection.create_function(name, _exact_divider(scale, rounding), [dtype, dtype], dtype)


builtin_udfs.register_builtin_udfs = _register_udfs


def _is_bignumeric(operand: exp.Expression) -> bool:
    dtype = getattr(operand, "type", None)
    if not isinstance(dtype, exp.DataType):
        return False
    if dtype.this == exp.DataType.Type.BIGDECIMAL:
        return True
    scale = dtype.expressions[1] if len(dtype.expressions) > 1 else None
    return scale is not None and int(scale.name or 0) > 9


def _exact_decimal_div(self: Any, node: exp.Expression) -> exp.Expression:
    big = _is_bignumeric(node.this) or _is_bignumeric(node.expression)
    udf = "focusline_bignumeric_div" if big else "focusline_numeric_div"
    return exp.Anonymous(this=udf, expressions=[node.this.copy(), node.expression.copy()])


def _div_with_decimal_operand(self: Any, node: exp.Expression) -> bool:
    # The original also skips a Div directly under a CAST to DECIMAL (its own output, a fixed point);
    # ours is a function call, so ``CAST(a / b AS NUMERIC)`` is divided exactly too.
    return isinstance(node, exp.Div) and (
        aggregate_types._operand_is_decimal(node.this) or aggregate_types._operand_is_decimal(node.expression)
    )


aggregate_types.DivDecimalRule.applies_to = _div_with_decimal_operand
aggregate_types.DivDecimalRule.rewrite = _exact_decimal_div

if __name__ == "__main__":
    sys.argv[0] = "bqemulator"
    main()
