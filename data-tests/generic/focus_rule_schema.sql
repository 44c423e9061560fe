{#-
    One FOCUS 1.3 requirements-model rule about the table's shape: ColumnPresent, or TypeDecimal /
    TypeString / TypeDateTime (the engine type of the column, read from the relation). Fails with one
    row naming the column and its actual type.
-#}
{% test focus_rule_schema(model, rule_id, requirement, applicability=[]) %}

{%- set column_types = focusline.focus_column_types(model) %}
{%- set column = requirement['ColumnName'] %}
{%- set check = requirement['CheckFunction'] %}
{%- set actual = column_types.get(column) %}
{%- if not execute or not focusline.focus_rule_applies(applicability) %}
    {%- set ok = true %}
{%- elif check == 'ColumnPresent' %}
    {%- set ok = actual is not none %}
{%- else %}
    {%- set ok = actual is not none and focusline._focus_is_type(actual, check[4:]) %}
{%- endif %}
select '{{ rule_id }}' as rule_id, '{{ column }}' as column_name, '{{ actual or "missing" }}' as actual_type
{%- if ok %}
where 1 = 0
{%- endif %}

{% endtest %}
