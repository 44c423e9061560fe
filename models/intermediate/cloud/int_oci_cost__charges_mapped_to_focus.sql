{#-
    OCI cost report line items -> FOCUS 1.3 (OCI's own FOCUS report mapping of
    reference/billing-sources.md 4.3 / 5.4, with focus_converters' myCostOverage bug not copied).
    Each non-obvious choice is in DECISIONLOG.md "Cloud billing: OCI". Deprecated usage reports
    (report_type usage_report) carry no cost: their rows cost 0 and are marked x_CostSource unpriced.
-#}

with

line_items as (

    select * from {{ ref('stg_oci_cost__line_items') }}

),

services as (

    select * from {{ ref('map_oci_services_to_service_categories') }}

),

line_items_categorised as (

    select
        line_items.*,
        services.service_name,
        services.service_category,
        services.service_subcategory,
        services.non_ocid_resource_type
    from line_items
    left join services
        on line_items.oci_service = services.service

),

charges_classified as (

    select
        *,
        report_type = 'usage_report' as is_usage_report,
        -- the tenancy's name: the report has none, but the root compartment is the tenancy and
        -- carries its name (product/compartmentId = lineItem/tenantId)
        coalesce(
            tenant_name,
            max(case when compartment_id = tenant_id then compartment_name end)
                over (partition by x_org_slug, tenant_id),
            tenant_id
        ) as tenancy_name,
        -- an OCID names its type (ocid1.instance.oc1...); other resource ids by the service's seed row
        case
            when lower(resource_id) like 'ocid%.%.%' then {{ dbt.split_part('resource_id', "'.'", 2) }}
            when resource_id is not null then non_ocid_resource_type
        end as resource_type,
        case
            when report_type = 'usage_report' then consumed_quantity_units
            else coalesce(sku_unit_description, billing_unit_readable)
        end as quantity_unit,
        cast(coalesce(my_cost, 0) / nullif(billed_quantity, 0) as {{ focusline.type_money() }}) as cost_per_quantity

    from line_items_categorised

),

charges_costed as (

    select
        *,
        -- usage reports state no cost; cost reports' myCost includes overage (OCI's FOCUS BilledCost)
        case when is_usage_report then 0 else coalesce(my_cost, 0) end as billed_cost,
        -- quantities: none on corrections (FOCUS allows null for ChargeClass Correction; OCI corrections
        -- carry signed deltas, and the mart requires quantities >= 0); the original row keeps its own
        case
            when is_correction then null
            when is_usage_report then coalesce(consumed_quantity, billed_quantity)
            else billed_quantity
        end as consumed_quantity_focus,
        case when not is_correction then billed_quantity end as pricing_quantity,
        -- the subscription's unit price (OCI: myCost = unitPrice x billedQuantity) where it gives the stated
        -- cost within the mart's tolerance (assert_list_cost_equals_unit_price_times_quantity: 1e-9 plus half
        -- a 9th decimal of price per unit of quantity); else the price that does, cost / quantity (the stated
        -- price misses when a quantity rounded to 1e-9 meets a large price, e.g. 0.000336021505 x 25.53);
        -- a zero-cost line of zero quantity without a stated price is priced 0 (nothing was charged);
        -- corrections (no quantity here) keep the stated price
        case
            when is_usage_report then null
            when is_correction then case when unit_price >= 0 then unit_price end
            when billed_quantity is null then null
            when unit_price >= 0
                and abs(coalesce(my_cost, 0) - unit_price * billed_quantity)
                <= 0.000000001 + 0.0000000005 * abs(billed_quantity)
                then unit_price
            when cost_per_quantity >= 0
                and abs(coalesce(my_cost, 0) - cost_per_quantity * billed_quantity)
                <= 0.000000001 + 0.0000000005 * abs(billed_quantity)
                then cost_per_quantity
            when billed_quantity = 0 and coalesce(my_cost, 0) = 0 and unit_price is null then 0
        end as contracted_unit_price

    from charges_classified

),

charges_priced as (

    select
        *,
        -- OCI prices a SKU per subscription: the part number identifies the price (FOCUS: SkuPriceId MAY
        -- equal SkuId); none where no price is known (usage reports, corrections without a price)
        case
            when not is_usage_report and (contracted_unit_price is not null or not is_correction) then sku_id
        end as sku_price_id

    from charges_costed

),

{#- FOCUS column -> expression; every column not named here becomes a typed NULL -#}
{%- set mapped = {
    'AvailabilityZone': 'availability_domain',
    'BilledCost': 'billed_cost',
    'BillingAccountId': 'tenant_id',
    'BillingAccountName': 'tenancy_name',
    'BillingAccountType': "'Tenancy'",
    'BillingCurrency': 'billing_currency',
    'BillingPeriodEnd': dbt.dateadd('month', 1, 'billing_period_start_at'),
    'BillingPeriodStart': 'billing_period_start_at',
    'ChargeCategory': "'Usage'",
    'ChargeClass': "case when is_correction then 'Correction' end",
    'ChargeDescription': 'description',
    'ChargeFrequency': "'Usage-Based'",
    'ChargePeriodEnd': 'coalesce(usage_end_at, ' ~ dbt.dateadd('hour', 1, 'usage_start_at') ~ ')',
    'ChargePeriodStart': 'usage_start_at',
    'ConsumedQuantity': 'consumed_quantity_focus',
    'ConsumedUnit': 'case when consumed_quantity_focus is not null then quantity_unit end',
    'ContractedCost': 'billed_cost',
    'ContractedUnitPrice': 'contracted_unit_price',
    'EffectiveCost': 'billed_cost',
    'HostProviderName': "'Oracle'",
    'InvoiceIssuerName': "'Oracle'",
    'ListCost': 'billed_cost',
    'ListUnitPrice': 'contracted_unit_price',
    'PricingCategory': "case when sku_price_id is not null then 'Standard' end",
    'PricingCurrency': 'billing_currency',
    'PricingCurrencyContractedUnitPrice': 'contracted_unit_price',
    'PricingCurrencyEffectiveCost': 'billed_cost',
    'PricingCurrencyListUnitPrice': 'contracted_unit_price',
    'PricingQuantity': 'pricing_quantity',
    'PricingUnit': 'case when pricing_quantity is not null then quantity_unit end',
    'ProviderName': "'Oracle'",
    'PublisherName': "'Oracle'",
    'RegionId': 'region',
    'RegionName': 'region',
    'ResourceId': 'resource_id',
    'ResourceType': 'resource_type',
    'ServiceCategory': "coalesce(service_category, 'Other')",
    'ServiceName': 'coalesce(service_name, oci_service)',
    'ServiceProviderName': "'Oracle'",
    'ServiceSubcategory': "coalesce(service_subcategory, 'Other (Other)')",
    'SkuId': 'sku_id',
    'SkuPriceId': 'sku_price_id',
    'SubAccountId': 'compartment_id',
    'SubAccountName': 'case when compartment_id is not null then coalesce(compartment_name, compartment_id) end',
    'SubAccountType': "case when compartment_id is not null then 'Compartment' end",
    'Tags': 'tags',
    'x_org_slug': 'x_org_slug',
    'x_pipeline_id': 'x_pipeline_id',
    'x_credential_id': 'x_credential_id',
    'x_pipeline_run_date': 'x_pipeline_run_date',
    'x_run_id': 'x_run_id',
    'x_ingested_at': 'x_ingested_at',
    'x_ingestion_date': 'x_ingestion_date',
    'x_ChargeRowId': 'line_item_row_id',
    'x_ProviderSlug': "'oci'",
    'x_CostSource': "case when is_usage_report then 'unpriced' else 'billed' end",
    'x_ServiceCode': 'oci_service',
    'x_UsageType': 'oci_resource',
    'x_SourceFile': 'x_source_file',
    'x_ExportVersion': 'x_export_version',
} %}

final as (

    select
        {{- focusline.select_focus_columns(mapped) }}

    from charges_priced

)

select * from final
