{#-
    Compiles one node of a FOCUS requirements-model CheckFunction tree (model-1.3.json) to a SQL
    boolean over one row of the model. Null semantics: CheckValue / comparisons / formats are
    three-valued (a null column makes them unknown, which the caller treats as "passes" in a
    Requirement and "does not apply" in a Condition); CheckNotValue is two-valued (a null column is
    "not the value"), so "ChargeClass is not Correction" holds for a null ChargeClass.
    column_types: {column name: engine type}, used by the format checks (a typed DECIMAL or
    TIMESTAMP column satisfies NumericFormat / DateTimeFormat by construction).
    Extension nodes (x_ prefix) are the generator's own, see orchestrator/conformance.py.
-#}
{% macro focus_check_sql(node, column_types={}) %}
    {%- set fn = node['CheckFunction'] -%}
    {%- set column = node.get('ColumnName') -%}
    {%- set column_type = (column_types.get(column) or '') | lower -%}
    {%- if fn in ('AND', 'OR') -%}
        ({% for item in node['Items'] %}{{ focusline.focus_check_sql(item, column_types) }}{{ (' ' ~ (fn | lower) ~ ' ') if not loop.last }}{% endfor %})
    {%- elif fn == 'CheckValue' -%}
        {%- if node['Value'] is none -%}({{ column }} is null){%- else -%}({{ column }} = {{ focusline.focus_sql_literal(node['Value']) }}){%- endif -%}
    {%- elif fn == 'CheckNotValue' -%}
        {%- if node['Value'] is none -%}({{ column }} is not null){%- else -%}({{ column }} is null or {{ column }} <> {{ focusline.focus_sql_literal(node['Value']) }}){%- endif -%}
    {%- elif fn == 'CheckGreaterOrEqualThanValue' -%}
        ({{ column }} >= {{ focusline.focus_sql_literal(node['Value']) }})
    {%- elif fn == 'x_CheckColumnGreaterThanColumn' -%}
        ({{ node['ColumnAName'] }} > {{ node['ColumnBName'] }})
    {%- elif fn == 'CheckSameValue' -%}
        ({{ node['ColumnAName'] }} = {{ node['ColumnBName'] }})
    {%- elif fn == 'ColumnByColumnEqualsColumnValue' -%}
        {%- set double = focusline.focus_type_double() -%}
        {%- set result = 'cast(' ~ node['ResultColumnName'] ~ ' as ' ~ double ~ ')' -%}
        (abs(cast({{ node['ColumnAName'] }} as {{ double }}) * cast({{ node['ColumnBName'] }} as {{ double }}) - {{ result }})
            <= {{ var('focus_conformance_abs_tolerance', 0.000001) }} + {{ var('focus_conformance_rel_tolerance', 0.000001) }} * abs({{ result }}))
    {%- elif fn in ('CheckDecimalValue', 'FormatNumeric') -%}
        {%- if focusline._focus_is_type(column_type, 'Decimal') -%}({{ column }} is null or {{ column }} is not null)
        {%- else -%}{{ focusline.focus_regexp_like(column, '^-?[0-9]+([.][0-9]+)?([eE]-?[0-9]+)?$') }}{%- endif -%}
    {%- elif fn == 'FormatDateTime' -%}
        {%- if focusline._focus_is_type(column_type, 'DateTime') -%}({{ column }} is null or {{ column }} is not null)
        {%- else -%}{{ focusline.focus_regexp_like(column, '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$') }}{%- endif -%}
    {%- elif fn == 'FormatUnit' -%}
        {{ focusline.focus_regexp_like(column, '^([1-9][0-9]* )?[A-Za-z]([A-Za-z0-9 /-]*[A-Za-z0-9])?$') }}
    {%- elif fn in ('CheckNationalCurrency', 'FormatCurrency') -%}
        {%- set codes -%}({% for code in node['x_AllowedValues'] %}'{{ code }}'{{ ', ' if not loop.last }}{% endfor %}){%- endset -%}
        {%- if fn == 'CheckNationalCurrency' -%}({{ column }} in {{ codes }})
        {#- FormatCurrency also allows virtual currencies (StringHandling): a three-letter code must be an ISO 4217 one -#}
        {%- else -%}({{ column }} in {{ codes }} or not {{ focusline.focus_regexp_like(column, '^[A-Za-z]{3}$') }}){%- endif -%}
    {%- elif fn == 'FormatKeyValue' -%}
        {{ focusline.focus_json_is_flat_object(focusline.focus_as_json(column, column_type)) }}
    {%- elif fn == 'FormatJSON' -%}
        ({{ focusline.focus_json_type(focusline.focus_as_json(column, column_type)) }} = 'object')
    {%- elif fn.startswith('JSON') -%}
        {{ focusline._focus_json_path_check_sql(node, focusline.focus_as_json(column or node['ColumnAName'], column_type or (column_types.get(node.get('ColumnAName')) or '') | lower)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("focus_check_sql: unsupported CheckFunction " ~ fn) }}
    {%- endif -%}
{% endmacro %}
