"""Requests the official SDKs send (bugs 11, 14, 15) and the client's signed-context update, against the simulator."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import httpx
import pytest

from callhooks import AsyncCallHandle, CallHooks, events
from callhooks.client import AsyncClient, Client, RetryPolicy
from callhooks.simulator import FarEnd
from callhooks.testing import SimulatorSession
from tests.simulator.receiver import CALLEE, SECRET, TOKEN, USER, Env, running

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def env() -> Iterator[Env]:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}) as env:
        yield env


def client_of(env: Env) -> Client:
    return Client(USER, TOKEN, SECRET, base_url=env.url, retry=RetryPolicy(attempts=1))


def test_a_null_callback_url_in_an_update_keeps_the_calls_callback_url(env: Env) -> None:
    call_id = env.create_call("/first")
    env.receiver.wait_types("answer", path="/first")
    # bandwidth-sdk sends every named argument, unset ones as null
    update = {"state": None, "callbackUrl": None, "tag": "kept", "recordingEnabled": None}
    assert env.client.post(f"{env.calls}/{call_id}", json=update).status_code == 200
    assert env.get_call(call_id)["callbackUrl"] == env.receiver_url + "/first"
    assert (
        env.client.post(f"{env.calls}/{call_id}", json={"state": "completed", "callbackUrl": None}).status_code == 200
    )
    env.receiver.wait_types("answer", "hangup", path="/first")
    # an empty string still clears it, as documented for "no callback URL"
    second = env.create_call("/second")
    assert env.client.post(f"{env.calls}/{second}", json={"callbackUrl": ""}).status_code == 200
    assert env.get_call(second)["callbackUrl"] == ""


def test_one_call_event_is_read_by_id_blocking_awaited_and_through_a_handle(env: Env) -> None:
    call_id = env.create_call()
    env.receiver.wait_types("answer")
    with client_of(env) as client:
        log = list(client.calls.events(call_id))
        assert len(log) >= 2  # create and answer at least
        for entry in log:
            assert client.calls.get_event(call_id, entry.id) == entry
            assert client.calls.bind(call_id).get_event(entry.id) == entry

    async def awaited() -> None:
        async with AsyncClient(USER, TOKEN, SECRET, base_url=env.url) as client:
            assert await client.calls.bind(call_id).get_event(log[-1].id) == log[-1]
            assert await client.calls.get_event(call_id, log[0].id) == log[0]

    anyio.run(awaited)
    missing = env.client.get(f"{env.calls}/{call_id}/events/ce-nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "resource-not-found")


def test_speech_stops_with_an_empty_sentence_as_well_as_an_empty_file_url(env: Env) -> None:
    call_id = env.create_call()
    env.receiver.wait_types("answer")
    with client_of(env) as client:
        call = client.calls.bind(call_id)
        call.speak("A long welcome. " * 20, tag="welcome")
        call.stop_speaking()
        call.play("https://audio.example/hold.mp3", tag="hold")
        call.stop_audio()
    events = env.receiver.wait_types("answer", "speak", "speak", "playback", "playback")
    assert [(e["status"], e["tag"]) for e in events[1:]] == [
        ("started", "welcome"),
        ("done", "welcome"),
        ("started", "hold"),
        ("done", "hold"),
    ]
    assert {e["time"] for e in events} == {events[0]["time"]}  # stopped at once, not played out


def test_list_filters_by_start_time_in_client_and_simulator(env: Env) -> None:
    ids = []
    for _ in range(4):
        ids.append(env.create_call())
        env.advance(10)
    with client_of(env) as client:
        starts = {call_id: client.calls.get(call_id).start_time for call_id in ids}
        first, second, third, _ = (starts[call_id] for call_id in ids)
        assert first is not None and second is not None and third is not None
        between = client.calls.list(from_date_time=second, to_date_time=third, sort_order="asc")
        assert [call.id for call in between] == ids[1:3]
        since = client.calls.list(from_date_time=second + timedelta(milliseconds=1))
        assert [call.id for call in since] == list(reversed(ids[2:]))
        assert [call.id for call in client.calls.list(to_date_time=first)] == ids[:1]
    # a time that is not ISO-8601 is a 400 naming the parameter, never ignored
    response = env.client.get(env.calls, params={"fromDateTime": "yesterday"})
    assert response.status_code == 400
    assert response.json()["details"][0]["name"] == "fromDateTime"
    with client_of(env) as client, pytest.raises(ValueError, match="to_date_time"):
        client.calls.list(to_date_time="soon")  # type: ignore[arg-type]


def test_an_inbound_call_gets_its_signed_context_from_update(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    hooks = CallHooks(secret=secrets.token_urlsafe(24))
    contexts: list[dict[str, Any]] = []

    @hooks.on("incomingcall")
    async def ringing(event: events.IncomingCallEvent, call: AsyncCallHandle) -> None:
        contexts.append(event.context)
        await call.update(state="active", context={"menu": "main", "caller": event.from_})

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        contexts.append(event.context)
        await call.hangup()

    with session.receiver(hooks):
        body = {"from": CALLEE, "to": "+19195550100", "callbackUrl": hooks.callback_url(), "autoAnswer": False}
        auth = (session.api_token, session.api_secret)
        response = httpx.post(f"{session.url}/_sim/inbound", json=body, auth=auth, timeout=10)
        assert response.status_code == 201, response.text
        call = session.wait_until_ended(response.json()["callId"])
    assert contexts == [{}, {"menu": "main", "caller": CALLEE}]
    assert call.state == "completed"
    assert hooks.verify_callback_url(call.callback_url or "") == {"menu": "main", "caller": CALLEE}
