{#- {column name: lower-case engine type} of a relation, read when the test executes ({} while parsing). -#}
{% macro focus_column_types(relation) %}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name: column.dtype | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{% endmacro %}
