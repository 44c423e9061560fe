{#-
    Azure cost details (EA / MCA / legacy usage; actual and amortized) -> FOCUS 1.3, following the
    Microsoft FinOps toolkit conversion (reference/billing-sources.md 3.2 and 5.3, "T"); every
    non-obvious choice is a line of the Azure section of DECISIONLOG.md.

    Actual and amortized exports describe the same charges twice. Where an amortized export covers
    an account, subscription and month, its rows are kept and the actual export contributes only its
    commitment purchases and refunds (T's algorithm); otherwise every row of the export that is
    loaded is kept. Commitment-covered usage and unused commitment are never billed (BilledCost 0:
    the purchase row bills the commitment); commitment purchases and refunds have EffectiveCost 0
    (amortized usage and unused rows carry it).
-#}
{%- set commitment_models = "('Reservation', 'SavingsPlan')" -%}
{%- set unused_types = "('UnusedReservation', 'UnusedSavingsPlan')" -%}

with

cost_details as (

    select * from {{ ref('stg_azure_cost__cost_details') }}

),

service_map as (

    select * from {{ ref('map_azure_services_to_service_categories') }}

),

units_of_measure as (

    select * from {{ ref('map_azure_units_of_measure') }}

),

regions as (

    select * from {{ ref('map_azure_regions') }}

),

amortized_scopes as (

    select distinct
        x_org_slug,
        focus_billing_account_id,
        coalesce(subscription_id, '') as subscription_key,
        billing_period_date
    from cost_details
    where cost_dataset = 'amortized'

),

cost_details_combined as (

    select cost_details.*
    from cost_details
    left join amortized_scopes
        on cost_details.x_org_slug = amortized_scopes.x_org_slug
        and cost_details.focus_billing_account_id = amortized_scopes.focus_billing_account_id
        and coalesce(cost_details.subscription_id, '') = amortized_scopes.subscription_key
        and cost_details.billing_period_date = amortized_scopes.billing_period_date
    where cost_details.cost_dataset = 'amortized'
        or amortized_scopes.x_org_slug is null
        or (cost_details.charge_type in ('Purchase', 'Refund') and cost_details.pricing_model in {{ commitment_models }})

),

cost_details_enriched as (

    select
        cost_details_combined.*,
        coalesce(by_meter.service_name, by_service.service_name, cost_details_combined.meter_category, cost_details_combined.consumed_service, 'Azure') as service_name,
        case
            when by_meter.service_name is not null then by_meter.service_category
            when by_service.service_name is not null then by_service.service_category
            else 'Other'
        end as service_category,
        case
            when by_meter.service_name is not null then by_meter.service_subcategory
            when by_service.service_name is not null then by_service.service_subcategory
            else 'Other (Other)'
        end as service_subcategory,
        coalesce(units_of_measure.pricing_block_size, 1) as pricing_block_size,
        coalesce(units_of_measure.distinct_units, cost_details_combined.unit_of_measure) as distinct_units,
        coalesce(regions.region_id, replace(lower(cost_details_combined.resource_location), ' ', '')) as region_id,
        coalesce(regions.region_name, cost_details_combined.resource_location_normalized, cost_details_combined.resource_location) as region_name
    from cost_details_combined
    left join service_map as by_meter
        on by_meter.match_on = 'meter_category'
        and by_meter.match_value = lower(cost_details_combined.meter_category)
    left join service_map as by_service
        on by_service.match_on = 'consumed_service'
        and by_service.match_value = lower(cost_details_combined.consumed_service)
    left join units_of_measure
        on units_of_measure.unit_of_measure = cost_details_combined.unit_of_measure
    left join regions
        on regions.original_value = lower(cost_details_combined.resource_location)

),

charges_classified as (

    select
        *,
        coalesce(pricing_model in {{ commitment_models }}, false) as is_commitment_priced,
        charge_type in {{ unused_types }} as is_unused_commitment,
        case
            when charge_type in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') then 'Usage'
            when charge_type = 'Purchase' then 'Purchase'
            when charge_type = 'Tax' then 'Tax'
            when charge_type = 'Credit' then 'Credit'
            -- T: a refund is a (negative) purchase; one that does not return a commitment is a credit
            when charge_type = 'Refund' and pricing_model in {{ commitment_models }} then 'Purchase'
            when charge_type = 'Refund' then 'Credit'
            else 'Adjustment'
        end as charge_category,
        case
            when lower(benefit_id) like '%/microsoft.capacity/%' then 'reservation'
            when lower(benefit_id) like '%/microsoft.billingbenefits/%' then 'savings_plan'
            when charge_type = 'UnusedReservation' or pricing_model = 'Reservation' then 'reservation'
            when charge_type = 'UnusedSavingsPlan' or pricing_model = 'SavingsPlan' then 'savings_plan'
        end as commitment_kind,
        coalesce(product_id, part_number, meter_id) as sku_id,
        -- prices in the pricing currency (MCA) or the billing currency (EA, legacy: rate 1); EA states
        -- PayGPrice 0 on reservation usage and purchases, so the price sheet's UnitPrice stands in
        coalesce(nullif(payg_price, 0), unit_price, effective_price, payg_price) as list_price_pc,
        coalesce(unit_price, effective_price, payg_price) as contracted_price_pc,
        coalesce(exchange_rate_pricing_to_billing, 1) as exchange_rate
    from cost_details_enriched

),

charges_priced as (

    select
        *,
        case when commitment_kind is not null then coalesce(benefit_id, reservation_id) end as commitment_discount_id,
        -- a SKU price only for usage and purchases (not corrections) with a SKU
        case
            when charge_category in ('Usage', 'Purchase') and charge_type <> 'Refund' and sku_id is not null
                and list_price_pc is not null and contracted_price_pc is not null
                then sku_id || '_' || coalesce(meter_id, '') || '_' || coalesce(pricing_model, 'OnDemand')
                    || coalesce('_' || term, '')
        end as sku_price_id,
        case
            when charge_type = 'Usage' and is_commitment_priced then 0
            when is_unused_commitment then 0
            else cost_in_billing_currency
        end as billed_cost,
        case
            when charge_type in ('Purchase', 'Refund') and is_commitment_priced then 0
            else cost_in_billing_currency
        end as effective_cost,
        list_price_pc as list_unit_price_pc,
        contracted_price_pc as contracted_unit_price_pc
    from charges_classified

),

charges_costed as (

    select
        *,
        case when sku_price_id is not null then coalesce(quantity, 0) end as pricing_quantity,
        case when sku_price_id is not null then round(list_unit_price_pc * exchange_rate, 9) end as list_unit_price,
        case when sku_price_id is not null then round(contracted_unit_price_pc * exchange_rate, 9) end as contracted_unit_price
    from charges_priced

),

charges_final as (

    select
        *,
        case
            when sku_price_id is null then cost_in_billing_currency
            -- MCA states the pay-as-you-go cost where it states the pay-as-you-go price
            when payg_price <> 0 and payg_cost_in_billing_currency is not null then payg_cost_in_billing_currency
            else round(list_unit_price * pricing_quantity, 9)
        end as list_cost,
        case
            when sku_price_id is null then cost_in_billing_currency
            else round(contracted_unit_price * pricing_quantity, 9)
        end as contracted_cost,
        case
            when effective_cost = 0 then 0
            when pricing_currency = billing_currency then effective_cost
            when cost_in_pricing_currency is not null then cost_in_pricing_currency
            -- MCA states costInPricingCurrency; without it, convert back (the one division of the model)
            when exchange_rate <> 0 then round(effective_cost / exchange_rate, 9)
            else effective_cost
        end as pricing_currency_effective_cost,
        case
            when pricing_block_size = 1 then distinct_units
            else cast(pricing_block_size as {{ dbt.type_string() }}) || ' ' || distinct_units
        end as pricing_unit,
        case
            when commitment_discount_id is null or sku_price_id is null then null
            when commitment_kind = 'savings_plan' and is_unused_commitment then cost_in_billing_currency
            when commitment_kind = 'savings_plan' and charge_type = 'Usage'
                then coalesce(round(quantity * effective_price * exchange_rate, 9), effective_cost)
            when commitment_kind = 'savings_plan' then cost_in_billing_currency
            when charge_type = 'Usage'
                then quantity * pricing_block_size
                    * coalesce(cast({{ focusline.json_extract_string('additional_info', 'RINormalizationRatio') }} as {{ focusline.type_money() }}), 1)
            else quantity * pricing_block_size
        end as commitment_discount_quantity,
        {{ focusline.json_extract_string('additional_info', 'VMCapacityReservationId') }} as capacity_reservation_id
    from charges_costed

),

{#- FOCUS column -> expression; every column not named here becomes a typed NULL -#}
{%- set mapped = {
    'AvailabilityZone': 'availability_zone',
    'BilledCost': 'billed_cost',
    'BillingAccountId': 'focus_billing_account_id',
    'BillingAccountName': 'coalesce(focus_billing_account_name, focus_billing_account_id)',
    'BillingAccountType': 'focus_billing_account_type',
    'BillingCurrency': 'billing_currency',
    'BillingPeriodEnd': 'billing_period_end_at',
    'BillingPeriodStart': 'billing_period_start_at',
    'CapacityReservationId': 'capacity_reservation_id',
    'CapacityReservationStatus': "case when capacity_reservation_id is not null and charge_category = 'Usage' then case when resource_type like '%/capacityreservationgroups/capacityreservations' then 'Unused' else 'Used' end end",
    'ChargeCategory': 'charge_category',
    'ChargeClass': "case when charge_type = 'Refund' then 'Correction' end",
    'ChargeDescription': 'coalesce(product_name, meter_name)',
    'ChargeFrequency': "case
            when charge_category = 'Purchase' and frequency = 'Recurring' then 'Recurring'
            when charge_category = 'Purchase' then 'One-Time'
            when frequency = 'OneTime' then 'One-Time'
            when frequency = 'Recurring' then 'Recurring'
            when frequency = 'UsageBased' or charge_category = 'Usage' then 'Usage-Based'
            else 'One-Time'
        end",
    'ChargePeriodEnd': 'charge_period_end_at',
    'ChargePeriodStart': 'charge_period_start_at',
    'CommitmentDiscountCategory': "case when commitment_discount_id is not null then case commitment_kind when 'savings_plan' then 'Spend' else 'Usage' end end",
    'CommitmentDiscountId': 'commitment_discount_id',
    'CommitmentDiscountName': "case when commitment_discount_id is not null then coalesce(benefit_name, reservation_name) end",
    'CommitmentDiscountQuantity': 'commitment_discount_quantity',
    'CommitmentDiscountStatus': "case when commitment_discount_id is null then null when is_unused_commitment then 'Unused' when charge_category = 'Usage' then 'Used' end",
    'CommitmentDiscountType': "case when commitment_discount_id is not null then case commitment_kind when 'savings_plan' then 'Savings Plan' else 'Reservation' end end",
    'CommitmentDiscountUnit': "case when commitment_discount_quantity is not null then case when commitment_kind = 'savings_plan' then billing_currency else coalesce(distinct_units, 'Hours') end end",
    'ConsumedQuantity': "case when charge_category = 'Usage' and not is_unused_commitment and sku_price_id is not null then coalesce(quantity, 0) * pricing_block_size end",
    'ConsumedUnit': "case when charge_category = 'Usage' and not is_unused_commitment and sku_price_id is not null then coalesce(distinct_units, 'Units') end",
    'ContractedCost': 'contracted_cost',
    'ContractedUnitPrice': 'contracted_unit_price',
    'EffectiveCost': 'effective_cost',
    'HostProviderName': "'Microsoft'",
    'InvoiceId': 'invoice_id',
    'InvoiceIssuerName': "coalesce(partner_name, 'Microsoft')",
    'ListCost': 'list_cost',
    'ListUnitPrice': 'list_unit_price',
    'PricingCategory': "case
            when sku_price_id is null then null
            when charge_category = 'Usage' and (is_commitment_priced or is_unused_commitment) then 'Committed'
            when charge_category = 'Usage' and pricing_model = 'Spot' then 'Dynamic'
            else 'Standard'
        end",
    'PricingCurrency': 'pricing_currency',
    'PricingCurrencyContractedUnitPrice': 'case when sku_price_id is not null then round(contracted_unit_price_pc, 9) end',
    'PricingCurrencyEffectiveCost': 'pricing_currency_effective_cost',
    'PricingCurrencyListUnitPrice': 'case when sku_price_id is not null then round(list_unit_price_pc, 9) end',
    'PricingQuantity': 'pricing_quantity',
    'PricingUnit': "case when pricing_quantity is not null then coalesce(pricing_unit, 'Units') end",
    'ProviderName': "case when publisher_type = 'Marketplace' and publisher_name is not null then publisher_name else 'Microsoft' end",
    'PublisherName': "coalesce(publisher_name, 'Microsoft')",
    'RegionId': 'region_id',
    'RegionName': 'case when region_id is not null then coalesce(region_name, region_id) end',
    'ResourceId': 'resource_id',
    'ResourceName': 'resource_name',
    'ResourceType': 'case when resource_id is not null then coalesce(resource_type, lower(consumed_service)) end',
    'ServiceCategory': 'service_category',
    'ServiceName': 'service_name',
    'ServiceProviderName': "case when publisher_type = 'Marketplace' and publisher_name is not null then publisher_name else 'Microsoft' end",
    'ServiceSubcategory': 'service_subcategory',
    'SkuId': 'sku_id',
    'SkuMeter': 'case when sku_id is not null then meter_name end',
    'SkuPriceId': 'sku_price_id',
    'SubAccountId': 'subscription_id',
    'SubAccountName': 'case when subscription_id is not null then coalesce(subscription_name, subscription_id) end',
    'SubAccountType': "case when subscription_id is not null then 'Subscription' end",
    'Tags': 'tags',
    'x_org_slug': 'x_org_slug',
    'x_pipeline_id': 'x_pipeline_id',
    'x_credential_id': 'x_credential_id',
    'x_pipeline_run_date': 'x_pipeline_run_date',
    'x_run_id': 'x_run_id',
    'x_ingested_at': 'x_ingested_at',
    'x_ingestion_date': 'x_ingestion_date',
    'x_ChargeRowId': 'cost_row_id',
    'x_ProviderSlug': "'azure'",
    'x_CostSource': "'billed'",
    'x_ServiceCode': 'consumed_service',
    'x_UsageType': 'meter_sub_category',
    'x_LineItem': 'charge_type',
    'x_SourceFile': 'x_source_file',
    'x_ExportVersion': 'x_export_version',
} %}

final as (

    select
        {{- focusline.select_focus_columns(mapped) }}

    from charges_final

)

select * from final
