with

source as (

    select * from {{ source('gcp_billing', 'raw_gcp_billing') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'x_source_file', 'x_source_row_number',
        ]) }} as line_item_row_id,
        billing_account_id,
        project_id,
        project_number,
        project_name,
        project_ancestry_numbers,
        service_id,
        service_description,
        sku_id,
        sku_description,
        resource_name,
        resource_global_name,
        subscription_instance_id,
        consumption_model_id,
        consumption_model_description,

        -- classification
        cost_type,
        invoice_month,
        invoice_publisher_type,
        transaction_type,
        seller_name,
        adjustment_info_id,
        adjustment_info_description,
        adjustment_info_type,
        adjustment_info_mode,
        location_location,
        location_country,
        location_region,
        location_zone,
        currency as billing_currency,
        credit_types,
        commitment_credit_type,
        commitment_credit_id,
        commitment_credit_name,
        promotion_credit_names,

        -- dates and timestamps (UTC)
        usage_date,
        billing_period as billing_period_date,
        cast(billing_period as timestamp) as invoice_month_start_at,
        usage_start_time as usage_start_at,
        usage_end_time as usage_end_at,
        export_time as exported_at,

        -- quantities and prices
        usage_amount,
        usage_unit,
        usage_amount_in_pricing_units,
        usage_pricing_unit,
        price_effective_price,
        price_list_price,
        price_tier_start_amount,
        price_unit,
        price_pricing_unit_quantity,
        currency_conversion_rate,

        -- costs (the export's precision; FOCUS rounds to its money type)
        cost,
        cost_at_list,
        cost_at_effective_price_default,
        cost_at_list_consumption_model,
        credits_amount,
        credits_amount - credits_promotion_amount as discount_credits_amount,
        credits_promotion_amount as promotion_credits_amount,
        commitment_credit_amount,

        -- labels and tags (JSON)
        tags_object,
        labels,
        system_labels,
        project_labels,

        -- traceability
        x_source_format,
        x_source_file,
        x_source_row_number,
        x_export_version,

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
