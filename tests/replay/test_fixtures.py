"""The call fixture format (callhooks.call/1): round trip, hostile files, hidden secrets, and replay plans."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callhooks import CallHooks
from callhooks.events import encode_query, wire_fields
from callhooks.fixtures import (
    FORMAT,
    MAX_FIXTURE_BYTES,
    CallFixture,
    FixtureError,
    build_fixture,
    dump_fixture,
    hide_secrets,
    load_fixture,
    not_recorded_here,
    plan_replay,
)
from callhooks.signing import CallbackSigner, CallbackUrls, _key_id, check_basic_auth
from callhooks.testing import answer_event, gather_event, hangup_event, incoming_call_event

SECRET = "fixture-secret"
RECEIVER = "http://127.0.0.1:8000/hooks"
EXPORTED = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


def a_call() -> CallFixture:
    """A four-event call as a receiver saw it: POSTs and a GET, contexts that change, one refused event."""
    incoming = json.dumps(wire_fields(incoming_call_event(call_id="c-abc")))
    answer = json.dumps(wire_fields(answer_event(call_id="c-abc")))
    gather = encode_query(wire_fields(gather_event(call_id="c-abc", tag="main-menu", digits="1")))
    hangup = json.dumps(wire_fields(hangup_event(call_id="c-abc")))
    return build_fixture(
        "c-abc",
        [
            (100.0, "POST", incoming, None, 200),
            (100.5, "POST", answer.encode(), {"menu": "main"}, 200),
            (103.25, "GET", gather, {"menu": "main", "tries": 1}, 200),
            (110.0, "POST", hangup, {"menu": "main"}, 500, "application/json; charset=utf-8"),
        ],
        exported=EXPORTED,
    )


def document(**changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(dump_fixture(a_call()))
    loaded.update(changes)
    return loaded


def event_document(index: int, **changes: Any) -> dict[str, Any]:
    loaded = document()
    loaded["events"][index].update(changes)
    return loaded


# ------------------------------------------------------------------------------------------------ round trip


def test_a_fixture_survives_dump_and_load_unchanged() -> None:
    fixture = a_call()
    text = dump_fixture(fixture)
    assert load_fixture(text) == fixture
    assert load_fixture(text.encode()) == fixture
    loaded = json.loads(text)
    assert (loaded["format"], loaded["callId"], loaded["exported"]) == (FORMAT, "c-abc", "2026-11-27T01:00:00Z")
    assert [event["at"] for event in loaded["events"]] == [0.0, 0.5, 3.25, 10.0]
    assert "contentType" not in loaded["events"][2]  # a GET has none
    assert loaded["events"][0]["contentType"] == "application/json"  # a POST without one is JSON
    assert loaded["events"][3]["contentType"] == "application/json; charset=utf-8"
    assert [event["context"] for event in loaded["events"]][:2] == [None, {"menu": "main"}]
    assert [event.event_type for event in fixture.events] == ["incomingcall", "answer", "gather", "hangup"]


def test_a_sealed_fixture_survives_dump_and_load_and_its_seal_still_checks() -> None:
    signer = CallbackSigner("fixtures-secret")
    context = {"n": 1.5, "é": ["x", None]}
    callbacks = [(0.0, "POST", '{"eventType":"answer"}', context, 200), (1, "GET", "a=1", None, 200)]
    fixture = build_fixture("c-☎", callbacks, signer=signer)
    assert fixture.receiver is not None and fixture.receiver.startswith(_key_id("fixtures-secret") + ".")
    loaded = load_fixture(dump_fixture(fixture))
    assert loaded == fixture and json.loads(dump_fixture(fixture))["receiver"] == fixture.receiver
    assert not_recorded_here(loaded, signer) is None
    assert not_recorded_here(loaded, CallbackSigner(["fixtures-secret", "newer"])) is None  # after a rotation
    assert not_recorded_here(loaded, CallbackSigner("other")) == (
        f"it was sealed by another receiver (key {_key_id('fixtures-secret')})"
    )
    assert "receiver" not in json.loads(dump_fixture(build_fixture("c-1", callbacks)))  # no seal: no field


def test_the_format_in_the_brief_loads() -> None:
    text = json.dumps(
        {
            "format": "callhooks.call/1",
            "callId": "c-abc",
            "exported": "2026-11-27T01:00:00Z",
            "events": [
                {
                    "at": 0,
                    "method": "POST",
                    "contentType": "application/json",
                    "body": '{"eventType":"incomingcall"}',
                    "context": {"k": "v"},
                    "status": 200,
                },
                {"at": 1.25, "method": "GET", "body": "eventType=answer&callId=c-abc", "context": None, "status": 200},
            ],
        }
    )
    fixture = load_fixture(text)
    assert [(e.at, e.method, e.event_type, e.context) for e in fixture.events] == [
        (0.0, "POST", "incomingcall", {"k": "v"}),
        (1.25, "GET", "answer", None),
    ]


# ------------------------------------------------------------------------------------- hostile or broken files


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x00\xff not json", ["not valid JSON"]),
        ("[1, 2]", ["a fixture is a JSON object"]),
        (json.dumps(document(format="callhooks.call/2")), ["format", "callhooks.call/1", "callhooks.call/2"]),
        (json.dumps(document(format=None)), ["format"]),
        (json.dumps({key: value for key, value in document().items() if key != "format"}), ["format", "required"]),
        (json.dumps(document(callId=7)), ["callId", "string"]),
        (json.dumps(document(callId="")), ["callId"]),
        (json.dumps(document(exported="yesterday")), ["exported"]),
        (json.dumps(document(exported="2026-11-27T01:00:00")), ["exported", "timezone"]),
        (json.dumps(document(events=[])), ["events"]),
        (json.dumps(document(events={"0": {}})), ["events", "array"]),
        (json.dumps(document(contex={"a": 1})), ["contex", "unknown field"]),
        (json.dumps(document(**{"forged\nline" + "x" * 500: 1})), ["forged\\x0aline", "unknown field"]),
        (json.dumps(event_document(1, at="0.5")), ["events[1].at", "number"]),
        (json.dumps(event_document(1, at=-1)), ["events[1].at"]),
        (json.dumps(event_document(1, at=1e12)), ["events[1].at"]),
        (json.dumps(event_document(0, at=2.0)), ["events[1].at", "before events[0].at", "arrival order"]),
        (json.dumps(event_document(1, method="PUT")), ["events[1].method"]),
        (json.dumps(event_document(1, method="post")), ["events[1].method"]),
        (json.dumps(event_document(1, body={"eventType": "answer"})), ["events[1].body", "string"]),
        (json.dumps(event_document(1, context=["menu"])), ["events[1].context"]),
        (json.dumps(event_document(1, context={"n": float("nan")})), ["events[1]", "Infinity or NaN"]),
        (json.dumps(event_document(1, status="200")), ["events[1].status"]),
        (json.dumps(event_document(1, status=1000)), ["events[1].status"]),
        (json.dumps(event_document(1, status=True)), ["events[1].status"]),
        (json.dumps(event_document(2, contentType="text/plain")), ["events[2]", "GET", "contentType"]),
        (json.dumps(event_document(2, body="eventType=answer\r\nX-Injected: 1")), ["events[2]", "query string"]),
        (json.dumps(event_document(1, contentType="application/json\nX-Injected: 1")), ["events[1]", "control"]),
        (json.dumps(event_document(1, headers={"x": "y"})), ["events[1].headers", "unknown field"]),
        (json.dumps(document(receiver="deadbeef")), ["receiver", "pattern"]),
        (json.dumps(document(receiver=7)), ["receiver", "string"]),
        ('{"format": "callhooks.call/1", "callId": "c", "events": [], "exported": 1' + "9" * 5000 + "}", ["JSON"]),
        ('{"events": [{"context": ' + "[" * 5000 + "]" * 5000 + "}]}", ["not valid JSON", "recursion"]),
    ],
)
def test_a_bad_fixture_is_one_clear_error(data: str | bytes, words: list[str]) -> None:
    with pytest.raises(FixtureError) as raised:
        load_fixture(data)
    message = str(raised.value)
    assert message.startswith("invalid call fixture: ")
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message


def test_an_oversized_fixture_is_refused_before_parsing() -> None:
    data = b" " * (MAX_FIXTURE_BYTES + 1)  # not even JSON: the size is judged first
    with pytest.raises(FixtureError, match="over the limit"):
        load_fixture(data)


def test_many_problems_are_summarised() -> None:
    broken = document()
    for event in broken["events"]:
        event["at"] = "soon"
        event["status"] = "fine"
    with pytest.raises(FixtureError) as raised:
        load_fixture(json.dumps(broken))
    message = str(raised.value)
    assert "(and 3 more)" in message and message.count("events[") == 5


# ------------------------------------------------------------------------------------------------ hidden secrets


def test_tokens_and_passwords_in_a_body_are_hidden() -> None:
    signer = CallbackSigner(SECRET)
    token = signer.sign({"order": 4411})
    compressed = signer.sign({"note": "x" * 400})  # long enough for itsdangerous to deflate it
    assert compressed.startswith(".")
    url = f"https://platform:s3cret@calls.example.com/hooks/{token}"
    fields = {
        "eventType": "answer",
        "callId": "c-abc",
        "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-lur3cwxfv62oqyeqkc4ay6p",
        "callbackUrl": url,
        "nested": {"requestUrl": f"https://calls.example.com/hooks/{compressed}?x=1"},
    }
    for body, form in ((json.dumps(fields), False), (encode_query(fields), True)):
        hidden = hide_secrets(body, form=form)
        assert token not in hidden and compressed not in hidden
        assert "s3cret" not in hidden
        assert "c-lur3cwxfv62oqyeqkc4ay6p" in hidden  # an id in a platform URL is not a token
    as_json = json.loads(hide_secrets(json.dumps(fields)))
    assert as_json["callbackUrl"] == "https://platform:***@calls.example.com/hooks/<token>"
    assert as_json["nested"]["requestUrl"] == "https://calls.example.com/hooks/<token>?x=1"
    assert as_json["callUri"] == fields["callUri"]


def test_callback_url_fields_lose_any_long_path_segment_whatever_its_shape() -> None:
    # e.g. a token of another signer, or one cut short: in a field naming where callbacks go, it is hidden anyway
    odd = "Zm9vYmFyYmF6cXV4cXV1eHh5eg-_Zm9v"
    fields = {"eventType": "redirect", "requestUrl": f"https://h/hooks/{odd}", "fallbackUri": f"https://h/{odd}"}
    for body, form in ((json.dumps(fields), False), (encode_query(fields), True)):
        assert odd not in hide_secrets(body, form=form)
    kept = {"eventType": "answer", "recordingUri": f"https://api.example.com/recordings/{odd}"}
    assert hide_secrets(json.dumps(kept)) == json.dumps(kept)  # not a callback URL field: only real tokens go


def test_a_body_without_secrets_is_kept_byte_for_byte() -> None:
    body = '{"eventType":"answer",  "callId": "c-abc", "to": "+19195551313"}'  # odd spacing survives
    assert hide_secrets(body) == body
    query = "eventType=answer&callId=c-abc&to=%2B19195551313&time=2016-02-20T16%3A22%3A30Z"
    assert hide_secrets(query, form=True) == query
    assert hide_secrets("not json at all") == "not json at all"


def test_a_token_in_an_unparseable_body_is_still_hidden() -> None:
    token = CallbackSigner(SECRET).sign({"a": 1})
    body = '{"callbackUrl": "https://h/hooks/' + token + '", broken'
    assert token not in hide_secrets(body)


def test_the_builder_hides_tokens_in_every_event() -> None:
    token = CallbackSigner(SECRET).sign()
    body = json.dumps({"eventType": "redirect", "callId": "c-1", "requestUrl": f"https://h/hooks/{token}"})
    query = f"eventType=redirect&callId=c-1&requestUrl=https%3A%2F%2Fh%2Fhooks%2F{token}"
    fixture = build_fixture("c-1", [(0, "POST", body, None, 200), (1, "GET", query, None, 200)])
    text = dump_fixture(fixture)
    assert token not in text
    assert fixture.events[1].fields["requestUrl"] == "https://h/hooks/<token>"


def test_hiding_is_linear_on_a_hostile_body() -> None:
    # Runs that look like the start of a token again and again, without a signature: one pass, no backtracking.
    body = "eyJ" * 300_000 + "." + "a" * 26
    assert hide_secrets(body) == body


def test_the_builder_reports_what_it_cannot_use() -> None:
    with pytest.raises(FixtureError, match=r"cannot build a call fixture: events\[0\].method"):
        build_fixture("c-1", [(0, "DELETE", "x", None, 200)])
    with pytest.raises(FixtureError, match="events"):
        build_fixture("c-1", [])


# ------------------------------------------------------------------------------------------------ replay plans


def test_original_timing_keeps_the_gaps_and_speed_divides_them() -> None:
    urls = CallbackUrls(CallbackSigner(SECRET))
    original = plan_replay(a_call(), urls, RECEIVER)
    assert [(r.at, r.delay) for r in original] == [(0.0, 0.0), (0.5, 0.5), (3.25, 2.75), (10.0, 6.75)]
    faster = plan_replay(a_call(), urls, RECEIVER, speed=4)
    assert [r.at for r in faster] == [0.0, 0.125, 0.8125, 2.5]
    compressed = plan_replay(a_call(), urls, RECEIVER, timing="compressed")
    assert [(r.at, r.delay) for r in compressed] == [(0.0, 0.0)] * 4


def test_planned_requests_carry_the_wire_payload_and_fresh_signed_contexts() -> None:
    hooks = CallHooks(secret=["old", SECRET], basic_auth=("platform", "s3cret"), public_url=RECEIVER)
    fixture = a_call()
    requests = plan_replay(fixture, hooks.urls)  # the receiver URL defaults to public_url
    assert [r.method for r in requests] == ["POST", "POST", "GET", "POST"]
    assert [r.event_type for r in requests] == ["incomingcall", "answer", "gather", "hangup"]
    for request, event in zip(requests, fixture.events, strict=True):
        parts = urlsplit(request.url)
        assert (parts.scheme, parts.netloc, parts.path.rpartition("/")[0]) == ("http", "127.0.0.1:8000", "/hooks")
        assert hooks.verify_callback_url(request.url) == (event.context or {})
        assert check_basic_auth(request.headers["authorization"], ("platform", "s3cret"))
        if event.method == "GET":
            assert (parts.query, request.body) == (event.body, None)
            assert "content-type" not in request.headers
        else:
            assert request.body == event.body.encode()
            assert request.headers["content-type"] == (event.content_type or "application/json")
    # events with the same context share one URL, as a call's events do on the platform
    assert requests[1].url == requests[3].url != requests[2].url.partition("?")[0]
    assert "s3cret" not in repr(requests) and "/hooks/" not in repr(requests)


def test_credentials_in_the_receiver_url_become_a_header() -> None:
    urls = CallbackUrls(CallbackSigner(SECRET))
    [request, *_] = plan_replay(a_call(), urls, "http://plat%40form:p%3Ass@127.0.0.1:8000/hooks")
    assert urlsplit(request.url).netloc == "127.0.0.1:8000"
    assert check_basic_auth(request.headers["authorization"], ("plat@form", "p:ss"))
    configured = CallbackUrls(urls.signer, basic_auth=("platform", "s3cret"))  # configured ones win
    [request, *_] = plan_replay(a_call(), configured, "http://other:guess@127.0.0.1:8000/hooks")
    assert check_basic_auth(request.headers["authorization"], ("platform", "s3cret"))


def test_a_plan_refuses_what_it_cannot_send() -> None:
    urls = CallbackUrls(CallbackSigner(SECRET))
    with pytest.raises(ValueError, match="needs a secret"):
        plan_replay(a_call(), CallbackUrls(None), RECEIVER)
    with pytest.raises(ValueError, match="public_url"):
        plan_replay(a_call(), urls, "ftp://example.com")
    with pytest.raises(ValueError, match="query"):
        plan_replay(a_call(), urls, RECEIVER + "?a=1")
    with pytest.raises(ValueError, match="receiver's URL"):
        plan_replay(a_call(), urls)
    with pytest.raises(ValueError, match="speed"):
        plan_replay(a_call(), urls, RECEIVER, speed=0)
    incompressible = {"blob": secrets.token_hex(2000)}
    huge = build_fixture("c-1", [(0, "POST", "{}", incompressible, 200)])
    with pytest.raises(ValueError, match=r"events\[0\].context cannot be signed"):
        plan_replay(huge, urls, RECEIVER)


# ------------------------------------------------------------------------------------------------- properties

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), JSON_VALUES.map(json.dumps), st.builds(document).map(json.dumps)))
def test_any_input_loads_or_is_a_fixture_error(data: str | bytes) -> None:
    try:
        load_fixture(data)
    except FixtureError as exc:
        assert str(exc).startswith("invalid call fixture: ") and "\n" not in str(exc)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=3600, allow_nan=False),
            st.sampled_from(["GET", "POST"]),
            st.text(max_size=200),
            st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
            st.none() | st.integers(100, 599),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_what_the_builder_accepts_survives_a_round_trip(
    callbacks: list[tuple[float, str, str, dict[str, Any] | None, int | None]],
) -> None:
    ordered = sorted(callbacks, key=lambda callback: callback[0])
    try:
        fixture = build_fixture("c-prop", ordered)
    except FixtureError as exc:
        # a GET body with spaces or control characters, or a context that JSON cannot carry
        assert "GET body is a query string" in str(exc) or "Infinity or NaN" in str(exc)
        return
    assert load_fixture(dump_fixture(fixture)) == fixture
    plan = plan_replay(fixture, CallbackUrls(CallbackSigner(SECRET)), RECEIVER, timing="compressed")
    assert [request.method for request in plan] == [event.method for event in fixture.events]
