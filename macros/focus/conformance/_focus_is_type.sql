{#- True when an engine column type (lower case, from adapter.get_columns_in_relation) is of the FOCUS data type. -#}
{% macro _focus_is_type(column_type, focus_type) %}
    {%- set base = column_type.split('(')[0].strip() -%}
    {%- set families = {
        'Decimal': ['decimal', 'numeric', 'bignumeric', 'double', 'float', 'float64', 'float8', 'real', 'double precision'],
        'String': ['varchar', 'string', 'text', 'char', 'character varying', 'json'],
        'DateTime': ['timestamp', 'timestamptz', 'timestamp with time zone', 'datetime'],
    } -%}
    {{ return(base in families[focus_type]) }}
{% endmacro %}
