"""A fake OpenAI organisation Usage and Costs API on 127.0.0.1 (shapes: genai-apis.md §7.1-7.3, §7.9).

Serves ``GET /v1/organization/usage/completions``, ``/v1/organization/usage/embeddings`` and
``/v1/organization/costs`` for one made-up organisation whose traffic is generated from a seed and
the day, so the same query always returns the same numbers and tests can compute expected values
without HTTP (``expected_usage``, ``expected_costs``).

The organisation: three projects, two API keys each, completions on gpt-5.4-2026-03-05, gpt-6-sol
(with prompt-cache writes), gpt-4.1-mini (interactive and Batch) and gpt-5-nano, embeddings on
text-embedding-3-small/-large. Costs are usage x the list prices of genai-apis.md §6.1 with a
negotiated discount on one project (so billed differs from the estimate there), rounded to 1e-9 USD
per (day, project, API key, line item); costs lag usage by ``costs_lag_days`` (default 1), so the
newest day has usage but no cost yet.

Line items are ``"<model>, <token class>"`` with token class one of ``input``, ``cached input``,
``cache write 30m input``, ``cache write 12h input``, ``output``, ``batch input``, ``batch output``
(OpenAI's real format is undocumented; see §2.4).

Faults (per server instance; ``inject()`` or ``POST /_faults`` with the same fields as JSON):
``rate_limit`` (429 + ``Retry-After``), ``server_error`` (5xx), ``truncate`` (a JSON body cut in
half, with a matching Content-Length), ``slow`` (sleep before answering), ``not_found`` (404); each
for the next ``count`` requests (``None`` = always), optionally only on one ``endpoint``
(``completions``, ``embeddings``, ``costs``). ``requests`` is the log of API requests (method, path,
query, status, times); ``GET /_requests`` returns it as JSON.

Run standalone: ``python -m demo.openai_api --port 8765 --admin-key sk-admin-demo...``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

DAY_SECONDS = 86_400
PER_MILLION = Decimal(1_000_000)
USD_QUANTUM = Decimal("0.000000001")
DEFAULT_SEED = "acme"

# -- prices (USD per 1M tokens, genai-apis.md §6.1; embeddings 0.02 / 0.13) ----------------------


@dataclass(frozen=True)
class ModelPrice:
    input: Decimal
    cached_input: Decimal | None = None
    cache_write_30m: Decimal | None = None
    cache_write_12h: Decimal | None = None
    output: Decimal | None = None
    batch_input: Decimal | None = None
    batch_output: Decimal | None = None


def _d(value: str) -> Decimal:
    return Decimal(value)


PRICES: dict[str, ModelPrice] = {
    "gpt-5.4-2026-03-05": ModelPrice(_d("2.50"), _d("0.25"), None, None, _d("15.00"), _d("1.25"), _d("7.50")),
    "gpt-6-sol": ModelPrice(_d("2.00"), _d("0.20"), _d("2.50"), _d("5.00"), _d("10.00"), _d("1.00"), _d("5.00")),
    "gpt-4.1-mini": ModelPrice(_d("0.40"), _d("0.10"), None, None, _d("1.60"), _d("0.20"), _d("0.80")),
    "gpt-5-nano": ModelPrice(_d("0.05"), _d("0.005"), None, None, _d("0.40"), _d("0.025"), _d("0.20")),
    "text-embedding-3-small": ModelPrice(_d("0.02")),
    "text-embedding-3-large": ModelPrice(_d("0.13")),
}

# -- the organisation -------------------------------------------------------------------------

COMPLETION_METRICS: tuple[str, ...] = (
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
EMBEDDING_METRICS: tuple[str, ...] = ("input_tokens", "num_model_requests")
COMPLETION_DIMENSIONS: tuple[str, ...] = (
    "project_id",
    "user_id",
    "api_key_id",
    "model",
    "batch",
    "service_tier",
    "api_source",
)
EMBEDDING_DIMENSIONS: tuple[str, ...] = ("project_id", "user_id", "api_key_id", "model")
COST_DIMENSIONS: tuple[str, ...] = ("line_item", "project_id", "api_key_id", "user_id", "api_source")


@dataclass(frozen=True)
class _Workload:
    project: str
    endpoint: str  # completions | embeddings
    model: str
    requests_per_day: int
    input_per_request: int
    output_per_request: int = 0
    cached_share: float = 0.0
    cache_write_share: float = 0.0
    image_share: float = 0.0
    batch: bool = False
    weekdays_only: bool = False
    active_share: float = 1.0  # probability the workload runs on a given day


_WORKLOADS: tuple[_Workload, ...] = (
    _Workload("web-app", "completions", "gpt-5.4-2026-03-05", 420, 2800, 420, cached_share=0.25, image_share=0.02),
    _Workload("web-app", "completions", "gpt-5-nano", 2600, 800, 150, cached_share=0.4),
    _Workload("web-app", "embeddings", "text-embedding-3-small", 1200, 1500),
    _Workload("research", "completions", "gpt-6-sol", 140, 11000, 480, cached_share=0.55, cache_write_share=0.12),
    _Workload("research", "completions", "gpt-4.1-mini", 3000, 1200, 300, batch=True, weekdays_only=True),
    _Workload("research", "embeddings", "text-embedding-3-large", 110, 4800, active_share=0.6),
    _Workload("support-bot", "completions", "gpt-4.1-mini", 900, 2100, 260, cached_share=0.5),
    _Workload("support-bot", "embeddings", "text-embedding-3-small", 640, 420),
)
_PROJECTS: tuple[str, ...] = ("web-app", "research", "support-bot")
_DISCOUNTS: dict[str, Decimal] = {"research": Decimal("0.08")}  # negotiated, applied to billed cost


def _ident(prefix: str, seed: str, name: str, length: int = 12) -> str:
    return prefix + hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:length]


def project_ids(seed: str = DEFAULT_SEED) -> dict[str, str]:
    """Project name -> OpenAI project id of the organisation ``seed``."""
    return {name: _ident("proj_", seed, name) for name in _PROJECTS}


def project_discounts(seed: str = DEFAULT_SEED) -> dict[str, Decimal]:
    """Project id -> negotiated discount (a fraction) applied to the billed cost."""
    ids = project_ids(seed)
    return {ids[name]: rate for name, rate in _DISCOUNTS.items()}


def _api_keys(seed: str, project: str) -> list[tuple[str, str, float]]:
    """(api_key_id, user_id, traffic share) for the project's two keys."""
    return [
        (_ident("key_", seed, f"{project}/prod", 16), _ident("user-", seed, f"{project}/svc", 10), 0.7),
        (_ident("key_", seed, f"{project}/dev", 16), _ident("user-", seed, f"{project}/dev", 10), 0.3),
    ]


def _dates(start_date: dt.date, end_date: dt.date) -> Iterable[dt.date]:
    day = start_date
    while day <= end_date:
        yield day
        day += dt.timedelta(days=1)


def usage_for_day(seed: str, day: dt.date) -> list[dict[str, Any]]:
    """Every usage row of ``day`` at the finest grain (endpoint, project, key, model, batch)."""
    ids = project_ids(seed)
    rows: list[dict[str, Any]] = []
    weekend = day.weekday() >= 5
    for workload in _WORKLOADS:
        for api_key_id, user_id, share in _api_keys(seed, workload.project):
            rng = random.Random(f"{seed}|{day.isoformat()}|{workload.model}|{workload.batch}|{api_key_id}")
            if workload.weekdays_only and weekend:
                continue
            if rng.random() > workload.active_share:
                continue
            factor = (0.35 if weekend else 1.0) * share * rng.uniform(0.8, 1.2)
            requests_n = int(workload.requests_per_day * factor)
            if requests_n == 0:
                continue
            input_tokens = int(requests_n * workload.input_per_request * rng.uniform(0.9, 1.1))
            row: dict[str, Any] = {
                "day": day,
                "endpoint": workload.endpoint,
                "project_id": ids[workload.project],
                "user_id": user_id,
                "api_key_id": api_key_id,
                "model": workload.model,
                "batch": workload.batch if workload.endpoint == "completions" else None,
                "service_tier": "default" if workload.endpoint == "completions" else None,
                "api_source": "unlabeled" if workload.endpoint == "completions" else None,
            }
            if workload.endpoint == "embeddings":
                row.update(input_tokens=input_tokens, num_model_requests=requests_n)
                rows.append(row)
                continue
            cached = int(input_tokens * workload.cached_share * rng.uniform(0.8, 1.0))
            cache_write = int(input_tokens * workload.cache_write_share * rng.uniform(0.8, 1.0))
            write_30m = int(cache_write * 0.7)
            uncached = input_tokens - cached - cache_write
            image = int(uncached * workload.image_share)
            output = int(requests_n * workload.output_per_request * rng.uniform(0.85, 1.15))
            row.update(
                input_tokens=input_tokens,
                output_tokens=output,
                input_cached_tokens=cached,
                input_uncached_tokens=uncached,
                input_text_tokens=uncached - image,
                input_audio_tokens=0,
                input_image_tokens=image,
                input_cached_text_tokens=cached,
                input_cached_audio_tokens=0,
                input_cached_image_tokens=0,
                input_cache_write_tokens=cache_write,
                input_cache_write_30m_tokens=write_30m,
                input_cache_write_12h_tokens=cache_write - write_30m,
                output_text_tokens=output,
                output_audio_tokens=0,
                output_image_tokens=0,
                num_model_requests=requests_n,
            )
            rows.append(row)
    return rows


def _line_items(row: Mapping[str, Any]) -> list[tuple[str, int, Decimal | None]]:
    """(token class, tokens, list price per 1M) of one usage row."""
    price = PRICES[row["model"]]
    if row["endpoint"] == "embeddings":
        return [("input", row["input_tokens"], price.input)]
    if row["batch"]:
        return [
            ("batch input", row["input_tokens"], price.batch_input),
            ("batch output", row["output_tokens"], price.batch_output),
        ]
    return [
        ("input", row["input_uncached_tokens"], price.input),
        ("cached input", row["input_cached_tokens"], price.cached_input),
        ("cache write 30m input", row["input_cache_write_30m_tokens"], price.cache_write_30m),
        ("cache write 12h input", row["input_cache_write_12h_tokens"], price.cache_write_12h),
        ("output", row["output_tokens"], price.output),
    ]


def costs_for_day(seed: str, day: dt.date) -> list[dict[str, Any]]:
    """Billed cost rows of ``day`` at the finest grain (project, key, line item), in USD."""
    discounts = project_discounts(seed)
    rows: list[dict[str, Any]] = []
    for usage in usage_for_day(seed, day):
        keep = 1 - discounts.get(usage["project_id"], Decimal(0))
        for token_class, tokens, price in _line_items(usage):
            if not tokens:
                continue
            if price is None:
                raise ValueError(f"no {token_class} price for {usage['model']}")
            amount = (tokens * price / PER_MILLION * keep).quantize(USD_QUANTUM, rounding=ROUND_HALF_EVEN)
            rows.append(
                {
                    "day": day,
                    "line_item": f"{usage['model']}, {token_class}",
                    "project_id": usage["project_id"],
                    "api_key_id": usage["api_key_id"],
                    "user_id": usage["user_id"],
                    "api_source": "unlabeled",
                    "amount": amount,
                    "currency": "usd",
                    "quantity": tokens,
                    "quantity_unit": "tokens",
                }
            )
    return rows


def default_usage_through() -> dt.date:
    """Usage exists up to yesterday (UTC): complete days only."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def expected_usage(
    start_date: dt.date,
    end_date: dt.date,
    *,
    seed: str = DEFAULT_SEED,
    usage_through: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The finest-grain usage rows the server holds for ``start_date..end_date`` (inclusive)."""
    through = usage_through or default_usage_through()
    return [row for day in _dates(start_date, min(end_date, through)) for row in usage_for_day(seed, day)]


def expected_costs(
    start_date: dt.date,
    end_date: dt.date,
    *,
    seed: str = DEFAULT_SEED,
    usage_through: dt.date | None = None,
    costs_lag_days: int = 1,
) -> list[dict[str, Any]]:
    """Billed costs per (day, project_id, line_item) as the server reports them; Decimal USD."""
    through = (usage_through or default_usage_through()) - dt.timedelta(days=costs_lag_days)
    totals: dict[tuple[dt.date, str, str], dict[str, Any]] = {}
    for day in _dates(start_date, min(end_date, through)):
        for row in costs_for_day(seed, day):
            key = (day, row["project_id"], row["line_item"])
            total = totals.setdefault(
                key,
                {
                    "day": day,
                    "project_id": row["project_id"],
                    "line_item": row["line_item"],
                    "amount": Decimal(0),
                    "currency": "usd",
                    "quantity": 0,
                },
            )
            total["amount"] += row["amount"]
            total["quantity"] += row["quantity"]
    return list(totals.values())


# -- the HTTP API -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    name: str
    result_object: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filters: Mapping[str, str]  # query parameter -> dimension
    max_limit: int


_ENDPOINTS: dict[str, _Endpoint] = {
    "/v1/organization/usage/completions": _Endpoint(
        "completions",
        "organization.usage.completions.result",
        COMPLETION_DIMENSIONS,
        COMPLETION_METRICS,
        {"project_ids": "project_id", "user_ids": "user_id", "api_key_ids": "api_key_id", "models": "model"},
        31,
    ),
    "/v1/organization/usage/embeddings": _Endpoint(
        "embeddings",
        "organization.usage.embeddings.result",
        EMBEDDING_DIMENSIONS,
        EMBEDDING_METRICS,
        {"project_ids": "project_id", "user_ids": "user_id", "api_key_ids": "api_key_id", "models": "model"},
        31,
    ),
    "/v1/organization/costs": _Endpoint(
        "costs",
        "organization.costs.result",
        COST_DIMENSIONS,
        (),
        {"project_ids": "project_id", "api_key_ids": "api_key_id", "line_items": "line_item"},
        180,
    ),
}
_COMMON_PARAMS = frozenset({"start_time", "end_time", "bucket_width", "limit", "group_by", "page"})

FAULT_KINDS = frozenset({"rate_limit", "server_error", "truncate", "slow", "not_found"})


@dataclass
class Fault:
    kind: str
    count: int | None = 1  # None: every request
    endpoint: str | None = None  # completions | embeddings | costs; None: every endpoint
    seconds: float = 1.0  # slow: delay; rate_limit: the Retry-After value
    status: int = 500  # server_error


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int = 0
    received_at: float = 0.0  # time.monotonic() in the server's process
    responded_at: float = 0.0


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def _json_text(value: Any) -> str:
    """JSON with Decimal written as the exact number it holds (amounts are never floats here)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 5.025000000 -> 5.025, as a JSON float would read
    return json.dumps(value)


def _error_body(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _mask_key(key: str) -> str:
    prefix = "sk-admin-" if key.startswith("sk-admin-") else key[:3]
    return f"{prefix}****{key[-4:]}" if len(key) > len(prefix) + 4 else "****"


def _encode_page(start: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"bucket_start": start}).encode()).decode().rstrip("=")


def _decode_page(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        start = json.loads(raw)["bucket_start"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _BadRequest("Invalid page cursor.", "page", "invalid_page") from None
    if not isinstance(start, int):
        raise _BadRequest("Invalid page cursor.", "page", "invalid_page")
    return start


class FakeOpenAIServer:
    """The fake API in a background thread. ``with FakeOpenAIServer(admin_key=...) as api: api.url``."""

    def __init__(
        self,
        *,
        admin_key: str,
        seed: str = DEFAULT_SEED,
        host: str = "127.0.0.1",
        port: int = 0,
        usage_through: dt.date | None = None,
        costs_lag_days: int = 1,
        max_page_buckets: int | None = None,
    ) -> None:
        self.admin_key = admin_key
        self.seed = seed
        self.usage_through = usage_through
        self.costs_lag_days = costs_lag_days
        self.max_page_buckets = max_page_buckets
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self._host, self._port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai-api", daemon=True
        )
        self._thread.start()
        logger.info("fake OpenAI API listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to use as FOCUSLINE_OPENAI_BASE_URL (ends in /v1)."""
        return f"http://{self._host}:{self.port}/v1"

    # faults and the request log
    def inject(
        self,
        kind: str,
        count: int | None = 1,
        *,
        endpoint: str | None = None,
        seconds: float = 1.0,
        status: int = 500,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        if endpoint is not None and endpoint not in {e.name for e in _ENDPOINTS.values()}:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self._lock:
            self._faults.append(Fault(kind, count, endpoint, float(seconds), int(status)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _take_fault(self, kind: str, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind != kind or fault.endpoint not in (None, endpoint):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    # data
    def _usage_through(self) -> dt.date:
        return self.usage_through or default_usage_through()

    def _day_rows(self, endpoint: _Endpoint, day: dt.date) -> list[dict[str, Any]]:
        through = self._usage_through()
        if endpoint.name == "costs":
            if day > through - dt.timedelta(days=self.costs_lag_days):
                return []
            return costs_for_day(self.seed, day)
        if day > through:
            return []
        return [r for r in usage_for_day(self.seed, day) if r["endpoint"] == endpoint.name]

    def build_page(self, path: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """The response body for an API GET (raises _BadRequest on invalid parameters)."""
        endpoint = _ENDPOINTS[path]
        allowed = _COMMON_PARAMS | set(endpoint.filters) | ({"batch"} if endpoint.name == "completions" else set())
        params: dict[str, list[str]] = {}
        for raw_name, values in query.items():
            name = raw_name[:-2] if raw_name.endswith("[]") else raw_name
            if name not in allowed:
                raise _BadRequest(f"Unknown parameter: '{raw_name}'.", raw_name, "unknown_parameter")
            params.setdefault(name, []).extend(values)

        def single(name: str) -> str | None:
            values = params.get(name)
            if not values:
                return None
            if len(values) > 1:
                raise _BadRequest(f"'{name}' must be given once.", name)
            return values[0]

        def integer(name: str) -> int | None:
            raw = single(name)
            if raw is None:
                return None
            try:
                return int(raw)
            except ValueError:
                raise _BadRequest(f"Invalid value for '{name}': expected an integer, got '{raw}'.", name) from None

        start_time = integer("start_time")
        if start_time is None:
            raise _BadRequest("Missing required parameter: 'start_time'.", "start_time", "missing_required_parameter")
        if start_time < 0:
            raise _BadRequest("Invalid value for 'start_time': must be a Unix time in seconds.", "start_time")
        end_time = integer("end_time")
        if end_time is None:
            end_time = int(time.time())
        if end_time <= start_time:
            raise _BadRequest("'end_time' must be after 'start_time'.", "end_time")
        width = single("bucket_width") or "1d"
        if width not in ("1m", "1h", "1d") or (endpoint.name == "costs" and width != "1d"):
            raise _BadRequest(f"Invalid value for 'bucket_width': '{width}'.", "bucket_width")
        if width != "1d":
            raise _BadRequest("This fake serves daily buckets only (bucket_width=1d).", "bucket_width")
        limit = integer("limit")
        limit = 7 if limit is None else limit
        if not 1 <= limit <= endpoint.max_limit:
            raise _BadRequest(f"Invalid value for 'limit': must be between 1 and {endpoint.max_limit}.", "limit")
        group_by = params.get("group_by", [])
        for dimension in group_by:
            if dimension not in endpoint.dimensions:
                raise _BadRequest(
                    f"Invalid value for 'group_by': '{dimension}'. Allowed: {', '.join(endpoint.dimensions)}.",
                    "group_by",
                )
        filters = {endpoint.filters[p]: set(v) for p, v in params.items() if p in endpoint.filters}
        batch_filter = single("batch")
        if batch_filter is not None and batch_filter not in ("true", "false"):
            raise _BadRequest("Invalid value for 'batch': expected true or false.", "batch")

        starts = list(range(start_time, end_time, DAY_SECONDS))
        page = single("page")
        first = 0
        if page is not None:
            cursor = _decode_page(page)
            if cursor not in starts:
                raise _BadRequest("Invalid page cursor.", "page", "invalid_page")
            first = starts.index(cursor)
        size = min(limit, self.max_page_buckets or limit)
        chunk = starts[first : first + size]
        has_more = first + size < len(starts)

        data = []
        for bucket_start in chunk:
            day = dt.datetime.fromtimestamp(bucket_start, dt.UTC).date()
            rows = self._day_rows(endpoint, day)
            rows = [r for r in rows if all(r[dim] in allowed_values for dim, allowed_values in filters.items())]
            if batch_filter is not None:
                rows = [r for r in rows if r["batch"] is (batch_filter == "true")]
            data.append(
                {
                    "object": "bucket",
                    "start_time": bucket_start,
                    "end_time": min(bucket_start + DAY_SECONDS, end_time),
                    "results": _aggregate(endpoint, rows, group_by),
                }
            )
        return {
            "object": "page",
            "data": data,
            "has_more": has_more,
            "next_page": _encode_page(starts[first + size]) if has_more else None,
        }


def _aggregate(endpoint: _Endpoint, rows: list[dict[str, Any]], group_by: list[str]) -> list[dict[str, Any]]:
    """Sum rows per requested group; every dimension key present, null unless grouped."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[g] for g in group_by), []).append(row)
    results = []
    for key in sorted(groups, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        members = groups[key]
        result: dict[str, Any] = {"object": endpoint.result_object}
        if endpoint.name == "costs":
            amount = sum((m["amount"] for m in members), Decimal(0))
            result["amount"] = {"value": amount, "currency": "usd"}
        else:
            for metric in endpoint.metrics:
                result[metric] = sum(m[metric] for m in members)
        grouped = dict(zip(group_by, key, strict=True))
        for dimension in endpoint.dimensions:
            result[dimension] = grouped.get(dimension)
        if endpoint.name == "costs":
            by_line_item = "line_item" in group_by
            result["quantity"] = sum(m["quantity"] for m in members) if by_line_item else None
            result["quantity_unit"] = "tokens" if by_line_item else None
        results.append(result)
    return results


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-openai/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("fake OpenAI API: " + format, *args)

        def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
            payload = _json_text(body).encode()
            self._send_bytes(status, payload, headers)

        current: RequestRecord | None = None

        def _send_bytes(self, status: int, payload: bytes, headers: Mapping[str, str] | None = None) -> None:
            if self.current is not None:  # logged before the client can see the response
                self.current.status = status
                self.current.responded_at = time.monotonic()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                logger.debug("fake OpenAI API: client went away before the response")

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/_requests":
                records = [r.__dict__ for r in server.requests]
                self._send(200, {"requests": records})
                return
            record = RequestRecord("GET", parts.path, parse_qs(parts.query, keep_blank_values=True))
            record.received_at = time.monotonic()
            server._record(record)
            self.current = record
            self._handle_api(parts.path, record.query)

        def _handle_api(self, path: str, query: dict[str, list[str]]) -> int:
            endpoint = _ENDPOINTS.get(path)
            if endpoint is None:
                body = _error_body(f"Invalid URL (GET {path})", "invalid_request_error", None, None)
                self._send(404, body)
                return 404
            slow = server._take_fault("slow", endpoint.name)
            if slow is not None:
                server._stopping.wait(slow.seconds)
            auth = self.headers.get("Authorization", "")
            key = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
            if key != server.admin_key:
                if not key:
                    body = _error_body(
                        "You didn't provide an API key. You need to provide your API key in an "
                        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                        "invalid_request_error",
                        None,
                        None,
                    )
                    self._send(401, body)
                    return 401
                if not key.startswith("sk-admin-") and key.startswith("sk-"):
                    body = _error_body(
                        "You have insufficient permissions for this operation. Missing scopes: "
                        "api.usage.read. Use an admin key.",
                        "invalid_request_error",
                        None,
                        "insufficient_permissions",
                    )
                    self._send(403, body)
                    return 403
                body = _error_body(
                    f"Incorrect API key provided: {_mask_key(key)}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    None,
                    "invalid_api_key",
                )
                self._send(401, body)
                return 401
            limited = server._take_fault("rate_limit", endpoint.name)
            if limited is not None:
                body = _error_body(
                    f"Rate limit reached for requests. Please try again in {limited.seconds:g}s.",
                    "requests",
                    None,
                    "rate_limit_exceeded",
                )
                self._send(429, body, {"Retry-After": f"{limited.seconds:g}"})
                return 429
            failing = server._take_fault("server_error", endpoint.name)
            if failing is not None:
                body = _error_body("The server had an error while processing your request.", "server_error", None, None)
                self._send(failing.status, body)
                return failing.status
            if server._take_fault("not_found", endpoint.name) is not None:
                body = _error_body(f"Invalid URL (GET {path})", "invalid_request_error", None, None)
                self._send(404, body)
                return 404
            try:
                page = server.build_page(path, query)
            except _BadRequest as exc:
                self._send(400, _error_body(exc.message, "invalid_request_error", exc.param, exc.code))
                return 400
            payload = _json_text(page).encode()
            if server._take_fault("truncate", endpoint.name) is not None:
                payload = payload[: len(payload) // 2]
            self._send_bytes(200, payload)
            return 200

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                spec = json.loads(raw or b"{}")
                if parts.path == "/_faults/clear":
                    server.clear_faults()
                elif parts.path == "/_requests/clear":
                    server.clear_requests()
                elif parts.path == "/_faults":
                    server.inject(
                        spec["kind"],
                        spec.get("count", 1),
                        endpoint=spec.get("endpoint"),
                        seconds=spec.get("seconds", 1.0),
                        status=spec.get("status", 500),
                    )
                else:
                    self._send(
                        404, _error_body(f"Invalid URL (POST {parts.path})", "invalid_request_error", None, None)
                    )
                    return
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, _error_body(f"bad fault spec: {exc}", "invalid_request_error", None, None))
                return
            self._send(200, {"ok": True})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake OpenAI organisation Usage/Costs API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("FOCUSLINE_DEMO_OPENAI_ADMIN_KEY"),
        help="the admin key the server accepts (or FOCUSLINE_DEMO_OPENAI_ADMIN_KEY)",
    )
    parser.add_argument("--seed", default=DEFAULT_SEED, help="organisation seed for the generated data")
    parser.add_argument(
        "--usage-through",
        type=dt.date.fromisoformat,
        default=None,
        help="last day with usage (default: yesterday, UTC)",
    )
    parser.add_argument("--costs-lag-days", type=int, default=1)
    parser.add_argument("--max-page-buckets", type=int, default=None)
    args = parser.parse_args(argv)
    if not args.admin_key:
        parser.error("--admin-key (or FOCUSLINE_DEMO_OPENAI_ADMIN_KEY) is required")
    api = FakeOpenAIServer(
        admin_key=args.admin_key,
        seed=args.seed,
        port=args.port,
        usage_through=args.usage_through,
        costs_lag_days=args.costs_lag_days,
        max_page_buckets=args.max_page_buckets,
    )
    with api:
        print(api.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
