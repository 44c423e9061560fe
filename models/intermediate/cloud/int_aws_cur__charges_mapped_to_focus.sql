{#-
    AWS CUR line items -> FOCUS 1.3 (native rules of reference/billing-sources.md 2.3 / 5.2, with the
    focus_converters bugs fixed; each non-obvious choice is in DECISIONLOG.md "Cloud billing: AWS").
-#}
{%- set discount_types = "('BundledDiscount', 'Discount', 'EdpDiscount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount')" -%}
{%- set covered_usage_types = "('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')" -%}

with

line_items as (

    select * from {{ ref('stg_aws_cur__line_items') }}

),

service_categories as (

    select * from {{ ref('map_aws_product_codes_to_service_categories') }}

),

regions as (

    select * from {{ ref('map_aws_regions') }}

),

line_items_categorised as (

    select
        line_items.*,
        service_categories.service_category,
        service_categories.service_subcategory,
        regions.region_name as known_region_name
    from line_items
    left join service_categories
        on line_items.aws_product_code = service_categories.product_code
    left join regions
        on line_items.region_id = regions.region_id

),

charges_classified as (

    select
        *,
        coalesce(billing_entity = 'AWS Marketplace', false) as is_marketplace,
        -- ARNs name their type (arn:aws:ec2:...:instance/i-0abc -> instance); bare ids take the product family
        case
            when resource_id is null then null
            when resource_id like 'arn:%' and {{ dbt.split_part('resource_id', "':'", 6) }} like '%/%'
                then {{ dbt.split_part(dbt.split_part('resource_id', "':'", 6), "'/'", 1) }}
            when resource_id like 'arn:%' and {{ dbt.split_part('resource_id', "':'", 7) }} <> ''
                then {{ dbt.split_part('resource_id', "':'", 6) }}
            else coalesce(product_family, product_name, aws_product_code)
        end as resource_type,
        case
            when aws_line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')
                then 'Usage'
            when aws_line_item_type in ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee')
                then 'Purchase'
            when aws_line_item_type = 'Tax' then 'Tax'
            when aws_line_item_type = 'Credit' or aws_line_item_type in {{ discount_types }} then 'Credit'
            else 'Adjustment'
        end as charge_category,
        case
            when aws_line_item_type like 'SavingsPlan%' then 'savings_plan'
            when aws_line_item_type in ('DiscountedUsage', 'RIFee') then 'reservation'
            when aws_line_item_type = 'Fee' and reservation_arn is not null then 'reservation'
        end as commitment_kind,
        case
            when usage_end_at is not null and usage_start_at is not null and usage_end_at < usage_start_at
                then usage_end_at
            else coalesce(usage_start_at, billing_period_start_at)
        end as charge_period_start,
        case
            when usage_end_at is not null and usage_start_at is not null and usage_end_at < usage_start_at
                then usage_start_at
            else coalesce(usage_end_at, billing_period_end_at)
        end as charge_period_end

    from line_items_categorised

),

charges_costed as (

    select
        *,
        -- the price's id as CUR states it; rows without one (older exports) get a stable id from what
        -- identifies the price: SKU (or product code), term and usage type
        case
            when pricing_rate_code is not null or pricing_rate_id is not null
                then coalesce(pricing_rate_code, pricing_rate_id)
            when charge_category in ('Usage', 'Purchase')
                then coalesce(sku_id, aws_product_code, '') || ':' || coalesce(pricing_term, 'OnDemand') || ':'
                    || coalesce(aws_usage_type, '')
        end as sku_price_id,
        -- amortised cost: commitment purchases spread over the usage they cover
        case
            when aws_line_item_type = 'DiscountedUsage' then coalesce(reservation_effective_cost, 0)
            when aws_line_item_type = 'SavingsPlanCoveredUsage' then coalesce(savings_plan_effective_cost, 0)
            when aws_line_item_type in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') then 0
            -- recurring commitment fees: the purchase row is 0; its unused part is a row of its own (below)
            when aws_line_item_type in ('SavingsPlanRecurringFee', 'RIFee') then 0
            when aws_line_item_type = 'Fee' and reservation_arn is not null then 0
            else unblended_cost
        end as effective_cost,
        case
            when aws_line_item_type = 'SavingsPlanRecurringFee'
                then coalesce(savings_plan_total_commitment_to_date, 0) - coalesce(savings_plan_used_commitment, 0)
            when aws_line_item_type = 'RIFee'
                then coalesce(reservation_unused_amortized_upfront_fee, 0) + coalesce(reservation_unused_recurring_fee, 0)
        end as unused_commitment_cost,
        -- the commitment a row purchases or draws on: savings plans in money (the billing currency),
        -- reservations in the usage unit (hours)
        case
            when commitment_kind = 'savings_plan' and savings_plan_arn is not null then
                case aws_line_item_type
                    when 'SavingsPlanCoveredUsage' then coalesce(savings_plan_effective_cost, 0)
                    when 'SavingsPlanRecurringFee' then coalesce(savings_plan_total_commitment_to_date, unblended_cost)
                    when 'SavingsPlanNegation' then 0
                    else unblended_cost
                end
            when commitment_kind = 'reservation' and reservation_arn is not null then
                case
                    when aws_line_item_type = 'DiscountedUsage' then usage_amount
                    else coalesce(reservation_total_reserved_units, usage_amount)
                end
        end as commitment_discount_quantity,
        -- public on-demand price: kept where AWS states one; discounts, credits and negations have none
        case
            when aws_line_item_type in {{ discount_types }}
                or aws_line_item_type in ('Credit', 'Refund', 'SavingsPlanNegation')
                then 0
            else coalesce(public_on_demand_cost, unblended_cost)
        end as list_cost,
        case
            -- a negation offsets covered usage at no price: quantity 0, unit price 0 (FOCUS needs both on Usage)
            when aws_line_item_type = 'SavingsPlanNegation' and usage_amount is not null then 0
            when aws_line_item_type in {{ discount_types }}
                or aws_line_item_type in ('Credit', 'Refund', 'SavingsPlanNegation')
                or charge_category not in ('Usage', 'Purchase')
                then null
            -- only where rate x quantity gives the stated cost at FOCUS precision (1e-9): CUR rates can
            -- carry more digits than the money type, and some exports state inconsistent values
            when public_on_demand_cost is not null
                and public_on_demand_rate is not null
                and usage_amount is not null
                and abs(
                    round(public_on_demand_cost, 9) - round(public_on_demand_rate, 9) * round(usage_amount, 9)
                ) <= 0.000000001
                then public_on_demand_rate
            -- the stated rate is missing or disagrees with cost / quantity (seen in public samples):
            -- the unit price that makes ListCost = ListUnitPrice x PricingQuantity hold
            when public_on_demand_cost is not null and usage_amount is not null and usage_amount <> 0
                then round(public_on_demand_cost / usage_amount, 9)
        end as list_unit_price,
        case
            when aws_line_item_type in ('Credit', 'Refund', 'SavingsPlanNegation') then 0
            -- negotiated discounts as separate rows (EDP, PPA, bundled): part of the contracted cost
            when aws_line_item_type in {{ discount_types }} then unblended_cost
            else coalesce(public_on_demand_cost, unblended_cost)
        end as contracted_cost

    from charges_classified

),

{#- FOCUS 1.3 discount handling: a commitment not fully used in a period gets rows of ChargeCategory Usage
    and CommitmentDiscountStatus Unused carrying the unused amount as EffectiveCost (BilledCost 0: the
    purchase row bills it). One such row per recurring fee row with a non-zero unused amount. -#}
charges_with_unused_commitment as (

    select
        *,
        false as is_unused_commitment
    from charges_costed

    union all

    select
        * replace (
            'Usage' as charge_category,
            cast(0 as {{ focusline.type_money() }}) as unblended_cost,
            unused_commitment_cost as effective_cost,
            cast(0 as {{ focusline.type_money() }}) as list_cost,
            cast(0 as {{ focusline.type_money() }}) as contracted_cost,
            case when list_unit_price is not null then cast(0 as {{ focusline.type_money() }}) end as list_unit_price,
            case
                when commitment_kind = 'savings_plan' then unused_commitment_cost
                else coalesce(reservation_unused_quantity, 0)
            end as commitment_discount_quantity,
            {{ focusline.generate_surrogate_key(['line_item_row_id', "'unused_commitment'"]) }} as line_item_row_id
        ),
        true as is_unused_commitment
    from charges_costed
    where aws_line_item_type in ('SavingsPlanRecurringFee', 'RIFee') and unused_commitment_cost <> 0

),

{#- FOCUS column -> expression; every column not named here becomes a typed NULL -#}
{%- set mapped = {
    'AvailabilityZone': 'availability_zone',
    'BilledCost': 'unblended_cost',
    'BillingAccountId': 'payer_account_id',
    'BillingAccountName': 'coalesce(payer_account_name, payer_account_id)',
    'BillingAccountType': "'Payer Account'",
    'BillingCurrency': 'upper(billing_currency)',
    'BillingPeriodEnd': 'coalesce(billing_period_end_at, ' ~ dbt.dateadd('month', 1, 'billing_period_start_at') ~ ')',
    'BillingPeriodStart': 'billing_period_start_at',
    'CapacityReservationId': 'capacity_reservation_arn',
    'CapacityReservationStatus': "case when capacity_reservation_arn is not null and capacity_reservation_status in ('Used', 'Unused') then capacity_reservation_status end",
    'ChargeCategory': 'charge_category',
    'ChargeClass': "case when (aws_line_item_type = 'Refund' or aws_bill_type = 'Refund') and charge_period_start < billing_period_start_at then 'Correction' end",
    'ChargeDescription': 'line_item_description',
    'ChargeFrequency': "case
            when is_unused_commitment then 'Usage-Based'
            when aws_line_item_type in ('SavingsPlanRecurringFee', 'RIFee') then 'Recurring'
            when aws_line_item_type = 'SavingsPlanUpfrontFee' then 'One-Time'
            when aws_line_item_type = 'Fee' and aws_bill_type = 'Anniversary' then 'Recurring'
            when aws_line_item_type in ('Fee', 'Tax', 'Credit', 'Refund') then 'One-Time'
            else 'Usage-Based'
        end",
    'ChargePeriodEnd': 'charge_period_end',
    'ChargePeriodStart': 'charge_period_start',
    'CommitmentDiscountCategory': "case when commitment_kind = 'savings_plan' and savings_plan_arn is not null then 'Spend' when commitment_kind = 'reservation' and reservation_arn is not null then 'Usage' end",
    'CommitmentDiscountId': "case when commitment_kind = 'savings_plan' then savings_plan_arn when commitment_kind = 'reservation' then reservation_arn end",
    'CommitmentDiscountQuantity': 'commitment_discount_quantity',
    'CommitmentDiscountUnit': "case when commitment_discount_quantity is not null then case when commitment_kind = 'savings_plan' then upper(billing_currency) else coalesce(pricing_unit, 'Hours') end end",
    'CommitmentDiscountStatus': "case when is_unused_commitment then 'Unused' when charge_category = 'Usage' and ((commitment_kind = 'savings_plan' and savings_plan_arn is not null) or (commitment_kind = 'reservation' and reservation_arn is not null)) then 'Used' end",
    'CommitmentDiscountType': "case when commitment_kind = 'savings_plan' and savings_plan_arn is not null then 'Savings Plan' when commitment_kind = 'reservation' and reservation_arn is not null then 'Reserved Instance' end",
    'ConsumedQuantity': "case when aws_line_item_type in " ~ covered_usage_types ~ " then usage_amount when aws_line_item_type = 'SavingsPlanNegation' and usage_amount is not null then 0 end",
    'ConsumedUnit': "case when (aws_line_item_type in " ~ covered_usage_types ~ " or aws_line_item_type = 'SavingsPlanNegation') and usage_amount is not null then pricing_unit end",
    'ContractedCost': 'contracted_cost',
    'ContractedUnitPrice': 'list_unit_price',
    'EffectiveCost': 'effective_cost',
    'HostProviderName': "'Amazon Web Services'",
    'InvoiceId': 'invoice_id',
    'InvoiceIssuerName': "coalesce(invoicing_entity, 'Amazon Web Services')",
    'ListCost': 'list_cost',
    'ListUnitPrice': 'list_unit_price',
    'PricingCategory': "case
            when is_unused_commitment then 'Committed'
            when charge_category = 'Usage' and aws_line_item_type in ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') then 'Committed'
            when charge_category = 'Usage' and (pricing_term = 'Spot' or aws_usage_type like '%SpotUsage%') then 'Dynamic'
            when charge_category in ('Usage', 'Purchase') then 'Standard'
        end",
    'PricingCurrency': 'upper(coalesce(pricing_currency, billing_currency))',
    'PricingCurrencyContractedUnitPrice': 'case when upper(coalesce(pricing_currency, billing_currency)) = upper(billing_currency) then list_unit_price end',
    'PricingCurrencyEffectiveCost': 'case when upper(coalesce(pricing_currency, billing_currency)) = upper(billing_currency) then effective_cost end',
    'PricingCurrencyListUnitPrice': 'case when upper(coalesce(pricing_currency, billing_currency)) = upper(billing_currency) then list_unit_price end',
    'PricingQuantity': "case when charge_category not in ('Usage', 'Purchase') then null when aws_line_item_type = 'SavingsPlanNegation' and usage_amount is not null then 0 else usage_amount end",
    'PricingUnit': "case when charge_category in ('Usage', 'Purchase') and usage_amount is not null then pricing_unit end",
    'ProviderName': "case when is_marketplace then coalesce(legal_entity, 'AWS Marketplace') else 'Amazon Web Services' end",
    'PublisherName': "case when is_marketplace then coalesce(legal_entity, 'AWS Marketplace') else 'Amazon Web Services' end",
    'RegionId': 'region_id',
    'RegionName': 'case when region_id is not null then coalesce(region_name, known_region_name, region_id) end',
    'ResourceId': 'resource_id',
    'ResourceType': 'resource_type',
    'ServiceCategory': "coalesce(service_category, 'Other')",
    'ServiceName': 'coalesce(product_name, aws_product_code)',
    'ServiceProviderName': "case when is_marketplace then coalesce(legal_entity, 'AWS Marketplace') else 'Amazon Web Services' end",
    'ServiceSubcategory': "coalesce(service_subcategory, 'Other (Other)')",
    'SkuId': 'sku_id',
    'SkuPriceId': 'sku_price_id',
    'SubAccountId': 'usage_account_id',
    'SubAccountName': 'case when usage_account_id is not null then coalesce(usage_account_name, usage_account_id) end',
    'SubAccountType': "case when usage_account_id is not null then 'Linked Account' end",
    'Tags': 'resource_tags',
    'x_org_slug': 'x_org_slug',
    'x_pipeline_id': 'x_pipeline_id',
    'x_credential_id': 'x_credential_id',
    'x_pipeline_run_date': 'x_pipeline_run_date',
    'x_run_id': 'x_run_id',
    'x_ingested_at': 'x_ingested_at',
    'x_ingestion_date': 'x_ingestion_date',
    'x_ChargeRowId': 'line_item_row_id',
    'x_ProviderSlug': "'aws'",
    'x_CostSource': "'billed'",
    'x_ServiceCode': 'aws_product_code',
    'x_UsageType': 'aws_usage_type',
    'x_Operation': 'aws_operation',
    'x_AwsLineItemType': 'aws_line_item_type',
    'x_AwsBillType': 'aws_bill_type',
    'x_AwsLineItemId': 'aws_line_item_id',
    'x_CostCategories': 'cost_category',
    'x_SourceFile': 'x_source_file',
    'x_ExportVersion': 'x_export_version',
} %}

final as (

    select
        {{- focusline.select_focus_columns(mapped) }}

    from charges_with_unused_commitment

)

select * from final
