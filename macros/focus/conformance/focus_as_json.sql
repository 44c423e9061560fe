{#- The column as a JSON value: as is when it is JSON-typed, else parsed from text (invalid JSON -> null). -#}
{% macro focus_as_json(column, column_type) %}{{ return(adapter.dispatch('focus_as_json', 'focusline')(column, column_type)) }}{% endmacro %}

{% macro default__focus_as_json(column, column_type) %}{% if column_type.startswith('json') %}{{ column }}{% else %}try_cast({{ column }} as json){% endif %}{% endmacro %}

{#- bigquery: SAFE.PARSE_JSON for STRING columns -#}
{% macro bigquery__focus_as_json(column, column_type) %}{% if column_type.startswith('json') %}{{ column }}{% else %}safe.parse_json({{ column }}){% endif %}{% endmacro %}
