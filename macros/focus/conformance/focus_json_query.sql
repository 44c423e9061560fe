{#- The JSON value at a JSONPath of a JSON expression (SQL null when the path is absent, JSON null when the value is null). -#}
{% macro focus_json_query(expression, path) %}{{ return(adapter.dispatch('focus_json_query', 'focusline')(expression, path)) }}{% endmacro %}

{% macro default__focus_json_query(expression, path) %}json_query({{ expression }}, '{{ path }}'){% endmacro %}

{#- duckdb: json_extract -#}
{% macro duckdb__focus_json_query(expression, path) %}json_extract({{ expression }}, '{{ path }}'){% endmacro %}
