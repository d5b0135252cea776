"""The one interface every store implements, and the records it hands back.

A store holds six kinds of state, each bounded or expiring (sizes and ages in ``Limits``):

- idempotency records: event identity -> running/done/failed, with the owner and its lease;
- per-call fair FIFO queues: tickets taken on arrival, served in ticket order, each ticket under a lease;
- call sessions: one JSON object per call key;
- the durable queue for background handlers, with leases and retry bookkeeping, and the failed events;
- token bindings: a per-call callback token bound to the first call id it arrives with;
- the journal: JSON objects appended by any worker or host (what the receiver saw, for the console), each under
  a sequence number that increases strictly across all writers, so a reader that polls with the last number it
  saw never misses or repeats an entry still kept. At most ``journal_max_entries``, none older than
  ``journal_ttl``: the oldest go first.

Times are seconds (floats). Every method may raise ``StoreUnavailable``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .reply import StoredReply
from .sessions import encode_session

__all__ = [
    "Admission",
    "Admitted",
    "Claim",
    "FailedEvent",
    "Limits",
    "OnceRecord",
    "QueueItem",
    "Store",
    "StoreHealth",
    "StoreStats",
    "Turn",
]

#: What ``Store.claim`` found: run it now, it already ran, or another worker is running it.
ClaimStatus = Literal["acquired", "duplicate", "running"]
#: What ``Store.turn`` found: your turn, keep waiting, or your ticket's lease expired and it was dropped.
Turn = Literal["yes", "wait", "lost"]


@dataclass(frozen=True)
class Limits:
    """Sizes and ages a store keeps to, so a receiver that runs for months does not grow without limit."""

    #: How long a done/failed idempotency record is kept (duplicates later than this run again).
    record_ttl: float = 24 * 3600.0
    #: Most idempotency records, sessions and bindings kept by ``memory://`` (soonest-expiring go first; a call's
    #: queue is kept only while an event of it is in flight).
    memory_max_keys: int = 200_000
    #: How long a session lives after its last save when the call never completes.
    session_idle_ttl: float = 24 * 3600.0
    #: Largest session, in bytes of JSON.
    session_max_bytes: int = 64 * 1024
    #: Items the durable queue holds (enqueue beyond this raises ``StoreUnavailable``: the platform falls back).
    queue_max_items: int = 100_000
    #: Failed events kept (oldest dropped first) and for how long.
    failed_max_items: int = 10_000
    failed_ttl: float = 30 * 24 * 3600.0
    #: Largest handler reply body kept with an event's record for its duplicates, in bytes (a larger one is not
    #: kept: a duplicate then gets an empty 200).
    reply_max_bytes: int = 64 * 1024
    #: How long a token binding is kept.
    token_ttl: float = 24 * 3600.0
    #: Journal entries kept (oldest dropped first), for how long, and the largest one, in bytes of JSON.
    journal_max_entries: int = 10_000
    journal_ttl: float = 24 * 3600.0
    journal_entry_max_bytes: int = 256 * 1024


# The records built for every callback (``Admission``, ``Admitted``, ``Claim``) are frozen dataclasses with an
# ``__init__`` of their own that sets the fields in the instance's dict directly: the generated one sets each
# through ``object.__setattr__`` (frozen), which made an ``Admitted`` cost 7,800 CPU instructions to build
# instead of 3,700 (callgrind). Everything else (fields, equality, repr, hash, ``replace``, assignment raising
# ``FrozenInstanceError``) is the dataclass's own.


@dataclass(frozen=True)
class Admission:
    """What a callback asks the store for when it arrives (``Store.admit``)."""

    identity: str  #: the event's identity (``identity.event_identity``)
    owner: str  #: the worker asking
    lease: float  #: seconds the claim and the queue ticket are held without renewal
    call_key: str | None  #: the call's queue and session (``identity.call_key``); None: neither
    token: str | None = None  #: a per-call token to bind to ``call_id`` (``bind_token``)
    call_id: str | None = None

    def __init__(
        self,
        identity: str,
        owner: str,
        lease: float,
        call_key: str | None,
        token: str | None = None,
        call_id: str | None = None,
    ) -> None:
        fields = self.__dict__
        fields["identity"], fields["owner"], fields["lease"] = identity, owner, lease
        fields["call_key"], fields["token"], fields["call_id"] = call_key, token, call_id


@dataclass(frozen=True)
class Admitted:
    """What ``Store.admit`` decided. ``run``: the event is claimed and at the head of its call's queue (``ticket``),
    with the call's session; ``duplicate``: it was handled already; ``forbidden``: the token is bound to another
    call; ``slow``: anything else (others queued ahead, another worker running it): take the step-by-step path."""

    verdict: Literal["run", "duplicate", "forbidden", "slow"]
    ticket: int = 0
    attempt: int = 0
    session: dict[str, Any] = field(default_factory=dict)
    reply: StoredReply | None = None  #: a duplicate's: what the first run answered, when it was kept

    def __init__(
        self,
        verdict: Literal["run", "duplicate", "forbidden", "slow"],
        ticket: int = 0,
        attempt: int = 0,
        session: dict[str, Any] | None = None,  # None: a new empty dict
        reply: StoredReply | None = None,
    ) -> None:
        fields = self.__dict__
        fields["verdict"], fields["ticket"], fields["attempt"] = verdict, ticket, attempt
        fields["session"] = {} if session is None else session
        fields["reply"] = reply


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    attempt: int  #: how many times the event was claimed to run, this claim included (0 when not acquired)

    def __init__(self, status: ClaimStatus, attempt: int) -> None:
        fields = self.__dict__
        fields["status"], fields["attempt"] = status, attempt


@dataclass(frozen=True)
class OnceRecord:
    state: Literal["running", "done", "failed"]
    owner: str
    lease_until: float  #: seconds since the epoch; a running record past it is abandoned (its worker died)
    attempts: int
    error: str | None = None
    reply: StoredReply | None = None  #: what the run that made it done answered, when kept (``stores/reply.py``)


@dataclass(frozen=True)
class QueueItem:
    id: str
    payload: dict[str, Any]
    attempts: int  #: failed runs so far (0 on the first run); a run whose holder's lease ran out counts


@dataclass(frozen=True)
class FailedEvent:
    id: str
    payload: dict[str, Any]
    error: str
    attempts: int  #: times it was taken to run, the last one included
    failed_at: float


@dataclass(frozen=True)
class StoreHealth:
    ok: bool
    backend: str
    detail: str  #: "ok", or why not (for ``/healthz``)


@dataclass(frozen=True)
class StoreStats:
    """What a store counted since it was opened (``Store.stats``)."""

    #: Keys dropped before their time to stay within a cap (``memory://``'s ``Limits.memory_max_keys``): an
    #: event whose record went is run again when delivered again, a call whose session went starts it empty.
    evictions: int = 0
    #: Times the store was found to have lost its data while open (a Redis server restarted without persistence,
    #: flushed, or evicting callhooks' keys): what was handled before may run again, sessions start empty.
    data_losses: int = 0
    #: When and how the last loss was found, in one line (``None`` when none was).
    last_data_loss: str | None = None


class Store(ABC):
    """The storage engine behind the delivery guarantees. Open one with ``open_store(url)``."""

    backend: str = ""
    limits: Limits
    #: Whether its records outlive the process (SQLite, Redis): after an upgrade it may hold records an earlier
    #: version wrote, under that version's identity rule (``identity.py``); ``memory://``'s never do.
    records_outlive_process: bool = True

    # -- life cycle ----------------------------------------------------------------------------------------

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def health(self) -> StoreHealth:
        """Whether the store can be read and written now; never raises."""

    def stats(self) -> StoreStats:
        """What this store counted since it was opened (in this process). Stores that never drop a key early
        (SQLite, Redis: their keys go when they expire) count no evictions; only Redis can lose its data under
        a running receiver (``data_losses``)."""
        return StoreStats()

    # -- idempotency records -------------------------------------------------------------------------------

    @abstractmethod
    async def claim(self, identity: str, owner: str, lease: float) -> Claim:
        """Atomically take ``identity`` to run it: acquired when unknown, failed or abandoned (lease expired)."""

    @abstractmethod
    async def renew(self, identity: str, owner: str, lease: float) -> bool:
        """Extend a running claim; False when ``owner`` no longer holds it."""

    @abstractmethod
    async def finish(self, identity: str, owner: str, *, ok: bool, error: str | None = None) -> bool:
        """Record the outcome (done, or failed so a later delivery runs again); False when not the owner."""

    @abstractmethod
    async def record(self, identity: str) -> OnceRecord | None:
        """The idempotency record, or None (never seen, or expired)."""

    async def holds_records(self, besides: str) -> bool:
        """Whether any live idempotency record other than ``besides``'s is in the store: a receiver opening a
        store that holds none needs no look-up under an earlier identity rule. Looked at once per store, when a
        rule first runs on it; this default says yes when records outlive the process (the safe answer)."""
        return self.records_outlive_process

    # -- per-call fair FIFO --------------------------------------------------------------------------------

    @abstractmethod
    async def enter(self, key: str, lease: float) -> int:
        """Take the next ticket in ``key``'s queue."""

    @abstractmethod
    async def turn(self, key: str, ticket: int, lease: float) -> Turn:
        """Renew the ticket's lease and say whether it is at the head (skipping tickets whose lease expired)."""

    @abstractmethod
    async def leave(self, key: str, ticket: int) -> None:
        """Give up the ticket (after running, or when giving up waiting); the next ticket's turn comes."""

    # -- call sessions -------------------------------------------------------------------------------------

    @abstractmethod
    async def load_session(self, key: str) -> dict[str, Any]:
        """The session for ``key`` (a new dict each time; empty when none)."""

    @abstractmethod
    async def save_session(self, key: str, data: Mapping[str, Any]) -> None:
        """Store ``data``; ``SessionValueError`` naming the key when a value is not JSON or it is too large."""

    @abstractmethod
    async def end_session(self, key: str, after: float) -> None:
        """The call completed: remove its session ``after`` seconds from now."""

    @abstractmethod
    async def copy_session(self, parent: str, child: str) -> bool:
        """Start ``child`` (a transfer's new leg) with a copy of ``parent``'s session; False when it has none."""

    # -- durable queue for background handlers ---------------------------------------------------------------

    @abstractmethod
    async def enqueue(self, payload: Mapping[str, Any]) -> str:
        """Append an item (a JSON object); returns its id once it is durable."""

    @abstractmethod
    async def claim_items(self, consumer: str, *, lease: float, limit: int = 10) -> list[QueueItem]:
        """Up to ``limit`` items due now: new ones, retries whose backoff passed, and stale ones whose holder's
        lease expired (its worker died)."""

    @abstractmethod
    async def renew_item(self, item_id: str, consumer: str, lease: float) -> bool: ...

    @abstractmethod
    async def ack(self, item_id: str, consumer: str) -> bool:
        """The item was handled: remove it."""

    @abstractmethod
    async def retry_later(self, item_id: str, consumer: str, error: str, delay: float) -> bool:
        """The item failed: run it again after ``delay`` with its attempt count raised."""

    @abstractmethod
    async def fail_item(self, item_id: str, consumer: str, error: str) -> str | None:
        """Give up on the item: move it to the failed events; returns the failed event's id."""

    @abstractmethod
    async def queue_size(self) -> int:
        """Items queued, in flight or waiting for a retry."""

    # -- failed events -------------------------------------------------------------------------------------

    @abstractmethod
    async def add_failed(self, payload: Mapping[str, Any], error: str, attempts: int) -> str: ...

    @abstractmethod
    async def list_failed(self, limit: int = 100) -> list[FailedEvent]:
        """Newest first."""

    @abstractmethod
    async def get_failed(self, failed_id: str) -> FailedEvent | None: ...

    @abstractmethod
    async def drop_failed(self, failed_id: str) -> bool: ...

    async def replay_failed(self, failed_id: str) -> str | None:
        """Put a failed event back on the durable queue (attempts start again); the new item's id."""
        failed = await self.get_failed(failed_id)
        if failed is None:
            return None
        item_id = await self.enqueue(failed.payload)
        await self.drop_failed(failed_id)
        return item_id

    # -- a whole callback in two trips (delivery.py) --------------------------------------------------------

    async def admit(self, admission: Admission) -> Admitted:
        """In one trip: bind the token, answer a duplicate, or claim the event, take the call's first ticket
        and load its session, when nobody is queued ahead. Stores without such a trip say ``slow``, and the
        callback takes the steps one by one (``bind_token``, ``record``, ``enter``/``turn``, ``claim``, ...)."""
        return Admitted("slow")

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
        """After an admitted run: record its outcome (``finish``) with the run's ``reply`` (a duplicate gets it
        back), save the session when given (``save_session``; ``SessionValueError`` before anything is written),
        end it ``session_ends`` seconds from now when the call completed (``end_session``) and give up the ticket
        (``leave``). The outcome is written when this owner's claim still runs, or when the record is gone (a
        store that lost its data); the session only then. Settling twice is harmless. Here step by step,
        without the reply; stores that admit in one trip settle in one."""
        key = admission.call_key
        if key is not None and session is not None:
            encode_session(session, self.limits.session_max_bytes)  # SessionValueError before anything is written
        if await self.finish(admission.identity, admission.owner, ok=ok, error=error) and key is not None:
            if session is not None:
                await self.save_session(key, session)
            if session_ends is not None:
                await self.end_session(key, session_ends)
        if key is not None:
            await self.leave(key, ticket)

    # -- token binding -------------------------------------------------------------------------------------

    @abstractmethod
    async def bind_token(self, token: str, call_id: str) -> bool:
        """Bind ``token`` to ``call_id`` if it has no binding yet (atomically); False when bound to another."""

    # -- journal -------------------------------------------------------------------------------------------

    @abstractmethod
    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append JSON objects in one round trip, each under the next sequence number, then drop entries beyond
        ``journal_max_entries`` or older than ``journal_ttl``. ``ValueError`` naming the entry when one is not
        JSON or is larger than ``journal_entry_max_bytes``; then nothing of the batch is written."""

    @abstractmethod
    async def read_journal(self, after: int, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` kept entries whose sequence number is above ``after``, oldest first (``after=0``:
        from the oldest kept). Poll with the last number seen to get each entry once."""

    @abstractmethod
    async def journal_tail(self) -> int:
        """The latest sequence number given out (0 when none): a reader starting at "now" reads after it, one
        wanting the last N entries after ``max(0, tail - N)``. A tail below a number a reader saw means the
        journal started again (a ``memory://`` restart, a Redis server that lost its data)."""
