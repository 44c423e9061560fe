with

source as (

    select * from {{ source('azure_cost', 'raw_azure_cost') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'x_source_file', 'x_source_row_number',
        ]) }} as cost_row_id,
        invoice_id,
        billing_account_id,
        billing_account_name,
        billing_profile_id,
        billing_profile_name,
        -- FOCUS billing account: EA billing account (enrollment), MCA billing profile (the invoice),
        -- legacy usage details: the subscription (pay-as-you-go subscriptions are billed directly)
        case
            when x_source_format = 'mca' then coalesce(billing_profile_id, billing_account_id)
            else coalesce(billing_account_id, subscription_id)
        end as focus_billing_account_id,
        case
            when x_source_format = 'mca' then coalesce(billing_profile_name, billing_account_name)
            else coalesce(billing_account_name, subscription_name)
        end as focus_billing_account_name,
        case
            when x_source_format = 'mca' and billing_profile_id is not null then 'Billing Profile'
            when billing_account_id is not null then 'Billing Account'
            else 'Subscription'
        end as focus_billing_account_type,
        invoice_section_id,
        invoice_section_name,
        subscription_id,
        subscription_name,
        resource_group,
        resource_id,
        resource_name,
        resource_type,
        resource_location,
        resource_location_normalized,
        availability_zone,
        product_id,
        part_number,
        meter_id,
        meter_name,
        meter_category,
        meter_sub_category,
        meter_region,
        consumed_service,
        product_name,
        service_family,
        unit_of_measure,
        publisher_type,
        publisher_name,
        partner_name,
        benefit_id,
        benefit_name,
        reservation_id,
        reservation_name,
        term,

        -- classification (spellings normalised; legacy usage details have no ChargeType: Usage)
        coalesce(charge_type, 'Usage') as charge_type,
        case replace(lower(pricing_model), ' ', '')
            when 'ondemand' then 'OnDemand'
            when 'reservation' then 'Reservation'
            when 'savingsplan' then 'SavingsPlan'
            when 'savingsplans' then 'SavingsPlan'
            when 'spot' then 'Spot'
            else pricing_model
        end as pricing_model,
        case replace(lower(frequency), ' ', '')
            when 'onetime' then 'OneTime'
            when 'recurring' then 'Recurring'
            when 'usagebased' then 'UsageBased'
            else frequency
        end as frequency,
        x_cost_dataset as cost_dataset,
        x_source_format as source_format,

        -- dates and timestamps (UTC)
        usage_date,
        billing_period as billing_period_date,
        cast(billing_period as timestamp) as billing_period_start_at,
        cast(billing_period_end as timestamp) as billing_period_end_at,
        cast(usage_date as timestamp) as charge_period_start_at,
        cast({{ dbt.dateadd('day', 1, 'usage_date') }} as timestamp) as charge_period_end_at,

        -- quantities, prices and costs (the export's precision; FOCUS rounds to its money type)
        quantity,
        effective_price,
        unit_price,
        payg_price,
        upper(billing_currency) as billing_currency,
        upper(coalesce(pricing_currency, billing_currency)) as pricing_currency,
        -- prices of MCA rows are in the pricing currency; EA and legacy rows price in the billing currency
        coalesce(
            exchange_rate_pricing_to_billing,
            case when upper(coalesce(pricing_currency, billing_currency)) = upper(billing_currency) then 1 end
        ) as exchange_rate_pricing_to_billing,
        cost_in_billing_currency,
        cost_in_pricing_currency,
        payg_cost_in_billing_currency,

        -- JSON objects
        tags,
        additional_info,

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
