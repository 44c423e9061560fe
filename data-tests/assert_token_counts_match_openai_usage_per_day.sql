-- Per (organisation, credential, UTC day, endpoint): tokens in the mart (all token classes) equal
-- input_tokens + output_tokens in staging (input includes cached and cache-write tokens). Fails
-- when the unpivot loses or double-counts tokens, or when the provider's token identities break.
with

mart as (

    select * from {{ ref('cost_data_standard_1_3') }}
    where x_ProviderSlug = 'openai'
        and x_TokenType is not null

),

usage_results as (

    select * from {{ ref('stg_openai__usage_results') }}

),

mart_per_day as (

    select
        x_org_slug,
        x_credential_id,
        cast(ChargePeriodStart as date) as usage_date,
        x_UsageEndpoint as usage_endpoint,
        sum(ConsumedQuantity) as mart_token_count

    from mart
    group by 1, 2, 3, 4

),

usage_per_day as (

    select
        x_org_slug,
        x_credential_id,
        usage_date,
        usage_endpoint,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as staging_token_count

    from usage_results
    group by 1, 2, 3, 4
    having sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) <> 0

),

final as (

    select
        coalesce(mart_per_day.x_org_slug, usage_per_day.x_org_slug) as x_org_slug,
        coalesce(mart_per_day.x_credential_id, usage_per_day.x_credential_id) as x_credential_id,
        coalesce(mart_per_day.usage_date, usage_per_day.usage_date) as usage_date,
        coalesce(mart_per_day.usage_endpoint, usage_per_day.usage_endpoint) as usage_endpoint,
        mart_per_day.mart_token_count,
        usage_per_day.staging_token_count

    from mart_per_day
    full outer join usage_per_day
        on mart_per_day.x_org_slug = usage_per_day.x_org_slug
        and mart_per_day.x_credential_id = usage_per_day.x_credential_id
        and mart_per_day.usage_date = usage_per_day.usage_date
        and mart_per_day.usage_endpoint = usage_per_day.usage_endpoint
    where coalesce(mart_per_day.mart_token_count, 0) <> coalesce(usage_per_day.staging_token_count, 0)

)

select * from final
