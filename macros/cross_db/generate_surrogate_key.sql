{#-
    A deterministic string key from several columns (the dbt_utils idea, written here because Hub
    packages are unreachable). Nulls become '_null_' so (a, null) and (a, '') differ; parts are
    joined with '|'.
-#}
{% macro generate_surrogate_key(columns) %}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ return(dbt.hash(dbt.concat(parts))) }}
{% endmacro %}
