"""OpenAI fixtures of reference/genai-apis.md section 7.1-7.3, written with the real raw loader.

Days 2026-11-01 and 2026-11-02. At list price the completions cost 5.025 + 2.10 on day 1 and
2.85 + 1.45 on day 2, which is what the Costs API fixture bills per project.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from extract.load import Lineage, replace_rows
from extract.openai.schemas import RAW_OPENAI_COSTS, RAW_OPENAI_USAGE, USAGE_METRIC_FIELDS
from focusline.settings import Settings

ORG = "acme_corp"
PIPELINE_ID = "genai_payg_openai"
CREDENTIAL_ID = "openai_org_main"
DAY_1 = dt.date(2026, 11, 1)
DAY_2 = dt.date(2026, 11, 2)

_ZERO_COMPLETION = {name: 0 for name in USAGE_METRIC_FIELDS}


def _completion(day: dt.date, project_id: str, model: str, **metrics: int) -> dict[str, Any]:
    return {**_ZERO_COMPLETION, **metrics, "project_id": project_id, "model": model, "day": day}


# section 7.1 (completions, grouped by model and project_id)
COMPLETIONS = [
    _completion(
        DAY_1,
        "proj_alpha01",
        "gpt-5.4-2026-03-05",
        input_tokens=1_200_000,
        output_tokens=180_000,
        input_cached_tokens=300_000,
        input_uncached_tokens=900_000,
        input_text_tokens=880_000,
        input_image_tokens=20_000,
        input_cached_text_tokens=300_000,
        output_text_tokens=180_000,
        num_model_requests=420,
    ),
    _completion(
        DAY_1,
        "proj_beta02",
        "gpt-6-sol",
        input_tokens=1_600_000,
        output_tokens=60_000,
        input_cached_tokens=1_000_000,
        input_uncached_tokens=400_000,
        input_text_tokens=400_000,
        input_cached_text_tokens=1_000_000,
        input_cache_write_tokens=200_000,
        input_cache_write_30m_tokens=200_000,
        output_text_tokens=60_000,
        num_model_requests=130,
    ),
    _completion(
        DAY_2,
        "proj_alpha01",
        "gpt-5.4-2026-03-05",
        input_tokens=600_000,
        output_tokens=90_000,
        input_uncached_tokens=600_000,
        input_text_tokens=600_000,
        output_text_tokens=90_000,
        num_model_requests=210,
    ),
    _completion(
        DAY_2,
        "proj_beta02",
        "gpt-6-sol",
        input_tokens=1_100_000,
        output_tokens=45_000,
        input_cached_tokens=750_000,
        input_uncached_tokens=250_000,
        input_text_tokens=230_000,
        input_image_tokens=20_000,
        input_cached_text_tokens=750_000,
        input_cache_write_tokens=100_000,
        input_cache_write_30m_tokens=60_000,
        input_cache_write_12h_tokens=40_000,
        output_text_tokens=45_000,
        num_model_requests=95,
    ),
]

# section 7.2 (embeddings, grouped by model)
EMBEDDINGS = [
    {"day": DAY_1, "model": "text-embedding-3-small", "input_tokens": 2_000_000, "num_model_requests": 1000},
    {"day": DAY_1, "model": "text-embedding-3-large", "input_tokens": 500_000, "num_model_requests": 120},
    {"day": DAY_2, "model": "text-embedding-3-small", "input_tokens": 1_500_000, "num_model_requests": 800},
    {"day": DAY_2, "model": "text-embedding-3-large", "input_tokens": 0, "num_model_requests": 0},
]

# section 7.3 (costs, grouped by project_id)
COSTS = [
    {"day": DAY_1, "project_id": "proj_alpha01", "value": "5.025"},
    {"day": DAY_1, "project_id": "proj_beta02", "value": "2.1"},
    {"day": DAY_2, "project_id": "proj_alpha01", "value": "2.85"},
    {"day": DAY_2, "project_id": "proj_beta02", "value": "1.45"},
]

EXPECTED_BILLED_PER_DAY = {DAY_1: Decimal("7.125"), DAY_2: Decimal("4.30")}


def _bucket(day: dt.date) -> dict[str, Any]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return {"bucket_start_at": start, "bucket_end_at": start + dt.timedelta(days=1), "bucket_date": day}


def usage_rows(days: Iterable[dt.date] = (DAY_1, DAY_2)) -> list[dict[str, Any]]:
    wanted = set(days)
    rows: list[dict[str, Any]] = []
    for item in COMPLETIONS:
        if item["day"] not in wanted:
            continue
        result = {k: v for k, v in item.items() if k != "day"}
        result |= {
            "object": "organization.usage.completions.result",
            "user_id": None,
            "api_key_id": None,
            "batch": None,
            "service_tier": None,
            "api_source": None,
        }
        rows.append(
            {
                "endpoint": "completions",
                "result_object": result["object"],
                **_bucket(item["day"]),
                **{k: result[k] for k in (*USAGE_METRIC_FIELDS, "model", "project_id")},
                "result_json": json.dumps(result),
                "x_request_url": "http://fake/v1/organization/usage/completions",
            }
        )
    for item in EMBEDDINGS:
        if item["day"] not in wanted:
            continue
        result = {
            "object": "organization.usage.embeddings.result",
            "input_tokens": item["input_tokens"],
            "num_model_requests": item["num_model_requests"],
            "project_id": None,
            "user_id": None,
            "api_key_id": None,
            "model": item["model"],
        }
        rows.append(
            {
                "endpoint": "embeddings",
                "result_object": result["object"],
                **_bucket(item["day"]),
                "model": item["model"],
                "input_tokens": item["input_tokens"],
                "num_model_requests": item["num_model_requests"],
                "result_json": json.dumps(result),
                "x_request_url": "http://fake/v1/organization/usage/embeddings",
            }
        )
    return rows


def cost_rows(days: Iterable[dt.date] = (DAY_1, DAY_2)) -> list[dict[str, Any]]:
    wanted = set(days)
    rows: list[dict[str, Any]] = []
    for item in COSTS:
        if item["day"] not in wanted:
            continue
        result = {
            "object": "organization.costs.result",
            "amount": {"value": float(item["value"]), "currency": "usd"},
            "line_item": None,
            "project_id": item["project_id"],
            "api_key_id": None,
            "user_id": None,
            "api_source": None,
            "quantity": None,
            "quantity_unit": None,
        }
        rows.append(
            {
                "result_object": result["object"],
                **_bucket(item["day"]),
                "amount_value": Decimal(item["value"]),
                "amount_currency": "usd",
                "project_id": item["project_id"],
                "result_json": json.dumps(result),
                "x_request_url": "http://fake/v1/organization/costs",
            }
        )
    return rows


def load_fixtures(
    settings: Settings,
    *,
    run_id: str = "00000000-0000-4000-8000-000000000001",
    days: Iterable[dt.date] = (DAY_1, DAY_2),
    usage: list[Mapping[str, Any]] | None = None,
    costs: list[Mapping[str, Any]] | None = None,
) -> None:
    """Write the section 7 usage and cost rows of ``days`` for ORG with the real loader."""
    days = list(days)
    lineage = Lineage(org_slug=ORG, pipeline_id=PIPELINE_ID, credential_id=CREDENTIAL_ID, run_id=run_id)
    replace_rows(settings, RAW_OPENAI_USAGE, usage if usage is not None else usage_rows(days), lineage, days)
    replace_rows(settings, RAW_OPENAI_COSTS, costs if costs is not None else cost_rows(days), lineage, days)


if __name__ == "__main__":  # python -m tests.dbt.openai_fixtures  (FOCUSLINE_WAREHOUSE_DIR=...)
    load_fixtures(Settings.from_env())
    print(Settings.from_env().warehouse_path(ORG))
