with

usage_lines as (

    select * from {{ ref('int_genai_usage_priced') }}

),

billed_project_days as (

    select * from {{ ref('int_openai__billed_costs_aggregated') }}

),

billed_cost_results as (

    select * from {{ ref('stg_openai__costs') }}

),

usage_project_days as (

    select
        provider_slug,
        x_org_slug,
        x_credential_id,
        usage_date,
        coalesce(project_id, '') as project_key,
        sum(list_cost) as project_day_list_cost,
        sum(token_count) as project_day_token_count

    from usage_lines
    group by
        provider_slug,
        x_org_slug,
        x_credential_id,
        usage_date,
        coalesce(project_id, '')

),

usage_lines_weighted as (

    -- weight = list cost; token share when the project-day has no list cost at all
    select
        usage_lines.*,
        billed_project_days.billed_cost as project_day_billed_cost,
        billed_project_days.billing_currency as billed_currency,
        case
            when usage_project_days.project_day_list_cost <> 0 then usage_lines.list_cost
            else cast(usage_lines.token_count as {{ focusline.type_money() }})
        end as allocation_weight,
        case
            when usage_project_days.project_day_list_cost <> 0 then usage_project_days.project_day_list_cost
            else cast(usage_project_days.project_day_token_count as {{ focusline.type_money() }})
        end as allocation_total

    from usage_lines
    inner join usage_project_days
        on usage_lines.provider_slug = usage_project_days.provider_slug
        and usage_lines.x_org_slug = usage_project_days.x_org_slug
        and usage_lines.x_credential_id = usage_project_days.x_credential_id
        and usage_lines.usage_date = usage_project_days.usage_date
        and coalesce(usage_lines.project_id, '') = usage_project_days.project_key
    left join billed_project_days
        on usage_lines.provider_slug = billed_project_days.provider_slug
        and usage_lines.x_org_slug = billed_project_days.x_org_slug
        and usage_lines.x_credential_id = billed_project_days.x_credential_id
        and usage_lines.usage_date = billed_project_days.cost_date
        and coalesce(usage_lines.project_id, '') = billed_project_days.project_key

),

billed_parts as (

    select
        *,
        coalesce(
            {{ focusline.allocate_amount('project_day_billed_cost', 'allocation_weight', 'allocation_total') }},
            cast(0 as {{ focusline.type_money() }})
        ) as allocated_part,
        row_number() over (
            partition by provider_slug, x_org_slug, x_credential_id, usage_date, coalesce(project_id, '')
            order by allocation_weight desc, usage_line_id
        ) as weight_rank

    from usage_lines_weighted
    where project_day_billed_cost is not null

),

billed_parts_with_residual as (

    -- truncation leaves a few 1e-9 units over; the largest row takes them so parts sum exactly
    select
        *,
        project_day_billed_cost - sum(allocated_part) over (
            partition by provider_slug, x_org_slug, x_credential_id, usage_date, coalesce(project_id, '')
        ) as residual

    from billed_parts

),

usage_lines_billed as (

    select
        usage_line_id,
        cast(
            allocated_part + case when weight_rank = 1 then residual else 0 end
            as {{ focusline.type_money() }}
        ) as billed_cost,
        billed_currency

    from billed_parts_with_residual

),

usage_lines_costed as (

    select
        usage_lines.usage_line_id as charge_row_id,
        usage_lines.provider_slug,
        usage_lines.usage_endpoint,
        usage_lines.model_id,
        usage_lines.canonical_model_id,
        usage_lines.project_id,
        usage_lines.api_key_id,
        usage_lines.price_id,
        cast(null as {{ dbt.type_string() }}) as line_item,
        usage_lines.price_tier,
        usage_lines.token_type,
        usage_lines.usage_date as charge_date,
        usage_lines.token_count,
        usage_lines.million_token_count,
        usage_lines.list_unit_price,
        usage_lines.list_cost,
        usage_lines.list_cost as estimated_cost,
        coalesce(usage_lines_billed.billed_cost, usage_lines.list_cost) as billed_cost,
        coalesce(usage_lines_billed.billed_currency, 'USD') as billing_currency,
        case
            when usage_lines_billed.usage_line_id is not null then 'billed'
            when usage_lines.is_priced then 'estimated'
            else 'unpriced'
        end as cost_source,
        usage_lines.price_model_pattern,
        usage_lines.price_valid_from,
        usage_lines.price_source,
        usage_lines.x_org_slug,
        usage_lines.x_pipeline_id,
        usage_lines.x_credential_id,
        usage_lines.x_pipeline_run_date,
        usage_lines.x_run_id,
        usage_lines.x_ingested_at,
        usage_lines.x_ingestion_date

    from usage_lines
    left join usage_lines_billed
        on usage_lines.usage_line_id = usage_lines_billed.usage_line_id

),

billed_without_usage as (

    -- billed amounts of project-days with no usage line: kept as their own rows, nothing lost
    select
        billed_cost_results.cost_result_id as charge_row_id,
        'openai' as provider_slug,
        cast(null as {{ dbt.type_string() }}) as usage_endpoint,
        cast(null as {{ dbt.type_string() }}) as model_id,
        cast(null as {{ dbt.type_string() }}) as canonical_model_id,
        billed_cost_results.project_id,
        billed_cost_results.api_key_id,
        cast(null as {{ dbt.type_string() }}) as price_id,
        billed_cost_results.line_item,
        cast(null as {{ dbt.type_string() }}) as price_tier,
        cast(null as {{ dbt.type_string() }}) as token_type,
        billed_cost_results.cost_date as charge_date,
        cast(null as {{ focusline.type_bigint() }}) as token_count,
        cast(null as {{ focusline.type_money() }}) as million_token_count,
        cast(null as {{ focusline.type_money() }}) as list_unit_price,
        billed_cost_results.billed_cost as list_cost,
        cast(null as {{ focusline.type_money() }}) as estimated_cost,
        billed_cost_results.billed_cost,
        billed_cost_results.billing_currency,
        'billed' as cost_source,
        cast(null as {{ dbt.type_string() }}) as price_model_pattern,
        cast(null as date) as price_valid_from,
        cast(null as {{ dbt.type_string() }}) as price_source,
        billed_cost_results.x_org_slug,
        billed_cost_results.x_pipeline_id,
        billed_cost_results.x_credential_id,
        billed_cost_results.x_pipeline_run_date,
        billed_cost_results.x_run_id,
        billed_cost_results.x_ingested_at,
        billed_cost_results.x_ingestion_date

    from billed_cost_results
    left join usage_project_days
        on usage_project_days.provider_slug = 'openai'
        and billed_cost_results.x_org_slug = usage_project_days.x_org_slug
        and billed_cost_results.x_credential_id = usage_project_days.x_credential_id
        and billed_cost_results.cost_date = usage_project_days.usage_date
        and coalesce(billed_cost_results.project_id, '') = usage_project_days.project_key
    where usage_project_days.project_key is null

),

final as (

    select * from usage_lines_costed
    union all
    select * from billed_without_usage

)

select * from final
