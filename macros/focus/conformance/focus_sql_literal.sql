{#- A SQL literal for a requirements-model Value: numbers as they are, strings single-quoted (quotes doubled). -#}
{% macro focus_sql_literal(value) %}
    {%- if value is number -%}{{ value }}{%- else -%}'{{ value | string | replace("'", "''") }}'{%- endif -%}
{% endmacro %}
