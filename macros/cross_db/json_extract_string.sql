{#-
    The text value of a top-level key of a JSON object column (NULL when absent). `key` is a literal
    written by the caller (letters, digits, underscores), never user input.
-#}
{% macro json_extract_string(json_column, key) %}
    {%- if modules.re.fullmatch('[A-Za-z0-9_]+', key) is none -%}
        {{ exceptions.raise_compiler_error("json_extract_string: key must be [A-Za-z0-9_]+, got " ~ key) }}
    {%- endif -%}
    {{ return(adapter.dispatch('json_extract_string', 'focusline')(json_column, key)) }}
{% endmacro %}

{#- DuckDB: json_extract_string returns VARCHAR (json_value would return JSON). -#}
{% macro default__json_extract_string(json_column, key) -%}
    json_extract_string({{ json_column }}, '$.{{ key }}')
{%- endmacro %}

{#- BigQuery: JSON_VALUE returns STRING for scalars of a JSON column. -#}
{% macro bigquery__json_extract_string(json_column, key) -%}
    json_value({{ json_column }}, '$.{{ key }}')
{%- endmacro %}
