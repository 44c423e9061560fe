"""Raw landing tables of the OpenAI organisation Usage and Costs APIs (one row per bucket result).

Every result field the API documents is kept as a typed column, plus the verbatim result JSON, so
staging can flatten new fields later without a re-extract.
"""

from __future__ import annotations

from extract.load import RawTable

# Token/count metrics of the usage endpoints (completions, embeddings): null when the endpoint or
# an older response does not report the field.
USAGE_METRIC_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_cached_image_tokens",
    "input_cache_write_tokens",
    "input_cache_write_30m_tokens",
    "input_cache_write_12h_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
    "num_model_requests",
)

USAGE_GROUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("model", "VARCHAR"),
    ("project_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("api_key_id", "VARCHAR"),
    ("batch", "BOOLEAN"),
    ("service_tier", "VARCHAR"),
    ("api_source", "VARCHAR"),
)

RAW_OPENAI_USAGE = RawTable(
    name="raw_openai_usage",
    columns=(
        ("endpoint", "VARCHAR"),  # completions | embeddings
        ("result_object", "VARCHAR"),  # e.g. organization.usage.completions.result
        ("bucket_start_at", "TIMESTAMP"),  # UTC
        ("bucket_end_at", "TIMESTAMP"),  # UTC, exclusive
        ("bucket_date", "DATE"),  # UTC date of bucket_start_at: the data date
        *USAGE_GROUP_FIELDS,
        *((name, "BIGINT") for name in USAGE_METRIC_FIELDS),
        ("result_json", "JSON"),
        ("x_request_url", "VARCHAR"),
    ),
    date_column="bucket_date",
)

RAW_OPENAI_COSTS = RawTable(
    name="raw_openai_costs",
    columns=(
        ("result_object", "VARCHAR"),  # organization.costs.result
        ("bucket_start_at", "TIMESTAMP"),
        ("bucket_end_at", "TIMESTAMP"),
        ("bucket_date", "DATE"),
        ("amount_value", "DECIMAL(38,9)"),  # dollars, parsed from the JSON number without float
        ("amount_currency", "VARCHAR"),  # as sent (lowercase iso code)
        ("line_item", "VARCHAR"),
        ("project_id", "VARCHAR"),
        ("api_key_id", "VARCHAR"),
        ("user_id", "VARCHAR"),
        ("api_source", "VARCHAR"),
        ("quantity", "DECIMAL(38,9)"),
        ("quantity_unit", "VARCHAR"),
        ("result_json", "JSON"),
        ("x_request_url", "VARCHAR"),
    ),
    date_column="bucket_date",
)
