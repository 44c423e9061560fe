with

source as (

    select * from {{ source('aws_cur', 'raw_aws_cur') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'x_source_file', 'x_source_row_number',
        ]) }} as line_item_row_id,
        identity_line_item_id as aws_line_item_id,
        identity_time_interval as aws_time_interval,
        bill_payer_account_id as payer_account_id,
        bill_payer_account_name as payer_account_name,
        line_item_usage_account_id as usage_account_id,
        line_item_usage_account_name as usage_account_name,
        bill_invoice_id as invoice_id,
        line_item_resource_id as resource_id,
        product_sku as sku_id,
        pricing_rate_code as pricing_rate_code,
        pricing_rate_id as pricing_rate_id,
        reservation_reservation_a_r_n as reservation_arn,
        savings_plan_savings_plan_a_r_n as savings_plan_arn,
        capacity_reservation_capacity_reservation_arn as capacity_reservation_arn,
        capacity_reservation_capacity_reservation_status as capacity_reservation_status,

        -- classification
        line_item_line_item_type as aws_line_item_type,
        bill_bill_type as aws_bill_type,
        bill_billing_entity as billing_entity,
        bill_invoicing_entity as invoicing_entity,
        line_item_legal_entity as legal_entity,
        line_item_product_code as aws_product_code,
        coalesce(product_servicecode, line_item_product_code) as aws_service_code,
        {{ focusline.json_extract_string('product', 'product_name') }} as product_name,
        {{ focusline.json_extract_string('product', 'product_family') }} as product_family,
        line_item_usage_type as aws_usage_type,
        line_item_operation as aws_operation,
        line_item_line_item_description as line_item_description,
        line_item_availability_zone as availability_zone,
        coalesce(product_region_code, {{ focusline.json_extract_string('product', 'region') }}) as region_id,
        product_location as region_name,
        pricing_term as pricing_term,
        pricing_purchase_option as pricing_purchase_option,
        pricing_unit as pricing_unit,
        pricing_currency as pricing_currency,
        line_item_currency_code as billing_currency,

        -- dates and timestamps (UTC)
        usage_date,
        billing_period as billing_period_date,
        bill_billing_period_start_date as billing_period_start_at,
        bill_billing_period_end_date as billing_period_end_at,
        line_item_usage_start_date as usage_start_at,
        line_item_usage_end_date as usage_end_at,

        -- quantities
        line_item_usage_amount as usage_amount,
        reservation_total_reserved_units as reservation_total_reserved_units,
        reservation_unused_quantity as reservation_unused_quantity,

        -- costs (the CUR's own precision; FOCUS rounds to its money type)
        line_item_unblended_cost as unblended_cost,
        line_item_unblended_rate as unblended_rate,
        line_item_net_unblended_cost as net_unblended_cost,
        pricing_public_on_demand_cost as public_on_demand_cost,
        pricing_public_on_demand_rate as public_on_demand_rate,
        reservation_effective_cost as reservation_effective_cost,
        reservation_unused_amortized_upfront_fee_for_billing_period as reservation_unused_amortized_upfront_fee,
        reservation_unused_recurring_fee as reservation_unused_recurring_fee,
        savings_plan_savings_plan_effective_cost as savings_plan_effective_cost,
        savings_plan_total_commitment_to_date as savings_plan_total_commitment_to_date,
        savings_plan_used_commitment as savings_plan_used_commitment,

        -- maps (JSON objects)
        resource_tags,
        cost_category,

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
