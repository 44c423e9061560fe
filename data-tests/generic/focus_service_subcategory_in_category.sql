{#- Fails with each (ServiceCategory, ServiceSubcategory) pair where the subcategory does not belong to the category. -#}
{% test focus_service_subcategory_in_category(model) %}

{%- set subcategories = focusline.get_focus_enumerations()['ServiceSubcategory'] %}

with

allowed as (

    {% for category, names in subcategories.items() -%}
    {% for name in names -%}
    select '{{ category }}' as service_category, '{{ name }}' as service_subcategory
    {{ "union all" if not loop.last }}
    {% endfor -%}
    {{ "union all" if not loop.last }}
    {% endfor %}

),

pairs as (

    select distinct ServiceCategory as service_category, ServiceSubcategory as service_subcategory
    from {{ model }}
    where ServiceSubcategory is not null

)

select pairs.*
from pairs
left join allowed
    on pairs.service_category = allowed.service_category
    and pairs.service_subcategory = allowed.service_subcategory
where allowed.service_category is null

{% endtest %}
