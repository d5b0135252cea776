"""The store interface's behaviour, the same on memory://, sqlite:/// (real files) and redis:// (a real server)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from callhooks.stores import (
    Admission,
    Limits,
    RetryPolicy,
    SessionValueError,
    Store,
    StoreUnavailable,
    TurnTimeout,
    call_turn,
    process_due_items,
    records,
    run_once,
)
from callhooks.stores.memory import MemoryStore
from tests.stores.support import Counting, eventually, opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


# -- exactly once --------------------------------------------------------------------------------------------


async def test_many_tasks_claiming_one_event_run_it_once_and_the_rest_are_duplicates(store: Store) -> None:
    counting = Counting(store)
    gate = asyncio.Event()
    runs = 0

    async def work() -> str:
        nonlocal runs
        runs += 1
        await gate.wait()  # hold the event until every other delivery has found it running
        return "handled"

    tasks = [
        asyncio.create_task(run_once(counting, "event-1", work, owner=f"w{i}", wait=30))  # type: ignore[arg-type]
        for i in range(40)
    ]

    async def all_reached_the_store() -> bool:
        return counting.calls.get("claim", 0) >= 40

    await eventually(all_reached_the_store)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert runs == 1
    assert [r.value for r in results if r.ran] == ["handled"]
    assert sum(not r.ran for r in results) == 39
    record = await store.record("event-1")
    assert record is not None and record.state == "done" and record.attempts == 1


async def test_a_waiting_delivery_runs_the_event_when_the_first_one_fails(store: Store) -> None:
    counting = Counting(store)
    gate = asyncio.Event()
    runs: list[str] = []

    async def failing() -> None:
        runs.append("first")
        await gate.wait()
        raise RuntimeError("handler broke")

    async def working() -> str:
        runs.append("second")
        return "ok"

    first = asyncio.create_task(run_once(counting, "event-2", failing, owner="a"))  # type: ignore[arg-type]
    await eventually(lambda: _at_least(counting, "claim", 1))
    second = asyncio.create_task(run_once(counting, "event-2", working, owner="b"))  # type: ignore[arg-type]
    await eventually(lambda: _at_least(counting, "claim", 2))
    gate.set()
    with pytest.raises(RuntimeError, match="handler broke"):
        await first
    outcome = await second
    assert runs == ["first", "second"]
    assert outcome.ran and outcome.value == "ok" and outcome.attempt == 2
    assert (await run_once(store, "event-2", working, owner="c")).ran is False


async def _at_least(counting: Counting, name: str, count: int) -> bool:
    return counting.calls.get(name, 0) >= count


async def test_an_abandoned_claim_can_be_taken_once_its_lease_expires(store: Store) -> None:
    assert (await store.claim("event-3", "dead-worker", lease=0.2)).status == "acquired"
    assert (await store.claim("event-3", "other", lease=5)).status == "running"

    async def taken_over() -> bool:
        return (await store.claim("event-3", "other", lease=5)).status == "acquired"

    await eventually(taken_over)
    record = await store.record("event-3")
    assert record is not None and (record.owner, record.attempts) == ("other", 2)
    # The dead worker, coming back, no longer owns it and cannot overwrite the outcome.
    assert await store.finish("event-3", "dead-worker", ok=True) is False
    assert await store.renew("event-3", "dead-worker", lease=5) is False
    assert await store.finish("event-3", "other", ok=True) is True
    assert (await store.claim("event-3", "third", lease=5)).status == "duplicate"


async def test_a_failed_event_may_run_again_and_keeps_its_error(store: Store) -> None:
    await store.claim("event-4", "a", lease=5)
    assert await store.finish("event-4", "a", ok=False, error="boom")
    record = await store.record("event-4")
    assert record is not None and (record.state, record.error) == ("failed", "boom")
    claim = await store.claim("event-4", "b", lease=5)
    assert (claim.status, claim.attempt) == ("acquired", 2)


async def test_waiting_for_an_event_that_never_finishes_times_out(store: Store) -> None:
    await store.claim("event-5", "slow", lease=30)

    async def never() -> None:
        raise AssertionError("must not run")

    with pytest.raises(TurnTimeout):
        await run_once(store, "event-5", never, owner="b", wait=0.2)


# -- per-call order --------------------------------------------------------------------------------------------


async def test_a_calls_events_are_served_one_at_a_time_in_arrival_order(store: Store) -> None:
    counting = Counting(store)
    release_holder = asyncio.Event()
    served: list[int] = []
    inside = 0

    async def arrival(number: int, hold: asyncio.Event | None = None) -> None:
        nonlocal inside
        async with call_turn(counting, "call:c-1", timeout=30):  # type: ignore[arg-type]
            inside += 1
            assert inside == 1, "two events of one call ran at once"
            served.append(number)
            if hold is not None:
                await hold.wait()
            await asyncio.sleep(0)  # let the others poll while this one holds the turn
            inside -= 1

    tasks = [asyncio.create_task(arrival(0, release_holder))]
    await eventually(lambda: _served(served, 1))
    for number in range(1, 12):  # each arrives (takes its ticket) before the next one starts
        tasks.append(asyncio.create_task(arrival(number)))
        await eventually(lambda n=number: _at_least(counting, "enter", n + 1))  # type: ignore[misc]
    release_holder.set()
    await asyncio.gather(*tasks)
    assert served == list(range(12))


async def _served(served: list[int], count: int) -> bool:
    return len(served) >= count


async def test_different_calls_do_not_wait_for_each_other(store: Store) -> None:
    held = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with call_turn(store, "call:busy"):
            held.set()
            await release.wait()

    task = asyncio.create_task(holder())
    await held.wait()
    async with call_turn(store, "call:other", timeout=30) as ticket:  # another call never waits: any deadline
        assert ticket == 0
    with pytest.raises(TurnTimeout):
        async with call_turn(store, "call:busy", timeout=0.2):
            pass
    release.set()
    await task


async def test_a_dead_holders_ticket_is_skipped_when_its_lease_runs_out(store: Store) -> None:
    dead = await store.enter("call:c-2", lease=0.2)  # taken, then never renewed: its worker died
    async with call_turn(store, "call:c-2", lease=5, timeout=10) as ticket:
        assert ticket == dead + 1
    assert await store.turn("call:c-2", dead, lease=5) == "lost"


async def test_a_call_queue_leaves_nothing_behind_once_everyone_left(store: Store) -> None:
    async with call_turn(store, "call:c-3"):
        pass
    assert await store.enter("call:c-3", lease=5) == 0  # a fresh queue: the old one was removed


# -- call sessions ---------------------------------------------------------------------------------------------


async def test_sessions_round_trip_copy_to_a_new_leg_and_expire_after_the_call(store: Store) -> None:
    assert await store.load_session("call:c-4") == {}
    await store.save_session("call:c-4", {"step": "menu", "tries": 2, "seen": ["1", "9"], "who": {"vip": True}})
    loaded = await store.load_session("call:c-4")
    assert loaded == {"step": "menu", "tries": 2, "seen": ["1", "9"], "who": {"vip": True}}
    loaded["step"] = "changed locally"
    assert (await store.load_session("call:c-4"))["step"] == "menu"
    assert await store.copy_session("call:c-4", "call:leg-2") is True
    assert (await store.load_session("call:leg-2"))["tries"] == 2
    assert await store.copy_session("call:none", "call:leg-3") is False
    await store.end_session("call:c-4", after=0.2)

    async def gone() -> bool:
        return await store.load_session("call:c-4") == {}

    await eventually(gone)
    assert (await store.load_session("call:leg-2"))["step"] == "menu"


async def test_a_session_value_that_is_not_json_is_an_error_naming_the_key(store: Store) -> None:
    with pytest.raises(SessionValueError, match="'when'") as caught:
        await store.save_session("call:c-5", {"ok": 1, "when": {1, 2}})
    assert caught.value.key == "when"
    with pytest.raises(SessionValueError, match="'ratio'"):
        await store.save_session("call:c-5", {"ratio": float("nan")})
    assert await store.load_session("call:c-5") == {}


async def test_a_session_larger_than_the_limit_is_refused(url: str) -> None:
    small = await opened(url, Limits(session_max_bytes=100))
    try:
        with pytest.raises(SessionValueError, match=r"'notes'.*100 bytes"):
            await small.save_session("call:c-6", {"a": 1, "notes": "x" * 200})
    finally:
        await small.close()


# -- durable queue and failed events ---------------------------------------------------------------------------


async def test_queue_items_are_claimed_once_acked_by_their_holder_only_and_counted(store: Store) -> None:
    ids = [await store.enqueue({"n": n}) for n in range(3)]
    first = await store.claim_items("w1", lease=30, limit=2)
    second = await store.claim_items("w2", lease=30, limit=5)
    assert [i.payload["n"] for i in first] == [0, 1] and [i.payload["n"] for i in second] == [2]
    assert [i.id for i in first + second] == ids
    assert await store.claim_items("w3", lease=30) == []
    assert await store.ack(first[0].id, "w2") is False  # not its item
    assert await store.ack(first[0].id, "w1") is True
    assert await store.queue_size() == 2


async def test_a_stale_item_is_taken_over_when_its_holders_lease_expires(store: Store) -> None:
    await store.enqueue({"n": 1})
    (item,) = await store.claim_items("dead", lease=0.2)
    assert await store.renew_item(item.id, "dead", lease=0.2) is True
    taken = await eventually(lambda: store.claim_items("alive", lease=30))
    assert [i.payload for i in taken] == [{"n": 1}]
    assert await store.ack(taken[0].id, "dead") is False
    assert await store.ack(taken[0].id, "alive") is True
    assert await store.queue_size() == 0


async def test_failures_are_retried_with_backoff_then_kept_as_failed_events(store: Store) -> None:
    await store.enqueue({"job": "transcribe"})
    await store.enqueue({"job": "fine"})
    handled: list[dict[str, Any]] = []

    async def handle(payload: dict[str, Any]) -> None:
        handled.append(payload)
        if payload["job"] == "transcribe":
            raise ValueError("speech service down")

    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
    assert [policy.delay(n) for n in (1, 2, 3, 9)] == [0.01, 0.02, 0.04, 0.05]

    async def drained() -> bool:
        await process_due_items(store, "w1", handle, policy=policy)
        return await store.queue_size() == 0

    await eventually(drained)
    assert [p["job"] for p in handled].count("transcribe") == 3
    assert [p["job"] for p in handled].count("fine") == 1
    (failed,) = await store.list_failed()
    assert failed.payload == {"job": "transcribe"}
    assert failed.attempts == 3 and "ValueError: speech service down" in failed.error
    assert await store.get_failed(failed.id) == failed

    new_id = await store.replay_failed(failed.id)
    assert new_id is not None and await store.list_failed() == [] and await store.queue_size() == 1
    (again,) = await store.claim_items("w2", lease=30)
    assert (again.payload, again.attempts) == ({"job": "transcribe"}, 0)
    dropped_id = await store.fail_item(again.id, "w2", "given up")
    assert dropped_id is not None
    assert await store.drop_failed(dropped_id) is True
    assert await store.drop_failed(dropped_id) is False
    assert await store.get_failed(dropped_id) is None
    assert await store.replay_failed(dropped_id) is None


async def test_failed_events_are_bounded_oldest_first_and_the_queue_refuses_when_full(url: str) -> None:
    small = await opened(url, Limits(failed_max_items=3, queue_max_items=2))
    try:
        for n in range(5):
            await small.add_failed({"n": n}, "broke", 1)
        assert [f.payload["n"] for f in await small.list_failed()] == [4, 3, 2]
        await small.enqueue({"n": 1})
        await small.enqueue({"n": 2})
        with pytest.raises(StoreUnavailable, match="queue is full"):
            await small.enqueue({"n": 3})
    finally:
        await small.close()


# -- token binding and health ----------------------------------------------------------------------------------


async def test_a_token_is_bound_to_the_first_call_id_it_arrives_with(store: Store) -> None:
    tasks = [store.bind_token("tok-1", f"c-{n}") for n in range(10)]
    bound = await asyncio.gather(*tasks)
    assert sum(bound) == 1  # exactly one call id won, concurrently
    winner = f"c-{bound.index(True)}"
    assert await store.bind_token("tok-1", winner) is True
    assert await store.bind_token("tok-1", "c-other") is False
    assert await store.bind_token("tok-2", "c-other") is True


async def test_health_reports_ok(store: Store) -> None:
    health = await store.health()
    assert (health.ok, health.detail) == (True, "ok")
    assert health.backend == store.backend


async def test_memory_store_keeps_at_most_its_key_limit() -> None:
    small = await opened("memory://", Limits(memory_max_keys=50))
    for n in range(200):
        await small.save_session(f"call:{n}", {"n": n})
    kept = [n for n in range(200) if await small.load_session(f"call:{n}")]
    assert len(kept) <= 50 and 199 in kept


async def test_memory_store_drops_the_soonest_expiring_first_and_sweeps_expired_keys() -> None:
    now = [1000.0]
    small = MemoryStore(Limits(memory_max_keys=10, session_idle_ttl=100.0), clock=lambda: now[0])
    for n in range(10):
        await small.save_session(f"call:{n}", {"n": n})
        await small.end_session(f"call:{n}", 50.0 + n if n % 2 else 500.0)  # odd ones expire first, 1 soonest
    await small.save_session("call:new", {"n": "new"})  # over the cap: the soonest expiring goes
    kept = {n for n in range(10) if await small.load_session(f"call:{n}")}
    assert kept == set(range(10)) - {1} and await small.load_session("call:new") == {"n": "new"}
    await small.save_session("call:newer", {"n": "newer"})  # and the next soonest, one for one
    kept = {n for n in range(10) if await small.load_session(f"call:{n}")}
    assert kept == set(range(10)) - {1, 3} and len(small._keys) == 10
    now[0] += 1000.0  # all of them expired: the next sweep (a write over the cap or a thousand writes) drops them
    for n in range(1100):
        await small.save_session(f"later:{n % 5}", {"n": n})
    assert len(small._keys) == 5  # the bound itself: nothing expired is left behind


async def test_memory_store_spreads_expiry_over_the_writes_and_keeps_its_heap_bounded() -> None:
    # No write pays for a pass over every key: expired keys go a few per written key, and the expiry heap's
    # stale entries (keys rewritten or deleted since) never outnumber the live keys for long.
    now = [1000.0]
    store = MemoryStore(Limits(session_idle_ttl=10.0), clock=lambda: now[0])
    for n in range(5000):
        await store.save_session(f"call:{n}", {"n": n})
    now[0] += 100.0  # all 5,000 expired at once
    await store.save_session("call:next", {"n": "next"})
    assert len(store._keys) >= 5000 - 8  # one write deleted only a few of them
    assert await store.load_session("call:0") == {}  # the others are expired all the same
    for n in range(1000):
        await store.save_session("call:next", {"n": n})  # each a new expiry: a new heap entry, the old stale
        now[0] += 0.001
    assert len(store._keys) == 1  # the expired ones went over those writes
    assert len(store._by_expiry) <= 2 * len(store._keys) + 1024


async def test_memory_store_takes_short_lived_keys_off_its_heap_as_it_goes() -> None:
    # Each callback's queue key lives only while the callback runs, with a 30 s lease that puts its heap entry
    # before every record's. Those entries must not pile up at the front until due: the first write over the
    # cap would go through all of them (or rebuild the heap, a pass over every key: 308 ms at 200,000 keys).
    now = [1000.0]
    store = MemoryStore(Limits(memory_max_keys=1000), clock=lambda: now[0])
    pops: list[int] = []
    rebuilds: list[int] = []
    pop, rebuild = store._pop, store._rebuild
    store._pop = lambda: (pops.append(1), pop())[1]  # type: ignore[method-assign]
    store._rebuild = lambda: (rebuilds.append(1), rebuild())[1]  # type: ignore[method-assign]
    most = 0
    for n in range(5000):
        pops.clear()
        await store.save_session(f"call:{n}", {"n": n})  # a record that stays (a day): one key per call
        ticket = await store.enter(f"call:{n}", 30.0)
        await store.leave(f"call:{n}", ticket)  # the queue key goes; its heap entry stays behind, stale
        most = max(most, len(pops))
        now[0] += 0.001
    assert len(store._keys) == 1000 and not rebuilds
    assert most <= 4  # per callback: its stale entry, and one key out for one in over the cap
    assert len(store._by_expiry) <= len(store._keys) + 2


@pytest.mark.slow  # a million objects through the collector: 20 s on a busy 2-core machine
async def test_memory_store_records_add_nothing_for_the_garbage_collector_to_walk() -> None:
    # Each full collection walks every tracked object: at the key cap, a tracked tuple per key was a 40-80 ms
    # pause of the served receiver. Claimed and finished records of plain values must stay untracked.
    store = MemoryStore()
    await store.claim("warm-up", "w", 30.0)
    gc.collect()
    before = len(gc.get_objects())
    for n in range(2000):
        await store.claim(f"event-{n}", "w", 30.0)
        await store.finish(f"event-{n}", "w", ok=True)
    gc.collect()
    assert len(store._keys) == 2001
    assert len(gc.get_objects()) - before < 200  # not one per record
    assert (await store.record("event-1999")) is not None


async def test_an_item_whose_workers_keep_dying_is_given_up_as_a_failed_event(store: Store) -> None:
    await store.enqueue({"job": "poison"})
    seen: list[int] = []
    for _ in range(3):  # three workers take it and die (never settle it)

        async def taken() -> bool:
            items = await store.claim_items("dying", lease=0.1)
            seen.extend(item.attempts for item in items)
            return bool(items)

        await eventually(taken)
    assert seen == [0, 1, 2]

    async def never(payload: dict[str, Any]) -> None:
        raise AssertionError("a given-up item must not run again")

    async def given_up() -> bool:
        await process_due_items(store, "healthy", never, policy=RetryPolicy(max_attempts=3))
        return await store.queue_size() == 0

    await eventually(given_up)
    (failed,) = await store.list_failed()
    assert failed.payload == {"job": "poison"} and failed.error.startswith("abandoned: 3 runs")


def test_admit_puts_an_event_in_an_empty_queue_as_enter_does() -> None:
    admission = Admission("id-1", "w", 30.0, "call:c-1")
    changes, admitted = records.admit(None, None, None, None, 1000.0, admission, 3600.0, 3600.0)
    queue, expires, ticket = records.enter(None, 1000.0, 30.0)
    assert (changes[2], admitted.ticket) == ((queue, expires), ticket)
    assert records.turn(queue, 1000.0, ticket, 30.0)[2] == "yes"
