{#- A FROM item with one row per element (column `element`, JSON) of the array at a JSONPath. -#}
{% macro focus_unnest_json_array(expression, path) %}{{ return(adapter.dispatch('focus_unnest_json_array', 'focusline')(expression, path)) }}{% endmacro %}

{% macro default__focus_unnest_json_array(expression, path) %}unnest(json_query_array({{ expression }}, '{{ path }}')) as element{% endmacro %}

{#- duckdb: '[*]' extracts a list of JSON values -#}
{% macro duckdb__focus_unnest_json_array(expression, path) %}unnest(json_extract({{ expression }}, '{{ path }}[*]')) as elements(element){% endmacro %}
