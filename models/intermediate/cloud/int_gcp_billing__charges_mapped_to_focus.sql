{#-
    GCP Cloud Billing export rows -> FOCUS 1.3 (reference/billing-sources.md 1.2 / 1.4 / 5.1: Google's own
    FOCUS view as the native rule, focus_converters' bugs fixed; every non-obvious choice is in
    DECISIONLOG.md "Cloud billing: GCP").

    Costs: `cost` excludes credits. Credits that lower the price of the row they sit on (committed use and
    sustained use discounts, free tier, contract discounts, reseller margin, subscription benefit, fee
    utilisation offsets) are applied on that row: BilledCost = EffectiveCost = cost + those credits.
    PROMOTION credits (free trial, marketing credits: Google treats them as a form of payment) become a
    separate ChargeCategory 'Credit' row next to their line item. So per invoice month and currency,
    sum(BilledCost) = sum(cost) + sum(every credit), the invoice's total.
-#}
{%- set units = {
    'byte': 'Bytes', 'bytes': 'Bytes', 'byte-seconds': 'Byte-Seconds', 'byte-second': 'Byte-Seconds',
    'kibibyte': 'KiB', 'mebibyte': 'MiB', 'gibibyte': 'GiB', 'tebibyte': 'TiB', 'pebibyte': 'PiB',
    'gibibyte hour': 'GiB-Hours', 'gibibyte month': 'GiB-Months', 'gibibyte day': 'GiB-Days',
    'gibibyte second': 'GiB-Seconds', 'mebibyte second': 'MiB-Seconds', 'tebibyte month': 'TiB-Months',
    'second': 'Seconds', 'seconds': 'Seconds', 'minute': 'Minutes', 'minutes': 'Minutes',
    'hour': 'Hours', 'hours': 'Hours', 'day': 'Days', 'days': 'Days', 'month': 'Months', 'months': 'Months',
    'request': 'Requests', 'requests': 'Requests', 'count': 'Count',
} -%}
{#- a GCP unit (usage.unit / usage.pricing_unit) in FOCUS UnitFormat; unknown units keep the export's text -#}
{%- set unit_case -%}
    case lower(__COLUMN__)
        {%- for gcp, focus in units.items() %}
        when '{{ gcp }}' then '{{ focus }}'
        {%- endfor %}
        else __COLUMN__
    end
{%- endset -%}
{#- a NUMERIC as text without trailing zeros, the same on both engines (1024.000000000 / 1024 -> 1024) -#}
{%- set tier_text -%}
    case
        when strpos(cast(price_tier_start_amount as {{ dbt.type_string() }}), '.') > 0
            then rtrim(rtrim(cast(price_tier_start_amount as {{ dbt.type_string() }}), '0'), '.')
        else cast(price_tier_start_amount as {{ dbt.type_string() }})
    end
{%- endset -%}

with

line_items as (

    select * from {{ ref('stg_gcp_billing__line_items') }}

),

service_categories as (

    select * from {{ ref('map_gcp_services_to_service_categories') }}

),

regions as (

    select * from {{ ref('map_gcp_regions') }}

),

line_items_categorised as (

    select
        line_items.*,
        coalesce(line_items.location_region, nullif(line_items.location_location, 'global')) as region_id,
        service_categories.service_category,
        service_categories.service_subcategory
    from line_items
    left join service_categories
        on line_items.service_description = service_categories.service_description

),

line_items_located as (

    select
        line_items_categorised.*,
        regions.region_name as known_region_name
    from line_items_categorised
    left join regions
        on line_items_categorised.region_id = regions.region_id

),

line_items_classified as (

    select
        *,
        case cost_type
            when 'regular' then 'Usage'
            when 'tax' then 'Tax'
            else 'Adjustment'
        end as charge_category,
        -- a correction row (adjustment_info, or an adjustment) for usage before its invoice month
        coalesce(
            (adjustment_info_id is not null or adjustment_info_type is not null or cost_type = 'adjustment')
            and usage_start_at < invoice_month_start_at,
            false
        ) as is_correction,
        -- committed use discount fee rows: the legacy Commitment SKUs, or fee SKUs offset by the new model
        coalesce(
            cost_type = 'regular'
            and (sku_description like 'Commitment%' or credit_types like '%FEE_UTILIZATION_OFFSET%'),
            false
        ) as is_commitment_fee,
        case
            when cost_type <> 'regular' then null
            when commitment_credit_type = 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE' then 'Spend'
            when commitment_credit_type is not null then 'Usage'
            -- the 2025+ spend-based model: covered usage priced at the commitment's consumption model
            when subscription_instance_id is not null and consumption_model_id is not null
                and lower(coalesce(consumption_model_description, 'default')) <> 'default'
                and not coalesce(sku_description like 'Commitment%', false)
                then 'Spend'
        end as commitment_category,
        case
            when usage_end_at is not null and usage_start_at is not null and usage_end_at < usage_start_at
                then usage_end_at
            else coalesce(usage_start_at, invoice_month_start_at)
        end as charge_period_start,
        case
            when usage_end_at is not null and usage_start_at is not null and usage_end_at < usage_start_at
                then usage_start_at
            when usage_end_at is not null and usage_start_at is not null and usage_end_at = usage_start_at
                then {{ dbt.dateadd('hour', 1, 'usage_start_at') }}
            else coalesce(usage_end_at, {{ dbt.dateadd('month', 1, 'invoice_month_start_at') }})
        end as charge_period_end,
        coalesce(usage_amount_in_pricing_units, usage_amount) as pricing_quantity_source,
        case
            when usage_amount_in_pricing_units is not null then {{ unit_case | replace('__COLUMN__', 'usage_pricing_unit') }}
            else {{ unit_case | replace('__COLUMN__', 'usage_unit') }}
        end as pricing_unit_source,
        coalesce(nullif(currency_conversion_rate, 0), 1) as usd_to_billing_rate

    from line_items_located

),

line_items_costed as (

    select
        *,
        case
            when commitment_category is not null
                then coalesce(subscription_instance_id, commitment_credit_id, commitment_credit_name)
        end as commitment_discount_id,
        -- the price's id: account (contract prices are per billing account), SKU and pricing tier
        case
            when charge_category = 'Usage' and sku_id is not null
                then billing_account_id || '/' || sku_id
                    || coalesce('/' || {{ tier_text }}, '')
        end as sku_price_id,
        cost + discount_credits_amount as billed_cost,
        cost + discount_credits_amount as effective_cost,
        coalesce(cost_at_list, cost) as list_cost,
        cost as contracted_cost

    from line_items_classified

),

line_items_priced as (

    select
        *,
        case when sku_price_id is not null then pricing_quantity_source end as pricing_quantity,
        case
            when sku_price_id is not null and pricing_quantity_source is not null then pricing_unit_source
        end as pricing_unit,
        -- unit prices: the one that makes cost = unit price x quantity hold at FOCUS precision (1e-9 per unit)
        -- (the export's price record is per tier and often absent; GCP costs are rounded per row)
        case
            when sku_price_id is null or pricing_quantity_source is null then null
            when pricing_quantity_source = 0 then case when list_cost = 0 then coalesce(price_list_price, 0) end
            else {{ focusline.allocate_amount('list_cost', 1, 'pricing_quantity_source') }}
        end as list_unit_price_candidate,
        case
            when sku_price_id is null or pricing_quantity_source is null then null
            when pricing_quantity_source = 0
                then case when contracted_cost = 0 then coalesce(price_effective_price, 0) end
            else {{ focusline.allocate_amount('contracted_cost', 1, 'pricing_quantity_source') }}
        end as contracted_unit_price_candidate

    from line_items_costed

),

line_items_checked as (

    select
        *,
        case
            when list_unit_price_candidate >= 0
                and abs(list_cost - list_unit_price_candidate * pricing_quantity_source)
                <= 0.000000001 * (1 + abs(pricing_quantity_source))
                then list_unit_price_candidate
        end as list_unit_price,
        case
            when contracted_unit_price_candidate >= 0
                and abs(contracted_cost - contracted_unit_price_candidate * pricing_quantity_source)
                <= 0.000000001 * (1 + abs(pricing_quantity_source))
                then contracted_unit_price_candidate
        end as contracted_unit_price

    from line_items_priced

),

{#- FOCUS column -> expression for the line item rows; every column not named here becomes a typed NULL -#}
{%- set line_item_mapped = {
    'AvailabilityZone': 'location_zone',
    'BilledCost': 'billed_cost',
    'BillingAccountId': 'billing_account_id',
    'BillingAccountName': 'billing_account_id',
    'BillingAccountType': "'Billing Account'",
    'BillingCurrency': 'upper(billing_currency)',
    'BillingPeriodEnd': dbt.dateadd('month', 1, 'invoice_month_start_at'),
    'BillingPeriodStart': 'invoice_month_start_at',
    'ChargeCategory': 'charge_category',
    'ChargeClass': "case when is_correction then 'Correction' end",
    'ChargeDescription': "case when cost_type = 'adjustment' then coalesce(adjustment_info_description, sku_description) else sku_description end",
    'ChargeFrequency': "case when charge_category <> 'Usage' then 'One-Time' when is_commitment_fee then 'Recurring' else 'Usage-Based' end",
    'ChargePeriodEnd': 'charge_period_end',
    'ChargePeriodStart': 'charge_period_start',
    'CommitmentDiscountCategory': 'case when commitment_discount_id is not null then commitment_category end',
    'CommitmentDiscountId': 'commitment_discount_id',
    'CommitmentDiscountName': "case when commitment_discount_id is not null then coalesce(commitment_credit_name, consumption_model_description) end",
    'CommitmentDiscountQuantity': "case
            when commitment_discount_id is null or sku_price_id is null or is_correction then null
            when commitment_category = 'Usage' then pricing_quantity
            else cost + commitment_credit_amount
        end",
    'CommitmentDiscountStatus': "case when commitment_discount_id is not null and charge_category = 'Usage' then 'Used' end",
    'CommitmentDiscountType': "case when commitment_discount_id is not null then 'Committed Use Discount' end",
    'CommitmentDiscountUnit': "case
            when commitment_discount_id is null or sku_price_id is null or is_correction then null
            when commitment_category = 'Usage' then pricing_unit
            else upper(billing_currency)
        end",
    'ConsumedQuantity': "case when charge_category = 'Usage' and sku_price_id is not null then usage_amount end",
    'ConsumedUnit': "case when charge_category = 'Usage' and sku_price_id is not null and usage_amount is not null then " ~ unit_case | replace('__COLUMN__', 'usage_unit') ~ " end",
    'ContractedCost': 'contracted_cost',
    'ContractedUnitPrice': 'contracted_unit_price',
    'EffectiveCost': 'effective_cost',
    'HostProviderName': "'Google Cloud'",
    'InvoiceIssuerName': "'Google Cloud'",
    'ListCost': 'list_cost',
    'ListUnitPrice': 'list_unit_price',
    'PricingCategory': "case
            when sku_price_id is null then null
            when commitment_discount_id is not null then 'Committed'
            when lower(sku_description) like '%spot%' or lower(sku_description) like '%preemptible%' then 'Dynamic'
            else 'Standard'
        end",
    'PricingCurrency': "case when currency_conversion_rate is not null then 'USD' else upper(billing_currency) end",
    'PricingCurrencyContractedUnitPrice': focusline.allocate_amount('contracted_unit_price', 1, 'usd_to_billing_rate'),
    'PricingCurrencyEffectiveCost': focusline.allocate_amount('effective_cost', 1, 'usd_to_billing_rate'),
    'PricingCurrencyListUnitPrice': focusline.allocate_amount('list_unit_price', 1, 'usd_to_billing_rate'),
    'PricingQuantity': 'pricing_quantity',
    'PricingUnit': 'pricing_unit',
    'ProviderName': "case when transaction_type like 'THIRD_PARTY%' then coalesce(seller_name, 'Google Cloud') else 'Google Cloud' end",
    'PublisherName': "case when transaction_type like 'THIRD_PARTY%' then coalesce(seller_name, 'Google Cloud') else 'Google Cloud' end",
    'RegionId': 'region_id',
    'RegionName': 'case when region_id is not null then coalesce(known_region_name, region_id) end',
    'ResourceId': 'resource_global_name',
    'ResourceName': 'case when resource_global_name is not null then coalesce(resource_name, resource_global_name) end',
    'ResourceType': "case when resource_global_name is not null then coalesce(" ~ focusline.regexp_extract_group('resource_global_name', '^//[^/]+/(?:.*/)?([^/]+)/[^/]+$') ~ ", service_description) end",
    'ServiceCategory': "coalesce(service_category, 'Other')",
    'ServiceName': "coalesce(service_description, 'Google Cloud')",
    'ServiceProviderName': "case when transaction_type like 'THIRD_PARTY%' then coalesce(seller_name, 'Google Cloud') else 'Google Cloud' end",
    'ServiceSubcategory': "coalesce(service_subcategory, 'Other (Other)')",
    'SkuId': "case when charge_category <> 'Tax' then sku_id end",
    'SkuPriceId': 'sku_price_id',
    'SubAccountId': 'project_id',
    'SubAccountName': 'case when project_id is not null then coalesce(project_name, project_id) end',
    'SubAccountType': "case when project_id is not null then 'Project' end",
    'Tags': 'tags_object',
    'x_org_slug': 'x_org_slug',
    'x_pipeline_id': 'x_pipeline_id',
    'x_credential_id': 'x_credential_id',
    'x_pipeline_run_date': 'x_pipeline_run_date',
    'x_run_id': 'x_run_id',
    'x_ingested_at': 'x_ingested_at',
    'x_ingestion_date': 'x_ingestion_date',
    'x_ChargeRowId': 'line_item_row_id',
    'x_ProviderSlug': "'gcp'",
    'x_CostSource': "'billed'",
    'x_LineItem': 'cost_type',
    'x_ServiceCode': 'service_id',
    'x_Operation': 'adjustment_info_type',
    'x_SourceFile': 'x_source_file',
    'x_ExportVersion': 'x_export_version',
} -%}
{#- the PROMOTION credit rows: the line item's identity, the credit's amount, nothing priced -#}
{%- set credit_mapped = {} -%}
{%- for key in ['AvailabilityZone', 'BillingAccountId', 'BillingAccountName', 'BillingAccountType', 'BillingCurrency',
                'BillingPeriodEnd', 'BillingPeriodStart', 'ChargeClass', 'ChargePeriodEnd', 'ChargePeriodStart',
                'HostProviderName', 'InvoiceIssuerName', 'ProviderName', 'PublisherName', 'RegionId', 'RegionName',
                'ResourceId', 'ResourceName', 'ResourceType', 'ServiceCategory', 'ServiceName', 'ServiceProviderName',
                'ServiceSubcategory', 'SubAccountId', 'SubAccountName', 'SubAccountType', 'Tags', 'PricingCurrency',
                'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'x_pipeline_run_date', 'x_run_id', 'x_ingested_at',
                'x_ingestion_date', 'x_ProviderSlug', 'x_CostSource', 'x_ServiceCode', 'x_SourceFile',
                'x_ExportVersion'] -%}
    {%- do credit_mapped.update({key: line_item_mapped[key]}) -%}
{%- endfor -%}
{%- do credit_mapped.update({
    'BilledCost': 'promotion_credits_amount',
    'EffectiveCost': 'promotion_credits_amount',
    'ListCost': '0',
    'ContractedCost': '0',
    'ChargeCategory': "'Credit'",
    'ChargeDescription': 'promotion_credit_names',
    'ChargeFrequency': "'One-Time'",
    'PricingCurrencyEffectiveCost': focusline.allocate_amount('promotion_credits_amount', 1, 'usd_to_billing_rate'),
    'x_ChargeRowId': focusline.generate_surrogate_key(['line_item_row_id', "'promotion_credit'"]),
    'x_LineItem': "'promotion_credit'",
}) -%}

line_item_charges as (

    select
        {{- focusline.select_focus_columns(line_item_mapped) }}

    from line_items_checked

),

promotion_credit_charges as (

    select
        {{- focusline.select_focus_columns(credit_mapped) }}

    from line_items_checked
    where promotion_credits_amount <> 0

),

final as (

    select * from line_item_charges
    union all
    select * from promotion_credit_charges

)

select * from final
