{#-
    A JSON value from its serialised text (NULL when the text is NULL or not valid JSON): e.g. a
    provider's JSON extension column that a CSV delivered as text.
-#}
{% macro parse_json_text(text) %}
    {{ return(adapter.dispatch('parse_json_text', 'focusline')(text)) }}
{% endmacro %}

{% macro default__parse_json_text(text) -%}
    try_cast({{ text }} as json)
{%- endmacro %}

{% macro bigquery__parse_json_text(text) -%}
    safe.parse_json({{ text }})
{%- endmacro %}
