{#-
    Print get_focus_columns() as one JSON line (for tests/dbt and docs tooling):
    dbt --quiet run-operation print_focus_columns
-#}
{% macro print_focus_columns() %}
    {{ print(tojson(focusline.get_focus_columns())) }}
{% endmacro %}
