"""OpenAI organisation Usage and Costs APIs -> rows of ``raw_openai_usage`` / ``raw_openai_costs``.

Daily buckets for ``start_date 00:00 UTC .. (end_date + 1) 00:00 UTC``, every page until
``has_more`` is false. Each page's envelope and each result are checked; a shape the extractor does
not understand raises ``InputDataError`` naming the field, instead of loading something wrong.
Money and quantities are parsed from the JSON text as ``Decimal`` (never through a float).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

import requests

from extract.http import JsonHttpClient, RetryPolicy, dumps_json
from extract.openai.schemas import USAGE_METRIC_FIELDS
from focusline.errors import InputDataError
from focusline.steps import StepContext

logger = logging.getLogger(__name__)

SOURCE = "OpenAI"
UsageEndpointName = Literal["completions", "embeddings"]


@dataclass(frozen=True)
class UsageEndpoint:
    path: str
    result_object: str
    group_by: tuple[str, ...]


USAGE_ENDPOINTS: dict[str, UsageEndpoint] = {
    "completions": UsageEndpoint(
        "/organization/usage/completions",
        "organization.usage.completions.result",
        ("model", "project_id", "api_key_id", "batch"),
    ),
    "embeddings": UsageEndpoint(
        "/organization/usage/embeddings",
        "organization.usage.embeddings.result",
        ("model", "project_id", "api_key_id"),
    ),
}
COSTS_PATH = "/organization/costs"
COSTS_RESULT_OBJECT = "organization.costs.result"
COSTS_GROUP_BY: tuple[str, ...] = ("project_id", "line_item")
USAGE_PAGE_LIMIT = 31  # daily buckets per page: the API's maximum for bucket_width=1d
COSTS_PAGE_LIMIT = 31  # the costs endpoint allows up to 180
# The costs endpoint has returned transient 404s (genai-apis.md §2.6): retry them a few times.
COSTS_RETRY_STATUSES = frozenset({404})

USAGE_STR_FIELDS: tuple[str, ...] = ("model", "project_id", "user_id", "api_key_id", "service_tier", "api_source")
COSTS_STR_FIELDS: tuple[str, ...] = ("line_item", "project_id", "api_key_id", "user_id", "api_source", "quantity_unit")
# raw DECIMAL(38,9): values with more fractional digits (JSON floats such as 0.06314400000000001) are
# rounded half-even to 1e-9; result_json keeps the number exactly as sent.
DECIMAL_QUANTUM = Decimal("0.000000001")


@dataclass
class FetchResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0


def utc_window(start_date: dt.date, end_date: dt.date) -> tuple[int, int]:
    """Unix seconds of ``start_date`` 00:00 UTC and of ``end_date + 1`` 00:00 UTC."""
    if end_date < start_date:
        raise ValueError(f"end date {end_date} is before start date {start_date}")
    start = dt.datetime.combine(start_date, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return int(start.timestamp()), int(end.timestamp())


class OpenAIAdminClient:
    """Reads the organisation Usage and Costs APIs with an admin key."""

    def __init__(
        self,
        base_url: str,
        admin_key: str,
        *,
        timeout_seconds: float,
        retry: RetryPolicy | None = None,
        auth_hint: str = "",
        session: requests.Session | None = None,
    ) -> None:
        self._http = JsonHttpClient(
            base_url,
            headers={"Authorization": f"Bearer {admin_key}"},
            source=SOURCE,
            timeout_seconds=timeout_seconds,
            retry=retry,
            credential_noun="admin key",
            auth_hint=auth_hint
            or "usage and cost reports need an organisation admin key (sk-admin-…); "
            "set it with `python run.py credentials set ORG openai`",
            session=session,
        )

    def __enter__(self) -> OpenAIAdminClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch_usage(
        self,
        endpoint: UsageEndpointName,
        start_date: dt.date,
        end_date: dt.date,
        ctx: StepContext | None = None,
    ) -> FetchResult:
        """Every usage result of ``endpoint`` for the days ``start_date..end_date`` as raw rows."""
        spec = USAGE_ENDPOINTS[endpoint]
        window = utc_window(start_date, end_date)
        params: list[tuple[str, Any]] = [
            ("start_time", window[0]),
            ("end_time", window[1]),
            ("bucket_width", "1d"),
            ("limit", USAGE_PAGE_LIMIT),
            *(("group_by[]", g) for g in spec.group_by),
        ]
        result = FetchResult()
        for url, start_at, end_at, index, item in self._results(spec.path, params, window, ctx, result):
            where = f"{spec.path} {index}"
            _expect_object(item, spec.result_object, where, url)
            row: dict[str, Any] = {
                "endpoint": endpoint,
                "result_object": item["object"],
                "bucket_start_at": start_at,
                "bucket_end_at": end_at,
                "bucket_date": start_at.date(),
            }
            for name in USAGE_STR_FIELDS:
                row[name] = _optional_str(item, name, where, url)
            row["batch"] = _optional_bool(item, "batch", where, url)
            for name in USAGE_METRIC_FIELDS:
                row[name] = _optional_int(item, name, where, url)
            if row["input_tokens"] is None or row["num_model_requests"] is None:
                missing = "input_tokens" if row["input_tokens"] is None else "num_model_requests"
                raise _drift(f"{where}.{missing} is missing", url)
            row["result_json"] = dumps_json(item)
            row["x_request_url"] = url
            result.rows.append(row)
        logger.info(
            "OpenAI usage/%s %s..%s: %d rows in %d page(s)",
            endpoint,
            start_date,
            end_date,
            len(result.rows),
            result.pages,
        )
        return result

    def fetch_costs(self, start_date: dt.date, end_date: dt.date, ctx: StepContext | None = None) -> FetchResult:
        """Every cost result (grouped by project and line item) for ``start_date..end_date``."""
        window = utc_window(start_date, end_date)
        params: list[tuple[str, Any]] = [
            ("start_time", window[0]),
            ("end_time", window[1]),
            ("bucket_width", "1d"),
            ("limit", COSTS_PAGE_LIMIT),
            *(("group_by[]", g) for g in COSTS_GROUP_BY),
        ]
        result = FetchResult()
        pages = self._results(COSTS_PATH, params, window, ctx, result, retry_statuses=COSTS_RETRY_STATUSES)
        for url, start_at, end_at, index, item in pages:
            where = f"{COSTS_PATH} {index}"
            _expect_object(item, COSTS_RESULT_OBJECT, where, url)
            amount = item.get("amount")
            if not isinstance(amount, dict):
                raise _drift(f"{where}.amount: expected an object, got {_type(amount)}", url)
            value = _number(amount.get("value"), f"{where}.amount.value", url, required=True)
            currency = amount.get("currency")
            if not isinstance(currency, str) or not currency:
                raise _drift(f"{where}.amount.currency: expected a currency code, got {currency!r}", url)
            row: dict[str, Any] = {
                "result_object": item["object"],
                "bucket_start_at": start_at,
                "bucket_end_at": end_at,
                "bucket_date": start_at.date(),
                "amount_value": value,
                "amount_currency": currency,
                "quantity": _number(item.get("quantity"), f"{where}.quantity", url, required=False),
            }
            for name in COSTS_STR_FIELDS:
                row[name] = _optional_str(item, name, where, url)
            row["result_json"] = dumps_json(item)
            row["x_request_url"] = url
            result.rows.append(row)
        logger.info("OpenAI costs %s..%s: %d rows in %d page(s)", start_date, end_date, len(result.rows), result.pages)
        return result

    def _bucket_url(self, path: str, params: list[tuple[str, Any]], start_at: dt.datetime, end_at: dt.datetime) -> str:
        """The request that returns exactly this bucket: same query, the bucket's own window.

        Stored as ``x_request_url`` instead of the paged URL actually sent, so a row does not depend
        on the date range or page of the run that loaded it (re-runs give identical tables). The
        URLs actually requested are logged at DEBUG.
        """
        query = [(k, v) for k, v in params if k not in ("start_time", "end_time", "limit", "page")]
        window = [("start_time", int(start_at.timestamp())), ("end_time", int(end_at.timestamp()))]
        return self._http.url_for(path, [*window, *query])

    def _results(
        self,
        path: str,
        params: list[tuple[str, Any]],
        window: tuple[int, int],
        ctx: StepContext | None,
        result: FetchResult,
        *,
        retry_statuses: frozenset[int] = frozenset(),
    ) -> Iterator[tuple[str, dt.datetime, dt.datetime, str, Any]]:
        """Yield (bucket url, start_at, end_at, 'data[i].results[j]', result) for every result of every page."""
        page: str | None = None
        seen: set[str] = set()
        while True:
            if ctx is not None:
                ctx.check_alive()
            query = [*params, ("page", page)] if page else params
            response = self._http.get_json(path, query, ctx=ctx, retry_statuses=retry_statuses)
            result.pages += 1
            url = response.url
            buckets, has_more, next_page = _validate_page(response.body, path, url)
            for i, bucket in enumerate(buckets):
                start_at, end_at, results = _validate_bucket(bucket, f"{path} data[{i}]", url, window)
                bucket_url = self._bucket_url(path, params, start_at, end_at)
                for j, item in enumerate(results):
                    yield bucket_url, start_at, end_at, f"data[{i}].results[{j}]", item
            if not has_more:
                return
            if next_page in seen:
                raise _drift(f"{path}: next_page repeats an earlier cursor (the API would loop forever)", url)
            seen.add(next_page)
            page = next_page


def _drift(message: str, url: str) -> InputDataError:
    return InputDataError(
        f"OpenAI response did not have the expected shape: {message} (GET {url})", source=SOURCE, url=url
    )


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _validate_page(body: Any, path: str, url: str) -> tuple[list[Any], bool, str]:
    if not isinstance(body, dict):
        raise _drift(f"{path}: expected a JSON object, got {_type(body)}", url)
    if body.get("object") != "page":
        raise _drift(f"{path}: object: expected 'page', got {body.get('object')!r}", url)
    data = body.get("data")
    if not isinstance(data, list):
        raise _drift(f"{path}: data: expected a list, got {_type(data)}", url)
    has_more = body.get("has_more")
    if not isinstance(has_more, bool):
        raise _drift(f"{path}: has_more: expected true or false, got {has_more!r}", url)
    next_page = body.get("next_page")
    if has_more and (not isinstance(next_page, str) or not next_page):
        raise _drift(f"{path}: has_more is true but next_page is {next_page!r}", url)
    return data, has_more, next_page or ""


def _validate_bucket(
    bucket: Any, where: str, url: str, window: tuple[int, int]
) -> tuple[dt.datetime, dt.datetime, list[Any]]:
    if not isinstance(bucket, dict):
        raise _drift(f"{where}: expected a bucket object, got {_type(bucket)}", url)
    if bucket.get("object", "bucket") != "bucket":
        raise _drift(f"{where}.object: expected 'bucket', got {bucket.get('object')!r}", url)
    bounds = []
    for name in ("start_time", "end_time"):
        value = bucket.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _drift(f"{where}.{name}: expected an integer Unix time, got {value!r}", url)
        bounds.append(value)
    start, end = bounds
    if not window[0] <= start < window[1] or end <= start:
        raise _drift(f"{where}: bucket {start}..{end} is outside the requested {window[0]}..{window[1]}", url)
    results = bucket.get("results")
    if not isinstance(results, list):
        raise _drift(f"{where}.results: expected a list, got {_type(results)}", url)
    start_at = dt.datetime.fromtimestamp(start, dt.UTC)
    end_at = dt.datetime.fromtimestamp(end, dt.UTC)
    return start_at, end_at, results


def _expect_object(item: Any, expected: str, where: str, url: str) -> None:
    if not isinstance(item, dict):
        raise _drift(f"{where}: expected a result object, got {_type(item)}", url)
    if item.get("object") != expected:
        raise _drift(f"{where}.object: expected {expected!r}, got {item.get('object')!r}", url)


def _optional_str(item: Mapping[str, Any], name: str, where: str, url: str) -> str | None:
    value = item.get(name)
    if value is not None and not isinstance(value, str):
        raise _drift(f"{where}.{name}: expected a string or null, got {value!r}", url)
    return value


def _optional_bool(item: Mapping[str, Any], name: str, where: str, url: str) -> bool | None:
    value = item.get(name)
    if value is not None and not isinstance(value, bool):
        raise _drift(f"{where}.{name}: expected true, false or null, got {value!r}", url)
    return value


def _optional_int(item: Mapping[str, Any], name: str, where: str, url: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)  # 1200000.0
    if not isinstance(value, int) or isinstance(value, bool):
        raise _drift(f"{where}.{name}: expected an integer or null, got {value!r}", url)
    return value


def _number(value: Any, where: str, url: str, *, required: bool) -> Decimal | None:
    if value is None:
        if required:
            raise _drift(f"{where}: expected a number, got null", url)
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _drift(f"{where}: expected a number, got {value!r}", url)
    number = Decimal(value)
    if not number.is_finite():
        raise _drift(f"{where}: expected a finite number, got {value!r}", url)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -9:
        number = number.quantize(DECIMAL_QUANTUM, rounding=ROUND_HALF_EVEN)
    return number
