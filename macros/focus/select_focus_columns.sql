{#-
    The select list of a FOCUS table: every column of get_focus_columns(), in order, cast to its
    type. `mapped` is a dict {column name: SQL expression} for the columns a provider fills; every
    other column becomes a typed NULL (the Fivetran fill pattern), so all providers union cleanly.
    A key that is not a FOCUS/x_ column stops compilation (catches typos).
-#}
{% macro select_focus_columns(mapped) %}
    {%- set columns = focusline.get_focus_columns() -%}
    {%- set known = columns | map(attribute='name') | list -%}
    {%- for key in mapped -%}
        {%- if key not in known -%}
            {{ exceptions.raise_compiler_error("select_focus_columns: " ~ key ~ " is not a column of get_focus_columns()") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in columns %}
        cast({{ mapped[column.name] if column.name in mapped else 'null' }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}
