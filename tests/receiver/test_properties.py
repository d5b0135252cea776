"""Property tests: whatever arrives, the receiver answers 200, 400 or 422, never 500, never an exception."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from starlette.types import Message

from callhooks import CallEvent, CallHooks, events

ALLOWED = {200, 400, 422}
EVENT_TYPES = [cls.route_type for cls in events._EVENT_CLASSES] + ["transfer-complete", "reject", "sms", ""]
WIRE_FIELDS = [
    "callId",
    "callUri",
    "callState",
    "from",
    "to",
    "tag",
    "time",
    "cause",
    "status",
    "state",
    "digits",
    "dtmfDigit",
    "dtmfDuration",
    "startTime",
    "endTime",
    "createdTime",
    "textSize",
    "hold",
    "mute",
    "activeMembers",
    "diversion",
    "applicationId",
]

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    # Values that look like the documented formats, to reach the lenient parsers' edge cases.
    | st.sampled_from(["2014-04-23T11:53:43-03", "1394809766535", "99999999999999999999", "true", "160", "-0", "1e400"])
)
edge_values: st.SearchStrategy[Any] = st.sampled_from(
    [
        10**20,
        -(10**20),
        1e300,
        -1.5,
        0,
        "99999999999999999999",
        "9" * 5000,
        "²",
        "2014-04-23T11:53:43-03",
        "2014-02-30T00:00:00Z",
        "{}",
        '{"counter": "x"}',
        "[1]",
        "",
        " ",
        None,
        True,
        [],
        {},
    ]
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(WIRE_FIELDS) | st.text(max_size=12)


@st.composite
def json_objects(draw: st.DrawFn) -> dict[str, Any]:
    obj = draw(st.dictionaries(field_names, json_values, max_size=8))
    choice = draw(st.integers(0, 2))
    if choice == 1:
        obj["eventType"] = draw(st.sampled_from(EVENT_TYPES))
    elif choice == 2:
        obj["eventType"] = draw(json_values)
    return obj


@st.composite
def event_like_objects(draw: st.DrawFn) -> dict[str, Any]:
    """Known event types with documented field names and random values: reaches the typed validators."""
    obj = draw(st.dictionaries(st.sampled_from(WIRE_FIELDS), json_scalars | json_values, min_size=1, max_size=6))
    # Times, numbers and diversion go through custom lenient validators: give them edge values often.
    tricky = st.sampled_from(["time", "startTime", "createdTime", "dtmfDuration", "diversion", "hold"])
    obj.update(draw(st.dictionaries(tricky, edge_values, max_size=2)))
    obj["eventType"] = draw(st.sampled_from(EVENT_TYPES[:-2]))
    return obj


class Receiver:
    def __init__(self) -> None:
        # Hypothesis repeats events on purpose; without exactly-once handling each 200 means the handler ran.
        self.hooks = CallHooks(secret=None, insecure=True, store=None)
        self.delivered = 0

        @self.hooks.on()
        def count(event: CallEvent) -> None:
            assert isinstance(event, CallEvent)
            self.delivered += 1


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, TestClient]]:
    app = Receiver()
    # raise_server_exceptions=True (the default): an exception escaping the app fails the test outright.
    with TestClient(app.hooks) as client:
        yield app, client


def check(app: Receiver, before: int, status: int, body: bytes) -> None:
    assert status in ALLOWED, (status, body)
    if status == 200:
        assert app.delivered == before + 1  # a 200 means the event reached the handler
    else:
        assert app.delivered == before
        payload = json.loads(body)
        assert payload["error"]
        assert payload["detail"]


@PROPERTY_SETTINGS
@given(obj=json_objects() | event_like_objects())
def test_arbitrary_json_objects(receiver: tuple[Receiver, TestClient], obj: dict[str, Any]) -> None:
    app, client = receiver
    before = app.delivered
    response = client.post("/", content=json.dumps(obj), headers={"content-type": "application/json"})
    check(app, before, response.status_code, response.content)
    if isinstance(obj.get("eventType"), str) and obj["eventType"]:
        # A string eventType is always an event: routed (200) or a known event with bad fields (422), never 400.
        assert response.status_code in (200, 422)


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_json_bodies(receiver: tuple[Receiver, TestClient], body: bytes) -> None:
    app, client = receiver
    before = app.delivered
    response = client.post("/", content=body, headers={"content-type": "application/json"})
    check(app, before, response.status_code, response.content)


@PROPERTY_SETTINGS
@given(
    pairs=st.lists(st.tuples(field_names | st.just("eventType"), st.text(max_size=30)), max_size=8)
    | event_like_objects().map(lambda obj: [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()])
)
def test_arbitrary_query_fields(receiver: tuple[Receiver, TestClient], pairs: list[tuple[str, str]]) -> None:
    app, client = receiver
    before = app.delivered
    response = client.get("/", params=pairs)
    check(app, before, response.status_code, response.content)
    form_before = app.delivered
    form = client.post("/", content=urlencode(pairs), headers={"content-type": "application/x-www-form-urlencoded"})
    check(app, form_before, form.status_code, form.content)


async def _call(app: CallHooks, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@PROPERTY_SETTINGS
@given(query=st.binary(max_size=120) | st.text(max_size=80).map(str.encode), form=st.binary(max_size=120))
def test_arbitrary_raw_query_strings_and_form_bodies(query: bytes, form: bytes) -> None:
    # Raw bytes (invalid UTF-8, stray %, unencoded +, &&, =) straight into the ASGI scope, as a server would pass them.
    app = Receiver()
    scope = {"type": "http", "method": "GET", "path": "/", "root_path": "", "query_string": query, "headers": []}
    status, body = asyncio.run(_call(app.hooks, scope, b""))
    check(app, 0, status, body)
    form_scope = {
        **scope,
        "method": "POST",
        "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
    }
    status, body = asyncio.run(_call(app.hooks, form_scope, form))
    check(app, app.delivered - (1 if status == 200 else 0), status, body)
