{#- The scalar at a JSONPath as a string (null when absent or not a scalar). -#}
{% macro focus_json_query_string(expression, path) %}{{ return(adapter.dispatch('focus_json_query_string', 'focusline')(expression, path)) }}{% endmacro %}

{% macro default__focus_json_query_string(expression, path) %}json_value({{ expression }}, '{{ path }}'){% endmacro %}

{#- duckdb: json_extract_string -#}
{% macro duckdb__focus_json_query_string(expression, path) %}json_extract_string({{ expression }}, '{{ path }}'){% endmacro %}
