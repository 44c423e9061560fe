{#-
    Canonical model id from a provider model id: strip a trailing dated-snapshot suffix
    (-YYYY-MM-DD), e.g. gpt-5.4-2026-03-05 -> gpt-5.4; lower-cased and trimmed. Same RE2 pattern on
    DuckDB and BigQuery ([0-9] instead of \d to avoid string-escape differences).
-#}
{% macro canonicalize_model_id(column_name) %}
    regexp_replace(lower(trim({{ column_name }})), '-[0-9]{4}-[0-9]{2}-[0-9]{2}$', '')
{% endmacro %}
