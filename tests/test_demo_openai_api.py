"""The fake OpenAI Usage/Costs API behaves like genai-apis.md §7.1-7.3 and §7.9 describe."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from demo.openai_api import (
    COMPLETION_DIMENSIONS,
    COMPLETION_METRICS,
    FakeOpenAIServer,
    expected_costs,
    expected_usage,
    project_ids,
)

KEY = "sk-admin-" + "d" * 40
THROUGH = dt.date(2026, 11, 2)
DAY1 = 1793491200  # 2026-11-01 00:00 UTC
DAY = 86_400


@pytest.fixture(scope="module")
def api() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(admin_key=KEY, usage_through=THROUGH) as server:
        yield server


def get(api: FakeOpenAIServer, path: str, params: Any = None, key: str | None = KEY) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(f"{api.url}{path}", params=params, headers=headers, timeout=5)


def body(response: requests.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def test_completions_shape_nulls_and_both_group_by_spellings(api: FakeOpenAIServer) -> None:
    base = {"start_time": DAY1, "end_time": DAY1 + 2 * DAY, "bucket_width": "1d"}
    brackets = get(api, "/organization/usage/completions", {**base, "group_by[]": ["model", "project_id"]})
    plain = get(api, "/organization/usage/completions", {**base, "group_by": ["model", "project_id"]})
    assert brackets.status_code == plain.status_code == 200
    assert body(brackets) == body(plain)
    page = body(brackets)
    assert page["object"] == "page" and page["has_more"] is False and page["next_page"] is None
    assert [(b["start_time"], b["end_time"]) for b in page["data"]] == [
        (DAY1, DAY1 + DAY),
        (DAY1 + DAY, DAY1 + 2 * DAY),
    ]
    result = page["data"][0]["results"][0]
    assert list(result) == ["object", *COMPLETION_METRICS, *COMPLETION_DIMENSIONS]
    assert result["object"] == "organization.usage.completions.result"
    assert result["model"] and result["project_id"] in project_ids().values()
    assert all(result[d] is None for d in ("user_id", "api_key_id", "batch", "service_tier", "api_source"))
    for r in (r for b in page["data"] for r in b["results"]):
        assert (
            r["input_tokens"] == r["input_uncached_tokens"] + r["input_cached_tokens"] + r["input_cache_write_tokens"]
        )
        assert r["input_uncached_tokens"] == r["input_text_tokens"] + r["input_audio_tokens"] + r["input_image_tokens"]
        assert r["input_cache_write_tokens"] == r["input_cache_write_30m_tokens"] + r["input_cache_write_12h_tokens"]


def test_unaligned_start_empty_buckets_and_pagination(api: FakeOpenAIServer) -> None:
    start = DAY1 + 12 * 3600  # mid-day: the first bucket starts exactly there
    params: dict[str, Any] = {"start_time": start, "end_time": start + 5 * DAY, "limit": 2}
    buckets, pages = [], 0
    while True:
        page = body(get(api, "/organization/usage/embeddings", params))
        pages += 1
        buckets.extend(page["data"])
        if not page["has_more"]:
            assert page["next_page"] is None
            break
        params["page"] = page["next_page"]
    assert pages == 3
    assert [b["start_time"] for b in buckets] == [start + i * DAY for i in range(5)]
    assert [bool(b["results"]) for b in buckets] == [True, True, False, False, False]  # usage ends on THROUGH


def test_grouping_sums_match_expected_usage(api: FakeOpenAIServer) -> None:
    monday = DAY1 + DAY  # 2026-11-02; Batch traffic runs on weekdays only
    params = {"start_time": monday, "end_time": monday + DAY, "group_by": ["model", "batch"]}
    results = body(get(api, "/organization/usage/completions", params))["data"][0]["results"]
    got = {(r["model"], r["batch"]): r["output_tokens"] for r in results}
    want: dict[tuple[str, bool], int] = {}
    for u in expected_usage(dt.date(2026, 11, 2), dt.date(2026, 11, 2), usage_through=THROUGH):
        if u["endpoint"] == "completions":
            want[(u["model"], u["batch"])] = want.get((u["model"], u["batch"]), 0) + u["output_tokens"]
    assert got == want
    assert ("gpt-4.1-mini", True) in got and ("gpt-4.1-mini", False) in got
    ungrouped = body(get(api, "/organization/usage/completions", {"start_time": monday, "end_time": monday + DAY}))
    (total,) = ungrouped["data"][0]["results"]
    assert total["output_tokens"] == sum(want.values()) and total["model"] is None
    sunday = body(get(api, "/organization/usage/completions", {**params, "start_time": DAY1, "end_time": monday}))
    assert all(not r["batch"] for r in sunday["data"][0]["results"])


def test_costs_grouping_and_lag(api: FakeOpenAIServer) -> None:
    params = {"start_time": DAY1, "end_time": DAY1 + 2 * DAY, "group_by[]": ["project_id", "line_item"], "limit": 180}
    page = body(get(api, "/organization/costs", params))
    day1, day2 = page["data"]
    assert day2["results"] == []  # the newest usage day has no cost yet
    got = {(r["project_id"], r["line_item"]): r["amount"]["value"] for r in day1["results"]}
    want = {
        (c["project_id"], c["line_item"]): c["amount"]
        for c in expected_costs(dt.date(2026, 11, 1), dt.date(2026, 11, 2), usage_through=THROUGH)
    }
    assert got == want
    r = day1["results"][0]
    assert r["object"] == "organization.costs.result" and r["amount"]["currency"] == "usd"
    assert r["quantity_unit"] == "tokens" and r["api_key_id"] is None and r["user_id"] is None
    by_project = body(get(api, "/organization/costs", {**params, "group_by[]": "project_id"}))
    assert all(x["line_item"] is None and x["quantity"] is None for x in by_project["data"][0]["results"])
    assert sum(x["amount"]["value"] for x in by_project["data"][0]["results"]) == sum(want.values())


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/organization/usage/completions", {}, "start_time"),
        ("/organization/usage/completions", {"start_time": "yesterday"}, "start_time"),
        ("/organization/usage/completions", {"start_time": DAY1, "limit": 32}, "limit"),
        ("/organization/costs", {"start_time": DAY1, "limit": 181}, "limit"),
        ("/organization/usage/embeddings", {"start_time": DAY1, "group_by": "batch"}, "group_by"),
        ("/organization/costs", {"start_time": DAY1, "group_by[]": "model"}, "group_by"),
        ("/organization/costs", {"start_time": DAY1, "bucket_width": "1h"}, "bucket_width"),
        ("/organization/usage/completions", {"start_time": DAY1, "end_time": DAY1}, "end_time"),
        ("/organization/usage/completions", {"start_time": DAY1, "page": "bm90LWEtY3Vyc29y"}, "page"),
        ("/organization/usage/completions", {"start_time": DAY1, "colour": "blue"}, "colour"),
    ],
)
def test_bad_parameters_get_400_with_an_openai_error_body(
    api: FakeOpenAIServer, path: str, params: dict[str, Any], param: str
) -> None:
    response = get(api, path, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


def test_auth_failures(api: FakeOpenAIServer) -> None:
    params = {"start_time": DAY1}
    missing = get(api, "/organization/costs", params, key=None)
    wrong = get(api, "/organization/costs", params, key="sk-admin-" + "w" * 36 + "abcd")
    project = get(api, "/organization/costs", params, key="sk-proj-" + "p" * 40)
    assert (missing.status_code, wrong.status_code, project.status_code) == (401, 401, 403)
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-admin-****abcd" in wrong.json()["error"]["message"]
    assert "w" * 36 not in wrong.text


def test_fault_control_endpoint_and_request_log() -> None:
    with FakeOpenAIServer(admin_key=KEY, usage_through=THROUGH) as api:
        control = f"{api.url.removesuffix('/v1')}/_faults"
        assert requests.post(control, json={"kind": "rate_limit", "count": 1, "seconds": 1}, timeout=5).ok
        assert requests.post(control, json={"kind": "not_found", "count": 1, "endpoint": "costs"}, timeout=5).ok
        assert requests.post(control, json={"kind": "bogus"}, timeout=5).status_code == 400
        first = get(api, "/organization/costs", {"start_time": DAY1, "end_time": DAY1 + DAY})
        assert first.status_code == 429 and first.headers["Retry-After"] == "1"
        assert first.headers["x-request-id"].startswith("req_")
        assert get(api, "/organization/costs", {"start_time": DAY1, "end_time": DAY1 + DAY}).status_code == 404
        assert get(api, "/organization/costs", {"start_time": DAY1, "end_time": DAY1 + DAY}).status_code == 200
        log = requests.get(f"{api.url.removesuffix('/v1')}/_requests", timeout=5).json()["requests"]
        assert [(r["method"], r["path"], r["status"]) for r in log] == [
            ("GET", "/v1/organization/costs", s) for s in (429, 404, 200)
        ]
        assert log[0]["query"]["start_time"] == [str(DAY1)]
        assert api.requests[0].responded_at >= api.requests[0].received_at


def test_generated_data_is_deterministic_per_seed() -> None:
    days = (dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    assert expected_usage(*days, usage_through=THROUGH) == expected_usage(*days, usage_through=THROUGH)
    other = expected_usage(*days, seed="globex", usage_through=THROUGH)
    assert other != expected_usage(*days, usage_through=THROUGH)
    models = {u["model"] for u in expected_usage(dt.date(2026, 10, 1), dt.date(2026, 10, 31), usage_through=THROUGH)}
    assert {"gpt-5.4-2026-03-05", "gpt-6-sol", "gpt-4.1-mini", "gpt-5-nano", "text-embedding-3-small"} <= models
    assert len(project_ids()) == 3 and len(set(project_ids().values())) == 3


def test_standalone_server_prints_its_base_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.openai_api", "--port", "0", "--admin-key", KEY, "--usage-through", "2026-11-02"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        response = requests.get(
            f"{url}/organization/usage/embeddings",
            params={"start_time": DAY1, "end_time": DAY1 + DAY},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=5,
        )
        assert response.status_code == 200 and response.json()["data"][0]["results"]
    finally:
        proc.terminate()
        proc.wait(timeout=5)
