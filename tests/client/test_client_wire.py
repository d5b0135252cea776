"""The sans-I/O core on its own: Link and Location parsing, error mapping, retry decisions, lenient models."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from callhooks.client import Call, CallOperations, PlatformError, RateLimitError, RetryPolicy
from callhooks.client.params import create_call, list_query
from callhooks.client.retry import Failure, Send, Sleep, perform
from callhooks.client.wire import Request, Response, error_from_response, id_from_location, next_link

GET = Request("GET", "https://api.example/v1/users/u/calls/c-1", idempotent=True)
CREATE = Request("POST", "https://api.example/v1/users/u/calls", json={"from": "+1", "to": "+2"})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://a/x?page=0>; rel="first", <https://a/x?page=1&size=25>; rel="next"', "https://a/x?page=1&size=25"),
        ("<https://a/x?page=0>; rel='first', <https://a/x?page=1>; rel='next'", "https://a/x?page=1"),
        ("<https://a/x?page=2>; rel=next", "https://a/x?page=2"),
        ('<https://a/x?page=3>; title="a, b"; rel="next last"', "https://a/x?page=3"),
        ('<https://a/x?page=0>; rel="first"', None),
        ('<https://a/x?page=9>; rel="nextish"', None),
        ("", None),
        (None, None),
    ],
)
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header) == expected


@pytest.mark.parametrize(
    "location", ["/v1/users/u/calls/c-9", "https://api.example/v1/users/u/calls/c-9", "http://h/c-9/", "c-9"]
)
def test_id_from_location(location: str) -> None:
    assert id_from_location(CREATE, Response(201, {"location": location})) == "c-9"


def test_missing_location_is_a_platform_error() -> None:
    with pytest.raises(PlatformError, match="Location"):
        id_from_location(CREATE, Response(201, {}))


def test_headers_are_case_insensitive_and_repeated_ones_joined() -> None:
    response = Response.from_pairs(200, [("Link", "<a>; rel=first"), ("link", '<b>; rel="next"')], b"[]")
    assert response.header("LINK") == '<a>; rel=first, <b>; rel="next"'
    assert next_link(response.header("link")) == "b"


def test_error_details_as_a_mapping_and_reset_from_details() -> None:
    body = b'{"code": "rate-limit-reached", "details": {"rateLimitResetTime": "1479308598680"}}'
    error = error_from_response(GET, Response(429, {}, body))
    assert isinstance(error, RateLimitError)
    assert error.details == [{"name": "rateLimitResetTime", "value": "1479308598680"}]
    assert error.reset_at_ms == 1479308598680


def test_unknown_statuses_are_platform_errors() -> None:
    error = error_from_response(GET, Response(418, {}, b""))
    assert type(error) is PlatformError and str(error) == "GET /v1/users/u/calls/c-1: 418"


# --- retry decisions ------------------------------------------------------------------------------------

POLICY = RetryPolicy(attempts=4, backoff=0.5, backoff_max=1.5, max_reset_wait=10.0)


def limited(reset_ms: int | None) -> RateLimitError:
    return RateLimitError(429, reset_at_ms=reset_ms)


def test_backoff_doubles_and_is_capped() -> None:
    assert [POLICY.backoff_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]


def test_rate_limit_waits_until_the_reset() -> None:
    now = 1_000.0
    assert POLICY.delay(GET, 1, limited(1_002_500), now) == 2.5
    assert POLICY.delay(GET, 1, limited(999_000), now) == 0.0  # already past: retry at once
    assert POLICY.delay(GET, 1, limited(1_011_000), now) is None  # further away than max_reset_wait
    assert POLICY.delay(GET, 1, limited(None), now) == 0.5


def test_what_is_retried() -> None:
    not_sent = Failure(httpx.ConnectError("refused"), sent=False)
    maybe_sent = Failure(httpx.ReadTimeout("slow"), sent=True)
    server_error = PlatformError(503)
    assert POLICY.delay(GET, 1, maybe_sent, 0) == 0.5
    assert POLICY.delay(GET, 2, server_error, 0) == 1.0
    assert POLICY.delay(GET, 4, server_error, 0) is None  # attempts used up
    assert POLICY.delay(GET, 1, PlatformError(400), 0) is None
    assert POLICY.delay(CREATE, 1, not_sent, 0) == 0.5
    assert POLICY.delay(CREATE, 1, maybe_sent, 0) is None
    assert POLICY.delay(CREATE, 1, server_error, 0) is None
    assert POLICY.delay(CREATE, 1, limited(0), 0) is None


def test_perform_is_driven_by_hand_without_io() -> None:
    operation = CallOperations("https://api.example", "u").get("c-1")
    steps = perform(operation, RetryPolicy(attempts=2, backoff=0.25), clock=lambda: 0.0)
    first = steps.send(None)
    assert isinstance(first, Send) and first.request.url == "https://api.example/v1/users/u/calls/c-1"
    pause = steps.send(Response(503, {}, b""))
    assert isinstance(pause, Sleep) and pause.seconds == 0.25
    again = steps.send(None)
    assert again == first
    with pytest.raises(StopIteration) as done:
        steps.send(Response(200, {}, b'{"id": "c-1", "state": "active"}'))
    assert isinstance(done.value.value, Call) and done.value.value.state == "active"


# --- parameters and models -----------------------------------------------------------------------------


@given(st.from_regex(r"\+[0-9]{7,15}", fullmatch=True))
def test_e164_numbers_are_accepted(number: str) -> None:
    assert create_call({"from_": number, "to": number})["from"] == number


@given(st.from_regex(r"\+?[0-9]{0,6}|\+[0-9]{16,20}|[0-9]{7,15}", fullmatch=True))
def test_other_numbers_are_refused(number: str) -> None:
    with pytest.raises(ValidationError, match="to"):
        create_call({"from_": "+19195551212", "to": number})


def test_sip_uris_and_lower_case_methods() -> None:
    body = create_call({"from_": "sip:me@10.0.0.1", "to": "SIP:you@10.0.0.2", "callback_http_method": "post"})
    assert body == {"from": "sip:me@10.0.0.1", "to": "SIP:you@10.0.0.2", "callbackHttpMethod": "POST"}


def test_list_query_values_are_text() -> None:
    assert list_query({"page": 0, "size": 25}) == {"page": "0", "size": "25"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2014-07-31T01:01:27Z", datetime(2014, 7, 31, 1, 1, 27, tzinfo=timezone.utc)),
        ("2013-07-12T16:26:55.685-02:00", datetime(2013, 7, 12, 18, 26, 55, 685000, tzinfo=timezone.utc)),
        ("2014-04-23T11:53:43-03", datetime(2014, 4, 23, 14, 53, 43, tzinfo=timezone.utc)),
        ("2014-04-23T11:53:43", datetime(2014, 4, 23, 11, 53, 43, tzinfo=timezone.utc)),
        (1479308598680, datetime(2016, 11, 16, 15, 3, 18, 680000, tzinfo=timezone.utc)),
        ("1479308598", datetime(2016, 11, 16, 15, 3, 18, tzinfo=timezone.utc)),
        ("", None),
        ("not a time", None),
    ],
)
def test_call_times_are_read_leniently(value: object, expected: datetime | None) -> None:
    parsed = Call.model_validate({"id": "c-1", "startTime": value}).start_time
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() is not None


def test_stringly_numbers_and_booleans() -> None:
    call = Call.model_validate(
        {
            "id": "c-1",
            "callTimeout": "60.0",
            "callbackTimeout": 10000,
            "recordingEnabled": "TRUE",
            "transcriptionEnabled": "no",
            "chargeableDuration": "n/a",
            "from": "+19195551212",
        }
    )
    assert (call.call_timeout, call.callback_timeout, call.chargeable_duration) == (60, 10000, None)
    assert (call.recording_enabled, call.transcription_enabled, call.from_) == (True, False, "+19195551212")


def test_snake_case_names_are_accepted_too() -> None:
    call = Call(id="c-1", start_time=datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(hours=1))
    assert call.model_dump(by_alias=True, exclude_none=True)["startTime"].hour == 1
