"""Holding the simulated clock while a callback waits for its answer (``hold_clock``, the test kit's default): a
receiver slowed by a busy machine still acts at its event's simulated instant."""

from __future__ import annotations

import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhooks.simulator import FarEnd, Simulator
from callhooks.simulator.clock import SimClock
from callhooks.testing import serve, wait_until
from tests.simulator.receiver import CALLEE, CALLER, SECRET, TOKEN, USER

pytestmark = pytest.mark.timeout(60)


def test_a_held_clock_stands_still_and_resumes_where_it_stopped() -> None:
    clock = SimClock(speed=1000)
    clock.hold()
    clock.hold()  # holds nest
    before = clock._real_target()
    time.sleep(0.02)  # 20 simulated seconds, were the clock not held
    assert clock._real_target() == before and clock.held
    clock.release()
    assert clock._real_target() == before  # one hold is still on
    clock.release()
    assert not clock.held and clock._real_target() >= before  # resumes from there, not 20 s later
    with pytest.raises(RuntimeError, match="without a hold"):
        clock.release()
    manual = SimClock(speed=None)
    manual.hold()  # a manual clock stands still anyway
    manual.release()
    assert not manual.held


def slow_speaker(simulator_url: list[str], outcomes: list[int]) -> Starlette:
    """On answer: take a real second (a busy machine), then ask the platform to speak, then answer 200."""

    async def callback(request: Request) -> Response:
        event = await request.json()
        if event["eventType"] == "answer":
            time.sleep(1.0)  # blocking on purpose: the receiver is slow, whatever the reason
            async with httpx.AsyncClient(base_url=simulator_url[0], auth=(TOKEN, SECRET), timeout=30) as client:
                spoken = await client.post(
                    f"/v1/users/{USER}/calls/{event['callId']}/audio", json={"sentence": "Hello there"}
                )
            outcomes.append(spoken.status_code)
        return Response(b"")

    return Starlette(routes=[Route("/cb", callback, methods=["POST"])])


@pytest.mark.parametrize("hold_clock", [True, False])
def test_a_slow_receiver_acts_at_its_events_instant_when_the_clock_is_held(hold_clock: bool) -> None:
    # At speed 100 the far end leaves 0.3 real seconds after answering: a receiver taking a second to act on
    # the answer speaks into an ended call, unless the clock waits for its answer.
    simulator_url: list[str] = []
    outcomes: list[int] = []
    simulator = Simulator(
        user_id=USER, api_token=TOKEN, api_secret=SECRET, speed=100, hold_clock=hold_clock,
        numbers={CALLEE: FarEnd(hangup_after=30)},
    )  # fmt: skip
    with serve(slow_speaker(simulator_url, outcomes)) as receiver, serve(simulator) as platform:
        simulator_url.append(platform.url)
        with httpx.Client(base_url=platform.url, auth=(TOKEN, SECRET), timeout=30) as client:
            created = client.post(
                f"/v1/users/{USER}/calls", json={"from": CALLER, "to": CALLEE, "callbackUrl": receiver.url + "/cb"}
            )
            assert created.status_code == 201
            call_id = created.headers["location"].rsplit("/", 1)[-1]
            wait_until(lambda: outcomes, what="the receiver's speak request")
            wait_until(
                lambda: client.get(f"/v1/users/{USER}/calls/{call_id}").json()["state"] == "completed",
                what="the call to end",
            )
    if hold_clock:
        assert outcomes == [200]  # spoken at the answer's instant, 30 simulated seconds before the far end left
    else:
        assert outcomes == [403]  # the far end had hung up while the receiver took its real second
