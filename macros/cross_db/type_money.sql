{#- The money type: a 38-digit decimal with 9 fractional digits, never a float. -#}
{% macro type_money() %}
    {{ return(adapter.dispatch('type_money', 'focusline')()) }}
{% endmacro %}

{#- DuckDB and others: explicit precision/scale. -#}
{% macro default__type_money() %}{{ return('decimal(38,9)') }}{% endmacro %}

{#- BigQuery: NUMERIC is exactly DECIMAL(38,9); a parameterised NUMERIC(38,9) would be a different contract type. -#}
{% macro bigquery__type_money() %}{{ return('numeric') }}{% endmacro %}

{#- A 64-bit integer type (dbt.type_bigint() renders 'bigint' on BigQuery, which BigQuery rejects). -#}
{% macro type_bigint() %}
    {{ return(adapter.dispatch('type_bigint', 'focusline')()) }}
{% endmacro %}

{#- DuckDB and others: BIGINT. -#}
{% macro default__type_bigint() %}{{ return('bigint') }}{% endmacro %}

{#- BigQuery: INT64 is its only integer type; 'bigint' is not a BigQuery type name. -#}
{% macro bigquery__type_bigint() %}{{ return('int64') }}{% endmacro %}
