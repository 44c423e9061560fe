with

source as (

    select * from {{ source('openai', 'raw_openai_usage') }}

),

renamed as (

    select
        -- ids
        {{ focusline.generate_surrogate_key([
            'x_org_slug', 'x_pipeline_id', 'x_credential_id', 'endpoint', 'bucket_date', 'model',
            'project_id', 'user_id', 'api_key_id', 'batch', 'service_tier', 'api_source',
        ]) }} as usage_result_id,
        endpoint as usage_endpoint,
        result_object,
        model as model_id,
        project_id,
        user_id,
        api_key_id,
        api_source,

        -- categories
        coalesce(batch, false) as is_batch,
        batch is null as is_batch_unknown,
        lower(service_tier) as service_tier,

        -- dates and timestamps (UTC)
        bucket_date as usage_date,
        bucket_start_at,
        bucket_end_at,

        -- token counts
        input_tokens,
        output_tokens,
        input_cached_tokens,
        input_uncached_tokens,
        input_text_tokens,
        input_audio_tokens,
        input_image_tokens,
        input_cached_text_tokens,
        input_cached_audio_tokens,
        input_cached_image_tokens,
        input_cache_write_tokens,
        input_cache_write_30m_tokens,
        input_cache_write_12h_tokens,
        output_text_tokens,
        output_audio_tokens,
        output_image_tokens,
        num_model_requests as model_request_count,

        -- traceability
        x_request_url,

        -- lineage
        x_org_slug,
        x_pipeline_id,
        x_credential_id,
        x_pipeline_run_date,
        x_run_id,
        x_ingested_at,
        x_ingestion_date

    from source
    where {{ focusline.get_org_slug_filter('x_org_slug') }}

),

final as (

    select * from renamed

)

select * from final
