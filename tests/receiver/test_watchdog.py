"""The receiver's watchdog (one loop timer for every callback's rare alarms), the body read that needs no
deadline when the body is already there, and a long admitted run keeping its lease through the watchdog."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message

from callhooks import CallHooks, events
from callhooks.identity import event_identity
from callhooks.receiver.guarantees import Delivery
from callhooks.receiver.watchdog import Watchdog
from callhooks.stores.memory import MemoryStore
from callhooks.testing.factories import answer_event
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

SECRET = "watchdog-secret"


async def test_an_alarm_rings_once_when_due_and_a_cancelled_one_never() -> None:
    watchdog = Watchdog()
    rang: list[str] = []
    kept = watchdog.arm(0.01, rang.append, "kept")
    dropped = watchdog.arm(0.01, rang.append, "dropped")
    dropped.cancel()
    dropped.cancel()  # twice is harmless

    async def rung() -> bool:
        return rang == ["kept"]

    await eventually(rung)
    assert len(watchdog) == 0  # a one-shot alarm (its function returned None) is disarmed
    kept.cancel()


async def test_a_repeating_alarm_rings_until_cancelled() -> None:
    watchdog = Watchdog()
    rings: list[float] = []

    def again() -> float:
        rings.append(asyncio.get_running_loop().time())
        return 0.01

    alarm = watchdog.arm(0.01, again)

    async def three() -> bool:
        return len(rings) >= 3

    await eventually(three)
    alarm.cancel()
    seen = len(rings)
    later = watchdog.arm(0.05, rings.append, -1.0)  # a later alarm: the timer runs on, the cancelled one is gone

    async def later_rang() -> bool:
        return rings[-1] == -1.0

    await eventually(later_rang)
    assert len(rings) == seen + 1
    later.cancel()


async def test_alarms_armed_in_the_order_they_fall_due_share_one_timer() -> None:
    watchdog = Watchdog()
    alarms = [watchdog.arm(10.0, print) for _ in range(100)]
    timers = {id(watchdog._timer)}
    alarms += [watchdog.arm(10.0, print) for _ in range(100)]
    timers.add(id(watchdog._timer))
    assert len(timers) == 1  # armed once: each later alarm falls due after the timer
    sooner = watchdog.arm(1.0, print)
    assert id(watchdog._timer) not in timers  # one due sooner moves the timer
    for alarm in [*alarms, sooner]:
        alarm.cancel()
    assert len(watchdog) == 0


async def test_a_failing_alarm_is_logged_and_the_others_still_ring(caplog: pytest.LogCaptureFixture) -> None:
    watchdog = Watchdog()
    rang: list[str] = []

    def broken() -> None:
        raise RuntimeError("alarm broke")

    watchdog.arm(0.01, broken)
    watchdog.arm(0.01, rang.append, "after")

    async def rung() -> bool:
        return rang == ["after"]

    await eventually(rung)
    assert any("alarm" in record.getMessage() and record.exc_info for record in caplog.records)
    assert len(watchdog) == 0


def test_a_watchdog_used_on_a_new_loop_starts_over_there() -> None:
    watchdog = Watchdog()
    rang: list[int] = []

    async def arm_and_wait(n: int) -> None:
        watchdog.arm(0.01, rang.append, n)

        async def rung() -> bool:
            return n in rang

        await eventually(rung)

    asyncio.run(arm_and_wait(1))
    asyncio.run(arm_and_wait(2))  # the first loop is closed: its timer must not be what rings here
    assert rang == [1, 2]


# -- the body read ----------------------------------------------------------------------------------------------


def _receiver() -> tuple[CallHooks, list[events.CallEvent], str]:
    hooks = CallHooks(secret=SECRET, store=None)
    seen: list[events.CallEvent] = []

    @hooks.on()
    async def record(event: events.CallEvent) -> None:
        seen.append(event)

    assert hooks.signer is not None
    return hooks, seen, hooks.signer.sign(None)


async def _post(hooks: CallHooks, token: str, receive: Any) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/{token}",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    await hooks(scope, receive, send)
    return sent


BODY = answer_event(call_id="c-body").model_dump_json(by_alias=True, exclude_none=True).encode()


async def test_a_body_that_is_still_on_its_way_is_awaited_where_receive_waited() -> None:
    hooks, seen, token = _receiver()
    arrived = asyncio.Event()
    chunks = [BODY[:20], BODY[20:]]

    async def receive() -> Message:
        await arrived.wait()  # suspends: the receiver must go on from here, under its deadline
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    posting = asyncio.ensure_future(_post(hooks, token, receive))
    await asyncio.sleep(0)
    assert not posting.done()
    arrived.set()
    sent = await asyncio.wait_for(posting, 10)
    assert sent[0]["status"] == 200
    assert [event.call_id for event in seen] == ["c-body"]


async def test_a_receive_that_is_no_coroutine_is_awaited_too() -> None:
    hooks, seen, token = _receiver()

    def receive() -> asyncio.Future[Message]:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        future.set_result({"type": "http.request", "body": BODY, "more_body": False})
        return future

    sent = await _post(hooks, token, receive)
    assert sent[0]["status"] == 200 and len(seen) == 1


async def test_a_body_already_there_but_too_large_is_413() -> None:
    hooks, seen, token = _receiver()

    async def receive() -> Message:
        return {"type": "http.request", "body": b" " * (hooks.reader.body_limit + 1), "more_body": False}

    sent = await _post(hooks, token, receive)
    assert sent[0]["status"] == 413 and seen == []


async def test_a_disconnect_before_the_body_is_400() -> None:
    hooks, seen, token = _receiver()

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    sent = await _post(hooks, token, receive)
    assert sent[0]["status"] == 400 and b"client-disconnected" in sent[1]["body"] and seen == []


# -- the lease of a long admitted run -----------------------------------------------------------------------------


async def test_a_long_admitted_run_keeps_renewing_its_claim_until_it_ends() -> None:
    store = MemoryStore()

    async def opener() -> MemoryStore:
        return store

    delivery = Delivery(opener, wait=5.0, lease=0.3)  # renewed every 0.1 s through the watchdog
    event = answer_event(call_id="c-long")
    identity = event_identity(event)

    async def run() -> None:
        record = await store.record(identity)
        assert record is not None and record.state == "running"
        first = record.lease_until

        async def renewed_twice() -> bool:
            now = await store.record(identity)
            return now is not None and now.lease_until > first + 0.15

        await eventually(renewed_twice)

    delivered = await delivery.deliver(event, None, run)
    assert delivered.ran
    done = await store.record(identity)
    assert done is not None and done.state == "done"
    assert len(delivery._watchdog) == 0  # the run's alarm was cancelled with it
    assert not (await delivery.deliver(event, None, run)).ran  # and it counts as delivered once
