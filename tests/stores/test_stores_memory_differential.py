"""``memory://`` against SQLite as a plain reference: the same random sequences of admits, settles and steps (claim,
finish, enter, turn, leave, sessions, token bindings) on a shared clock give the same answers and records. The
memory store keeps its records its own way (calls' queues in a dict of their own, swept lazily), SQLite every
record under a key through the transitions of ``records.py``: any difference in what a caller sees is a bug."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from callhooks.stores import Admission, Limits, Store
from callhooks.stores.memory import MemoryStore
from callhooks.stores.reply import StoredReply
from callhooks.stores.sqlite import SqliteStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

_LEASE = 5.0
_LIMITS = Limits(record_ttl=60.0, session_idle_ttl=40.0, token_ttl=50.0)


async def _step(store: Store, op: str, args: tuple[Any, ...]) -> Any:
    """One operation of the sequence on ``store``; its answer, in a form both stores' answers compare by."""
    if op == "admit":
        admitted = await store.admit(args[0])
        return (admitted.verdict, admitted.ticket, admitted.attempt, admitted.session, admitted.reply)
    if op == "settle":
        admission, ticket, ok, session, ends, reply = args
        await store.settle(admission, ticket, ok=ok, session=session, session_ends=ends, reply=reply)
        return None
    if op == "claim":
        claim = await store.claim(args[0], args[1], _LEASE)
        return (claim.status, claim.attempt)
    if op == "finish":
        return await store.finish(args[0], args[1], ok=args[2])
    if op == "renew":
        return await store.renew(args[0], args[1], _LEASE)
    if op == "enter":
        return await store.enter(args[0], _LEASE)
    if op == "turn":
        return await store.turn(args[0], args[1], _LEASE)
    if op == "leave":
        return await store.leave(args[0], args[1])
    if op == "bind":
        return await store.bind_token(args[0], args[1])
    if op == "save":
        return await store.save_session(args[0], args[1])
    if op == "end":
        return await store.end_session(args[0], args[1])
    assert op == "state"
    identity, key = args
    record = await store.record(identity)
    return (record, await store.load_session(key))


def _operation(rng: random.Random, tickets: dict[str, list[int]]) -> tuple[str, tuple[Any, ...]]:
    identity, key = f"e{rng.randrange(12)}", f"call:c{rng.randrange(3)}"
    owner = f"w{rng.randrange(2)}"
    op = rng.choice(["admit", "admit", "admit", "claim", "finish", "renew", "enter", "turn", "leave", "bind", "save"])
    op = rng.choice([op, "end", "state"]) if rng.random() < 0.2 else op
    if op == "admit":
        token = rng.choice([None, "t1", "t2"])
        call_key = rng.choice([key, key, None])
        admission = Admission(identity, owner, _LEASE, call_key, token, rng.choice(["c0", "c1"]) if token else None)
        return op, (admission,)
    if op in ("claim", "finish", "renew"):
        return op, (identity, owner, rng.random() < 0.7)[: 3 if op == "finish" else 2]
    if op == "enter":
        return op, (key,)
    if op in ("turn", "leave"):
        known = tickets.get(key) or [0]
        return op, (key, rng.choice([*known, rng.randrange(4)]))
    if op == "bind":
        return op, (rng.choice(["t1", "t2", "t3"]), rng.choice(["c0", "c1"]))
    if op == "save":
        return op, (key, {"n": rng.randrange(100)})
    if op == "end":
        return op, (key, rng.choice([0.0, 3.0, 20.0]))
    return op, (identity, key)


@pytest.mark.parametrize("seed", range(6))
async def test_memory_answers_as_sqlite_does_over_random_sequences(tmp_path: Path, seed: int) -> None:
    now = [1_000_000.0]
    memory = MemoryStore(_LIMITS, clock=lambda: now[0])
    sqlite = SqliteStore(str(tmp_path / "reference.db"), limits=_LIMITS, clock=lambda: now[0])
    await sqlite.open()
    rng = random.Random(seed)
    tickets: dict[str, list[int]] = {}
    admitted: list[tuple[Admission, int]] = []  # runs admitted and not settled yet
    try:
        for step in range(600):
            now[0] += rng.choice([0.0, 0.1, 0.5, 1.0, 3.0, 7.0, 30.0])
            if admitted and rng.random() < 0.35:
                admission, ticket = admitted.pop(rng.randrange(len(admitted)))
                ok = rng.random() < 0.8
                session = {"step": step} if rng.random() < 0.6 else None
                ends = rng.choice([None, None, 0.0, 10.0])
                reply = StoredReply(200, "application/xml", f"<R n='{step}'/>".encode()) if ok else None
                op, args = "settle", (admission, ticket, ok, session, ends, reply)
            else:
                op, args = _operation(rng, tickets)
            answers = [await _step(store, op, args) for store in (memory, sqlite)]
            assert answers[0] == answers[1], (seed, step, op, args)
            if op == "admit" and answers[0][0] == "run":
                admitted.append((args[0], answers[0][1]))
            if op == "enter":
                tickets.setdefault(args[0], []).append(answers[0])
            for identity in (f"e{n}" for n in range(12)):  # every record as both keep it
                assert await memory.record(identity) == await sqlite.record(identity), (seed, step, identity)
    finally:
        await sqlite.close()


async def test_lapsed_call_queues_are_swept_so_the_memory_store_stays_bounded() -> None:
    # Queues whose every ticket's lease ended (their holders never left: a crashed handler) go as the dict grows.
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    for n in range(10_000):
        await store.enter(f"call:{n}", 1.0)
        now[0] += 0.01
    assert len(store._calls) <= 2 * 1024 + 200  # only the ones whose lease has not ended yet, and a margin
    assert await store.enter("call:0", 1.0) == 0  # a lapsed queue reads as none: its first ticket again
