"""``memory://``: everything in this process's dicts. One process only; nothing survives a restart.

Every operation runs on the event loop without awaiting inside, so each is atomic for the tasks of this process.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import Any

from . import records
from .base import Admission, Admitted, FailedEvent, Limits, QueueItem, StoreHealth, StoreStats, Turn
from .errors import StoreUnavailable
from .journal import JournalEntry, check_read, decode_entry, encode_entries
from .keys import ONCE, SESSION, TOKEN, token_key
from .kv import KeyValueStore, Update
from .records import KEEP
from .reply import StoredReply, encode_reply
from .sessions import encode_session

__all__ = ["MemoryStore"]

#: Most expired keys deleted per operation: the work of expiry is spread over them, never one long pass.
_EXPIRE_PER_OPERATION = 8
#: Calls' queues held before the first sweep of the lapsed ones (then twice as many as were left, at least this).
_CALLS_SWEEP_MIN = 1024
#: The token key of an admission without a token ("-" is no token's digest).
_NO_TOKEN = TOKEN + "-"


@dataclass
class _Queued:
    payload: dict[str, Any]
    attempts: int = 0
    available_at: float = 0.0
    owner: str | None = None
    lease_until: float = 0.0


class MemoryStore(KeyValueStore):
    backend = "memory"
    records_outlive_process = False  # every record was written by this process, under its identity rule

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(limits or Limits(), clock)
        # A key's value and its expiry in two dicts, not a (value, expiry) tuple per key: a tuple holding a dict
        # stays tracked by the garbage collector for good, and at 200,000 keys each full collection walked them
        # all (a 40-80 ms pause on a served receiver). Records whose values are plain stay untracked here.
        self._keys: dict[str, Any] = {}
        self._expiries: dict[str, float] = {}
        # Every key in expiry order, for dropping the expired and, over the cap, the soonest-expiring: a heap of
        # (expiry, key) with at least one entry per live key no later than its expiry. A key whose expiry moves
        # later keeps its entry, which is pushed again at the new expiry when it comes up (so a rewrite
        # allocates nothing); one deleted leaves a stale entry, skipped when it comes up. A full pass over the
        # keys every so many writes (sorting them all over the cap) paused a served receiver for 60-98 ms at
        # 200,000 keys.
        self._by_expiry: list[tuple[float, str]] = []
        # Each call's queue while an event of it is in flight, under the call key itself (no family prefix, no
        # heap entry): it lives a callback long, so an uncontended event adds one key at admit and deletes it at
        # settle. Lapsed queues (every ticket's lease ended) read as absent and are swept when the dict has
        # doubled since the last sweep, so it stays bounded by the events in flight.
        self._calls: dict[str, dict[str, Any]] = {}
        self._calls_sweep_at = _CALLS_SWEEP_MIN
        self._queue: dict[str, _Queued] = {}
        self._failed: dict[str, FailedEvent] = {}
        self._ids = itertools.count(1)
        # (sequence number, appended at, JSON text): numbers are consecutive, so an entry's place is its number
        # minus the first one's. The text, not the dict, so a reader's changes never reach the journal.
        self._journal: deque[tuple[int, float, str]] = deque(maxlen=self.limits.journal_max_entries)
        self._journal_tail = 0
        self._evictions = 0  # keys dropped over the cap before their expiry (stats())

    async def close(self) -> None:
        pass

    async def health(self) -> StoreHealth:
        return StoreHealth(True, self.backend, "ok")

    def stats(self) -> StoreStats:
        return StoreStats(evictions=self._evictions)

    # -- keys ----------------------------------------------------------------------------------------------
    # Each operation starts with ``_reader``: it deletes a few keys due by now and says how to read live values.
    # Every key has a heap entry no later than its expiry, so while the heap's first entry is in the future no
    # key has expired, and the dict's own ``get`` reads live values with no expiry looked up per read (the usual
    # case: the few keys due are deleted as they come due).

    def _reader(self, now: float) -> Callable[[str], Any]:
        heap = self._by_expiry
        if heap and heap[0][0] <= now:
            self._expire(now, _EXPIRE_PER_OPERATION)
            if heap and heap[0][0] <= now:  # more keys due than one operation deletes: check each read
                return functools.partial(self._live, now=now)
        return self._keys.get

    def _live(self, key: str, now: float) -> Any:
        """The value under ``key`` when it has not expired, else None."""
        value = self._keys.get(key)
        return value if value is None or self._expiries[key] > now else None

    async def _read(self, key: str) -> Any:
        return self._reader(self.clock())(key)

    async def _update(self, key: str, update: Update) -> Any:
        now = self.clock()
        # No copy: the transitions (records.py, kv.py) are pure, they build new values and never change the one
        # they are given, and their answers share nothing with it (copying cost more than the rest of a callback).
        value, expires, answer = update(self._reader(now)(key), now)
        self._apply((key,), ((value, expires),))
        return answer

    def _apply(self, keys: Sequence[str], changes: Sequence[Any]) -> None:
        """Write each key's change (``records.KEEP``: leave it; a value of None: delete the key); when a key was
        added, keep to the cap."""
        values, expiries = self._keys, self._expiries
        pushed = False
        for key, change in zip(keys, changes, strict=True):
            if change is KEEP:
                continue
            value, expires = change
            if value is None:
                if values.pop(key, None) is not None:
                    del expiries[key]
                continue
            values[key] = value
            current = expiries.get(key)
            expiries[key] = expires
            if current is None or expires < current:
                heappush(self._by_expiry, (expires, key))
                pushed = True
        if pushed:  # only a new key takes the store over the cap, only a push grows the heap
            self._bound()

    def _expire(self, now: float, most: int) -> None:
        """Delete up to ``most`` keys due by ``now``, the soonest first."""
        heap = self._by_expiry
        for _ in range(most):
            if not heap or heap[0][0] > now:
                break
            self._pop()

    def _bound(self) -> None:
        """Take a few entries no longer exact off the heap's front; over the cap, delete the soonest-expiring
        keys; compact the heap when stale entries piled up deep in it."""
        heap, expiries = self._by_expiry, self._expiries
        for _ in range(_EXPIRE_PER_OPERATION):
            # A callback's queue key lives for the callback only, with a 30 s lease that puts its entry before
            # every record's. Left at the front until due, 30 s of them piled up there, and the first write over
            # the cap went through them all (or rebuilt the heap: 308 ms at 200,000 keys, in process).
            if not heap or expiries.get(heap[0][1]) == heap[0][0]:
                break
            self._pop()  # a key gone, or moved: never deletes a key
        while len(self._keys) > self.limits.memory_max_keys:
            self._evictions += self._pop()  # the soonest-expiring key, before its time
        if len(heap) > 4 * len(self._keys) + 1024:  # stale entries of deleted keys piled up: rare
            self._rebuild()

    # -- a whole callback in two trips: the transitions called directly ------------------------------------
    # (SQLite's go through ``_update_many``, a closure run in one transaction: here no closure and no key list)

    async def admit(self, admission: Admission) -> Admitted:
        return self.admit_now(admission)

    def admit_now(self, admission: Admission) -> Admitted:
        """``admit``, answered at once (no coroutine): the receiver calls it so on its hot path."""
        now, limits = self.clock(), self.limits
        read = self._reader(now)
        token, call_key = admission.token, admission.call_key
        token_k = token_key(token) if token is not None else _NO_TOKEN
        once_k = ONCE + admission.identity
        session_k = SESSION + call_key if call_key is not None else None
        changes, answer = records.admit(
            read(token_k), read(once_k), self._call_queue(call_key, now) if call_key is not None else None,
            read(session_k) if session_k is not None else None, now, admission, limits.record_ttl, limits.token_ttl,
        )  # fmt: skip
        if session_k is None:
            self._apply((token_k, once_k), (changes[0], changes[1]))
        else:
            self._apply((token_k, once_k, session_k), (changes[0], changes[1], changes[3]))
            self._put_queue(session_k[len(SESSION) :], changes[2], now)
        return answer

    async def settle(
        self,
        admission: Admission,
        ticket: int,
        *,
        ok: bool,
        error: str | None = None,
        session: Mapping[str, Any] | None = None,
        session_ends: float | None = None,
        reply: StoredReply | None = None,
    ) -> None:
        self.settle_now(admission, ticket, ok, error, session, session_ends, reply)

    def settle_now(
        self,
        admission: Admission,
        ticket: int,
        ok: bool,
        error: str | None = None,
        session: Mapping[str, Any] | None = None,
        session_ends: float | None = None,
        reply: StoredReply | None = None,
    ) -> None:
        """``settle``, done at once (no coroutine): the receiver calls it so on its hot path."""
        limits = self.limits
        saved = encode_session(session, limits.session_max_bytes) if session is not None else None
        kept = encode_reply(reply) if reply is not None else None
        now = self.clock()
        read = self._reader(now)
        call_key = admission.call_key
        once_k = ONCE + admission.identity
        if call_key is None:
            changes = records.settle(
                read(once_k), None, None, now, admission, ticket, (ok, error, kept), saved, session_ends,
                limits.record_ttl, limits.session_idle_ttl,
            )  # fmt: skip
            self._apply((once_k,), (changes[0],))
            return
        # A session neither saved nor ended is neither read nor written (``records.settle`` keeps it then).
        session_k = SESSION + call_key if saved is not None or session_ends is not None else None
        changes = records.settle(
            read(once_k), self._call_queue(call_key, now), read(session_k) if session_k is not None else None, now,
            admission, ticket, (ok, error, kept), saved, session_ends, limits.record_ttl, limits.session_idle_ttl,
        )  # fmt: skip
        if session_k is None:
            self._apply((once_k,), (changes[0],))
        else:
            self._apply((once_k, session_k), (changes[0], changes[2]))
        self._put_queue(call_key, changes[1], now)

    # -- calls' queues: a dict of their own, keyed by the call key ----------------------------------------

    def _call_queue(self, key: str, now: float) -> Any:
        """The call's queue, or None when it has none or every ticket's lease has ended (as an expired key)."""
        queue = self._calls.get(key)
        if queue is not None and max(queue["live"].values()) <= now:
            del self._calls[key]
            return None
        return queue

    def _put_queue(self, key: str, change: Any, now: float) -> None:
        """Write a transition's change to the call's queue (``KEEP``, or (value or None to delete, expiry))."""
        if change is KEEP:
            return
        value = change[0]
        calls = self._calls
        if value is None:
            calls.pop(key, None)
            return
        calls[key] = value
        if len(calls) > self._calls_sweep_at:
            for lapsed in [k for k, q in calls.items() if max(q["live"].values()) <= now]:
                del calls[lapsed]
            self._calls_sweep_at = max(_CALLS_SWEEP_MIN, 2 * len(calls))

    async def enter(self, key: str, lease: float) -> int:
        now = self.clock()
        value, expires, ticket = records.enter(self._call_queue(key, now), now, lease)
        self._put_queue(key, (value, expires), now)
        return int(ticket)

    async def turn(self, key: str, ticket: int, lease: float) -> Turn:
        now = self.clock()
        value, expires, answer = records.turn(self._call_queue(key, now), now, ticket, lease)
        self._put_queue(key, (value, expires), now)
        return answer  # type: ignore[no-any-return]

    async def leave(self, key: str, ticket: int) -> None:
        now = self.clock()
        value, expires, _ = records.leave(self._call_queue(key, now), now, ticket)
        self._put_queue(key, (value, expires), now)

    def _rebuild(self) -> None:
        """The heap from the live keys alone, one exact entry each (a pass over every key: kept rare)."""
        self._by_expiry = [(expires, key) for key, expires in self._expiries.items()]
        heapify(self._by_expiry)

    def _pop(self) -> bool:
        """Take the heap's first entry: delete its key when it is due then, push it again at its expiry when
        that moved later, skip it when its key went (or has an earlier entry of its own). True: a key went."""
        expires, key = heappop(self._by_expiry)
        current = self._expiries.get(key)
        if current is None or current < expires:
            return False
        if current > expires:
            heappush(self._by_expiry, (current, key))
            return False
        del self._keys[key], self._expiries[key]
        return True

    # -- durable queue (in-process: it lasts as long as the process) ---------------------------------------

    async def enqueue(self, payload: Mapping[str, Any]) -> str:
        if len(self._queue) >= self.limits.queue_max_items:
            raise StoreUnavailable(self.backend, f"the queue is full ({self.limits.queue_max_items} items)")
        item_id = str(next(self._ids))
        self._queue[item_id] = _Queued(json.loads(json.dumps(dict(payload))))
        return item_id

    async def claim_items(self, consumer: str, *, lease: float, limit: int = 10) -> list[QueueItem]:
        now = self.clock()
        taken: list[QueueItem] = []
        for item_id, item in self._queue.items():
            if len(taken) >= limit:
                break
            if item.available_at <= now and (item.owner is None or item.lease_until <= now):
                if item.owner is not None:
                    item.attempts += 1  # its holder's lease ran out: that run counts as failed
                item.owner, item.lease_until = consumer, now + lease
                taken.append(QueueItem(item_id, copy.deepcopy(item.payload), item.attempts))
        return taken

    def _held(self, item_id: str, consumer: str) -> _Queued | None:
        item = self._queue.get(item_id)
        return item if item is not None and item.owner == consumer else None

    async def renew_item(self, item_id: str, consumer: str, lease: float) -> bool:
        item = self._held(item_id, consumer)
        if item is not None:
            item.lease_until = self.clock() + lease
        return item is not None

    async def ack(self, item_id: str, consumer: str) -> bool:
        return self._held(item_id, consumer) is not None and self._queue.pop(item_id) is not None

    async def retry_later(self, item_id: str, consumer: str, error: str, delay: float) -> bool:
        item = self._held(item_id, consumer)
        if item is None:
            return False
        item.attempts += 1
        item.owner, item.available_at = None, self.clock() + delay
        # Move to the back, as the stores with a log (Redis streams, SQLite ids) do for a retried item.
        self._queue[item_id] = self._queue.pop(item_id)
        return True

    async def fail_item(self, item_id: str, consumer: str, error: str) -> str | None:
        item = self._held(item_id, consumer)
        if item is None:
            return None
        del self._queue[item_id]
        return await self.add_failed(item.payload, error, item.attempts + 1)

    async def queue_size(self) -> int:
        return len(self._queue)

    # -- failed events -------------------------------------------------------------------------------------

    async def add_failed(self, payload: Mapping[str, Any], error: str, attempts: int) -> str:
        failed_id = f"f{next(self._ids)}"
        self._failed[failed_id] = FailedEvent(failed_id, dict(payload), error, attempts, self.clock())
        self._trim_failed()
        return failed_id

    def _trim_failed(self) -> None:
        oldest = self.clock() - self.limits.failed_ttl
        for failed_id in [k for k, f in self._failed.items() if f.failed_at < oldest]:
            del self._failed[failed_id]
        while len(self._failed) > self.limits.failed_max_items:
            del self._failed[next(iter(self._failed))]

    async def list_failed(self, limit: int = 100) -> list[FailedEvent]:
        self._trim_failed()
        return list(reversed(self._failed.values()))[:limit]

    async def get_failed(self, failed_id: str) -> FailedEvent | None:
        self._trim_failed()
        return self._failed.get(failed_id)

    async def drop_failed(self, failed_id: str) -> bool:
        return self._failed.pop(failed_id, None) is not None

    # -- journal: a bounded deque -------------------------------------------------------------------------

    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        texts = encode_entries(entries, self.limits.journal_entry_max_bytes)
        now = self.clock()
        for text in texts:  # the deque's maxlen drops the oldest beyond journal_max_entries
            self._journal_tail += 1
            self._journal.append((self._journal_tail, now, text))
        self._expire_journal(now)

    def _expire_journal(self, now: float) -> None:
        oldest = now - self.limits.journal_ttl
        while self._journal and self._journal[0][1] < oldest:
            self._journal.popleft()

    async def read_journal(self, after: int, limit: int = 500) -> list[JournalEntry]:
        check_read(after, limit)
        self._expire_journal(self.clock())
        if not self._journal:
            return []
        start = max(0, after - self._journal[0][0] + 1)
        return [(seq, decode_entry(text)) for seq, _, text in itertools.islice(self._journal, start, start + limit)]

    async def journal_tail(self) -> int:
        return self._journal_tail
