with

charges as (

    select * from {{ ref('int_genai_costs_allocated') }}

),

charges_enriched as (

    select
        *,
        cast(charge_date as timestamp) as charge_period_start,
        {{ dbt.date_trunc('month', 'cast(charge_date as timestamp)') }} as billing_period_start,
        case provider_slug
            when 'openai' then 'OpenAI'
        end as provider_name,
        case provider_slug
            when 'openai' then 'OpenAI API'
        end as service_name,
        case token_type
            when 'input_uncached' then 'Input Tokens'
            when 'input_cached' then 'Cache Read Input Tokens'
            when 'cache_write_30m' then 'Cache Write Input Tokens'
            when 'cache_write_12h' then 'Cache Write Input Tokens'
            when 'output' then 'Output Tokens'
        end as sku_meter,
        case token_type
            when 'input_uncached' then 'input tokens'
            when 'input_cached' then 'cache read input tokens'
            when 'cache_write_30m' then 'cache write input tokens (30-minute retention)'
            when 'cache_write_12h' then 'cache write input tokens (12-hour retention)'
            when 'output' then 'output tokens'
        end as token_type_description

    from charges

),

{#- FOCUS column -> expression; every column not named here becomes a typed NULL -#}
{%- set mapped = {
    'BilledCost': 'billed_cost',
    'BillingAccountId': 'x_credential_id',
    'BillingAccountName': 'x_credential_id',
    'BillingAccountType': "'Organization'",
    'BillingCurrency': 'upper(billing_currency)',
    'BillingPeriodEnd': dbt.dateadd('month', 1, 'billing_period_start'),
    'BillingPeriodStart': 'billing_period_start',
    'ChargeCategory': "'Usage'",
    'ChargeDescription': 'charge_description',
    'ChargeFrequency': "'Usage-Based'",
    'ChargePeriodEnd': dbt.dateadd('day', 1, 'charge_period_start'),
    'ChargePeriodStart': 'charge_period_start',
    'ConsumedQuantity': 'token_count',
    'ConsumedUnit': "case when token_count is not null then 'Tokens' end",
    'ContractedCost': 'list_cost',
    'ContractedUnitPrice': 'list_unit_price',
    'EffectiveCost': 'billed_cost',
    'HostProviderName': 'provider_name',
    'InvoiceIssuerName': 'provider_name',
    'ListCost': 'list_cost',
    'ListUnitPrice': 'list_unit_price',
    'PricingCategory': "'Standard'",
    'PricingCurrency': "case when token_count is not null then 'USD' else upper(billing_currency) end",
    'PricingCurrencyContractedUnitPrice': 'list_unit_price',
    'PricingCurrencyEffectiveCost': "case when upper(billing_currency) = 'USD' then billed_cost end",
    'PricingCurrencyListUnitPrice': 'list_unit_price',
    'PricingQuantity': 'million_token_count',
    'PricingUnit': "case when token_count is not null then '1000000 Tokens' end",
    'ProviderName': 'provider_name',
    'PublisherName': 'provider_name',
    'ServiceCategory': "'AI and Machine Learning'",
    'ServiceName': 'service_name',
    'ServiceProviderName': 'provider_name',
    'ServiceSubcategory': "'Generative AI'",
    'SkuId': 'canonical_model_id',
    'SkuMeter': 'sku_meter',
    'SkuPriceDetails': 'sku_price_details',
    'SkuPriceId': 'price_id',
    'SubAccountId': 'project_id',
    'SubAccountName': 'project_id',
    'SubAccountType': "case when project_id is not null then 'Project' end",
    'x_org_slug': 'x_org_slug',
    'x_pipeline_id': 'x_pipeline_id',
    'x_credential_id': 'x_credential_id',
    'x_pipeline_run_date': 'x_pipeline_run_date',
    'x_run_id': 'x_run_id',
    'x_ingested_at': 'x_ingested_at',
    'x_ingestion_date': 'x_ingestion_date',
    'x_ChargeRowId': 'charge_row_id',
    'x_ProviderSlug': 'provider_slug',
    'x_UsageEndpoint': 'usage_endpoint',
    'x_ModelName': 'model_id',
    'x_TokenType': 'token_type',
    'x_ServiceTier': 'price_tier',
    'x_ApiKeyId': 'api_key_id',
    'x_LineItem': 'line_item',
    'x_CostSource': 'cost_source',
    'x_EstimatedCost': 'estimated_cost',
} %}

charges_described as (

    select
        *,
        case
            when token_count is not null
                then {{ dbt.concat([
                    'provider_name', "' '", 'model_id', "' '", 'token_type_description',
                    "', '", 'price_tier', "' tier'",
                ]) }}
            else {{ dbt.concat([
                'provider_name', "' billed cost without matching usage'",
                "coalesce(" ~ dbt.concat(["': '", 'line_item']) ~ ", '')",
            ]) }}
        end as charge_description,
        case
            when price_id is not null
                then {{ focusline.build_json_object([
                    ('x_ModelId', 'canonical_model_id'),
                    ('x_TokenType', 'token_type'),
                    ('x_ServiceTier', 'price_tier'),
                    ('x_PriceModelPattern', 'price_model_pattern'),
                    ('x_PriceValidFrom', dbt.cast('price_valid_from', dbt.type_string())),
                    ('x_UsdPerMillionTokens', 'list_unit_price'),
                ]) }}
        end as sku_price_details

    from charges_enriched

),

final as (

    select
        {{- focusline.select_focus_columns(mapped) }}

    from charges_described

)

select * from final
