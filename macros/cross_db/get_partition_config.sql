{#-
    Physical layout of an incremental model, for its config(): partition_by and cluster_by.
    Used as partition_by=focusline.get_partition_by('usage_date', 'date'),
    cluster_by=focusline.get_cluster_by(['x_credential_id']).
-#}
{% macro get_partition_by(field, data_type, granularity='day') %}
    {{ return(adapter.dispatch('get_partition_by', 'focusline')(field, data_type, granularity)) }}
{% endmacro %}

{#- DuckDB: no table partitioning (one file per organisation); the config key is ignored as none. -#}
{% macro default__get_partition_by(field, data_type, granularity) %}{{ return(none) }}{% endmacro %}

{#- BigQuery: time-unit column partitioning, so a window rebuild scans and rewrites only its days. -#}
{% macro bigquery__get_partition_by(field, data_type, granularity) %}
    {{ return({'field': field, 'data_type': data_type, 'granularity': granularity}) }}
{% endmacro %}

{% macro get_cluster_by(columns) %}
    {{ return(adapter.dispatch('get_cluster_by', 'focusline')(columns)) }}
{% endmacro %}

{#- DuckDB: no clustering option. -#}
{% macro default__get_cluster_by(columns) %}{{ return(none) }}{% endmacro %}

{#- BigQuery: clustering (up to 4 columns) orders storage inside each partition for cheaper filters. -#}
{% macro bigquery__get_cluster_by(columns) %}{{ return(columns) }}{% endmacro %}
