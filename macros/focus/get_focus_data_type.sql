{#- The engine column type for a FOCUS data type (Decimal, String, Date/Time, JSON; Date for x_ lineage dates). -#}
{% macro get_focus_data_type(spec_type) %}
    {{ return(adapter.dispatch('get_focus_data_type', 'focusline')(spec_type)) }}
{% endmacro %}

{#- DuckDB: Date/Time is a naive TIMESTAMP holding UTC (TIMESTAMPTZ would render in the session time zone). -#}
{% macro default__get_focus_data_type(spec_type) %}
    {%- set types = {
        'Decimal': 'decimal(38,9)', 'String': 'varchar', 'Date/Time': 'timestamp',
        'JSON': 'json', 'Date': 'date'} -%}
    {%- if spec_type not in types -%}
        {{ exceptions.raise_compiler_error("unknown FOCUS data type " ~ spec_type) }}
    {%- endif -%}
    {{ return(types[spec_type]) }}
{% endmacro %}

{#- BigQuery: NUMERIC = DECIMAL(38,9); STRING; TIMESTAMP is always UTC; native JSON. -#}
{% macro bigquery__get_focus_data_type(spec_type) %}
    {%- set types = {
        'Decimal': 'numeric', 'String': 'string', 'Date/Time': 'timestamp',
        'JSON': 'json', 'Date': 'date'} -%}
    {%- if spec_type not in types -%}
        {{ exceptions.raise_compiler_error("unknown FOCUS data type " ~ spec_type) }}
    {%- endif -%}
    {{ return(types[spec_type]) }}
{% endmacro %}
