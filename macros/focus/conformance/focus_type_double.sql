{#- A double-precision float type for tolerance arithmetic (dbt.type_float() is FLOAT4 on DuckDB). -#}
{% macro focus_type_double() %}{{ return(adapter.dispatch('focus_type_double', 'focusline')()) }}{% endmacro %}

{% macro default__focus_type_double() %}double precision{% endmacro %}

{#- bigquery: FLOAT64 is its only float type -#}
{% macro bigquery__focus_type_double() %}float64{% endmacro %}

{#- duckdb: DOUBLE (FLOAT would be single precision) -#}
{% macro duckdb__focus_type_double() %}double{% endmacro %}
