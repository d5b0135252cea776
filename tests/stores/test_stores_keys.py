"""Issue 23, finding 3: no id reaches another id's keys, on memory://, sqlite:/// and redis://.

Call and conference ids come from callbacks and may hold anything. Once, the Redis queue of call ``X`` kept its
live tickets under ``fifo:call:X:live``, the queue key of call ``X:live``: Redis answered ``WRONGTYPE`` and that
call's callbacks got a plain-text 500. Here every key family is used with ids that embed other ids, and each id
must see only what was written under it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from callhooks import CallEvent, CallHooks
from callhooks.stores import Admission, Store, open_store
from callhooks.stores import redis as redis_store
from callhooks.stores.keys import FAMILIES, FIFO
from callhooks.testing import serve
from callhooks.testing.redis_server import RedisServer
from tests.guarantees.support import SECRET, dtmf, token_path

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

# Ids that embed other ids or the stores' separators and family names, and some unicode (NUL-free).
IDS = [
    "X",
    "X:live",
    "X:fifo",
    "X:fifo:Y",
    "Y",
    "fifo:X",
    "live:X",
    "X:session",
    "session:X",
    "once:X",
    "X:once",
    "token:X",
    "a:b",
    "a:b:c",
    ":",
    "::",
    "{X}",
    "X{",
    "}X",
    "{",
    "X/Y",
    "/",
    "X/",
    "ünï:cødé ☎",
    "X\u2028live",
]
# The keys the receiver makes of them: per call and per conference (identity.call_key).
CALL_KEYS = [f"{kind}:{ident}" for kind in ("call", "conference") for ident in IDS]


def test_no_key_family_is_the_start_of_another() -> None:
    for family in FAMILIES:
        assert family.endswith(":")
        assert not [other for other in FAMILIES if other != family and other.startswith(family)]
    # Redis's keys that hold no id: none of them is in a family that does.
    fixed = [redis_store._QUEUE, redis_store._DELAYED, redis_store._LEASES, redis_store._DEATHS]
    fixed += [redis_store._FAILED_SEQ, redis_store._FAILED_INDEX, *redis_store._JOURNAL_KEYS]
    for key in fixed:
        assert key.startswith(redis_store._PREFIX)
        assert not key.removeprefix(redis_store._PREFIX).startswith(FAMILIES)


async def test_each_call_key_has_its_own_queue_and_session(store: Store) -> None:
    tickets = {key: await store.enter(key, lease=30) for key in CALL_KEYS}
    for number, key in enumerate(CALL_KEYS):
        await store.save_session(key, {"mine": key, "n": number})
    assert set(tickets.values()) == {0}  # each the first in a queue of its own (before the fix: WRONGTYPE)
    for number, key in enumerate(CALL_KEYS):
        assert await store.turn(key, 0, lease=30) == "yes"
        assert await store.load_session(key) == {"mine": key, "n": number}
    left = CALL_KEYS[::2]
    for key in left:  # empties its own queue only: nobody else's next ticket gets ahead
        await store.leave(key, 0)
    for key in CALL_KEYS:
        ticket = await store.enter(key, lease=30)
        assert ticket == (0 if key in left else 1)
        assert await store.turn(key, ticket, lease=30) == ("yes" if key in left else "wait")


async def test_each_identity_has_its_own_record_and_each_session_copies_alone(store: Store) -> None:
    for ident in IDS:
        assert (await store.claim(ident, "w1", lease=30)).status == "acquired"
    for ident in IDS[::2]:
        assert await store.finish(ident, "w1", ok=True)
    for ident in IDS:
        record = await store.record(ident)
        assert record is not None and record.state == ("done" if ident in IDS[::2] else "running")
    await store.save_session("call:X", {"from": "X"})
    assert await store.copy_session("call:X", "call:X:live")
    assert await store.load_session("call:X:live") == {"from": "X"}
    assert not await store.copy_session("call:X:fifo", "call:Y")
    assert await store.load_session("call:Y") == {}


async def test_admit_and_settle_keep_calls_apart(store: Store) -> None:
    admissions = [Admission(f"event-{n}", "w1", 30.0, key, None, key) for n, key in enumerate(CALL_KEYS)]
    for admission in admissions:
        admitted = await store.admit(admission)
        if admitted.verdict == "run":  # stores with the one-trip path: each call's queue was empty
            assert admitted.ticket == 0 and admitted.session == {}
        else:
            assert admitted.verdict == "slow"
            assert (await store.claim(admission.identity, "w1", lease=30)).status == "acquired"
            assert await store.enter(str(admission.call_key), lease=30) == 0
    for admission in admissions:
        await store.settle(admission, 0, ok=True, session={"mine": admission.call_key})
    for admission in admissions:
        assert await store.load_session(str(admission.call_key)) == {"mine": admission.call_key}
        record = await store.record(admission.identity)
        assert record is not None and record.state == "done"


async def test_tokens_bind_to_call_ids_that_embed_each_other(store: Store) -> None:
    for number, ident in enumerate(IDS):
        assert await store.bind_token(f"token-{number}", ident)
    for number, ident in enumerate(IDS):
        assert await store.bind_token(f"token-{number}", ident)
        other = IDS[(number + 1) % len(IDS)]
        assert not await store.bind_token(f"token-{number}", other)


class HeldCall:
    """A handler that records each event's call and holds the events of ``held`` until ``release``."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.ran: list[str | None] = []
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __call__(self, event: CallEvent) -> None:
        if event.call_id == self.held:
            self.entered.set()
            assert self.gate.wait(20), "never released"
        self.ran.append(event.call_id)


def hooks_on(url: str, handler: HeldCall) -> CallHooks:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=url)
    hooks.on("dtmf")(handler)
    return hooks


NEIGHBOURS = ["X:live", "X:fifo:X:live", "live:X", "{X}:live", "X/live", "X:session"]


def test_calls_named_after_another_calls_keys_run_while_that_call_runs(url: str) -> None:
    """The finding over HTTP, on every store (``url``: tests/stores/conftest.py): while call ``X``'s handler
    runs (its queue and, on Redis, its live set exist), calls whose keys were or could be made of X's call in."""
    handler = HeldCall("X")
    hooks = hooks_on(url, handler)
    path = token_path(hooks)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=30) as http, ThreadPoolExecutor(1) as pool:
        held = pool.submit(http.post, path, json=dtmf("X", 1))
        assert handler.entered.wait(20)
        answers = [http.post(path, json=dtmf(call, 1)) for call in NEIGHBOURS]
        handler.gate.set()
        assert held.result(timeout=30).status_code == 200
    assert [(answer.status_code, answer.text) for answer in answers] == [(200, "")] * len(NEIGHBOURS)
    assert handler.ran == [*NEIGHBOURS, "X"]  # each ran while X was held: none queued behind X


async def test_an_old_live_set_left_at_the_new_queue_key_is_a_json_503(redis_server: RedisServer) -> None:
    """The upgrade case: the version before kept call ``X``'s live set at ``fifo:call:X:live``, which is now the
    queue of call ``X:live``. Until it expires (with its last lease, seconds) that call's events get a 503 naming
    the problem, which the platform retries; never a plain-text 500."""
    redis_server.flush()
    handler = HeldCall("none")
    hooks = hooks_on(redis_server.url, handler)
    raw = await open_store(redis_server.url)
    await raw._redis.zadd(redis_store._PREFIX + FIFO + "call:X:live", {"0": 1})  # type: ignore[attr-defined]
    await raw.close()
    path = token_path(hooks)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        refused = http.post(path, json=dtmf("X:live", 1))
        assert http.post(path, json=dtmf("X", 1)).status_code == 200  # call X's queue is elsewhere now
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/json"
    body = refused.json()
    assert body["error"] == "store-unavailable" and "WRONGTYPE" in body["detail"]
    assert handler.ran == ["X"]
