"""The shared JSON GET client: redaction, Retry-After parsing, exact numbers, connection errors."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from extract.http import JsonHttpClient, RetryPolicy, dumps_json, loads_json, parse_retry_after, redact_url
from focusline.errors import TransientError


def test_redact_url_hides_secret_query_values_and_userinfo() -> None:
    url = "https://user:pw@api.example.com/v1/x?start_time=1&api_key=abc123&group_by[]=model&sig=zz"
    assert redact_url(url) == (
        "https://api.example.com/v1/x?start_time=1&api_key=REDACTED&group_by[]=model&sig=REDACTED"
    )


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "1"}) == 1.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:10 GMT"}, now=1792567680.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_json_numbers_round_trip_exactly() -> None:
    text = '{"amount":{"value":5.025,"currency":"usd"},"quantity":900000,"x":0.06314400000000001,"e":1E-7}'
    parsed = loads_json(text)
    assert parsed["amount"]["value"] == Decimal("5.025") and isinstance(parsed["quantity"], int)
    assert dumps_json(parsed) == text


def test_connection_refused_is_transient_and_names_the_path() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "sk-admin-" + "s" * 40
    client = JsonHttpClient(
        f"http://127.0.0.1:{port}/v1",
        headers={"Authorization": f"Bearer {secret}"},
        source="OpenAI",
        timeout_seconds=1,
        retry=RetryPolicy(max_attempts=2, backoff_initial_seconds=0.01, backoff_max_seconds=0.01),
    )
    with client, pytest.raises(TransientError, match=r"OpenAI GET /organization/costs failed after 2 attempt\(s\)"):
        client.get_json("/organization/costs", {"start_time": 1})
    assert secret not in client.scrub(f"echo {secret} and Bearer {secret}")
