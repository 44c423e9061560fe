{#-
    One FOCUS 1.3 requirements-model rule checked row by row (generated: models/conformance/_focus_conformance.yml).
    Fails with each row where the Condition holds and the Requirement does not (both CheckFunction
    trees, compiled by focus_check_sql). A rule whose ApplicabilityCriteria are not declared returns no rows.
-#}
{% test focus_rule_rows(model, rule_id, requirement, condition={}, applicability=[]) %}

{%- set column_types = focusline.focus_column_types(model) %}
{%- if not focusline.focus_rule_applies(applicability) %}
select '{{ rule_id }}' as rule_id where 1 = 0
{%- else %}
select '{{ rule_id }}' as rule_id, *
from {{ model }}
where
    {% if condition %}coalesce({{ focusline.focus_check_sql(condition, column_types) }}, false) and {% endif -%}
    not coalesce({{ focusline.focus_check_sql(requirement, column_types) }}, true)
{%- endif %}

{% endtest %}
