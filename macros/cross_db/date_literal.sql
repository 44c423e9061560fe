{#- A DATE literal from an ISO date string the caller has already validated (ANSI syntax: DuckDB and BigQuery). -#}
{% macro date_literal(iso_date) %}
    {{ return("date '" ~ iso_date ~ "'") }}
{% endmacro %}
