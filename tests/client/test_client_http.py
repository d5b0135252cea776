"""``Client`` against a recording server on 127.0.0.1: exact requests, pagination, errors, retries."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from callhooks.client import (
    AuthenticationError,
    Call,
    CallHandle,
    Client,
    ConflictError,
    NotFoundError,
    PlatformError,
    RateLimitError,
)
from callhooks.testing.server import free_port
from tests.client.recorder import (
    BASIC,
    FAST_RETRY,
    SECRET,
    TOKEN,
    USER,
    Platform,
    Reply,
    call_json,
    created,
    three_pages,
    unavailable,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def client(platform: Platform) -> Iterator[Client]:
    with Client(USER, TOKEN, SECRET, base_url=platform.url, retry=FAST_RETRY, timeout=5.0) as client:
        yield client


# --- create ---------------------------------------------------------------------------------------------


def test_create_sends_every_parameter_camel_cased(platform: Platform, client: Client) -> None:
    platform.reply(created(f"{platform.base}/c-new"))
    call = client.calls.create(
        from_="+19195551212",
        to="sip:alice@10.0.0.1",
        call_timeout=30,
        callback_url="https://calls.example.com/hooks/x",
        callback_http_method="get",
        callback_timeout=5000,
        fallback_url="https://fallback.example.com/hooks",
        bridge_id="brg-1",
        conference_id="conf-1",
        recording_enabled=True,
        recording_max_duration=600,
        recording_file_format="MP3",
        transcription_enabled=False,
        tag="main-menu",
        sip_headers={"X-Order": "4411"},
    )
    [seen] = platform.seen
    assert (seen.method, seen.path, seen.query) == ("POST", f"/v1/users/{USER}/calls", [])
    assert seen.json == {
        "from": "+19195551212",
        "to": "sip:alice@10.0.0.1",
        "callTimeout": 30,
        "callbackUrl": "https://calls.example.com/hooks/x",
        "callbackHttpMethod": "GET",
        "callbackTimeout": 5000,
        "fallbackUrl": "https://fallback.example.com/hooks",
        "bridgeId": "brg-1",
        "conferenceId": "conf-1",
        "recordingEnabled": True,
        "recordingMaxDuration": 600,
        "recordingFileFormat": "mp3",
        "transcriptionEnabled": False,
        "tag": "main-menu",
        "sipHeaders": {"X-Order": "4411"},
    }
    assert seen.headers["authorization"] == BASIC
    assert seen.headers["user-agent"] == f"callhooks/{version('callhooks')}"
    assert seen.headers["content-type"] == "application/json"
    assert isinstance(call, Call)
    assert (call.id, call.direction, call.from_, call.tag, call.recording_enabled) == (
        "c-new",
        "out",
        "+19195551212",
        "main-menu",
        True,
    )


def test_create_sends_no_nulls(platform: Platform, client: Client) -> None:
    platform.reply(created(f"{platform.base}/c-1"))
    client.calls.create("+19195551212", "+19195551313")
    assert platform.seen[0].json == {"from": "+19195551212", "to": "+19195551313"}


@pytest.mark.parametrize(
    "location",
    [
        f"/v1/users/{USER}/calls/c-42",
        f"https://api.catapult.inetwork.com/v1/users/{USER}/calls/c-42",
        f"http://127.0.0.1/v1/users/{USER}/calls/c-42/",
    ],
    ids=["path-only", "absolute", "trailing-slash"],
)
def test_create_takes_the_id_from_the_last_location_segment(platform: Platform, client: Client, location: str) -> None:
    platform.reply(created(location))
    assert client.calls.create("+19195551212", "+19195551313").id == "c-42"


def test_create_without_location_is_an_error(platform: Platform, client: Client) -> None:
    platform.reply(Reply(201))
    with pytest.raises(PlatformError, match="Location"):
        client.calls.create("+19195551212", "+19195551313")


# --- get and list ---------------------------------------------------------------------------------------


def test_get_returns_a_typed_call_from_stringly_fields(platform: Platform, client: Client) -> None:
    platform.reply(
        Reply(
            json=call_json(
                "c-7",
                state="active",
                startTime="2014-07-31T01:01:27Z",
                activeTime="2014-04-23T11:53:43-03",
                callTimeout="30",
                chargeableDuration="60",
                recordingEnabled="true",
                transcriptionEnabled="false",
                sipHeaders={"X-Order": "1"},
                somethingNew={"kept": True},
            )
        )
    )
    call = client.calls.get("c-7")
    [seen] = platform.seen
    assert (seen.method, seen.path, seen.body) == ("GET", f"{platform.base}/c-7", b"")
    assert call.call_timeout == 30 and call.chargeable_duration == 60
    assert call.recording_enabled is True and call.transcription_enabled is False
    assert call.start_time is not None and call.start_time.isoformat() == "2014-07-31T01:01:27+00:00"
    assert call.active_time is not None and call.active_time.utcoffset() is not None
    assert call.sip_headers == {"X-Order": "1"}
    assert call.model_extra == {"somethingNew": {"kept": True}}


def test_list_follows_next_links_across_three_pages(platform: Platform, client: Client) -> None:
    three_pages(platform)
    calls = list(client.calls.list(from_="+19195551212", size=2, sort_order="asc"))
    assert [call.id for call in calls] == ["c-0", "c-1", "c-2", "c-3", "c-4"]
    assert [(seen.method, seen.path) for seen in platform.seen] == [("GET", platform.base)] * 3
    assert [seen.query for seen in platform.seen] == [
        [("from", "+19195551212"), ("size", "2"), ("sortOrder", "asc")],
        [("page", "1"), ("size", "2"), ("from", "+19195551212")],
        [("page", "2"), ("size", "2"), ("from", "+19195551212")],
    ]
    assert all(seen.headers["authorization"] == BASIC for seen in platform.seen)


def test_list_page_fetches_one_page_and_next_page_the_following(platform: Platform, client: Client) -> None:
    three_pages(platform)
    page = client.calls.list_page(from_="+19195551212", size=2)
    assert [call.id for call in page.items] == ["c-0", "c-1"]
    assert page.next_url is not None and page.next_url.endswith("page=1&size=2&from=%2B19195551212")
    assert len(platform.seen) == 1
    second = client.calls.next_page(page)
    assert second is not None and [call.id for call in second.items] == ["c-2", "c-3"]


def test_list_filters_use_wire_names(platform: Platform, client: Client) -> None:
    platform.reply(Reply(json=[]))
    assert list(client.calls.list(bridge_id="brg-1", conference_id="conf-1", to="+19195551313", page=3)) == []
    assert platform.seen[0].query == [
        ("bridgeId", "brg-1"),
        ("conferenceId", "conf-1"),
        ("to", "+19195551313"),
        ("page", "3"),
    ]


def test_list_filters_by_start_time_send_iso_utc(platform: Platform, client: Client) -> None:
    platform.reply(Reply(json=[]))
    since = datetime(2019, 3, 14, 11, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert list(client.calls.list(from_date_time=since, to_date_time=datetime(2019, 3, 14, 16, 30))) == []
    assert platform.seen[0].query == [
        ("fromDateTime", "2019-03-14T15:00:00.000Z"),
        ("toDateTime", "2019-03-14T16:30:00.000Z"),
    ]


def test_list_refuses_a_next_link_to_another_origin(platform: Platform, client: Client) -> None:
    platform.reply(Reply(json=[call_json("c-0")], headers={"Link": '<https://evil.example/calls?page=1>; rel="next"'}))
    with pytest.raises(PlatformError, match="another origin"):
        list(client.calls.list())
    assert len(platform.seen) == 1


def test_one_call_event_is_read_by_id(platform: Platform, client: Client) -> None:
    entry = {"id": "ce-7", "time": 1479308598680, "name": "answer", "data": "{}"}
    platform.reply(Reply(json=entry), Reply(json=entry))
    event = client.calls.get_event("c-1", "ce-7")
    assert client.calls.bind("c-1").get_event("ce-7") == event
    assert (event.id, event.name, event.time is not None and event.time.year) == ("ce-7", "answer", 2016)
    assert [(seen.method, seen.path) for seen in platform.seen] == [("GET", f"{platform.base}/c-1/events/ce-7")] * 2


def test_sub_resources_are_typed_lists(platform: Platform, client: Client) -> None:
    platform.reply(
        Reply(json=[{"id": "ce-1", "time": 1479308598680, "name": "answer", "data": '{"x": 1}'}]),
        Reply(json=[{"id": "rec-1", "startTime": "2014-07-31T01:01:27Z", "state": "complete", "media": "m"}]),
        Reply(json=[{"id": "t-1", "state": "completed", "text": "hi", "textSize": "2"}]),
    )
    handle = client.calls.bind("c-1")
    [event] = list(handle.events())
    [recording] = list(handle.recordings())
    [transcription] = list(handle.transcriptions())
    assert [seen.path for seen in platform.seen] == [
        f"{platform.base}/c-1/events",
        f"{platform.base}/c-1/recordings",
        f"{platform.base}/c-1/transcriptions",
    ]
    assert event.name == "answer" and event.time is not None and event.time.year == 2016
    assert recording.state == "complete" and transcription.text_size == 2


# --- call control ---------------------------------------------------------------------------------------

CONTROL: list[tuple[str, Callable[[CallHandle], object], str, dict[str, Any]]] = [
    ("answer", lambda call: call.answer(), "", {"state": "active"}),
    ("reject", lambda call: call.reject(), "", {"state": "rejected"}),
    ("hangup", lambda call: call.hangup(), "", {"state": "completed"}),
    (
        "update",
        lambda call: call.update(tag="t2", callback_url="https://cb.example/x", recording_enabled=True),
        "",
        {"tag": "t2", "callbackUrl": "https://cb.example/x", "recordingEnabled": True},
    ),
    (
        "speak",
        lambda call: call.speak("Press 1", voice="kate", gender="female", locale="en_US", loop=True, tag="m"),
        "/audio",
        {
            "sentence": "Press 1",
            "voice": "kate",
            "gender": "female",
            "locale": "en_US",
            "loopEnabled": True,
            "tag": "m",
        },
    ),
    (
        "play",
        lambda call: call.play("https://audio.example/a.mp3", loop=False, volume=2),
        "/audio",
        {"fileUrl": "https://audio.example/a.mp3", "loopEnabled": False, "volume": 2},
    ),
    ("stop_audio", lambda call: call.stop_audio(), "/audio", {"fileUrl": ""}),
    ("stop_speaking", lambda call: call.stop_speaking(), "/audio", {"sentence": ""}),
    ("send_dtmf", lambda call: call.send_dtmf("12#*wW,A"), "/dtmf", {"dtmfOut": "12#*wW,A"}),
    (
        "start_recording",
        lambda call: call.start_recording(file_format="mp3", max_duration=60),
        "",
        {"recordingEnabled": True, "recordingFileFormat": "mp3", "recordingMaxDuration": 60},
    ),
    ("stop_recording", lambda call: call.stop_recording(), "", {"recordingEnabled": False}),
    ("stop_gather", lambda call: call.stop_gather("g-1"), "/gather/g-1", {"state": "completed"}),
]


@pytest.mark.parametrize(("name", "action", "suffix", "body"), CONTROL, ids=[row[0] for row in CONTROL])
def test_control_requests(
    platform: Platform,
    client: Client,
    name: str,
    action: Callable[[CallHandle], object],
    suffix: str,
    body: dict[str, Any],
) -> None:
    assert action(client.calls.bind("c-1")) is None
    [seen] = platform.seen
    assert (seen.method, seen.path, seen.query, seen.json) == ("POST", f"{platform.base}/c-1{suffix}", [], body)
    assert seen.headers["authorization"] == BASIC


def test_namespace_and_handle_send_the_same_request(platform: Platform, client: Client) -> None:
    client.calls.hangup("c-1")
    client.calls.bind("c-1").hangup()
    first, second = platform.seen
    assert (first.path, first.json) == (second.path, second.json)


def test_gather_returns_the_gather_id(platform: Platform, client: Client) -> None:
    platform.reply(created(f"{platform.url}{platform.base}/c-1/gather/g-9"))
    gather_id = client.calls.bind("c-1").gather(
        max_digits=1, inter_digit_timeout=5, terminating_digits="#", tag="main-menu", prompt="Press 1"
    )
    assert gather_id == "g-9"
    assert platform.seen[0].path == f"{platform.base}/c-1/gather"
    assert platform.seen[0].json == {
        "maxDigits": 1,
        "interDigitTimeout": 5,
        "terminatingDigits": "#",
        "tag": "main-menu",
        "prompt": {"sentence": "Press 1"},
    }


def test_get_gather(platform: Platform, client: Client) -> None:
    platform.reply(Reply(json={"id": "g-9", "state": "completed", "reason": "max-digits", "digits": "1"}))
    gather = client.calls.get_gather("c-1", "g-9")
    assert platform.seen[0].path == f"{platform.base}/c-1/gather/g-9"
    assert (gather.state, gather.digits) == ("completed", "1")


def test_transfer_returns_the_new_leg_id(platform: Platform, client: Client) -> None:
    platform.reply(created(f"{platform.base}/c-leg"))
    leg = client.calls.transfer(
        "c-1",
        "+19195551414",
        caller_id="private",
        whisper_audio={"sentence": "Incoming transfer", "gender": "male", "loop_enabled": False},
        callback_url="https://cb.example/leg",
    )
    assert leg == "c-leg"
    [seen] = platform.seen
    assert (seen.method, seen.path) == ("POST", f"{platform.base}/c-1")
    assert seen.json == {
        "state": "transferring",
        "transferTo": "+19195551414",
        "transferCallerId": "private",
        "whisperAudio": {"sentence": "Incoming transfer", "gender": "male", "loopEnabled": False},
        "callbackUrl": "https://cb.example/leg",
    }


def test_call_ids_cannot_escape_their_path_segment(platform: Platform, client: Client) -> None:
    client.calls.hangup("../c-1?x=1")
    assert platform.seen[0].raw_path == f"{platform.base}/..%2Fc-1%3Fx%3D1"
    assert platform.seen[0].query == []


# --- validation happens before anything is sent ----------------------------------------------------------

INVALID: list[tuple[str, Callable[[Client], object]]] = [
    ("from_", lambda c: c.calls.create(from_="19195551212", to="+19195551313")),
    ("to", lambda c: c.calls.create(from_="+19195551212", to="+1919")),
    ("to", lambda c: c.calls.create(from_="+19195551212", to="+1234567890123456")),
    ("call_timeout", lambda c: c.calls.create("+19195551212", "+19195551313", call_timeout=301)),
    ("callback_timeout", lambda c: c.calls.create("+19195551212", "+19195551313", callback_timeout=10001)),
    ("callback_http_method", lambda c: c.calls.create("+19195551212", "+19195551313", callback_http_method="PUT")),
    ("recording_file_format", lambda c: c.calls.create("+19195551212", "+19195551313", recording_file_format="ogg")),
    (
        "sip_headers",
        lambda c: c.calls.create("+19195551212", "+19195551313", sip_headers={f"X-{i}": "v" for i in range(6)}),
    ),
    ("sip_headers", lambda c: c.calls.create("+19195551212", "+19195551313", sip_headers={"Order": "1"})),
    ("sip_headers", lambda c: c.calls.create("+19195551212", "+19195551313", sip_headers={"X-A": "v" * 257})),
    ("size", lambda c: c.calls.list(size=0)),
    ("size", lambda c: c.calls.list_page(size=1001)),
    ("sentence", lambda c: c.calls.speak("c-1", "x" * 1001)),
    ("dtmf_out", lambda c: c.calls.send_dtmf("c-1", "12x")),
    ("dtmf_out", lambda c: c.calls.send_dtmf("c-1", "1" * 93)),
    ("max_digits", lambda c: c.calls.gather("c-1", max_digits=31)),
    ("terminating_digits", lambda c: c.calls.gather("c-1", terminating_digits="")),
    ("transfer_to", lambda c: c.calls.transfer("c-1", "nobody")),
    ("call_id", lambda c: c.calls.get("")),
    ("mystery", lambda c: c.calls.create("+19195551212", "+19195551313", mystery=1)),  # type: ignore[call-arg]
]


@pytest.mark.parametrize(("parameter", "action"), INVALID, ids=[f"{i}-{row[0]}" for i, row in enumerate(INVALID)])
def test_invalid_parameters_raise_before_sending(
    platform: Platform, client: Client, parameter: str, action: Callable[[Client], object]
) -> None:
    with pytest.raises(ValueError, match=parameter):
        action(client)
    assert platform.seen == []


def test_validation_errors_are_pydantic_errors_naming_the_keyword(client: Client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.calls.create("+19195551212", "+19195551313", call_timeout=0)
    assert caught.value.errors()[0]["loc"] == ("call_timeout",)


# --- errors ---------------------------------------------------------------------------------------------

ERRORS: list[tuple[int, dict[str, str], dict[str, str], type[PlatformError]]] = [
    (400, {"category": "validation-error", "code": "callback-invalid-url", "message": "bad"}, {}, PlatformError),
    (401, {"category": "authentication", "code": "user-access-denied", "message": "no"}, {}, AuthenticationError),
    (403, {"category": "limit", "code": "call-rate-limit", "message": "slow down"}, {}, RateLimitError),
    (403, {"category": "call-invalid-state", "code": "call-invalid-state", "message": "done"}, {}, PlatformError),
    (404, {"category": "not-found", "code": "call-not-found", "message": "gone"}, {}, NotFoundError),
    (409, {"category": "conflict", "code": "call-update-conflict", "message": "busy"}, {}, ConflictError),
    (429, {"category": "too-many-requests", "code": "rate-limit-reached", "message": "wait"}, {}, RateLimitError),
    (500, {"category": "unexpected", "code": "internal", "message": "oops"}, {}, PlatformError),
    (503, {"category": "unavailable", "code": "call-unavailable", "message": "later"}, {}, PlatformError),
]


@pytest.mark.parametrize(("status", "body", "headers", "kind"), ERRORS, ids=[f"{e[0]}-{e[1]['code']}" for e in ERRORS])
def test_every_error_status_becomes_a_typed_exception(
    platform: Platform,
    client: Client,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    kind: type[PlatformError],
) -> None:
    details = [{"name": "requestMethod", "value": "POST"}, {"name": "callId", "value": "c-1"}]
    platform.reply(Reply(status, json={**body, "details": details}, headers=headers))
    with pytest.raises(PlatformError) as caught:
        client.calls.speak("c-1", "hello")  # not idempotent: never retried, so one scripted reply suffices
    error = caught.value
    assert type(error) is kind
    assert (error.status, error.category, error.code, error.message) == (
        status,
        body["category"],
        body["code"],
        body["message"],
    )
    assert error.details == details and error.detail("callId") == "c-1"
    assert body["code"] in str(error) and str(status) in str(error)
    assert f"{platform.base}/c-1/audio" in str(error)
    assert len(platform.seen) == 1


def test_rate_limit_error_carries_the_reset_time(platform: Platform, client: Client) -> None:
    platform.reply(
        Reply(
            403,
            json={"category": "limit", "code": "call-rate-limit", "message": "slow"},
            headers={"X-RateLimit-Reset": "1479308598680"},
        )
    )
    with pytest.raises(RateLimitError) as caught:
        client.calls.create("+19195551212", "+19195551313")
    assert caught.value.reset_at_ms == 1479308598680
    assert caught.value.reset_at is not None and caught.value.reset_at.timestamp() == 1479308598.68


def test_non_json_error_keeps_the_raw_text(platform: Platform, client: Client) -> None:
    platform.reply(Reply(502, text="<html>Bad gateway</html>"))
    with pytest.raises(PlatformError) as caught:
        client.calls.send_dtmf("c-1", "1")
    assert caught.value.text == "<html>Bad gateway</html>"
    assert caught.value.message == "<html>Bad gateway</html>" and caught.value.code is None


def test_error_text_never_contains_credentials(platform: Platform, client: Client) -> None:
    message = "not a valid callbackUrl: https://admin:hunter2@calls.example.com/hooks"
    platform.reply(
        Reply(400, json={"category": "validation-error", "code": "callback-invalid-url", "message": message})
    )
    with pytest.raises(PlatformError) as caught:
        client.calls.create("+19195551212", "+19195551313")
    text = str(caught.value) + repr(caught.value) + repr(client) + repr(client.credentials)
    for secret in (TOKEN, SECRET, BASIC, "hunter2"):
        assert secret not in text
    assert "https://***@calls.example.com/hooks" in str(caught.value)


# --- retries --------------------------------------------------------------------------------------------


def test_get_is_retried_on_5xx_until_it_succeeds(platform: Platform, client: Client) -> None:
    platform.reply(unavailable(), Reply(500, text="boom"), Reply(json=call_json("c-1")))
    assert client.calls.get("c-1").id == "c-1"
    assert len(platform.seen) == 3


def test_get_gives_up_after_the_configured_attempts(platform: Platform, client: Client) -> None:
    platform.reply(unavailable(), unavailable(), unavailable(), Reply(json=call_json("c-1")))
    with pytest.raises(PlatformError) as caught:
        client.calls.get("c-1")
    assert caught.value.code == "call-unavailable"
    assert len(platform.seen) == FAST_RETRY.attempts


def test_get_waits_for_the_rate_limit_reset_then_retries(platform: Platform, client: Client) -> None:
    reset_ms = int(time.time() * 1000) + 50
    limited = Reply(429, json={"code": "rate-limit-reached"}, headers={"X-RateLimit-Reset": str(reset_ms)})
    platform.reply(limited, Reply(json=call_json("c-1")))
    assert client.calls.get("c-1").id == "c-1"
    assert len(platform.seen) == 2
    assert time.time() * 1000 >= reset_ms - 5  # waited for the reset (wall and sleep clocks may differ by a hair)


def test_a_reset_too_far_away_is_raised_not_waited_for(platform: Platform, client: Client) -> None:
    far = str(int(time.time() * 1000) + 3_600_000)
    platform.reply(Reply(429, json={"code": "rate-limit-reached"}, headers={"X-RateLimit-Reset": far}))
    with pytest.raises(RateLimitError):
        client.calls.get("c-1")
    assert len(platform.seen) == 1


def test_client_errors_are_not_retried(platform: Platform, client: Client) -> None:
    platform.reply(Reply(404, json={"code": "call-not-found"}))
    with pytest.raises(NotFoundError):
        client.calls.get("c-1")
    assert len(platform.seen) == 1


def test_state_updates_are_retried_like_gets(platform: Platform, client: Client) -> None:
    platform.reply(unavailable())
    client.calls.hangup("c-1")
    assert len(platform.seen) == 2


NEVER_RETRIED: list[tuple[str, Callable[[Client], object]]] = [
    ("create", lambda c: c.calls.create("+19195551212", "+19195551313")),
    ("transfer", lambda c: c.calls.transfer("c-1", "+19195551414")),
    ("speak", lambda c: c.calls.speak("c-1", "hello")),
    ("send_dtmf", lambda c: c.calls.send_dtmf("c-1", "1")),
    ("gather", lambda c: c.calls.gather("c-1", max_digits=1)),
]


@pytest.mark.parametrize(("name", "action"), NEVER_RETRIED, ids=[row[0] for row in NEVER_RETRIED])
@pytest.mark.parametrize(
    "reply",
    [unavailable(), Reply(429, json={"code": "rate-limit-reached"}, headers={"X-RateLimit-Reset": "0"})],
    ids=["503", "429"],
)
def test_requests_with_side_effects_are_not_retried_once_sent(
    platform: Platform, client: Client, name: str, action: Callable[[Client], object], reply: Reply
) -> None:
    platform.reply(reply, created(f"{platform.base}/c-2"))
    with pytest.raises(PlatformError):
        action(client)
    assert len(platform.seen) == 1


def test_create_is_not_retried_after_a_read_timeout(platform: Platform) -> None:
    platform.reply(Reply(201, headers={"Location": f"{platform.base}/c-slow"}, delay=0.5))
    with (
        Client(USER, TOKEN, SECRET, base_url=platform.url, retry=FAST_RETRY, timeout=0.1) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.calls.create("+19195551212", "+19195551313")
    assert len(platform.seen) == 1


def test_get_is_retried_after_a_read_timeout(platform: Platform) -> None:
    platform.reply(Reply(json=call_json("c-1"), delay=0.5), Reply(json=call_json("c-1")))
    with Client(USER, TOKEN, SECRET, base_url=platform.url, retry=FAST_RETRY, timeout=0.1) as client:
        assert client.calls.get("c-1").id == "c-1"
    assert len(platform.seen) == 2


class CountingTransport(httpx.HTTPTransport):
    """Counts the requests handed to the network layer (including those that never connect)."""

    attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return super().handle_request(request)


def test_create_is_retried_when_the_connection_was_never_made() -> None:
    transport = CountingTransport()
    closed = f"http://127.0.0.1:{free_port()}"
    with (
        Client(USER, TOKEN, SECRET, base_url=closed, retry=FAST_RETRY, transport=transport) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.calls.create("+19195551212", "+19195551313")
    assert transport.attempts == FAST_RETRY.attempts


# --- client construction --------------------------------------------------------------------------------


def test_credentials_and_base_url_come_from_the_environment(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATAPULT_USER_ID", "u-env")
    monkeypatch.setenv("CATAPULT_API_TOKEN", TOKEN)
    monkeypatch.setenv("CATAPULT_API_SECRET", SECRET)
    monkeypatch.setenv("CATAPULT_BASE_URL", platform.url)
    platform.reply(Reply(json=call_json("c-1")))
    with Client() as client:
        client.calls.get("c-1")
    assert platform.seen[0].path == "/v1/users/u-env/calls/c-1"
    assert platform.seen[0].headers["authorization"] == BASIC


def test_missing_credentials_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CATAPULT_USER_ID", "CATAPULT_API_TOKEN", "CATAPULT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="CATAPULT_API_SECRET") as caught:
        Client(user_id="u-1", api_token=TOKEN)
    assert TOKEN not in str(caught.value)


def test_without_a_base_url_the_retired_host_is_not_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    # api.catapult.inetwork.com has not resolved since 2024: one line naming the ways out, not a DNS error later.
    monkeypatch.delenv("CATAPULT_BASE_URL", raising=False)
    with pytest.raises(ValueError) as refused:
        Client("u-1", TOKEN, SECRET)
    message = str(refused.value)
    assert "\n" not in message
    assert "Catapult v1 is retired" in message
    assert all(option in message for option in ("base_url=", "simulator", "callhooks.bandwidth"))


def test_one_connection_is_reused_across_requests(platform: Platform, client: Client) -> None:
    client.calls.hangup("c-1")
    client.calls.hangup("c-2")
    client.calls.hangup("c-3")
    assert len({seen.client_port for seen in platform.seen}) == 1


def test_close_closes_the_pool(platform: Platform) -> None:
    client = Client(USER, TOKEN, SECRET, base_url=platform.url)
    client.close()
    assert client.http.is_closed
