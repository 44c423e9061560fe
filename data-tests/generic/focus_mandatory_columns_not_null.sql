{#-
    Fails with each row where a FOCUS column whose spec content constraint is "Allows nulls: False"
    (get_focus_columns(), allows_nulls = false; includes the non-null x_ lineage columns) is NULL.
-#}
{% test focus_mandatory_columns_not_null(model) %}

{%- set required = focusline.get_focus_columns() | rejectattr('allows_nulls') | map(attribute='name') | list %}

select
    {% for name in required -%}
    case when {{ name }} is null then '{{ name }}' end as {{ name }}_null{{ "," if not loop.last }}
    {% endfor %}
from {{ model }}
where
    {% for name in required -%}
    {{ name }} is null{{ " or" if not loop.last }}
    {% endfor %}

{% endtest %}
