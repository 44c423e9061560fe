-- The floor of `make bench`: one hand-written DuckDB statement doing the AWS CUR 2.0 -> FOCUS 1.3 mapping of
-- models/intermediate/cloud/int_aws_cur__charges_mapped_to_focus.sql (via stg_aws_cur__line_items and the
-- extract's normalisation: money to DECIMAL(38,9) by its shortest decimal text, timestamps UTC, maps as JSON)
-- straight from the Parquet files into a FOCUS table: no raw table, no dbt, no tests, no orchestration.
-- ${files}, ${org}, ${pipeline}, ${credential}, ${run_id}, ${seeds} are filled in by bench/floor.py; the
-- session time zone is UTC. The columns and types are those of the mart's AWS rows (tests/test_bench.py).

-- money as the extract converts it (extract/aws_cur/reader.py _decimal: binary rounding where it cannot differ
-- from the shortest decimal text, the text otherwise)
create or replace temp macro money(x) as
    case when abs(x) < 10000 and abs(abs(x) * 1000000000 - floor(abs(x) * 1000000000) - 0.5) > 0.01
        then cast(x as decimal(38, 9))
        else coalesce(try_cast(cast(x as varchar) as decimal(18, 9)), cast(cast(x as varchar) as decimal(38, 9)))
    end;

create table focus as
with
cur as (
    select
        *,
        case when line_item_line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') then 'Usage'
             when line_item_line_item_type in ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') then 'Purchase'
             when line_item_line_item_type = 'Tax' then 'Tax'
             when line_item_line_item_type in ('Credit', 'BundledDiscount', 'Discount', 'EdpDiscount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount') then 'Credit'
             else 'Adjustment' end as charge_category,
        case when line_item_line_item_type like 'SavingsPlan%' then 'savings_plan'
             when line_item_line_item_type in ('DiscountedUsage', 'RIFee') then 'reservation'
             when line_item_line_item_type = 'Fee' and reservation_reservation_a_r_n is not null then 'reservation'
        end as commitment_kind,
        coalesce(billing_entity = 'AWS Marketplace', false) as is_marketplace,
        coalesce(product_region_code, product['region']) as region_id,
        product['product_name'] as product_name,
        cast(case when line_item_usage_end_date < line_item_usage_start_date then line_item_usage_end_date
                  else coalesce(line_item_usage_start_date, bill_billing_period_start_date) end as timestamp) as charge_period_start,
        cast(case when line_item_usage_end_date < line_item_usage_start_date then line_item_usage_start_date
                  else coalesce(line_item_usage_end_date, bill_billing_period_end_date) end as timestamp) as charge_period_end,
        money(line_item_unblended_cost) as unblended_cost,
        money(line_item_usage_amount) as usage_amount,
        money(pricing_public_on_demand_cost) as public_on_demand_cost,
        money(pricing_public_on_demand_rate) as public_on_demand_rate,
        md5(concat_ws('|', '${org}', '${pipeline}', '${credential}', filename, file_row_number + 1)) as row_id
    from (
        select *, nullif(bill_billing_entity, '') as billing_entity
        from read_parquet(${files}, hive_partitioning = false, filename = true, file_row_number = true)
    )
),
costed as (
    select
        cur.*,
        case when line_item_line_item_type = 'DiscountedUsage' then coalesce(money(reservation_effective_cost), 0)
             when line_item_line_item_type = 'SavingsPlanCoveredUsage' then coalesce(money(savings_plan_savings_plan_effective_cost), 0)
             when line_item_line_item_type in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee', 'RIFee') then 0
             when line_item_line_item_type = 'Fee' and reservation_reservation_a_r_n is not null then 0
             else unblended_cost
        end as effective_cost,
        case when line_item_line_item_type = 'SavingsPlanRecurringFee'
                 then coalesce(money(savings_plan_total_commitment_to_date), 0) - coalesce(money(savings_plan_used_commitment), 0)
             when line_item_line_item_type = 'RIFee'
                 then coalesce(money(reservation_unused_amortized_upfront_fee_for_billing_period), 0) + coalesce(money(reservation_unused_recurring_fee), 0)
        end as unused_commitment_cost,
        case when commitment_kind = 'savings_plan' and savings_plan_savings_plan_a_r_n is not null then
                 case line_item_line_item_type
                     when 'SavingsPlanCoveredUsage' then coalesce(money(savings_plan_savings_plan_effective_cost), 0)
                     when 'SavingsPlanRecurringFee' then coalesce(money(savings_plan_total_commitment_to_date), unblended_cost)
                     when 'SavingsPlanNegation' then 0
                     else unblended_cost end
             when commitment_kind = 'reservation' and reservation_reservation_a_r_n is not null then
                 case when line_item_line_item_type = 'DiscountedUsage' then usage_amount
                      else coalesce(money(reservation_total_reserved_units), usage_amount) end
        end as commitment_discount_quantity,
        case when line_item_line_item_type in ('BundledDiscount', 'Discount', 'EdpDiscount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount', 'Credit', 'Refund', 'SavingsPlanNegation') then 0
             else coalesce(public_on_demand_cost, unblended_cost)
        end as list_cost,
        case when line_item_line_item_type = 'SavingsPlanNegation' and usage_amount is not null then 0
             when line_item_line_item_type in ('BundledDiscount', 'Discount', 'EdpDiscount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount', 'Credit', 'Refund', 'SavingsPlanNegation')
                 or charge_category not in ('Usage', 'Purchase') then null
             when abs(public_on_demand_cost - public_on_demand_rate * usage_amount) <= 0.000000001 then public_on_demand_rate
             when usage_amount <> 0 then round(public_on_demand_cost / usage_amount, 9)
        end as list_unit_price,
        case when line_item_line_item_type in ('Credit', 'Refund', 'SavingsPlanNegation') then 0
             when line_item_line_item_type in ('BundledDiscount', 'Discount', 'EdpDiscount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount') then unblended_cost
             else coalesce(public_on_demand_cost, unblended_cost)
        end as contracted_cost,
        services.service_category,
        services.service_subcategory,
        regions.region_name as known_region_name
    from cur
    left join read_csv('${seeds}/map_aws_product_codes_to_service_categories.csv', header = true, all_varchar = true) services
        on cur.line_item_product_code = services.product_code
    left join read_csv('${seeds}/map_aws_regions.csv', header = true, all_varchar = true) regions
        on cur.region_id = regions.region_id
),
-- the unused part of a recurring commitment fee: a Usage row of its own (CommitmentDiscountStatus Unused)
split as (
    select *, false as is_unused_commitment from costed
    union all
    select
        * replace (
            'Usage' as charge_category,
            cast(0 as decimal(38, 9)) as unblended_cost,
            unused_commitment_cost as effective_cost,
            cast(0 as decimal(38, 9)) as list_cost,
            cast(0 as decimal(38, 9)) as contracted_cost,
            case when list_unit_price is not null then cast(0 as decimal(38, 9)) end as list_unit_price,
            case when commitment_kind = 'savings_plan' then unused_commitment_cost
                 else coalesce(money(reservation_unused_quantity), 0) end as commitment_discount_quantity,
            md5(row_id || '|unused_commitment') as row_id
        ),
        true as is_unused_commitment
    from costed
    where line_item_line_item_type in ('SavingsPlanRecurringFee', 'RIFee') and unused_commitment_cost <> 0
)
select
    cast(null as json) as AllocatedMethodDetails,
    cast(null as varchar) as AllocatedMethodId,
    cast(null as varchar) as AllocatedResourceId,
    cast(null as varchar) as AllocatedResourceName,
    cast(null as json) as AllocatedTags,
    line_item_availability_zone as AvailabilityZone,
    unblended_cost as BilledCost,
    bill_payer_account_id as BillingAccountId,
    coalesce(bill_payer_account_name, bill_payer_account_id) as BillingAccountName,
    'Payer Account' as BillingAccountType,
    upper(line_item_currency_code) as BillingCurrency,
    cast(coalesce(bill_billing_period_end_date, bill_billing_period_start_date + interval 1 month) as timestamp) as BillingPeriodEnd,
    cast(bill_billing_period_start_date as timestamp) as BillingPeriodStart,
    capacity_reservation_capacity_reservation_arn as CapacityReservationId,
    case when capacity_reservation_capacity_reservation_arn is not null
        and capacity_reservation_capacity_reservation_status in ('Used', 'Unused') then capacity_reservation_capacity_reservation_status end as CapacityReservationStatus,
    charge_category as ChargeCategory,
    case when (line_item_line_item_type = 'Refund' or bill_bill_type = 'Refund')
        and charge_period_start < cast(bill_billing_period_start_date as timestamp) then 'Correction' end as ChargeClass,
    line_item_line_item_description as ChargeDescription,
    case when is_unused_commitment then 'Usage-Based'
         when line_item_line_item_type in ('SavingsPlanRecurringFee', 'RIFee') then 'Recurring'
         when line_item_line_item_type = 'SavingsPlanUpfrontFee' then 'One-Time'
         when line_item_line_item_type = 'Fee' and bill_bill_type = 'Anniversary' then 'Recurring'
         when line_item_line_item_type in ('Fee', 'Tax', 'Credit', 'Refund') then 'One-Time'
         else 'Usage-Based' end as ChargeFrequency,
    charge_period_end as ChargePeriodEnd,
    charge_period_start as ChargePeriodStart,
    case when commitment_kind = 'savings_plan' and savings_plan_savings_plan_a_r_n is not null then 'Spend'
         when commitment_kind = 'reservation' and reservation_reservation_a_r_n is not null then 'Usage' end as CommitmentDiscountCategory,
    case when commitment_kind = 'savings_plan' then savings_plan_savings_plan_a_r_n
         when commitment_kind = 'reservation' then reservation_reservation_a_r_n end as CommitmentDiscountId,
    cast(null as varchar) as CommitmentDiscountName,
    commitment_discount_quantity as CommitmentDiscountQuantity,
    case when is_unused_commitment then 'Unused' when charge_category = 'Usage' and ((commitment_kind = 'savings_plan' and savings_plan_savings_plan_a_r_n is not null)
        or (commitment_kind = 'reservation' and reservation_reservation_a_r_n is not null)) then 'Used' end as CommitmentDiscountStatus,
    case when commitment_kind = 'savings_plan' and savings_plan_savings_plan_a_r_n is not null then 'Savings Plan'
         when commitment_kind = 'reservation' and reservation_reservation_a_r_n is not null then 'Reserved Instance' end as CommitmentDiscountType,
    case when commitment_discount_quantity is not null then
        case when commitment_kind = 'savings_plan' then upper(line_item_currency_code) else coalesce(pricing_unit, 'Hours') end
    end as CommitmentDiscountUnit,
    case when line_item_line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') then usage_amount
         when line_item_line_item_type = 'SavingsPlanNegation' and usage_amount is not null then 0 end as ConsumedQuantity,
    case when line_item_line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')
        and usage_amount is not null then pricing_unit end as ConsumedUnit,
    cast(null as json) as ContractApplied,
    contracted_cost as ContractedCost,
    cast(list_unit_price as decimal(38, 9)) as ContractedUnitPrice,
    effective_cost as EffectiveCost,
    'Amazon Web Services' as HostProviderName,
    bill_invoice_id as InvoiceId,
    coalesce(bill_invoicing_entity, 'Amazon Web Services') as InvoiceIssuerName,
    list_cost as ListCost,
    cast(list_unit_price as decimal(38, 9)) as ListUnitPrice,
    case when is_unused_commitment then 'Committed'
         when charge_category = 'Usage' and line_item_line_item_type in ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') then 'Committed'
         when charge_category = 'Usage' and (pricing_term = 'Spot' or line_item_usage_type like '%SpotUsage%') then 'Dynamic'
         when charge_category in ('Usage', 'Purchase') then 'Standard' end as PricingCategory,
    upper(coalesce(pricing_currency, line_item_currency_code)) as PricingCurrency,
    case when upper(coalesce(pricing_currency, line_item_currency_code)) = upper(line_item_currency_code)
        then cast(list_unit_price as decimal(38, 9)) end as PricingCurrencyContractedUnitPrice,
    case when upper(coalesce(pricing_currency, line_item_currency_code)) = upper(line_item_currency_code) then effective_cost end
        as PricingCurrencyEffectiveCost,
    case when upper(coalesce(pricing_currency, line_item_currency_code)) = upper(line_item_currency_code)
        then cast(list_unit_price as decimal(38, 9)) end as PricingCurrencyListUnitPrice,
    case when charge_category not in ('Usage', 'Purchase') then null
         when line_item_line_item_type = 'SavingsPlanNegation' and usage_amount is not null then 0
         else usage_amount end as PricingQuantity,
    case when charge_category in ('Usage', 'Purchase') and usage_amount is not null then pricing_unit end as PricingUnit,
    case when is_marketplace then coalesce(line_item_legal_entity, 'AWS Marketplace') else 'Amazon Web Services' end as ProviderName,
    case when is_marketplace then coalesce(line_item_legal_entity, 'AWS Marketplace') else 'Amazon Web Services' end as PublisherName,
    region_id as RegionId,
    case when region_id is not null then coalesce(product_location, known_region_name, region_id) end as RegionName,
    line_item_resource_id as ResourceId,
    cast(null as varchar) as ResourceName,
    case when line_item_resource_id is null then null
         when line_item_resource_id like 'arn:%' and split_part(line_item_resource_id, ':', 6) like '%/%'
             then split_part(split_part(line_item_resource_id, ':', 6), '/', 1)
         when line_item_resource_id like 'arn:%' and split_part(line_item_resource_id, ':', 7) <> ''
             then split_part(line_item_resource_id, ':', 6)
         else coalesce(product['product_family'], product_name, line_item_product_code) end as ResourceType,
    coalesce(service_category, 'Other') as ServiceCategory,
    coalesce(product_name, line_item_product_code) as ServiceName,
    case when is_marketplace then coalesce(line_item_legal_entity, 'AWS Marketplace') else 'Amazon Web Services' end as ServiceProviderName,
    coalesce(service_subcategory, 'Other (Other)') as ServiceSubcategory,
    product_sku as SkuId,
    cast(null as varchar) as SkuMeter,
    cast(null as json) as SkuPriceDetails,
    case when pricing_rate_code is not null or pricing_rate_id is not null then coalesce(pricing_rate_code, pricing_rate_id)
         when charge_category in ('Usage', 'Purchase') then coalesce(product_sku, line_item_product_code, '') || ':'
             || coalesce(pricing_term, 'OnDemand') || ':' || coalesce(line_item_usage_type, '') end as SkuPriceId,
    line_item_usage_account_id as SubAccountId,
    case when line_item_usage_account_id is not null then coalesce(line_item_usage_account_name, line_item_usage_account_id) end as SubAccountName,
    case when line_item_usage_account_id is not null then 'Linked Account' end as SubAccountType,
    cast(nullif(to_json(resource_tags), '{}') as json) as Tags,
    '${org}' as x_org_slug,
    '${pipeline}' as x_pipeline_id,
    '${credential}' as x_credential_id,
    cast(coalesce(line_item_usage_start_date, bill_billing_period_start_date) as date) as x_pipeline_run_date,
    '${run_id}' as x_run_id,
    cast(now() as timestamp) as x_ingested_at,
    cast(now() as date) as x_ingestion_date,
    row_id as x_ChargeRowId,
    'aws' as x_ProviderSlug,
    cast(null as varchar) as x_UsageEndpoint,
    cast(null as varchar) as x_ModelName,
    cast(null as varchar) as x_TokenType,
    cast(null as varchar) as x_ServiceTier,
    cast(null as varchar) as x_ApiKeyId,
    cast(null as varchar) as x_LineItem,
    'billed' as x_CostSource,
    cast(null as decimal(38, 9)) as x_EstimatedCost,
    line_item_product_code as x_ServiceCode,
    line_item_usage_type as x_UsageType,
    line_item_operation as x_Operation,
    line_item_line_item_type as x_AwsLineItemType,
    bill_bill_type as x_AwsBillType,
    identity_line_item_id as x_AwsLineItemId,
    cast(nullif(to_json(cost_category), '{}') as json) as x_CostCategories,
    filename as x_SourceFile,
    cast(null as timestamp) as x_ExportVersion
from split;
