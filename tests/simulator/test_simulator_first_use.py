"""Issue 8's simulator bugs and structure: inherited scenario settings (8), a clock that never dies (12),
paged ``/errors`` and ``/errors/{id}`` (13), and one implementation of placing an inbound call."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import pytest

from callhooks.simulator import FarEnd, SimClock, load_scenario
from callhooks.testing import running_simulator
from callhooks.testing.server import serve
from tests.simulator.receiver import CALLEE, CALLER, USER, Receiver, running

# ------------------------------------------------------------------------------ bug 8: scenario inheritance


def test_scenario_entries_inherit_every_field_they_do_not_set(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps({"default": {"answer_after": 1, "hangup_after": 90}, "numbers": {CALLEE: {"digits": "1"}}})
    )
    far_end = load_scenario(path).behaviours.for_number(CALLEE)
    assert (far_end.answer_after, far_end.hangup_after, far_end.digits) == (1, 90, ("1",))


def test_control_api_numbers_inherit_the_current_default() -> None:
    with running() as env:
        env.client.post("/_sim/behaviours", json={"default": {"answer_after": 2, "hangup_after": 30}})
        script = env.client.post("/_sim/behaviours", json={"numbers": {CALLEE: {"outcome": "busy"}}}).json()
        assert script["numbers"][CALLEE] | {"digits": None} == script["default"] | {"outcome": "busy", "digits": None}
        assert env.sim.behaviours.for_number(CALLEE) == FarEnd(outcome="busy", answer_after=2, hangup_after=30)


# ------------------------------------------------------------------------------ bug 12: the clock never dies


def test_a_failing_timer_is_logged_and_later_timers_still_fire(caplog: pytest.LogCaptureFixture) -> None:
    clock = SimClock(speed=None)
    fired: list[str] = []

    def broken() -> None:
        raise IndexError("pop from an empty deque")

    clock.schedule(1, broken)
    clock.schedule(2, lambda: fired.append("after"))
    with caplog.at_level(logging.ERROR, logger="callhooks.simulator"):
        anyio.run(clock.advance, 3)
    assert fired == ["after"]
    assert [type(e) for e in clock.errors] == [IndexError]
    assert "the simulation goes on" in caplog.text


@pytest.mark.anyio
async def test_the_speed_driver_survives_a_failing_timer() -> None:
    clock = SimClock(speed=1000)
    fired = anyio.Event()
    clock.schedule(0.5, lambda: 1 / 0)
    clock.schedule(1.0, fired.set)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(clock.run)
        with anyio.fail_after(5):
            await fired.wait()
        tasks.cancel_scope.cancel()
    assert [type(e) for e in clock.errors] == [ZeroDivisionError]


def test_a_far_end_that_presses_nothing_lets_the_gather_time_out_at_speed() -> None:
    # digits "" is the documented "a gather where nothing is pressed"; it used to raise IndexError in the
    # clock driver, which then died silently and no further event fired.
    with running(speed=100, numbers={CALLEE: FarEnd(digits=["", "7"], hangup_after=None)}) as env:
        call_id = env.create_call()
        env.receiver.wait_types("answer")
        gather = f"{env.calls}/{call_id}/gather"
        assert env.client.post(gather, json={"maxDigits": 1, "interDigitTimeout": 1}).status_code == 201
        first = env.receiver.wait_types("answer", "gather")[-1]
        assert (first["reason"], first["digits"]) == ("inter-digit-timeout", "")
        assert env.client.post(gather, json={"maxDigits": 1}).status_code == 201  # the next turn presses 7
        second = env.receiver.wait_types("answer", "gather", "dtmf", "gather")[-1]
        assert (second["reason"], second["digits"]) == ("max-digits", "7")
        assert env.sim.errors == []


def test_the_test_kit_surfaces_a_simulator_error_to_the_test() -> None:
    with pytest.raises(AssertionError, match="ZeroDivisionError"), running_simulator() as session:
        session.simulator.clock.schedule(0, lambda: 1 / 0)
        session.wait_for(lambda: False, timeout=5, what="something that never happens")


# ------------------------------------------------------------------------------ bug 13: /errors paging


def test_errors_list_is_paged_with_link_and_each_error_readable() -> None:
    with running() as env:
        for _ in range(3):  # no callbackUrl: one no-callback-for-call failure per answer event
            env.client.post(env.calls, json={"from": CALLER, "to": CALLEE})
        env.advance(0)
        errors = f"/v1/users/{USER}/errors"
        everything = env.client.get(errors).json()
        assert len(everything) == 3
        first = env.client.get(errors, params={"page": 0, "size": 2})
        assert first.json() == everything[:2]
        assert 'rel="first"' in first.headers["link"] and 'rel="next"' in first.headers["link"]
        next_url = first.headers["link"].split("<")[2].split(">")[0]
        last = env.client.get(next_url)
        assert last.json() == everything[2:]
        assert 'rel="next"' not in last.headers["link"]
        assert env.client.get(errors, params={"size": 0}).status_code == 400
        one = env.client.get(f"{errors}/{everything[1]['id']}")
        assert one.status_code == 200 and one.json() == everything[1]
        missing = env.client.get(f"{errors}/ue-nope")
        assert (missing.status_code, missing.json()["code"]) == (404, "resource-not-found")


# ------------------------------------------------------------------------------ one way to place inbound calls


def test_python_and_http_inbound_calls_take_the_same_options() -> None:
    fallback = "/fallback"
    with running() as env:
        env.receiver.answers["/down"] = (500, 0.0)
        body = {"from": CALLEE, "to": CALLER, "callbackUrl": env.receiver_url + "/down"}
        over_http = env.client.post("/_sim/inbound", json={**body, "fallbackUrl": env.receiver_url + fallback})
        assert over_http.status_code == 201

        async def from_python() -> str:
            return await env.sim.place_inbound(
                CALLEE, CALLER, callback_url=env.receiver_url + "/down", fallback_url=env.receiver_url + fallback
            )

        by_python = anyio.run(from_python)
        env.settle()
        for call_id in (over_http.json()["callId"], by_python):
            assert [s.outcome for s in env.sim.sent if s.call_id == call_id] == ["fallback", "fallback"]


def test_python_inbound_without_any_url_is_refused_like_http() -> None:
    with running() as env:
        with pytest.raises(Exception, match="incomingCallUrl"):
            anyio.run(lambda: env.sim.place_inbound(CALLEE, CALLER))
        assert env.client.post("/_sim/inbound", json={"from": CALLEE, "to": CALLER}).status_code == 400


def test_session_places_inbound_calls_synchronously() -> None:
    receiver = Receiver()
    with serve(receiver.app) as rx, running_simulator(far_end=FarEnd(hangup_after=1)) as session:
        call_id = session.place_inbound(CALLEE, CALLER, callback_url=rx.url + "/in")
        session.wait_until_ended(call_id)
        assert [e["eventType"] for e in receiver.events("/in")] == ["incomingcall", "answer", "hangup"]
