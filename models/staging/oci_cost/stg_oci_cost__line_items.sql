with

source as (

    select * from {{ source('oci_cost', 'raw_oci_cost') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'x_source_file', 'x_source_row_number',
        ]) }} as line_item_row_id,
        line_item_reference_no as reference_no,
        line_item_back_reference_no as back_reference_no,
        line_item_tenant_id as tenant_id,
        line_item_tenant_name as tenant_name,
        cost_subscription_id as subscription_id,
        product_compartment_id as compartment_id,
        product_compartment_name as compartment_name,
        product_compartment_path as compartment_path,
        product_resource_id as resource_id,
        cost_product_sku as sku_id,

        -- classification
        x_source_format as report_type,
        coalesce(line_item_is_correction, false) as is_correction,
        product_service as oci_service,
        product_resource as oci_resource,
        product_description as description,
        product_region as region,
        product_availability_domain as availability_domain,
        cost_sku_unit_description as sku_unit_description,
        cost_billing_unit_readable as billing_unit_readable,
        usage_consumed_quantity_units as consumed_quantity_units,
        usage_consumed_quantity_measure as consumed_quantity_measure,
        cost_overage_flag as overage_flag,
        upper(coalesce(cost_currency_code, x_assumed_currency_code)) as billing_currency,
        cost_currency_code is null as is_currency_assumed,

        -- dates and timestamps (UTC)
        usage_date,
        billing_period as billing_period_date,
        cast(billing_period as {{ dbt.type_timestamp() }}) as billing_period_start_at,
        line_item_interval_usage_start as usage_start_at,
        line_item_interval_usage_end as usage_end_at,

        -- quantities
        usage_billed_quantity as billed_quantity,
        usage_billed_quantity_overage as billed_quantity_overage,
        usage_consumed_quantity as consumed_quantity,
        usage_attributed_usage as attributed_usage,

        -- costs and prices (the report's own precision; FOCUS rounds to its money type)
        cost_my_cost as my_cost,
        cost_my_cost_overage as my_cost_overage,
        cost_attributed_cost as attributed_cost,
        cost_unit_price as unit_price,
        cost_unit_price_overage as unit_price_overage,

        -- maps (JSON objects)
        tags,

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
