"""A whole callback in two trips (``Store.admit``/``settle``): the same outcomes as the steps one by one, on every
backend, on the same records the steps read and write (so admitted runs and step-by-step ones can meet)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from callhooks.stores import Admission, Limits, SessionValueError, Store
from callhooks.testing.redis_server import RedisServer
from tests.stores.support import eventually, opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _admission(identity: str = "e1", **fields: object) -> Admission:
    values: dict[str, object] = {"owner": "w1", "lease": 30.0, "call_key": "call:c1", **fields}
    return Admission(identity, **values)  # type: ignore[arg-type]


async def test_an_admitted_event_is_claimed_holds_the_turn_and_settles_with_its_session(store: Store) -> None:
    await store.save_session("call:c1", {"step": 1})
    admitted = await store.admit(_admission())
    assert (admitted.verdict, admitted.attempt, admitted.session) == ("run", 1, {"step": 1})
    assert (await store.record("e1")).state == "running"  # type: ignore[union-attr]
    # Someone else arriving for the call now waits its turn (slow), and the same event is another worker's.
    assert (await store.admit(_admission("e2"))).verdict == "slow"
    assert (await store.admit(_admission(owner="w2"))).verdict == "slow"
    assert await store.turn("call:c1", admitted.ticket, 30.0) == "yes"
    await store.settle(_admission(), admitted.ticket, ok=True, session={"step": 2})
    assert (await store.record("e1")).state == "done"  # type: ignore[union-attr]
    assert await store.load_session("call:c1") == {"step": 2}
    assert (await store.admit(_admission())).verdict == "duplicate"
    assert (await store.admit(_admission("e2"))).verdict == "run"  # the queue is free again


async def test_a_failed_run_is_admitted_again_and_a_bad_session_writes_nothing(store: Store) -> None:
    admitted = await store.admit(_admission())
    with pytest.raises(SessionValueError):
        await store.settle(_admission(), admitted.ticket, ok=True, session={"bad": object()})
    assert (await store.record("e1")).state == "running"  # type: ignore[union-attr]
    await store.settle(_admission(), admitted.ticket, ok=False, error="boom")
    failed = await store.record("e1")
    assert failed is not None and (failed.state, failed.error) == ("failed", "boom")
    again = await store.admit(_admission())
    assert (again.verdict, again.attempt) == ("run", 2)


async def test_a_session_over_the_size_limit_is_refused_before_anything_is_written(url: str) -> None:
    store = await opened(url, Limits(session_max_bytes=100))
    try:
        admitted = await store.admit(_admission())
        with pytest.raises(SessionValueError, match=r"'notes'.*100 bytes"):
            await store.settle(_admission(), admitted.ticket, ok=True, session={"notes": "x" * 200})
        assert (await store.record("e1")).state == "running"  # type: ignore[union-attr]
        assert await store.turn("call:c1", admitted.ticket, 30.0) == "yes"  # still holds its ticket
    finally:
        await store.close()


async def test_a_bound_token_admits_its_own_call_only(store: Store) -> None:
    mine = _admission(token="tok", call_id="c1")
    assert (await store.admit(mine)).verdict == "run"
    other = _admission("e9", token="tok", call_id="c2", call_key="call:c2")
    assert (await store.admit(other)).verdict == "forbidden"
    assert await store.record("e9") is None  # a forbidden event claims nothing
    # The binding admit made is the one the steps see, and the other way round.
    assert await store.bind_token("tok", "c1") and not await store.bind_token("tok", "c2")
    assert await store.bind_token("tok2", "c2")
    assert (await store.admit(_admission("e3", token="tok2", call_id="c1"))).verdict == "forbidden"


async def test_an_event_without_a_call_takes_no_ticket_and_has_no_session(store: Store) -> None:
    admitted = await store.admit(_admission(call_key=None))
    assert (admitted.verdict, admitted.ticket, admitted.session) == ("run", 0, {})
    await store.settle(_admission(call_key=None), 0, ok=True)
    assert (await store.record("e1")).state == "done"  # type: ignore[union-attr]
    # Its token is still bound when it names a call.
    assert (await store.admit(_admission("e2", call_key=None, token="tok", call_id="c1"))).verdict == "run"
    assert (await store.admit(_admission("e3", call_key=None, token="tok", call_id="c2"))).verdict == "forbidden"


async def test_an_event_of_no_call_on_a_bound_token_is_admitted(store: Store) -> None:
    # A transcription arrives on its call's bound URL without a call id: binding does not apply, as in the steps.
    await store.bind_token("tok", "c1")
    admitted = await store.admit(_admission(call_key=None, token="tok", call_id=None))
    assert admitted.verdict == "run"


# -- admit/settle and the steps on the same records ---------------------------------------------------------------


async def test_an_admitted_record_is_the_one_the_steps_read_renew_and_finish(store: Store) -> None:
    admitted = await store.admit(_admission())
    record = await store.record("e1")
    assert record is not None and (record.state, record.owner, record.attempts) == ("running", "w1", 1)
    assert (await store.claim("e1", "w2", 30.0)).status == "running"
    assert await store.renew("e1", "w1", 30.0) and not await store.renew("e1", "w2", 30.0)
    await store.settle(_admission(owner="w2"), admitted.ticket, ok=True)  # not the owner: the record stays
    assert (await store.record("e1")).state == "running"  # type: ignore[union-attr]
    assert await store.finish("e1", "w1", ok=True)
    assert (await store.claim("e1", "w2", 30.0)).status == "duplicate"


async def test_a_claim_taken_step_by_step_makes_admit_wait_then_answer_its_outcome(store: Store) -> None:
    assert (await store.claim("e1", "w2", 30.0)).status == "acquired"
    assert (await store.admit(_admission(call_key=None))).verdict == "slow"
    await store.finish("e1", "w2", ok=False, error="boom")
    again = await store.admit(_admission(call_key=None))
    assert (again.verdict, again.attempt) == ("run", 2)
    await store.settle(_admission(call_key=None), 0, ok=True)
    assert (await store.admit(_admission(call_key=None))).verdict == "duplicate"


async def test_a_ticket_taken_step_by_step_makes_admit_wait_for_the_turn(store: Store) -> None:
    ahead = await store.enter("call:c1", 30.0)
    assert (await store.admit(_admission())).verdict == "slow"
    assert await store.record("e1") is None  # waiting for the turn claims nothing
    await store.leave("call:c1", ahead)
    admitted = await store.admit(_admission())
    assert (admitted.verdict, admitted.ticket) == ("run", 0)  # the queue was removed: a fresh one
    behind = await store.enter("call:c1", 30.0)
    assert behind == admitted.ticket + 1
    assert await store.turn("call:c1", behind, 30.0) == "wait"
    await store.settle(_admission(), admitted.ticket, ok=True)
    assert await store.turn("call:c1", behind, 30.0) == "yes"
    await store.leave("call:c1", behind)
    assert await store.enter("call:c1", 30.0) == 0  # nobody waits: settle and leave left nothing behind


async def test_settle_saves_the_session_the_steps_load_and_ends_it_with_the_call(store: Store) -> None:
    first = await store.admit(_admission())
    await store.settle(_admission(), first.ticket, ok=True, session={"step": "menu"})
    assert await store.load_session("call:c1") == {"step": "menu"}
    await store.save_session("call:c1", {"step": "saved by a step"})
    second = await store.admit(_admission("e2"))
    assert second.session == {"step": "saved by a step"}
    await store.settle(_admission("e2"), second.ticket, ok=True, session_ends=0.2)  # ends it, unchanged
    assert await store.load_session("call:c1") == {"step": "saved by a step"}

    async def gone() -> bool:
        return await store.load_session("call:c1") == {}

    await eventually(gone)
    third = await store.admit(_admission("e3"))
    await store.settle(_admission("e3"), third.ticket, ok=True, session={"step": "last"}, session_ends=0.2)
    assert await store.load_session("call:c1") == {"step": "last"}
    await eventually(gone)


# -- atomicity: several workers admitting at once -----------------------------------------------------------------


@pytest.fixture
async def workers(shared_url: str) -> AsyncIterator[list[Store]]:
    """Four stores open on one shared database, as four workers would have (each with its own connections)."""
    opened_stores = [await opened(shared_url) for _ in range(4)]
    yield opened_stores
    for worker in opened_stores:
        await worker.close()


@pytest.mark.parametrize("call_key", ["call:c1", None])
async def test_concurrent_admits_of_one_event_run_it_once(workers: list[Store], call_key: str | None) -> None:
    admissions = [_admission(call_key=call_key, owner=f"w{i % 4}") for i in range(40)]
    answers = await asyncio.gather(*(workers[i % 4].admit(a) for i, a in enumerate(admissions)))
    assert [a.verdict for a in answers].count("run") == 1
    assert {a.verdict for a in answers} == {"run", "slow"}
    record = await workers[0].record("e1")
    assert record is not None and record.attempts == 1


async def test_concurrent_admits_of_one_call_give_the_turn_to_one(workers: list[Store]) -> None:
    answers = await asyncio.gather(*(workers[i % 4].admit(_admission(f"e{i}")) for i in range(40)))
    ran = [a for a in answers if a.verdict == "run"]
    assert len(ran) == 1 and ran[0].ticket == 0
    records = [await workers[0].record(f"e{i}") for i in range(40)]
    assert sum(record is not None for record in records) == 1  # the others wait, claiming nothing


# -- Redis: one script each, which comes back after the server forgot it -----------------------------------------


async def test_redis_admits_and_settles_in_one_command_each(redis_server: RedisServer) -> None:
    redis_server.flush()
    store = await opened(redis_server.url)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        warm = await store.admit(_admission("warm", token="tok", call_id="c1"))  # loads the scripts once
        await store.settle(_admission("warm"), warm.ticket, ok=True, session={"step": 0})
        before = await raw.info("commandstats")
        for n in range(5):
            admitted = await store.admit(_admission(f"e{n}", token="tok", call_id="c1"))
            await store.settle(_admission(f"e{n}"), admitted.ticket, ok=True, session={"step": n}, session_ends=60)
        after = await raw.info("commandstats")
        calls = {name: after[name]["calls"] - before.get(name, {"calls": 0})["calls"] for name in after}
        # Ten round trips from the client (commandstats also counts the commands the scripts ran inside).
        assert calls["cmdstat_evalsha"] == 10 and calls["cmdstat_hincrby"] == 5
        assert await store.load_session("call:c1") == {"step": 4}
    finally:
        await raw.aclose()
        await store.close()


async def test_redis_admits_and_settles_after_its_scripts_were_flushed(redis_server: RedisServer) -> None:
    redis_server.flush()
    store = await opened(redis_server.url)
    admin = aioredis.Redis.from_url(redis_server.url)
    try:
        assert (await store.admit(_admission())).verdict == "run"
        await admin.script_flush()
        await store.settle(_admission(), 0, ok=True, session={"step": 2})
        await admin.script_flush()
        assert (await store.admit(_admission())).verdict == "duplicate"
        assert await store.load_session("call:c1") == {"step": 2}
    finally:
        await admin.aclose()
        await store.close()


async def test_a_session_ended_with_no_delay_is_gone_for_the_very_next_event(store: Store) -> None:
    # session_end=0 means "remove it when the call completes": the next event of the call, however soon it comes
    # (here in the same millisecond), starts with an empty session. Redis once set a 1 ms PEXPIRE instead.
    first = await store.admit(_admission())
    await store.settle(_admission(), first.ticket, ok=True, session={"step": "menu"})
    second = await store.admit(_admission("e2"))
    assert second.session == {"step": "menu"}
    await store.settle(_admission("e2"), second.ticket, ok=True, session_ends=0)  # the hangup, session unchanged
    third = await store.admit(_admission("e3"))
    assert third.session == {}
    assert await store.load_session("call:c1") == {}
    await store.settle(_admission("e3"), third.ticket, ok=True, session={"late": True}, session_ends=0)
    assert await store.load_session("call:c1") == {}  # a changed session of a completed call is not kept either
    await store.save_session("call:c1", {"step": "again"})
    await store.end_session("call:c1", after=0)  # the step-by-step path's end
    assert await store.load_session("call:c1") == {}
