{{
    config(
        materialized='incremental',
        incremental_strategy=focusline.get_incremental_strategy(),
        unique_key='usage_line_id',
        on_schema_change='sync_all_columns',
        pre_hook="{{ focusline.delete_incremental_window('usage_date') }}",
        partition_by=focusline.get_partition_by('usage_date', 'date'),
        cluster_by=focusline.get_cluster_by(['x_credential_id', 'provider_slug']),
    )
}}

with

usage_lines as (

    select * from {{ ref('int_openai__usage_unpivoted') }}
    where {{ focusline.get_incremental_window_filter('usage_date') }}

),

model_prices as (

    select * from {{ ref('genai_model_prices') }}

),

price_candidates as (

    -- every price-book row that could price a usage line on its day
    select
        usage_lines.usage_line_id,
        model_prices.model_pattern,
        model_prices.token_type,
        model_prices.service_tier,
        model_prices.usd_per_million_tokens,
        model_prices.valid_from,
        model_prices.valid_to,
        model_prices.source,
        -- most specific first: exact raw model id, then canonical id, then the longest LIKE pattern
        case
            when model_prices.model_pattern = lower(usage_lines.model_id) then 0
            when model_prices.model_pattern = usage_lines.canonical_model_id then 1
            else 2
        end as match_rank,
        length(model_prices.model_pattern) as pattern_length

    from usage_lines
    inner join model_prices
        on model_prices.provider = usage_lines.provider_slug
        and model_prices.token_type = usage_lines.token_type
        and model_prices.service_tier = usage_lines.price_tier
        and model_prices.valid_from <= usage_lines.usage_date
        and (model_prices.valid_to is null or usage_lines.usage_date < model_prices.valid_to)
        and (
            model_prices.model_pattern = lower(usage_lines.model_id)
            or model_prices.model_pattern = usage_lines.canonical_model_id
            or (
                {{ dbt.position("'%'", 'model_prices.model_pattern') }} > 0
                and (
                    lower(usage_lines.model_id) like model_prices.model_pattern
                    or usage_lines.canonical_model_id like model_prices.model_pattern
                )
            )
        )

),

prices_ranked as (

    select
        *,
        row_number() over (
            partition by usage_line_id
            order by match_rank, pattern_length desc, valid_from desc, model_pattern
        ) as price_rank

    from price_candidates

),

best_prices as (

    select * from prices_ranked
    where price_rank = 1

),

usage_priced as (

    select
        usage_lines.*,
        best_prices.usd_per_million_tokens as list_unit_price,
        -- quantity in millions of tokens first (exact: 6 decimals), then x price, rounded to 1e-9
        cast(
            round(
                cast(
                    cast(usage_lines.token_count as {{ focusline.type_money() }})
                    * cast('0.000001' as {{ focusline.type_money() }})
                    as {{ focusline.type_money() }}
                ) * best_prices.usd_per_million_tokens,
                9
            ) as {{ focusline.type_money() }}
        ) as list_cost,
        best_prices.model_pattern as price_model_pattern,
        best_prices.valid_from as price_valid_from,
        best_prices.valid_to as price_valid_to,
        best_prices.source as price_source,
        case
            when best_prices.usage_line_id is not null
                then {{ dbt.concat([
                    'usage_lines.provider_slug', "':'", 'best_prices.model_pattern', "':'",
                    'best_prices.token_type', "':'", 'best_prices.service_tier', "':'",
                    dbt.cast('best_prices.valid_from', dbt.type_string()),
                ]) }}
        end as price_id

    from usage_lines
    left join best_prices
        on usage_lines.usage_line_id = best_prices.usage_line_id

),

final as (

    select
        -- ids
        usage_line_id,
        provider_slug,
        usage_endpoint,
        model_id,
        canonical_model_id,
        project_id,
        api_key_id,
        price_id,

        -- categories
        price_tier,
        token_type,
        list_unit_price is not null as is_priced,

        -- dates
        usage_date,

        -- quantities
        token_count,
        cast(
            cast(token_count as {{ focusline.type_money() }}) * cast('0.000001' as {{ focusline.type_money() }})
            as {{ focusline.type_money() }}
        ) as million_token_count,

        -- prices and costs (USD)
        cast(list_unit_price as {{ focusline.type_money() }}) as list_unit_price,
        coalesce(list_cost, cast(0 as {{ focusline.type_money() }})) as list_cost,

        -- price-book row applied
        price_model_pattern,
        price_valid_from,
        price_valid_to,
        price_source,

        -- lineage
        x_org_slug,
        x_pipeline_id,
        x_credential_id,
        x_pipeline_run_date,
        x_run_id,
        x_ingested_at,
        x_ingestion_date

    from usage_priced

)

select * from final
