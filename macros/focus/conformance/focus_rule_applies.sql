{#-
    True when every ApplicabilityCriteria name a rule depends on (its own and its parent composites')
    is declared for this dataset by var('focus_applicability_criteria'). A rule that does not apply
    compiles to a query without rows; `run.py conformance` reports it as not-applicable.
-#}
{% macro focus_rule_applies(applicability) %}
    {%- set declared = var('focus_applicability_criteria', []) -%}
    {%- for criterion in applicability -%}
        {%- if criterion not in declared -%}{{ return(false) }}{%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{% endmacro %}
