"""A small JSON-over-HTTPS GET client shared by the API extractors.

What it does for every request:

* a timeout per request, never longer than the step's remaining time (when given a StepContext);
* retries (tenacity) for HTTP 408/409/429/5xx, connection errors, timeouts and malformed or
  truncated JSON bodies: at most ``RetryPolicy.max_attempts`` attempts, exponential backoff with
  jitter, or exactly the server's ``retry-after-ms`` / ``Retry-After`` (capped by
  ``MAX_RETRY_AFTER_SECONDS``); it sleeps through ``ctx.sleep`` so cancellation and the step timeout
  interrupt the wait;
* 401/403 raise ``TerminalError`` at once, without a retry; other 4xx raise ``TerminalError``;
* when retries run out: ``TransientError`` (status / connection / timeout, naming the endpoint path,
  the status and the provider's message) or ``InputDataError`` (the body never parsed as JSON:
  naming the URL and the byte count). A body that stays malformed over every attempt is bad input
  data, not a hiccup: exit 65, and the orchestrator does not retry the step again.

Secrets: header values (the API key) never appear in a message or a log line; they are also scrubbed
from provider messages echoed back. URLs are logged and reported with the values of
secret-looking query parameters replaced (``redact_url``).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import tenacity

from focusline.errors import FocuslineError, InputDataError, TerminalError, TransientError
from focusline.settings import DEFAULT_HTTP_MAX_ATTEMPTS, MAX_RETRY_AFTER_SECONDS
from focusline.steps import StepContext

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
SECRET_QUERY_PARAMS = frozenset(
    {"key", "api_key", "apikey", "access_token", "token", "client_secret", "signature", "sig", "password"}
)
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{16,})")
_MAX_PROVIDER_MESSAGE = 300

QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request."""

    max_attempts: int = DEFAULT_HTTP_MAX_ATTEMPTS
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    max_retry_after_seconds: float = MAX_RETRY_AFTER_SECONDS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(frozen=True)
class JsonResponse:
    body: Any  # parsed with floats as Decimal
    url: str  # the request URL, secrets redacted
    status: int
    attempts: int
    request_id: str | None


def loads_json(data: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal`` (never a float)."""
    return json.loads(data, parse_float=Decimal)


def dumps_json(value: Any) -> str:
    """Serialise what ``loads_json`` returned, writing each Decimal back as the number it was."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        return str(value)
    return json.dumps(value)


def redact_url(url: str, secret_params: frozenset[str] = SECRET_QUERY_PARAMS) -> str:
    """The URL with the values of secret-looking query parameters (and any userinfo) replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [
            (k, "REDACTED" if k.lower().rstrip("[]") in secret_params else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, then ``Retry-After`` (seconds or date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


class _RetryableFailure(Exception):
    """One failed attempt worth retrying; ``final`` is what to raise if it was the last one."""

    def __init__(self, final: FocuslineError, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.final = final
        self.reason = reason
        self.retry_after = retry_after


class JsonHttpClient:
    """GET JSON from one API with retries, timeouts and redaction. One ``requests.Session``."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        source: str,
        timeout_seconds: float,
        retry: RetryPolicy | None = None,
        credential_noun: str = "credential",
        auth_hint: str = "",
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy()
        self.credential_noun = credential_noun
        self.auth_hint = auth_hint
        self._headers = {"Accept": "application/json", **headers}
        self._secrets = self._secret_fragments(headers.values())
        self._session = session or requests.Session()
        self._backoff = tenacity.wait_exponential_jitter(
            initial=self.retry.backoff_initial_seconds,
            max=self.retry.backoff_max_seconds,
            jitter=self.retry.backoff_initial_seconds,
        )

    def __enter__(self) -> JsonHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    @staticmethod
    def _secret_fragments(values: Any) -> tuple[str, ...]:
        fragments: set[str] = set()
        for value in values:
            text = str(value)
            if len(text) >= 8:
                fragments.add(text)
            fragments.update(part for part in text.split() if len(part) >= 8)
        return tuple(sorted(fragments, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """Remove every header value (and anything shaped like a full API key) from ``text``."""
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        return _KEY_LIKE.sub("[REDACTED]", text)

    def url_for(self, path: str, params: QueryParams | None = None) -> str:
        """The full URL of a GET of ``path`` with ``params``, secrets redacted (nothing is sent)."""
        request = requests.Request("GET", f"{self.base_url}/{path.lstrip('/')}", params=params)
        return redact_url(request.prepare().url or "")

    # -- the request loop --------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        params: QueryParams | None = None,
        *,
        ctx: StepContext | None = None,
        retry_statuses: frozenset[int] = frozenset(),
    ) -> JsonResponse:
        """GET ``base_url + path`` and return the parsed JSON body, retrying what is worth retrying.

        ``retry_statuses`` adds statuses to retry for this endpoint (e.g. a known transient 404).
        """
        url = f"{self.base_url}/{path.lstrip('/')}"
        attempts = {"n": 0}

        def attempt() -> JsonResponse:
            attempts["n"] += 1
            return self._attempt(url, path, params, ctx, retry_statuses, attempts["n"])

        def before_sleep(state: tenacity.RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if not isinstance(failure, _RetryableFailure):
                return
            if ctx is not None and delay > ctx.remaining_seconds():
                logger.warning(
                    "%s GET %s: %s; not retrying: the wait (%.1fs) exceeds the step's remaining time",
                    self.source,
                    path,
                    failure.reason,
                    delay,
                )
                raise failure.final from None
            logger.warning(
                "%s GET %s: %s; retry %d/%d in %.2fs",
                self.source,
                path,
                failure.reason,
                state.attempt_number + 1,
                self.retry.max_attempts,
                delay,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_RetryableFailure),
            sleep=ctx.sleep if ctx is not None else time.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _RetryableFailure as failure:
            raise failure.final from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _RetryableFailure) and failure.retry_after is not None:
            return min(failure.retry_after, self.retry.max_retry_after_seconds)
        return float(self._backoff(state))

    def _timeout(self, ctx: StepContext | None) -> float:
        if ctx is None:
            return self.timeout_seconds
        ctx.check_alive()
        return max(min(self.timeout_seconds, ctx.remaining_seconds()), 0.001)

    def _attempt(
        self,
        url: str,
        path: str,
        params: QueryParams | None,
        ctx: StepContext | None,
        retry_statuses: frozenset[int],
        attempt: int,
    ) -> JsonResponse:
        timeout = self._timeout(ctx)
        request = requests.Request("GET", url, params=params, headers=self._headers)
        prepared = self._session.prepare_request(request)
        safe_url = redact_url(prepared.url or url)
        where = f"{self.source} GET {path}"
        started = time.monotonic()
        try:
            response = self._session.send(prepared, timeout=timeout)
            content = response.content
        except requests.Timeout as exc:
            kind = "connect" if isinstance(exc, requests.ConnectTimeout) else "read"
            reason = f"no response within {timeout:.3g}s ({kind} timeout)"
            raise self._transient(where, reason, attempt, path) from None
        except requests.ConnectionError as exc:
            reason = f"connection failed ({_root_cause(exc)})"
            raise self._transient(where, reason, attempt, path) from None
        except requests.RequestException as exc:
            reason = f"request failed ({_root_cause(exc)})"
            raise self._transient(where, reason, attempt, path) from None
        elapsed = time.monotonic() - started
        status = response.status_code
        request_id = response.headers.get("x-request-id")
        logger.debug("GET %s -> %s (%d bytes, %.3fs, attempt %d)", safe_url, status, len(content), elapsed, attempt)
        if status >= 400:
            self._raise_for_status(response, content, path, retry_statuses, attempt, request_id)
        try:
            body = loads_json(content)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            declared = response.headers.get("content-length")
            size = f"{len(content)} bytes received" + (f" (Content-Length {declared})" if declared else "")
            reason = f"malformed JSON body: {size}: {_short(str(exc))}"
            final = InputDataError(
                f"{self.source} returned a malformed JSON body for GET {safe_url} after {attempt} "
                f"attempt(s): {size}: {_short(str(exc))}; the response was cut off or is not JSON",
                source=self.source,
                endpoint=path,
                url=safe_url,
                bytes=len(content),
            )
            raise _RetryableFailure(final, reason) from None
        return JsonResponse(body=body, url=safe_url, status=status, attempts=attempt, request_id=request_id)

    def _transient(self, where: str, reason: str, attempt: int, path: str) -> _RetryableFailure:
        final = TransientError(
            f"{where} failed after {attempt} attempt(s): {reason}", source=self.source, endpoint=path
        )
        return _RetryableFailure(final, reason)

    def _raise_for_status(
        self,
        response: requests.Response,
        content: bytes,
        path: str,
        retry_statuses: frozenset[int],
        attempt: int,
        request_id: str | None,
    ) -> None:
        status = response.status_code
        code, message = self._provider_error(content)
        label = f"{status} {code}" if code else f"{status}"
        rid = f" (request id {request_id})" if request_id else ""
        context = {"source": self.source, "endpoint": path, "status": status, "request_id": request_id}
        if status in (401, 403):
            verb = "rejected" if status == 401 else "refused"
            hint = f"; {self.auth_hint}" if self.auth_hint else ""
            raise TerminalError(
                f"{self.source} {verb} the {self.credential_noun} ({label}): {message}{hint}{rid}", **context
            )
        should_retry = response.headers.get("x-should-retry", "").lower()
        retryable = status in RETRYABLE_STATUSES or status >= 500 or status in retry_statuses
        if should_retry == "true":
            retryable = True
        elif should_retry == "false":
            retryable = False
        if not retryable:
            extra = f"; check the base URL {self.base_url}" if status == 404 else ""
            raise TerminalError(f"{self.source} rejected GET {path} ({label}): {message}{extra}{rid}", **context)
        final_cls: type[FocuslineError] = TransientError if status != 404 else TerminalError
        final = final_cls(
            f"{self.source} GET {path} failed after {attempt} attempt(s): HTTP {label}: {message}{rid}",
            **context,
        )
        raise _RetryableFailure(final, f"HTTP {label}", parse_retry_after(response.headers))

    def _provider_error(self, content: bytes) -> tuple[str | None, str]:
        """(code, message) from an error body: OpenAI/Anthropic JSON shapes, else the text."""
        try:
            body = json.loads(content)
        except ValueError:
            text = content.decode("utf-8", "replace").strip()
            return None, self.scrub(_short(text)) or "(empty body)"
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = error.get("code") or error.get("type")
            message = error.get("message") or ""
            return (str(code) if code else None), self.scrub(_short(str(message)))
        if isinstance(error, str):
            return None, self.scrub(_short(error))
        return None, self.scrub(_short(json.dumps(body)))


def _short(text: str, limit: int = _MAX_PROVIDER_MESSAGE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _root_cause(exc: BaseException) -> str:
    """The innermost exception's class name: informative, and free of URLs and headers."""
    seen: list[BaseException] = [exc]
    current: BaseException | None = exc
    while current is not None:
        nxt = current.__cause__ or current.__context__
        reason = getattr(current, "reason", None)
        if nxt is None and isinstance(reason, BaseException):
            nxt = reason
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        if nxt is None or nxt in seen:
            break
        seen.append(nxt)
        current = nxt
    return seen[-1].__class__.__name__
