{#-
    pre_hook for the incremental models: before new rows are inserted, delete every target row of
    the days being rebuilt (the date window, or all days when no window is set). The strategy's
    own delete (by unique_key) only removes keys that reappear; this hook also removes rows whose
    source disappeared, so a re-run of any window leaves exactly what the sources say.
    On DuckDB the hook runs inside the model's transaction (dbt-duckdb runs inside_transaction
    pre-hooks after BEGIN), so a failed build leaves the table unchanged.
-#}
{% macro delete_incremental_window(date_expression) %}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set window = focusline.get_date_window() -%}
    {%- if window is none -%}
        {{ return('delete from ' ~ this ~ ' where true') }}
    {%- endif -%}
    {{ return('delete from ' ~ this ~ ' where ' ~ date_expression ~ ' between '
              ~ focusline.date_literal(window.start_date) ~ ' and ' ~ focusline.date_literal(window.end_date)) }}
{% endmacro %}
