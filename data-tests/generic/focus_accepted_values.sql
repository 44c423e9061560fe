{#- Fails with each value of an enumerated FOCUS column that the spec does not allow (case-sensitive; nulls pass). -#}
{% test focus_accepted_values(model, column_name) %}

{%- set enumerations = focusline.get_focus_enumerations() %}
{%- if column_name == 'ServiceCategory' %}
    {%- set values = enumerations['ServiceSubcategory'].keys() | list %}
{%- elif column_name == 'ServiceSubcategory' %}
    {%- set values = [] %}
    {%- for subcategories in enumerations['ServiceSubcategory'].values() %}
        {%- do values.extend(subcategories) %}
    {%- endfor %}
{%- else %}
    {%- set values = enumerations[column_name] %}
{%- endif %}

select {{ column_name }} as value_not_allowed, count(*) as row_count
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        {%- for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
    )
group by {{ column_name }}

{% endtest %}
