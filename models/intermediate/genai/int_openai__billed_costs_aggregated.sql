with

costs as (

    select * from {{ ref('stg_openai__costs') }}

),

aggregated as (

    -- line items (when the extract groups by line_item) summed to the project-day, the unit the
    -- usage-based allocation works on
    select
        x_org_slug,
        x_credential_id,
        cost_date,
        project_id,
        billing_currency,
        sum(billed_cost) as billed_cost,
        count(*) as cost_result_count,
        max(x_pipeline_id) as x_pipeline_id,
        max(x_run_id) as x_run_id,
        max(x_ingested_at) as x_ingested_at,
        max(x_ingestion_date) as x_ingestion_date

    from costs
    group by
        x_org_slug,
        x_credential_id,
        cost_date,
        project_id,
        billing_currency

),

final as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            "'openai'", 'x_org_slug', 'x_credential_id', 'cost_date', 'project_id',
        ]) }} as project_day_id,
        'openai' as provider_slug,
        project_id,
        coalesce(project_id, '') as project_key,

        -- dates
        cost_date,

        -- costs
        cast(billed_cost as {{ focusline.type_money() }}) as billed_cost,
        billing_currency,
        cost_result_count,

        -- lineage
        x_org_slug,
        x_pipeline_id,
        x_credential_id,
        cost_date as x_pipeline_run_date,
        x_run_id,
        x_ingested_at,
        x_ingestion_date

    from aggregated

)

select * from final
