"""The Twilio profile's webhook requests, checked by twilio-python's ``RequestValidator``: every kind of body, POST
and GET, URLs with ports, queries and fragments, the fallback URL's extra parameters, and non-ASCII values."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from callhooks.simulator.behaviours import FarEnd
from callhooks.simulator.clock import SimClock
from callhooks.simulator.ids import IdFactory
from callhooks.simulator.models import Call, Delivery, Recording
from callhooks.simulator.payloads import EventBody
from callhooks.simulator.twilio.encoding import form_of, sign_request
from callhooks.simulator.twilio.legs import DEFAULT_ACCOUNT_SID, Leg, RecordingInfo
from callhooks.simulator.twilio.payloads import TOKEN, TwilioPayloads

TOKEN_VALUE = "0123456789abcdef0123456789abcdef"
URLS = [
    "http://127.0.0.1:8000/cb/voice",
    "https://voice.example.com/twilio/voice?tenant=acme&lang=en-US",
    "http://localhost/x/?a=1&a=2#rt=5000",
    "https://example.com:8443/t/%C3%A9t%C3%A9?q=O%27Brien",
]


def _bodies() -> list[EventBody]:
    clock = SimClock(None)
    payloads = TwilioPayloads(DEFAULT_ACCOUNT_SID, clock, IdFactory(1))
    call = Call("c-1", "in", "+14155552671", "+15005550006", "http://127.0.0.1:9", 0.0, FarEnd(), Delivery(None), 0)
    call.active, call.diversion = 1.0, {"origTo": "+15005550007"}
    leg = Leg(call, "inbound")
    child = Leg(Call("c-2", "out", "+1", "+19195550199", "", 0.0, FarEnd(), Delivery(None), 1), "outbound-dial")
    child.parent_sid = leg.sid
    recording = Recording("rec-1", 2.0, "wav", end=9.0)
    info = RecordingInfo(recording, leg.sid, "RecordVerb")
    return [
        payloads.call(leg, "ringing"),
        payloads.call(leg, "in-progress", "redirect", answered_by="human"),
        payloads.status(leg, "answered", "in-progress"),
        payloads.status(leg, "completed", "completed"),
        payloads.gather(leg, "1234", "#"),
        payloads.gather(leg, "", ""),
        payloads.record(leg, info, "hangup"),
        payloads.dial(leg, child, "completed"),
        payloads.dial(leg, None, "failed"),
        payloads.recording_status(leg, info),
        {**payloads.call(leg, "ringing"), "CallerName": "José O'Brien & Sons"},
    ]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_request_validator_accepts_every_kind_of_request(url: str, method: str) -> None:
    validator = RequestValidator(TOKEN_VALUE)
    for body in _bodies():
        request = sign_request(url, body, Delivery(url, method), TOKEN_VALUE)
        signature = request.headers["X-Twilio-Signature"]
        assert "#" not in request.url  # the fragment never goes on the wire, nor into the signature
        if method == "POST":
            assert request.content is not None
            params = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
            assert params == form_of(body)
            assert validator.validate(request.url, params, signature), body
            assert not validator.validate(request.url, {**params, "Digits": "9"}, signature)
        else:
            assert request.content is None
            assert validator.validate(request.url, {}, signature), body
            assert dict(parse_qsl(urlsplit(request.url).query))["CallSid"] == body["CallSid"]
        assert request.headers["I-Twilio-Idempotency-Token"] == body[TOKEN]
        assert b"%40" not in (request.content or b"") and "%40" not in request.url  # no private entry on the wire


def test_the_fallback_url_gets_the_error_and_the_failed_url_with_its_own_method() -> None:
    body = _bodies()[0]
    target = Delivery(
        "http://127.0.0.1:8000/voice#rt=100", "POST", 15000, "http://127.0.0.1:8000/fallback", fallback_method="GET"
    )
    request = sign_request("http://127.0.0.1:8000/fallback", body, target, TOKEN_VALUE)
    assert request.method == "GET"
    query = dict(parse_qsl(urlsplit(request.url).query))
    assert (query["ErrorCode"], query["ErrorUrl"]) == ("11200", "http://127.0.0.1:8000/voice")
    assert RequestValidator(TOKEN_VALUE).validate(request.url, {}, request.headers["X-Twilio-Signature"])
    first = sign_request(target.url or "", body, target, TOKEN_VALUE)
    assert first.method == "POST" and first.content is not None and b"ErrorCode" not in first.content


def test_each_request_has_its_own_token_and_a_copy_keeps_it() -> None:
    bodies = _bodies()
    tokens = {body[TOKEN] for body in bodies}
    assert len(tokens) == len(bodies)
    target = Delivery(URLS[0])
    assert {
        sign_request(URLS[0], bodies[0], target, TOKEN_VALUE).headers["I-Twilio-Idempotency-Token"] for _ in "ab"
    } == {bodies[0][TOKEN]}


def test_status_callbacks_number_themselves_from_zero_per_call() -> None:
    payloads = TwilioPayloads(DEFAULT_ACCOUNT_SID, SimClock(None), IdFactory(2))
    call = Call("c-9", "out", "+1", "+2", "http://h", 0.0, FarEnd(), Delivery(None), 0)
    leg = Leg(call, "outbound-api")
    numbers = [payloads.status(leg, event, event)["SequenceNumber"] for event in ("initiated", "ringing", "answered")]
    assert numbers == ["0", "1", "2"]
    assert payloads.status(Leg(call, "outbound-api"), "completed", "completed")["SequenceNumber"] == "0"
