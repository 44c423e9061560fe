{#-
    One FOCUS 1.3 requirements-model CheckDistinctCount rule: each non-null ColumnA value has exactly
    ExpectedCount distinct ColumnB values (rows where the Condition holds). Fails with each ColumnA value that does not.
-#}
{% test focus_rule_distinct_count(model, rule_id, requirement, condition={}, applicability=[]) %}

{%- set column_types = focusline.focus_column_types(model) %}
{%- set column_a, column_b = requirement['ColumnAName'], requirement['ColumnBName'] %}
select '{{ rule_id }}' as rule_id, {{ column_a }} as value, count(distinct {{ column_b }}) as distinct_count
from {{ model }}
where {{ column_a }} is not null
    {%- if condition %} and coalesce({{ focusline.focus_check_sql(condition, column_types) }}, false){% endif %}
    {%- if not focusline.focus_rule_applies(applicability) %} and 1 = 0{% endif %}
group by {{ column_a }}
having count(distinct {{ column_b }}) <> {{ requirement['ExpectedCount'] }}

{% endtest %}
