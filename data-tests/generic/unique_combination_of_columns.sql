{#- Fails with each combination of the columns that occurs more than once (nulls compare equal, as in GROUP BY). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

validation as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from validation

{% endtest %}
