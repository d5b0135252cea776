"""CallRecorder: what a receiver answered, as a fixture (in-process, where monitors are told before the answer
returns)."""

from __future__ import annotations

import json

import pytest

from callhooks import CallHooks, events
from callhooks.testing import CallRecorder, answer_event, encode_query, gather_event, send_event, wire_fields


def recording_app(limit: int = 10_000) -> tuple[CallHooks, CallRecorder]:
    hooks = CallHooks(secret="recorder-secret")

    @hooks.on()
    async def anything(event: events.CallEvent) -> None:
        pass

    recorder = CallRecorder(limit)
    hooks.add_monitor(recorder)
    return hooks, recorder


def test_the_fixture_holds_the_payloads_as_received_per_call() -> None:
    hooks, recorder = recording_app()
    answer, gather = answer_event(call_id="c-1"), gather_event(call_id="c-1", digits="1", tag="main-menu")
    send_event(hooks, answer, context={"order": 1})
    send_event(hooks, answer_event(call_id="c-2"))
    send_event(hooks, gather, method="GET", context={"order": 1})
    send_event(hooks, gather, method="GET", context={"order": 1})  # a duplicate delivery: recorded too
    fixture = recorder.fixture("c-1")
    assert fixture.call_id == "c-1"
    assert [(e.method, e.event_type, e.context, e.status) for e in fixture.events] == [
        ("POST", "answer", {"order": 1}, 200),
        ("GET", "gather", {"order": 1}, 200),
        ("GET", "gather", {"order": 1}, 200),
    ]
    assert json.loads(fixture.events[0].body) == wire_fields(answer)
    assert fixture.events[1].body == encode_query(wire_fields(gather))
    assert [e.at for e in fixture.events] == sorted(e.at for e in fixture.events) and fixture.events[0].at == 0
    assert [e.event_type for e in recorder.fixture("c-2").events] == ["answer"]


def test_an_unknown_call_is_a_lookup_error_and_the_recorder_is_bounded() -> None:
    hooks, recorder = recording_app(limit=2)
    with pytest.raises(LookupError, match="c-none"):
        recorder.fixture("c-none")
    for _ in range(3):
        send_event(hooks, answer_event(call_id="c-1"))
    assert len(recorder.events("c-1")) == 2


def test_a_form_post_is_recorded_as_a_form_and_replays_as_one() -> None:
    from starlette.testclient import TestClient

    from callhooks.testing import replay

    hooks, recorder = recording_app()
    body = encode_query(wire_fields(answer_event(call_id="c-form")))
    with TestClient(hooks, base_url="http://127.0.0.1") as client:
        path = hooks.callback_url(public_url="http://127.0.0.1").removeprefix("http://127.0.0.1")
        form = {"content-type": "application/x-www-form-urlencoded"}
        assert client.post(path, content=body, headers=form).status_code == 200
    fixture = recorder.fixture("c-form")
    assert [(e.method, e.content_type, e.body) for e in fixture.events] == [
        ("POST", "application/x-www-form-urlencoded", body)
    ]
    fresh, again = recording_app()
    assert [r.status_code for r in replay(fresh, fixture)] == [200]
    assert again.events("c-form")[0].media_type == "application/x-www-form-urlencoded"
