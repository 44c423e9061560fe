{#- The JSON type of a JSON value, normalised to object | array | string | number | boolean | null. -#}
{% macro focus_json_type(expression) %}{{ return(adapter.dispatch('focus_json_type', 'focusline')(expression)) }}{% endmacro %}

{% macro default__focus_json_type(expression) %}lower(json_type({{ expression }})){% endmacro %}

{#- duckdb: json_type names SQL types (VARCHAR, UBIGINT, DOUBLE ...) -#}
{% macro duckdb__focus_json_type(expression) -%}
    case
        when json_type({{ expression }}) = 'VARCHAR' then 'string'
        when json_type({{ expression }}) in ('BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT', 'DOUBLE') then 'number'
        else lower(json_type({{ expression }}))
    end
{%- endmacro %}
