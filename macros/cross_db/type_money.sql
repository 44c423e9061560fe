{#- The money type: a 38-digit decimal with 9 fractional digits, never a float. -#}
{% macro type_money() %}
    {{ return(adapter.dispatch('type_money', 'focusline')()) }}
{% endmacro %}

{#- DuckDB and others: explicit precision/scale. -#}
{% macro default__type_money() %}{{ return('decimal(38,9)') }}{% endmacro %}

{#- BigQuery: NUMERIC is exactly DECIMAL(38,9); a parameterised NUMERIC(38,9) would be a different contract type. -#}
{% macro bigquery__type_money() %}{{ return('numeric') }}{% endmacro %}
