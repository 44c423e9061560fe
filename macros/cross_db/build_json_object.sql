{#-
    A flat JSON object from a list of (key, sql_expression) pairs; keys are literals written here
    by the caller. json_object(k1, v1, ...) has the same shape on DuckDB and BigQuery, so no
    dispatch is needed; kept as a macro so models name no engine function directly.
-#}
{% macro build_json_object(pairs) %}
    json_object({% for key, value in pairs %}'{{ key }}', {{ value }}{{ ", " if not loop.last }}{% endfor %})
{% endmacro %}
