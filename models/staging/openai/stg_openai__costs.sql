with

source as (

    select * from {{ source('openai', 'raw_openai_costs') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'bucket_date', 'project_id',
            'line_item', 'api_key_id', 'user_id', 'api_source', 'amount_currency',
        ]) }} as cost_result_id,
        result_object,
        project_id,
        api_key_id,
        user_id,
        api_source,
        line_item,

        -- dates and timestamps (UTC)
        bucket_date as cost_date,
        bucket_start_at,
        bucket_end_at,

        -- costs
        cast(amount_value as {{ focusline.type_money() }}) as billed_cost,
        upper(amount_currency) as billing_currency,
        quantity as line_item_quantity,
        quantity_unit as line_item_quantity_unit,

        -- traceability
        x_request_url,

        -- lineage
        x_org_slug,
        x_pipeline_id,
        x_credential_id,
        x_pipeline_run_date,
        x_run_id,
        x_ingested_at,
        x_ingestion_date

    from source
    where {{ focusline.get_org_slug_filter('x_org_slug') }}

),

final as (

    select * from renamed

)

select * from final
