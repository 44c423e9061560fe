{#- KeyValueFormat: a JSON object whose values are scalars (number, string, true, false, null), never objects or arrays. -#}
{% macro focus_json_is_flat_object(expression) %}{{ return(adapter.dispatch('focus_json_is_flat_object', 'focusline')(expression)) }}{% endmacro %}

{#- default (bigquery): the serialised object has no '{' or '[' after its opening brace (conservative: a string value holding a brace fails too) -#}
{% macro default__focus_json_is_flat_object(expression) -%}
    ({{ focusline.focus_json_type(expression) }} = 'object' and not {{ focusline.focus_regexp_like('substr(to_json_string(' ~ expression ~ '), 2)', '.*[[{].*') }})
{%- endmacro %}

{#- duckdb: json_structure replaces every value by its type name, so a nested '{' or '[' there is exact -#}
{% macro duckdb__focus_json_is_flat_object(expression) -%}
    ({{ focusline.focus_json_type(expression) }} = 'object' and not regexp_matches(substr(cast(json_structure({{ expression }}) as varchar), 2), '[[{]'))
{%- endmacro %}
