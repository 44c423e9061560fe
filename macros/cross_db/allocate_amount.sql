{#-
    amount x weight / total_weight, truncated to 9 decimals, computed without floating point.
    Callers give the residual (amount - sum of parts) to one row so the parts sum exactly.
    All three arguments are expressions of type_money() or integers.
-#}
{% macro allocate_amount(amount, weight, total_weight) %}
    {{ return(adapter.dispatch('allocate_amount', 'focusline')(amount, weight, total_weight)) }}
{% endmacro %}

{#- DuckDB: decimal / decimal returns DOUBLE, so divide in integer nano-units (HUGEINT, 128-bit). -#}
{% macro default__allocate_amount(amount, weight, total_weight) %}
    cast(
        cast(
            (cast(round({{ amount }} * 1000000000) as hugeint) * cast(round({{ weight }} * 1000000000) as hugeint))
            // nullif(cast(round({{ total_weight }} * 1000000000) as hugeint), 0)
        as decimal(38, 0)) * cast('0.000000001' as decimal(38, 9))
    as {{ focusline.type_money() }})
{% endmacro %}

{#- BigQuery: NUMERIC division is exact decimal arithmetic (scale 9); truncate like the DuckDB variant. -#}
{% macro bigquery__allocate_amount(amount, weight, total_weight) %}
    cast(trunc(safe_divide(cast({{ amount }} as bignumeric) * cast({{ weight }} as bignumeric),
                           cast({{ total_weight }} as bignumeric)), 9) as numeric)
{% endmacro %}
