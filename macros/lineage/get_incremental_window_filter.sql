{#-
    Predicate for the source query of an incremental model: on an incremental run with a date
    window, keep only rows whose date expression falls in it (inclusive); otherwise `true`
    (first build, --full-refresh, or no window: process everything).
-#}
{% macro get_incremental_window_filter(date_expression) %}
    {%- set window = focusline.get_date_window() -%}
    {%- if is_incremental() and window is not none -%}
        {{ return(date_expression ~ " between " ~ focusline.date_literal(window.start_date)
                  ~ " and " ~ focusline.date_literal(window.end_date)) }}
    {%- endif -%}
    {{ return('true') }}
{% endmacro %}
