{#- A FROM item with one row per top-level key (column `json_key`) of a JSON object. -#}
{% macro focus_unnest_json_keys(expression) %}{{ return(adapter.dispatch('focus_unnest_json_keys', 'focusline')(expression)) }}{% endmacro %}

{% macro default__focus_unnest_json_keys(expression) %}unnest(json_keys({{ expression }}, 1)) as json_key{% endmacro %}

{#- duckdb: json_keys returns a list -#}
{% macro duckdb__focus_unnest_json_keys(expression) %}unnest(json_keys({{ expression }})) as json_keys(json_key){% endmacro %}
