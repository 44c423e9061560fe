{#-
    The first capture group of a regular expression match (NULL when it does not match). `pattern` is a
    literal written by the caller (RE2 syntax, no backslashes, no single quotes), never user input.
-#}
{% macro regexp_extract_group(text, pattern) %}
    {%- if "'" in pattern or "\\" in pattern -%}
        {{ exceptions.raise_compiler_error("regexp_extract_group: pattern must not contain quotes or backslashes") }}
    {%- endif -%}
    {{ return(adapter.dispatch('regexp_extract_group', 'focusline')(text, pattern)) }}
{% endmacro %}

{#- DuckDB: regexp_extract returns '' when nothing matches. -#}
{% macro default__regexp_extract_group(text, pattern) -%}
    nullif(regexp_extract({{ text }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{#- BigQuery: REGEXP_EXTRACT returns the single capture group, NULL when nothing matches. -#}
{% macro bigquery__regexp_extract_group(text, pattern) -%}
    nullif(regexp_extract({{ text }}, '{{ pattern }}'), '')
{%- endmacro %}
