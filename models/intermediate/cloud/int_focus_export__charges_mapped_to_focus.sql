{#-
    Provider-native FOCUS rows (FOCUS 0.5 to 1.3) upgraded to FOCUS 1.3. The rules (each one
    in DECISIONLOG.md, FOCUS exports):
    * columns the spec renamed were renamed on load (extract/focus_export/schema.py RENAMES);
    * enumerated values are matched case-insensitively and written as the spec spells them
      (the official sample's Oracle rows say "Usage-based"); 1.0 renamed PricingCategory values
      On-Demand -> Standard and Commitment-Based -> Committed; unknown values stay as delivered;
    * a column the source file did not have (x_source_focus_columns) is filled only where the spec
      defines its value from other columns: ServiceProviderName = ProviderName (1.3 replaces the
      deprecated ProviderName by it), HostProviderName = ServiceProviderName (CAU-HostProviderName-C-010-M:
      equal in all other cases), PricingCurrency = BillingCurrency and the PricingCurrency* prices and
      cost = their billing-currency twins (before 1.2 every price was in the billing currency; the
      unit prices only where SkuPriceId is set, CAU-PricingCurrencyListUnitPrice-C-011-C),
      CommitmentDiscountStatus from the 1.0-preview ChargeSubcategory; BillingAccountType /
      SubAccountType get the provider's account construct (the values of our native conversions);
    * ServiceSubcategory, null or absent, is "Other (<ServiceCategory>)", the spec's catch-all child of
      the row's category;
    * a null ListCost / ContractedCost with a null unit price is the BilledCost (CAU-ListCost-C-008-M /
      CAU-ContractedCost-C-008-M: a charge not calculated from other charges matches BilledCost); Tax
      rows are left alone;
    * a unit price is kept where unit price x PricingQuantity gives the row's cost at FOCUS precision,
      else it is cost / PricingQuantity (the AWS CUR rule): the official sample has rows that break it;
    * the 1.3 nullability rules a 1.0-1.2 row can break are repaired where the row itself determines the
      value (the AWS CUR conversion's rules; raw_focus_export keeps every delivered value, x_ChargeRowId
      points to it): BillingAccountName / SubAccountName fall back to their id; RegionName from the
      provider's region seed, else the RegionId; a RegionId from a RegionName that is a seed name or id or
      has the shape of a region id (OCI's us-sanjose-1), else RegionName NULL; ResourceType from the ARN
      (arn:aws:ec2:...:instance/i-1 -> instance), else the ServiceName, NULL without ResourceId;
      PricingCategory Standard (Committed with a commitment discount) on Usage / Purchase rows without
      one; SkuPriceId = SkuId:PricingCategory on Usage / Purchase rows without one; missing unit prices =
      cost / PricingQuantity; without SkuPriceId the unit prices, PricingCategory, PricingQuantity,
      ConsumedQuantity, CommitmentDiscountQuantity (and their units) are NULL, and ConsumedQuantity is
      NULL outside Usage; CommitmentDiscountQuantity of a used Spend commitment = its effective cost in
      the pricing currency; a ServiceName under several ServiceCategory values takes the category of the
      majority of its rows (ties: alphabetical), its ServiceSubcategory kept only if a child of it.
-#}
{%- set enums = focusline.get_focus_enumerations() -%}
{%- set subcategories = [] -%}
{%- for category, children in enums['ServiceSubcategory'].items() -%}
    {%- do subcategories.extend(children) -%}
{%- endfor -%}
{%- set categories = enums['ServiceSubcategory'].keys() | list -%}
{#- column -> allowed values (spec spelling), plus the spec's own value renames -#}
{%- set enumerated = [
    ('charge_category', enums['ChargeCategory'], {}),
    ('charge_class', enums['ChargeClass'], {}),
    ('charge_frequency', enums['ChargeFrequency'], {}),
    ('pricing_category', enums['PricingCategory'], {'on-demand': 'Standard', 'commitment-based': 'Committed'}),
    ('commitment_discount_status', enums['CommitmentDiscountStatus'], {}),
    ('commitment_discount_category', enums['CommitmentDiscountCategory'], {}),
    ('capacity_reservation_status', enums['CapacityReservationStatus'], {}),
    ('service_category', categories, {}),
    ('service_subcategory', subcategories, {}),
] -%}
{%- set canonical = [] -%}
{%- for column, values, renamed in enumerated -%}
    {%- set ns = namespace(sql='case lower(' ~ column ~ ')') -%}
    {%- for value in values -%}
        {%- set ns.sql = ns.sql ~ " when '" ~ (value | lower) ~ "' then '" ~ value ~ "'" -%}
    {%- endfor -%}
    {%- for old, new in renamed.items() -%}
        {%- set ns.sql = ns.sql ~ " when '" ~ old ~ "' then '" ~ new ~ "'" -%}
    {%- endfor -%}
    {%- do canonical.append((column, ns.sql ~ ' else ' ~ column ~ ' end')) -%}
{%- endfor -%}
{#- provider slug of a provider / entity name (COLUMN): the four clouds by name, else NULL -#}
{%- set slug_sql = "case
            when lower(COLUMN) in ('aws', 'amazon') or lower(COLUMN) like 'amazon web services%' then 'aws'
            when lower(COLUMN) like '%microsoft%' or lower(COLUMN) like '%azure%' then 'azure'
            when lower(COLUMN) in ('gcp', 'google') or lower(COLUMN) like 'google cloud%' then 'gcp'
            when lower(COLUMN) in ('oci', 'oracle') or lower(COLUMN) like 'oracle cloud%' then 'oci'
        end" -%}
{%- set category_pairs = [] -%}
{%- for category, children in enums['ServiceSubcategory'].items() -%}
    {%- for child in children -%}
        {%- do category_pairs.append(category ~ '|' ~ child) -%}
    {%- endfor -%}
{%- endfor -%}
{%- set region_seeds = [('aws', 'map_aws_regions'), ('azure', 'map_azure_regions'), ('gcp', 'map_gcp_regions')] -%}
{#- whether the source file had a FOCUS column (1.3 name) -#}
{%- set absent, present = {}, {} -%}
{%- for name in ['BillingAccountType', 'ChargeFrequency', 'CommitmentDiscountQuantity', 'CommitmentDiscountStatus',
    'CommitmentDiscountUnit', 'HostProviderName',
    'PricingCurrency', 'PricingCurrencyContractedUnitPrice', 'PricingCurrencyEffectiveCost',
    'PricingCurrencyListUnitPrice', 'ProviderName', 'ServiceProviderName', 'SubAccountType'] -%}
    {%- do absent.update({name: "source_focus_columns not like '%," ~ name ~ ",%'"}) -%}
    {%- do present.update({name: "source_focus_columns like '%," ~ name ~ ",%'"}) -%}
{%- endfor -%}

with

charges as (

    select * from {{ ref('stg_focus_export__charges') }}

),

charges_normalised as (

    select
        * replace (
            {%- for column, sql in canonical %}
            {{ sql }} as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        )
    from charges

),

regions as (
    {%- for slug, seed in region_seeds %}

    select distinct '{{ slug }}' as provider_slug, lower(region_id) as region_key, region_id, region_name
    from {{ ref(seed) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

-- a region name that names exactly one region of its provider
region_names as (

    select provider_slug, lower(region_name) as region_name_key, min(region_id) as region_id
    from regions
    group by provider_slug, lower(region_name)
    having count(distinct region_id) = 1

),

-- FOCUS 1.2+: one ServiceCategory per ServiceName; the category of the majority of the service's rows
service_category_counts as (

    select service_name, service_category, count(*) as row_count
    from charges_normalised
    where service_name is not null and service_category is not null
    group by service_name, service_category

),

service_categories as (

    select service_name, service_category as majority_service_category
    from (
        select
            *,
            row_number() over (partition by service_name order by row_count desc, service_category) as category_rank
        from service_category_counts
    ) as ranked
    where category_rank = 1

),

charges_classified as (

    select
        *,
        coalesce(
            {{ slug_sql | replace('COLUMN', 'provider_name') }},
            {{ slug_sql | replace('COLUMN', 'service_provider_name') }},
            {{ slug_sql | replace('COLUMN', 'host_provider_name') }},
            {{ slug_sql | replace('COLUMN', 'invoice_issuer_name') }},
            provider_hint,
            replace(lower(trim(coalesce(service_provider_name, provider_name))), ' ', '_')
        ) as provider_slug,
        -- 1.0 moved credits out of Adjustment into their own category (1.0-preview ChargeSubcategory)
        case
            when charge_category = 'Adjustment' and lower(charge_subcategory) = 'credit' then 'Credit'
            else charge_category
        end as charge_category_upgraded,
        coalesce(
            service_provider_name, case when {{ absent['ServiceProviderName'] }} then provider_name end
        ) as service_provider_name_upgraded,
        case
            when {{ absent['PricingCurrency'] }} then billing_currency else pricing_currency
        end as pricing_currency_upgraded,
        -- unit prices: the stated one where unit price x PricingQuantity gives the stated cost within the
        -- rounding of DECIMAL(38,9) values; else (the official sample has such rows) the price that makes
        -- them agree, cost / quantity, when it is not negative (the AWS CUR rule)
        {%- for price, cost in [('list_unit_price', 'list_cost'), ('contracted_unit_price', 'contracted_cost')] %}
        case
            when {{ price }} is null or {{ cost }} is null or pricing_quantity is null or charge_class = 'Correction'
                then {{ price }}
            when abs({{ cost }} - {{ price }} * pricing_quantity) <= 0.000000001 + 0.0000000005 * abs(pricing_quantity)
                then {{ price }}
            when pricing_quantity <> 0 and {{ cost }} / pricing_quantity >= 0
                then round({{ cost }} / pricing_quantity, 9)
        end as {{ price }}_checked{{ "," if not loop.last }}
        {%- endfor %}

    from charges_normalised

),

charges_upgraded as (

    select
        charges_classified.*,
        coalesce(
            list_cost,
            case when list_unit_price is null and charge_category_upgraded <> 'Tax' then billed_cost end
        ) as list_cost_upgraded,
        coalesce(
            contracted_cost,
            case when contracted_unit_price is null and charge_category_upgraded <> 'Tax' then billed_cost end
        ) as contracted_cost_upgraded,
        -- the spec's default: the host is the service provider unless the data says otherwise
        case
            when {{ absent['HostProviderName'] }} then service_provider_name_upgraded else host_provider_name
        end as host_provider_name_upgraded,
        coalesce(pricing_currency_upgraded = billing_currency, false) as is_priced_in_billing_currency,
        case
            when {{ present['CommitmentDiscountStatus'] }} then commitment_discount_status
            when lower(charge_subcategory) = 'used commitment' then 'Used'
            when lower(charge_subcategory) = 'unused commitment' then 'Unused'
        end as commitment_discount_status_upgraded,
        coalesce(service_categories.majority_service_category, charges_classified.service_category)
            as service_category_upgraded,
        -- a region id the row does not state: the seed's id of its RegionName, a RegionName that is a seed
        -- id, or one shaped like a region id (OCI's us-sanjose-1; no seed for OCI)
        coalesce(
            charges_classified.region_id,
            region_names.region_id,
            regions_by_name.region_id,
            {{ focusline.regexp_extract_group('charges_classified.region_name', '^([a-z]+(-[a-z]+)+-[0-9]+)$') }}
        ) as region_id_upgraded,
        regions_by_id.region_name as known_region_name,
        -- ARNs name their type (arn:aws:ec2:...:instance/i-0abc -> instance), else the service (AWS CUR rule)
        case
            when resource_id like 'arn:%' and {{ dbt.split_part('resource_id', "':'", 6) }} like '%/%' then nullif({{ dbt.split_part(dbt.split_part('resource_id', "':'", 6), "'/'", 1) }}, '')
            when resource_id like 'arn:%' and {{ dbt.split_part('resource_id', "':'", 7) }} <> '' then nullif({{ dbt.split_part('resource_id', "':'", 6) }}, '')
        end as arn_resource_type,
        case
            when pricing_category is not null then pricing_category
            when charge_category_upgraded in ('Usage', 'Purchase') and coalesce(charge_class, '') <> 'Correction'
                then case
                    when charge_category_upgraded = 'Usage' and commitment_discount_id is not null then 'Committed'
                    else 'Standard'
                end
        end as pricing_category_filled

    from charges_classified
    left join service_categories
        on charges_classified.service_name = service_categories.service_name
    left join regions as regions_by_id
        on charges_classified.provider_slug = regions_by_id.provider_slug
        and lower(charges_classified.region_id) = regions_by_id.region_key
    left join region_names
        on charges_classified.region_id is null
        and charges_classified.provider_slug = region_names.provider_slug
        and lower(charges_classified.region_name) = region_names.region_name_key
    left join regions as regions_by_name
        on charges_classified.region_id is null
        and charges_classified.provider_slug = regions_by_name.provider_slug
        and lower(charges_classified.region_name) = regions_by_name.region_key

),

charges_identified as (

    select
        *,
        -- a stable price id where the row has none: its SKU and pricing category (SkuPriceId-C-008: one
        -- SkuId per SkuPriceId)
        coalesce(
            sku_price_id,
            case
                when charge_category_upgraded in ('Usage', 'Purchase')
                    and coalesce(charge_class, '') <> 'Correction'
                    and sku_id is not null
                    then sku_id || ':' || pricing_category_filled
            end
        ) as sku_price_id_upgraded,
        case
            when {{ present['PricingCurrencyEffectiveCost'] }} then pricing_currency_effective_cost
            when is_priced_in_billing_currency then effective_cost
        end as pricing_currency_effective_cost_upgraded

    from charges_upgraded

),

{#- a missing unit price: cost / PricingQuantity, or the other unit price when both costs agree on a 0 quantity -#}
{%- set derived_price = "case
                when charge_class = 'Correction' or COST is null or pricing_quantity is null then null
                when pricing_quantity <> 0 and COST / pricing_quantity >= 0 then round(COST / pricing_quantity, 9)
                when pricing_quantity = 0 and list_cost_upgraded = contracted_cost_upgraded then OTHER
            end" -%}

charges_priced as (

    select
        *,
        case
            when sku_price_id_upgraded is not null
                then coalesce(
                    list_unit_price_checked,
                    {{ derived_price | replace('COST', 'list_cost_upgraded') | replace('OTHER', 'contracted_unit_price_checked') }}
                )
        end as list_unit_price_upgraded,
        case
            when sku_price_id_upgraded is not null
                then coalesce(
                    contracted_unit_price_checked,
                    {{ derived_price | replace('COST', 'contracted_cost_upgraded') | replace('OTHER', 'list_unit_price_checked') }}
                )
        end as contracted_unit_price_upgraded,
        -- 1.3: quantities only with a price id; ConsumedQuantity only on Usage rows that are not unused commitment
        case when sku_price_id_upgraded is not null then pricing_quantity end as pricing_quantity_upgraded,
        case
            when sku_price_id_upgraded is not null
                and charge_category_upgraded = 'Usage'
                and coalesce(commitment_discount_status_upgraded, '') <> 'Unused'
                then consumed_quantity
        end as consumed_quantity_upgraded,
        case
            when sku_price_id_upgraded is null then null
            when {{ present['CommitmentDiscountQuantity'] }} then commitment_discount_quantity
            -- a used Spend commitment consumes its row's effective cost (in the pricing currency)
            when charge_category_upgraded = 'Usage'
                and coalesce(charge_class, '') <> 'Correction'
                and commitment_discount_id is not null
                and lower(commitment_discount_category) = 'spend'
                and commitment_discount_status_upgraded = 'Used'
                then pricing_currency_effective_cost_upgraded
        end as commitment_discount_quantity_upgraded

    from charges_identified

),

{#- FOCUS column -> expression; every column not named here becomes a typed NULL -#}
{%- set mapped = {
    'AllocatedMethodDetails': 'allocated_method_details',
    'AllocatedMethodId': 'allocated_method_id',
    'AllocatedResourceId': 'allocated_resource_id',
    'AllocatedResourceName': 'allocated_resource_name',
    'AllocatedTags': 'allocated_tags',
    'AvailabilityZone': 'availability_zone',
    'BilledCost': 'billed_cost',
    'BillingAccountId': 'billing_account_id',
    'BillingAccountName': 'coalesce(billing_account_name, billing_account_id)',
    'BillingAccountType': "case
            when " ~ present['BillingAccountType'] ~ " then billing_account_type
            when billing_account_id is null then null
            when provider_slug = 'aws' then 'Payer Account'
            when provider_slug = 'azure' and lower(billing_account_id) like '%/billingprofiles/%' then 'Billing Profile'
            else 'Billing Account'
        end",
    'BillingCurrency': 'billing_currency',
    'BillingPeriodEnd': 'billing_period_end_at',
    'BillingPeriodStart': 'billing_period_start_at',
    'CapacityReservationId': 'capacity_reservation_id',
    'CapacityReservationStatus': 'capacity_reservation_status',
    'ChargeCategory': 'charge_category_upgraded',
    'ChargeClass': 'charge_class',
    'ChargeDescription': 'charge_description',
    'ChargeFrequency': "case
            when " ~ present['ChargeFrequency'] ~ " then charge_frequency
            when charge_category_upgraded = 'Usage' then 'Usage-Based'
        end",
    'ChargePeriodEnd': 'charge_period_end_at',
    'ChargePeriodStart': 'charge_period_start_at',
    'CommitmentDiscountCategory': 'commitment_discount_category',
    'CommitmentDiscountId': 'commitment_discount_id',
    'CommitmentDiscountName': 'commitment_discount_name',
    'CommitmentDiscountQuantity': 'commitment_discount_quantity_upgraded',
    'CommitmentDiscountStatus': 'commitment_discount_status_upgraded',
    'CommitmentDiscountType': 'commitment_discount_type',
    'CommitmentDiscountUnit': "case
            when commitment_discount_quantity_upgraded is null then null
            when " ~ present['CommitmentDiscountUnit'] ~ " then commitment_discount_unit
            when lower(commitment_discount_category) = 'spend' then pricing_currency_upgraded
        end",
    'ConsumedQuantity': 'consumed_quantity_upgraded',
    'ConsumedUnit': 'case when consumed_quantity_upgraded is not null then consumed_unit end',
    'ContractApplied': 'contract_applied',
    'ContractedCost': 'contracted_cost_upgraded',
    'ContractedUnitPrice': 'contracted_unit_price_upgraded',
    'EffectiveCost': 'effective_cost',
    'HostProviderName': 'host_provider_name_upgraded',
    'InvoiceId': 'invoice_id',
    'InvoiceIssuerName': 'invoice_issuer_name',
    'ListCost': 'list_cost_upgraded',
    'ListUnitPrice': 'list_unit_price_upgraded',
    'PricingCategory': 'case when sku_price_id_upgraded is not null then pricing_category_filled end',
    'PricingCurrency': 'pricing_currency_upgraded',
    'PricingCurrencyContractedUnitPrice': "case
            when " ~ present['PricingCurrencyContractedUnitPrice'] ~ " then pricing_currency_contracted_unit_price
            when is_priced_in_billing_currency and sku_price_id_upgraded is not null then contracted_unit_price_upgraded
        end",
    'PricingCurrencyEffectiveCost': 'pricing_currency_effective_cost_upgraded',
    'PricingCurrencyListUnitPrice': "case
            when " ~ present['PricingCurrencyListUnitPrice'] ~ " then pricing_currency_list_unit_price
            when is_priced_in_billing_currency and sku_price_id_upgraded is not null then list_unit_price_upgraded
        end",
    'PricingQuantity': 'pricing_quantity_upgraded',
    'PricingUnit': 'case when pricing_quantity_upgraded is not null then pricing_unit end',
    'ProviderName': "coalesce(provider_name, case when " ~ absent['ProviderName'] ~ " then service_provider_name end)",
    'PublisherName': 'publisher_name',
    'RegionId': 'region_id_upgraded',
    'RegionName': 'case when region_id_upgraded is not null then coalesce(region_name, known_region_name, region_id_upgraded) end',
    'ResourceId': 'resource_id',
    'ResourceName': 'resource_name',
    'ResourceType': 'case when resource_id is not null then coalesce(resource_type, arn_resource_type, service_name) end',
    'ServiceCategory': 'service_category_upgraded',
    'ServiceName': 'service_name',
    'ServiceProviderName': 'service_provider_name_upgraded',
    'ServiceSubcategory': "case
            when service_subcategory is not null and (
                service_category_upgraded = service_category
                or (service_category_upgraded || '|' || service_subcategory) in ('" ~ category_pairs | join("', '") ~ "')
            ) then service_subcategory
            when service_category_upgraded in ('" ~ categories | join("', '") ~ "') then 'Other (' || service_category_upgraded || ')'
        end",
    'SkuId': 'sku_id',
    'SkuMeter': 'sku_meter',
    'SkuPriceDetails': 'sku_price_details',
    'SkuPriceId': 'sku_price_id_upgraded',
    'SubAccountId': 'sub_account_id',
    'SubAccountName': 'case when sub_account_id is not null then coalesce(sub_account_name, sub_account_id) end',
    'SubAccountType': "case
            when " ~ present['SubAccountType'] ~ " then sub_account_type
            when sub_account_id is null then null
            when provider_slug = 'aws' then 'Linked Account'
            when provider_slug = 'azure' then 'Subscription'
            when provider_slug = 'gcp' then 'Project'
            when provider_slug = 'oci' then 'Tenancy'
            else 'Sub Account'
        end",
    'Tags': 'tags',
    'x_org_slug': 'x_org_slug',
    'x_pipeline_id': 'x_pipeline_id',
    'x_credential_id': 'x_credential_id',
    'x_pipeline_run_date': 'x_pipeline_run_date',
    'x_run_id': 'x_run_id',
    'x_ingested_at': 'x_ingested_at',
    'x_ingestion_date': 'x_ingestion_date',
    'x_ChargeRowId': 'charge_row_id',
    'x_ProviderSlug': 'provider_slug',
    'x_CostSource': "'billed'",
    'x_ServiceCode': 'x_service_code',
    'x_UsageType': 'x_usage_type',
    'x_Operation': 'x_operation',
    'x_CostCategories': focusline.parse_json_text('x_cost_categories'),
    'x_SourceFile': 'x_source_file',
    'x_ExportVersion': 'x_export_version',
} %}

final as (

    select
        {{- focusline.select_focus_columns(mapped) }}

    from charges_priced

)

select * from final
