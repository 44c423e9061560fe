"""OpenAI extractor end to end: real HTTP (the fake API on 127.0.0.1), real DuckDB via replace_rows."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from demo.openai_api import PRICES, FakeOpenAIServer, expected_costs, expected_usage, project_discounts
from extract.http import RetryPolicy
from extract.openai.processors import (
    BILLED_COST_PROCESSOR,
    USAGE_PROCESSOR,
    OpenAIBilledCostConfig,
    OpenAIBilledCostProcessor,
    OpenAIUsageConfig,
    OpenAIUsageProcessor,
)
from focusline.errors import CancelledError, InputDataError, TerminalError, TransientError
from focusline.settings import Settings
from focusline.steps import StepContext

ADMIN_KEY = "sk-admin-" + "Zq7vKp2Lm9Xw4Rt8" * 3
ORG = "acme_test"
USAGE_THROUGH = dt.date(2026, 11, 2)  # costs lag one day: the last cost day is 2026-11-01
FAST = RetryPolicy(max_attempts=3, backoff_initial_seconds=0.01, backoff_max_seconds=0.05)
USAGE = OpenAIUsageProcessor(retry=FAST)
COSTS = OpenAIBilledCostProcessor(retry=FAST)
FIXTURES = Path(__file__).parent / "fixtures" / "openai"

USAGE_CONFIG = OpenAIUsageConfig(provider="openai")
COSTS_CONFIG = OpenAIBilledCostConfig(provider="openai")


@pytest.fixture
def api() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(admin_key=ADMIN_KEY, usage_through=USAGE_THROUGH) as server:
        yield server


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str, timeout: str = "5") -> Settings:
    monkeypatch.setenv("FOCUSLINE_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("FOCUSLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FOCUSLINE_OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("FOCUSLINE_HTTP_TIMEOUT", timeout)
    return Settings.from_env()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeOpenAIServer) -> Settings:
    return _settings(tmp_path, monkeypatch, api.url)


def make_ctx(
    settings: Settings,
    start: dt.date = dt.date(2026, 10, 30),
    end: dt.date = USAGE_THROUGH,
    *,
    run_id: str = "run-1",
    key: str = ADMIN_KEY,
    timeout: float = 30.0,
) -> StepContext:
    return StepContext(
        org_slug=ORG,
        pipeline_id="genai_payg_openai",
        run_id=run_id,
        step_id="extract",
        start_date=start,
        end_date=end,
        target="local",
        settings=settings,
        variables={},
        deadline=time.monotonic() + timeout,
        get_credential=lambda provider, credential_id: (credential_id or "default", key),
    )


def rows(settings: Settings, sql: str) -> list[tuple]:
    path = settings.warehouse_path(ORG)
    if not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = {r[0] for r in conn.execute("select table_name from information_schema.tables").fetchall()}
        if not any(t in sql for t in tables):
            return []
        return conn.execute(sql).fetchall()


# -- happy paths ------------------------------------------------------------------------------


def test_usage_paginates_to_the_end_and_loads_every_row(api: FakeOpenAIServer, settings: Settings) -> None:
    api.max_page_buckets = 2  # the client asks for 31 buckets a page; the server gives 2
    start, end = dt.date(2026, 10, 20), USAGE_THROUGH  # 14 days -> 7 pages per endpoint
    result = USAGE.run(make_ctx(settings, start, end), USAGE_CONFIG)

    assert result.detail["pages"] == 14
    paged = [r for r in api.requests if "page" in r.query]
    assert len(paged) == 12 and all(r.status == 200 for r in api.requests)
    assert {q for r in api.requests for q in r.query} >= {"group_by[]", "start_time", "end_time", "limit"}

    expected = {}
    for u in expected_usage(start, end, usage_through=USAGE_THROUGH):
        key = (u["endpoint"], u["day"], u["model"], u["project_id"], u["api_key_id"], u["batch"])
        total = expected.setdefault(key, [0, 0, 0])
        total[0] += u["input_tokens"]
        total[1] += u.get("output_tokens") or 0
        total[2] += u["num_model_requests"]
    loaded = rows(
        settings,
        "select endpoint, bucket_date, model, project_id, api_key_id, batch, input_tokens, "
        "coalesce(output_tokens, 0), num_model_requests from raw.raw_openai_usage",
    )
    assert result.rows == len(loaded) == len(expected)
    assert {r[:6]: list(r[6:]) for r in loaded} == expected
    assert result.detail["completions"] + result.detail["embeddings"] == result.rows
    # lineage and the §2.4 token identities
    lineage = rows(
        settings, "select distinct x_org_slug, x_pipeline_id, x_credential_id, x_run_id from raw.raw_openai_usage"
    )
    assert lineage == [(ORG, "genai_payg_openai", "default", "run-1")]
    broken = rows(
        settings,
        "select count(*) from raw.raw_openai_usage where endpoint = 'completions' and ("
        "input_tokens != input_uncached_tokens + input_cached_tokens + input_cache_write_tokens "
        "or input_cache_write_tokens != input_cache_write_30m_tokens + input_cache_write_12h_tokens "
        "or input_uncached_tokens != input_text_tokens + input_audio_tokens + input_image_tokens)",
    )
    assert broken == [(0,)]
    assert rows(settings, "select count(*) from raw.raw_openai_usage where batch")[0][0] > 0
    assert rows(settings, "select sum(input_cache_write_12h_tokens) from raw.raw_openai_usage")[0][0] > 0


def test_costs_are_exact_decimals_and_lag_one_day(api: FakeOpenAIServer, settings: Settings) -> None:
    start, end = dt.date(2026, 10, 30), USAGE_THROUGH
    result = COSTS.run(make_ctx(settings, start, end), COSTS_CONFIG)

    expected = {
        (c["day"], c["project_id"], c["line_item"]): (c["amount"], Decimal(c["quantity"]))
        for c in expected_costs(start, end, usage_through=USAGE_THROUGH)
    }
    loaded = rows(
        settings,
        "select bucket_date, project_id, line_item, amount_value, quantity, amount_currency from raw.raw_openai_costs",
    )
    assert result.rows == len(loaded) == len(expected) > 0
    assert {r[:3]: (r[3], r[4]) for r in loaded} == expected  # Decimal equality, not approx
    assert {r[5] for r in loaded} == {"usd"}
    assert USAGE_THROUGH not in {r[0] for r in loaded}  # costs lag: newest day has usage only
    assert rows(settings, "select typeof(amount_value) from raw.raw_openai_costs limit 1") == [("DECIMAL(38,9)",)]

    # billed = list price x tokens, less the negotiated discount on one project
    discounted = set(project_discounts())
    for (day, project, line_item), (amount, quantity) in expected.items():
        model, token_class = line_item.rsplit(", ", 1)
        price = PRICES[model]
        per_million = {
            "input": price.input,
            "cached input": price.cached_input,
            "output": price.output,
            "cache write 30m input": price.cache_write_30m,
            "cache write 12h input": price.cache_write_12h,
            "batch input": price.batch_input,
            "batch output": price.batch_output,
        }[token_class]
        listed = quantity * per_million / 1_000_000
        assert (amount < listed) if project in discounted else (amount == listed), (day, project, line_item)


def test_reference_payload_amounts_stay_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (FIXTURES / "costs_by_project_2026-11-01.json").read_bytes()
    with _recorded_api(body) as base_url:
        settings = _settings(tmp_path, monkeypatch, base_url)
        COSTS.run(make_ctx(settings, dt.date(2026, 11, 1), dt.date(2026, 11, 2)), COSTS_CONFIG)
    loaded = rows(
        settings, "select amount_value, result_json from raw.raw_openai_costs order by bucket_date, project_id"
    )
    assert [r[0] for r in loaded] == [Decimal("5.025"), Decimal("2.1"), Decimal("2.85"), Decimal("1.45")]
    assert '"value":5.025' in loaded[0][1] and json.loads(loaded[0][1])["project_id"] == "proj_alpha01"


def test_rerun_of_any_subrange_gives_the_same_rows(api: FakeOpenAIServer, settings: Settings) -> None:
    table = "select * exclude (x_run_id, x_ingested_at, x_ingestion_date) from raw.raw_openai_usage order by all"
    USAGE.run(make_ctx(settings, run_id="run-1"), USAGE_CONFIG)
    first = rows(settings, table)
    USAGE.run(make_ctx(settings, run_id="run-2"), USAGE_CONFIG)
    USAGE.run(make_ctx(settings, dt.date(2026, 11, 1), dt.date(2026, 11, 1), run_id="run-3"), USAGE_CONFIG)
    assert rows(settings, table) == first
    by_run = rows(settings, "select x_run_id, min(bucket_date), max(bucket_date) from raw.raw_openai_usage group by 1")
    assert sorted(by_run) == [
        ("run-2", dt.date(2026, 10, 30), dt.date(2026, 11, 2)),
        ("run-3", dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
    ]
    # x_request_url is the request for the row's own bucket, whatever range or page loaded it
    (url,) = rows(
        settings,
        "select distinct x_request_url from raw.raw_openai_usage where bucket_date = '2026-11-01' "
        "and endpoint = 'embeddings'",
    )[0]
    assert url == (
        f"{api.url}/organization/usage/embeddings?start_time=1793491200&end_time=1793577600&bucket_width=1d"
        "&group_by[]=model&group_by[]=project_id&group_by[]=api_key_id"
    )


# -- retries ----------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(api: FakeOpenAIServer, settings: Settings) -> None:
    api.inject("rate_limit", 1, seconds=1)
    result = COSTS.run(make_ctx(settings), COSTS_CONFIG)
    assert result.rows > 0
    limited, retried = api.requests[0], api.requests[1]
    assert (limited.status, retried.status) == (429, 200)
    assert retried.received_at - limited.responded_at >= 1.0  # Retry-After: 1 honoured, not the 10 ms backoff


def test_5xx_once_then_success(api: FakeOpenAIServer, settings: Settings) -> None:
    api.inject("server_error", 1, endpoint="embeddings", status=503)
    result = USAGE.run(make_ctx(settings), USAGE_CONFIG)
    assert result.detail["embeddings"] > 0
    assert [r.status for r in api.requests if r.path.endswith("embeddings")] == [503, 200]


def test_transient_404_on_costs_is_retried(api: FakeOpenAIServer, settings: Settings) -> None:
    api.inject("not_found", 2, endpoint="costs")
    assert COSTS.run(make_ctx(settings), COSTS_CONFIG).rows > 0
    assert [r.status for r in api.requests] == [404, 404, 200]


def test_5xx_that_outlasts_the_retries_is_transient(api: FakeOpenAIServer, settings: Settings) -> None:
    api.inject("server_error", None, endpoint="costs", status=502)
    with pytest.raises(TransientError) as caught:
        COSTS.run(make_ctx(settings), COSTS_CONFIG)
    message = str(caught.value)
    assert "/organization/costs" in message and "502" in message and "after 3 attempt(s)" in message
    assert "server had an error" in message  # the provider's message
    assert len(api.requests) == FAST.max_attempts
    assert rows(settings, "select count(*) from raw.raw_openai_costs") == []


def test_slow_response_is_retried_after_the_http_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeOpenAIServer
) -> None:
    settings = _settings(tmp_path, monkeypatch, api.url, timeout="0.4")
    api.inject("slow", 1, endpoint="costs", seconds=1.5)
    assert COSTS.run(make_ctx(settings), COSTS_CONFIG).rows > 0
    assert len(api.requests) == 2

    api.clear_requests()
    api.inject("slow", None, endpoint="costs", seconds=1.5)
    with pytest.raises(TransientError, match=r"no response within 0\.4s \(read timeout\)"):
        COSTS.run(make_ctx(settings, run_id="run-2"), COSTS_CONFIG)
    assert len(api.requests) == FAST.max_attempts


def test_cancel_interrupts_a_retry_after_wait(api: FakeOpenAIServer, settings: Settings) -> None:
    api.inject("rate_limit", 1, seconds=20)
    ctx = make_ctx(settings)
    threading.Timer(0.3, ctx.cancel_event.set).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        COSTS.run(ctx, COSTS_CONFIG)
    assert time.monotonic() - started < 5


def test_retry_after_longer_than_the_step_fails_without_waiting(api: FakeOpenAIServer, settings: Settings) -> None:
    api.inject("rate_limit", 1, seconds=60)
    started = time.monotonic()
    with pytest.raises(TransientError, match="429 rate_limit_exceeded"):
        COSTS.run(make_ctx(settings, timeout=5), COSTS_CONFIG)
    assert time.monotonic() - started < 2


# -- terminal failures ------------------------------------------------------------------------


def test_401_fails_at_once_with_a_clear_message(api: FakeOpenAIServer, settings: Settings) -> None:
    wrong = "sk-admin-" + "Wr0ngWr0ngWr0ng9" * 3
    with pytest.raises(TerminalError) as caught:
        USAGE.run(make_ctx(settings, key=wrong), USAGE_CONFIG)
    message = str(caught.value)
    assert message.startswith("OpenAI rejected the admin key (401 invalid_api_key): Incorrect API key provided")
    assert "sk-admin-…" in message and f"python run.py credentials set {ORG} openai" in message
    assert wrong not in message and ADMIN_KEY not in message
    assert [(r.path, r.status) for r in api.requests] == [("/v1/organization/usage/completions", 401)]
    assert rows(settings, "select count(*) from raw.raw_openai_usage") == []


def test_project_key_is_refused_with_403(api: FakeOpenAIServer, settings: Settings) -> None:
    with pytest.raises(TerminalError, match=r"OpenAI refused the admin key \(403 insufficient_permissions\)"):
        COSTS.run(make_ctx(settings, key="sk-proj-" + "p" * 40), COSTS_CONFIG)
    assert len(api.requests) == 1


def test_truncated_json_fails_clearly_and_keeps_the_previous_load(api: FakeOpenAIServer, settings: Settings) -> None:
    USAGE.run(make_ctx(settings, run_id="run-good"), USAGE_CONFIG)
    before = rows(settings, "select * exclude (x_ingested_at) from raw.raw_openai_usage order by all")
    assert before

    api.clear_requests()
    api.inject("truncate", None, endpoint="embeddings")  # completions pages are fine this time
    with pytest.raises(InputDataError) as caught:
        USAGE.run(make_ctx(settings, run_id="run-bad"), USAGE_CONFIG)
    message = str(caught.value)
    assert "malformed JSON body" in message and "/v1/organization/usage/embeddings?start_time=" in message
    assert "bytes received" in message and "after 3 attempt(s)" in message
    assert [r.status for r in api.requests].count(200) == 1 + FAST.max_attempts  # completions + embeddings tries
    after = rows(settings, "select * exclude (x_ingested_at) from raw.raw_openai_usage order by all")
    assert after == before  # nothing of run-bad, not even its good completions rows


def test_shape_drift_names_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = json.loads((FIXTURES / "usage_completions_2026-11-01.json").read_text())
    page["data"][1]["results"][0]["input_tokens"] = "600000"
    with _recorded_api(json.dumps(page).encode()) as base_url:
        settings = _settings(tmp_path, monkeypatch, base_url)
        config = OpenAIUsageConfig(provider="openai", endpoints=["completions"])
        with pytest.raises(InputDataError, match=r"data\[1\]\.results\[0\]\.input_tokens: expected an integer"):
            USAGE.run(make_ctx(settings, dt.date(2026, 11, 1), dt.date(2026, 11, 2)), config)
    assert rows(settings, "select count(*) from raw.raw_openai_usage") == []


def test_admin_key_never_leaks(api: FakeOpenAIServer, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    USAGE.run(make_ctx(settings), USAGE_CONFIG)
    COSTS.run(make_ctx(settings), COSTS_CONFIG)
    errors: list[Exception] = []
    for kind, extra in (("server_error", {}), ("truncate", {}), ("rate_limit", {"seconds": 0})):
        api.clear_faults()
        api.inject(kind, None, **extra)
        with pytest.raises(Exception) as caught:
            COSTS.run(make_ctx(settings, run_id=f"run-{kind}"), COSTS_CONFIG)
        errors.append(caught.value)
    api.clear_faults()
    with pytest.raises(TerminalError) as caught:
        COSTS.run(make_ctx(settings, key=ADMIN_KEY + "x"), COSTS_CONFIG)
    errors.append(caught.value)

    for error in errors:
        text = f"{error} {error!r} {getattr(error, 'context', '')}"
        assert ADMIN_KEY not in text
    assert ADMIN_KEY not in caplog.text and "Zq7vKp2Lm9Xw4Rt8" not in caplog.text
    assert "GET http://127.0.0.1" in caplog.text  # requests are logged, just without secrets
    for table in ("raw_openai_usage", "raw_openai_costs"):
        dump = rows(settings, f"select string_agg(cast(columns(*) as varchar), '|') from raw.{table}")
        assert dump and all(ADMIN_KEY[9:25] not in str(cell) for cell in dump[0])


# -- config -----------------------------------------------------------------------------------


def test_config_models() -> None:
    assert OpenAIUsageConfig(provider="openai").endpoints == ["completions", "embeddings"]
    with pytest.raises(ValidationError, match="more than once"):
        OpenAIUsageConfig(provider="openai", endpoints=["completions", "completions"])
    with pytest.raises(ValidationError):
        OpenAIUsageConfig(provider="openai", endpoints=[])
    with pytest.raises(ValidationError):
        OpenAIUsageConfig(provider="openai", endpoints=["images"])
    with pytest.raises(ValidationError):
        OpenAIUsageConfig(provider="anthropic")
    with pytest.raises(ValidationError):
        OpenAIBilledCostConfig(provider="openai", group_by=["model"])
    assert USAGE_PROCESSOR.config_model is OpenAIUsageConfig
    assert BILLED_COST_PROCESSOR.config_model is OpenAIBilledCostConfig


# -- helpers ----------------------------------------------------------------------------------


class _RecordedHandler(BaseHTTPRequestHandler):
    body: bytes = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _recorded_api:
    """Serve one recorded payload for every GET (tests/fixtures/openai)."""

    def __init__(self, body: bytes) -> None:
        handler = type("Handler", (_RecordedHandler,), {"body": body})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
