{#- The incremental strategy for this engine (used in config() of the incremental models). -#}
{% macro get_incremental_strategy() %}
    {{ return(adapter.dispatch('get_incremental_strategy', 'focusline')()) }}
{% endmacro %}

{#- DuckDB: delete+insert (one transaction with the window-delete pre_hook). -#}
{% macro default__get_incremental_strategy() %}{{ return('delete+insert') }}{% endmacro %}

{#- BigQuery has no delete+insert strategy; merge on the row key. -#}
{% macro bigquery__get_incremental_strategy() %}{{ return('merge') }}{% endmacro %}
