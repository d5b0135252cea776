"""Issue 7, findings 6 and 8: malformed rate-limit fields are typed errors; callback URLs are never shown whole
(simulator errors list, exception messages, reprs)."""

from __future__ import annotations

import json

import pytest

from callhooks import CallHooks
from callhooks.client import Client, PlatformError, RateLimitError
from callhooks.client.wire import Request, Response, error_from_response
from callhooks.logs import redact_url
from callhooks.simulator import ApiError
from tests.client.recorder import FAST_RETRY, SECRET, TOKEN, USER, Platform, Reply
from tests.simulator.receiver import USER as SIM_USER
from tests.simulator.receiver import running

pytestmark = pytest.mark.timeout(60)

GET = Request("GET", "https://api.example/v1/users/u/calls/c-1", idempotent=True)
BAD_RESETS = ["inf", "-inf", "nan", "1e400", "-5", "1e30", "soon", "", "0x10", "9" * 5000]


@pytest.mark.parametrize("value", BAD_RESETS)
def test_a_malformed_reset_header_is_a_rate_limit_error_without_a_time(value: str) -> None:
    error = error_from_response(GET, Response(429, {"x-ratelimit-reset": value}, b"{}"))
    assert isinstance(error, RateLimitError)  # before the fix: OverflowError escaped for inf and 1e400
    assert error.reset_at_ms is None and error.reset_at is None


@pytest.mark.parametrize("value", [*BAD_RESETS, 1e308, True, None, {"a": 1}, [1]])
def test_a_malformed_reset_in_the_body_is_a_rate_limit_error_without_a_time(value: object) -> None:
    body = json.dumps({"code": "rate-limit", "details": [{"name": "rateLimitResetTime", "value": value}]})
    error = error_from_response(GET, Response(429, {}, body.encode()))
    assert isinstance(error, RateLimitError)
    assert error.reset_at_ms is None and error.reset_at is None


def test_a_good_reset_still_counts() -> None:
    error = error_from_response(GET, Response(429, {"x-ratelimit-reset": "1479308598680.0"}, b""))
    assert isinstance(error, RateLimitError) and error.reset_at_ms == 1479308598680


@pytest.mark.parametrize("value", ["inf", "1e400", "nan"])
def test_the_client_raises_the_typed_error_over_http(platform: Platform, value: str) -> None:
    for _ in range(FAST_RETRY.attempts):
        platform.reply(Reply(429, json={"message": "slow down"}, headers={"X-RateLimit-Reset": value}))
    client = Client(USER, TOKEN, SECRET, base_url=platform.url, retry=FAST_RETRY, timeout=5.0)
    with client, pytest.raises(PlatformError) as caught:  # the documented base class catches it
        client.calls.get("c-1")
    assert isinstance(caught.value, RateLimitError)


# -- finding 8: callback URLs in errors and reprs --------------------------------------------------------------


def test_redact_url_masks_the_password_and_the_token() -> None:
    hooks = CallHooks(secret="k", public_url="https://calls.example.com/hooks", basic_auth=("bob", "hunter2"))
    url = hooks.callback_url(context={"order": 1})
    token = url.rsplit("/", 1)[1]
    shown = redact_url(url)
    assert shown == "https://bob:***@calls.example.com/hooks/<token>"
    assert "hunter2" not in shown and token not in shown


def test_the_simulator_errors_list_never_shows_the_password_or_token() -> None:
    hooks = CallHooks(secret="k", public_url="http://placeholder", basic_auth=("bob", "hunter2"))
    with running() as env:
        receiver = env.receiver_url.replace("http://", "http://bob:hunter2@")
        token = hooks.callback_url().rsplit("/", 1)[1]
        env.receiver.answers[f"/dead/{token}"] = (500, 0.0)
        env.create_call(path="", callbackUrl=f"{receiver}/dead/{token}")
        env.receiver.wait_types("answer", path=f"/dead/{token}")
        env.settle()
        raw = env.client.get(f"/v1/users/{SIM_USER}/errors").text
        control = env.client.get("/_sim/failures").text
    assert "callback-failed" in raw
    for text in (raw, control):
        assert "hunter2" not in text and token not in text  # before the fix: the full URL
        assert "bob:***@" in text and "<token>" in text


def test_simulator_api_errors_redact_urls_in_messages_and_details() -> None:
    message = "bad url http://u:pw@h/hooks/" + "x" * 40
    error = ApiError(400, "bad-request", "validation-error", message, {"u": "http://u:pw@h/"})
    assert "pw" not in str(error) and "pw" not in json.dumps(error.body())


def test_request_reprs_leave_out_the_body_with_the_callback_url() -> None:
    hooks = CallHooks(secret="k", public_url="https://calls.example.com/hooks", basic_auth=("bob", "hunter2"))
    url = hooks.callback_url()
    request = Request("POST", "https://api.example/v1/users/u/calls", json={"from": "+1", "callbackUrl": url})
    assert "hunter2" not in repr(request) and url.rsplit("/", 1)[1] not in repr(request)


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", 1e308, "99999999999999999999999"])
def test_non_finite_numbers_and_times_in_a_platform_body_read_as_unknown(value: object) -> None:
    from callhooks.client import Call

    call = Call.model_validate(
        {"id": "c-1", "state": "active", "callTimeout": value, "startTime": value, "endTime": value}
    )
    assert call.call_timeout is None or isinstance(call.call_timeout, int)
    assert call.start_time is None and call.end_time is None
