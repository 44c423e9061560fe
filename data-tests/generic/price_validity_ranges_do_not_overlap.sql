{#- Fails with each pair of price-book rows for the same (provider, model_pattern, token_type, service_tier) whose [valid_from, valid_to) ranges overlap. -#}
{% test price_validity_ranges_do_not_overlap(model) %}

select
    earlier.provider,
    earlier.model_pattern,
    earlier.token_type,
    earlier.service_tier,
    earlier.valid_from as earlier_valid_from,
    later.valid_from as later_valid_from
from {{ model }} as earlier
inner join {{ model }} as later
    on earlier.provider = later.provider
    and earlier.model_pattern = later.model_pattern
    and earlier.token_type = later.token_type
    and earlier.service_tier = later.service_tier
    and earlier.valid_from < later.valid_from
where earlier.valid_to is null or earlier.valid_to > later.valid_from

{% endtest %}
