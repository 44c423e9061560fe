with

source as (

    select * from {{ source('focus_export', 'raw_focus_export') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'x_source_file', 'x_source_row_number',
        ]) }} as charge_row_id,
        billing_account_id,
        billing_account_name,
        billing_account_type,
        sub_account_id,
        sub_account_name,
        sub_account_type,
        invoice_id,
        resource_id,
        resource_name,
        resource_type,
        sku_id,
        sku_price_id,
        sku_meter,
        commitment_discount_id,
        commitment_discount_name,
        capacity_reservation_id,
        allocated_method_id,
        allocated_resource_id,
        allocated_resource_name,

        -- classification (as delivered, in the source's FOCUS version)
        x_focus_version as source_focus_version,
        x_source_focus_columns as source_focus_columns,
        x_provider_hint as provider_hint,
        provider_name,
        publisher_name,
        service_provider_name,
        host_provider_name,
        invoice_issuer_name,
        service_category,
        service_subcategory,
        service_name,
        charge_category,
        charge_subcategory,
        charge_class,
        charge_frequency,
        charge_description,
        pricing_category,
        commitment_discount_category,
        commitment_discount_status,
        commitment_discount_type,
        commitment_discount_unit,
        capacity_reservation_status,
        availability_zone,
        region_id,
        region_name,
        pricing_unit,
        consumed_unit,
        billing_currency,
        pricing_currency,
        {{ focusline.json_extract_string('x_unmapped_columns', 'x_ServiceCode') }} as x_service_code,
        {{ focusline.json_extract_string('x_unmapped_columns', 'x_UsageType') }} as x_usage_type,
        {{ focusline.json_extract_string('x_unmapped_columns', 'x_Operation') }} as x_operation,

        -- timestamps (UTC)
        billing_period_start as billing_period_start_at,
        billing_period_end as billing_period_end_at,
        charge_period_start as charge_period_start_at,
        charge_period_end as charge_period_end_at,

        -- dates
        usage_date,
        billing_period as billing_period_date,

        -- quantities
        pricing_quantity,
        consumed_quantity,
        commitment_discount_quantity,

        -- costs and prices (DECIMAL(38,9))
        billed_cost,
        effective_cost,
        list_cost,
        contracted_cost,
        list_unit_price,
        contracted_unit_price,
        pricing_currency_list_unit_price,
        pricing_currency_contracted_unit_price,
        pricing_currency_effective_cost,

        -- JSON
        tags,
        sku_price_details,
        contract_applied,
        allocated_method_details,
        allocated_tags,
        {{ focusline.json_extract_string('x_unmapped_columns', 'x_CostCategories') }} as x_cost_categories,
        x_unmapped_columns,

        -- traceability
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
