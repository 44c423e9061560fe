with

usage_results as (

    select * from {{ ref('stg_openai__usage_results') }}

),

cache_writes_split as (

    select
        *,
        coalesce(input_cached_tokens, 0) as cached_tokens,
        -- total cache writes: the reported total, else the sum of the retention split
        coalesce(
            input_cache_write_tokens,
            coalesce(input_cache_write_30m_tokens, 0) + coalesce(input_cache_write_12h_tokens, 0)
        ) as cache_write_tokens,
        -- 12h: reported, else (total - 30m) when only 30m is known, else 0
        coalesce(
            input_cache_write_12h_tokens,
            case
                when input_cache_write_30m_tokens is not null
                    then coalesce(input_cache_write_tokens, input_cache_write_30m_tokens)
                        - input_cache_write_30m_tokens
                else 0
            end
        ) as cache_write_12h_tokens

    from usage_results

),

token_classes as (

    select
        *,
        -- 30m: reported, else the rest of the total (all of it when only the total is known:
        -- documented assumption, 30-minute retention is the default)
        coalesce(input_cache_write_30m_tokens, cache_write_tokens - cache_write_12h_tokens)
            as cache_write_30m_tokens,
        -- uncached input excludes cache reads and cache writes; older responses lack the field
        coalesce(input_uncached_tokens, input_tokens - cached_tokens - cache_write_tokens)
            as uncached_tokens,
        coalesce(output_tokens, 0) as output_token_count,
        case when is_batch or service_tier = 'flex' then 'batch' else 'standard' end as price_tier

    from cache_writes_split

),

{%- set dimensions = [
    'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'usage_date', 'usage_endpoint',
    'model_id', 'project_id', 'api_key_id', 'price_tier',
] %}
{%- set token_columns = [
    ('input_uncached', 'uncached_tokens'),
    ('input_cached', 'cached_tokens'),
    ('cache_write_30m', 'cache_write_30m_tokens'),
    ('cache_write_12h', 'cache_write_12h_tokens'),
    ('output', 'output_token_count'),
] %}

unpivoted as (

    {% for token_type, column in token_columns %}
    select
        {% for dimension in dimensions %}{{ dimension }},
        {% endfor -%}
        '{{ token_type }}' as token_type,
        {{ column }} as token_count,
        x_run_id,
        x_ingested_at,
        x_ingestion_date
    from token_classes
    {{ "union all" if not loop.last }}
    {% endfor %}

),

aggregated as (

    select
        {% for dimension in dimensions %}{{ dimension }},
        {% endfor -%}
        token_type,
        sum(token_count) as token_count,
        max(x_run_id) as x_run_id,
        max(x_ingested_at) as x_ingested_at,
        max(x_ingestion_date) as x_ingestion_date

    from unpivoted
    group by
        {% for dimension in dimensions %}{{ dimension }},
        {% endfor -%}
        token_type
    having sum(token_count) <> 0

),

final as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            "'openai'", 'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'usage_date',
            'usage_endpoint', 'model_id', 'project_id', 'api_key_id', 'price_tier', 'token_type',
        ]) }} as usage_line_id,
        'openai' as provider_slug,
        usage_endpoint,
        model_id,
        {{ focusline.canonicalize_model_id('model_id') }} as canonical_model_id,
        project_id,
        api_key_id,

        -- categories
        price_tier,
        token_type,

        -- dates
        usage_date,

        -- quantities
        token_count,

        -- lineage
        x_org_slug,
        x_pipeline_id,
        x_credential_id,
        usage_date as x_pipeline_run_date,
        x_run_id,
        x_ingested_at,
        x_ingestion_date

    from aggregated

)

select * from final
