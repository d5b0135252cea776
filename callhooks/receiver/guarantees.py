"""The delivery guarantees around one handler run, on the receiver's store (``callhooks.stores``).

For each accepted event ``Delivery.deliver``: refuses it while shutting down (503), binds a per-call token
to its call id (403 for another call), waits for the event's turn in its call's fair FIFO (``call_turn``),
runs it at most once by its identity (a duplicate of a handled event is not run again, and gets the reply the
first run answered; a delivery whose first run failed with a 5xx or whose worker died runs again), with the
call's session loaded before and saved after. The event's claim and its call's turn are held under a short lease
(``DEFAULT_LEASE``) that a heartbeat renews while the handler runs, so a dead worker's event and its call are free
again within seconds. A store that cannot be reached before the handler is a 503 with a JSON reason: the
platform then delivers to the fallback URL. A store that does not answer is one too, and so is a turn that does
not come: every store call before the handler must answer, and the turn come, by ``busy_margin`` before
``callback_timeout`` from its arrival (``deadline.py``), so the 503 reaches the platform before it gives up.
After the handler the answer is the handler's, whatever the store does: an outcome that cannot be saved is kept
and saved once the store is back (``outcomes.py``). ``app.py`` only calls ``deliver`` and sends what it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple

from starlette.responses import Response

from ..catapult import CATAPULT
from ..identity import IDENTITY_RULE
from ..platform import Event, Platform, event_call_id
from ..stores import (
    Admission,
    SessionValueError,
    Store,
    StoreHealth,
    StoreUnavailable,
    TurnTimeout,
)
from ..stores.leases import keep_alive
from ..stores.memory import MemoryStore
from ..stores.once import claim_when_free
from ..stores.order import take_turn
from ..stores.reply import StoredReply
from .deadline import answer_by, bounded
from .outcomes import UnsavedOutcome, UnsavedOutcomes
from .watchdog import Watchdog

__all__ = [
    "DEFAULT_BUSY_MARGIN_SHARE",
    "DEFAULT_LEASE",
    "DEFAULT_SESSION_END",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "SESSION_FROM",
    "STORE_DEADLINE_SHARE",
    "Delivered",
    "Delivery",
    "DeliveryRefused",
]

logger = logging.getLogger("callhooks")

#: Seconds a call's session is kept after the call completed (recording and transcription events come later).
DEFAULT_SESSION_END: Final = 3600.0
#: Seconds in-flight handlers get to finish at shutdown.
DEFAULT_SHUTDOWN_TIMEOUT: Final = 10.0
#: The callback-context key naming the call whose session a transfer's new leg starts with.
SESSION_FROM: Final = "session_from"
#: Seconds an event's claim and its call's turn are held without renewal: a worker that dies frees them this long
#: after its last heartbeat (every third of it while a handler runs). It must outlast the longest the event loop
#: is held (an async handler that blocks it holds the heartbeat too: ``slow_handler_warning`` names those).
DEFAULT_LEASE: Final = 2.0
#: The default ``busy_margin``, as a share of ``callback_timeout``: the 503 that says "busy" or "store
#: unavailable" goes out this long before the platform stops waiting (2 s of Catapult's 10, 3 s of 15).
DEFAULT_BUSY_MARGIN_SHARE: Final = 0.2
#: The share of ``callback_timeout`` by which a callback's store calls and its turn must have come by default,
#: measured from when it reached the guarantees: 8 s of Catapult's 10 s. A store call after the handler gets at
#: least ``AFTER_HANDLER_SECONDS`` however long the handler ran, and when even then it fails the outcome is kept
#: and saved later (``outcomes.py``).
STORE_DEADLINE_SHARE: Final = 1 - DEFAULT_BUSY_MARGIN_SHARE
AFTER_HANDLER_SECONDS: Final = 1.0

_MAX_ID_LENGTH: Final = 256
#: The record whose first writing says when this identity rule first ran on a store (``Delivery.open``).
RULE_MARKER: Final = f"callhooks:identity-rule:{IDENTITY_RULE}"
#: Written beside RULE_MARKER when the store held no records as the rule first ran on it: no legacy look-ups.
CLEAN_MARKER: Final = RULE_MARKER + ":clean"


class DeliveryRefused(Exception):
    """The event is not run: answer ``status`` with the JSON ``body``."""

    def __init__(self, status: int, error: str, detail: str, **extra: str) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, str] = {"error": error, "detail": detail, **extra}


class Delivered(NamedTuple):
    ran: bool  #: False: a duplicate of a handled event, or no handler matched
    response: Response | None  #: what the handler answered (None: an empty 200)


class Delivery:
    """The guarantees, run on the store ``opener`` opens (the app's: it owns and closes it). ``enabled=False``:
    no guarantees, every delivery runs its handler (only the refusal at shutdown is kept). ``wait``: the
    platform's callback timeout; store calls before the handler answer, and the call's turn comes, ``margin``
    seconds before it (``DEFAULT_BUSY_MARGIN_SHARE`` of it when None), else a 503. ``lease``: seconds a claim
    and a turn are held without a heartbeat. ``platform`` says what an event's identity and call key are, and which
    events end a session."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[Store]],
        *,
        enabled: bool = True,
        wait: float,
        margin: float | None = None,
        session_end: float = DEFAULT_SESSION_END,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        lease: float = DEFAULT_LEASE,
        platform: Platform[Any] = CATAPULT,
    ) -> None:
        margin = wait * DEFAULT_BUSY_MARGIN_SHARE if margin is None else margin
        if not 0 < margin < wait:
            raise ValueError(f"busy_margin must be above 0 and below callback_timeout ({wait:g} s), not {margin:g}")
        if lease <= 0:
            raise ValueError(f"lease must be positive (seconds), not {lease:g}")
        self._opener = opener
        self.platform = platform
        self.enabled = enabled
        self.wait = wait
        self.store_deadline = wait - margin
        self.session_end = session_end
        self.shutdown_timeout = shutdown_timeout
        self.lease = lease
        self.unsaved = UnsavedOutcomes()  # outcomes of runs the store could not take: saved once it is back
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.closing = False
        self._store: Store | None = None
        #: Until when (seconds since the epoch) the store may hold records under the platform's legacy identity.
        self.legacy_until = 0.0
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        self._opening: asyncio.Lock | None = None
        self._watchdog = Watchdog()  # renews the leases of admitted runs that outlast a third of the lease

    @property
    def in_flight(self) -> int:
        """Callbacks inside ``deliver`` now (waiting for their turn, or running)."""
        return self._in_flight

    async def open(self) -> Store:
        """The store, opened once (``StoreUnavailable`` in one line when it cannot be)."""
        if self._store is not None:
            return self._store
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._store is None:
                store = await self._opener()
                self.legacy_until = await self._legacy_window(store)
                self._store = store
            return self._store

    async def _legacy_window(self, store: Store) -> float:
        """Until when ``store`` may hold records an earlier version wrote under the platform's legacy identity
        rule: a record's life (``record_ttl``) after this rule first ran on it, which a marker record says (its
        lease end, kept as it was first written); 0 when it can hold none. A marker that expired (no receiver
        opened the store for a day) is written again: the window opens once more, which costs a look-up per
        event for a day and never misses a record."""
        if not self.enabled or self.platform.legacy_identity is None or not store.records_outlive_process:
            return 0.0
        claim = await store.claim(RULE_MARKER, self.owner, self.lease)  # done already: its life is pushed on
        if claim.status == "acquired":
            # The rule's first run here: a store holding no records (a new one) holds none under the old rule,
            # which a second marker says to every receiver opening it later.
            clean = not await store.holds_records(besides=RULE_MARKER)
            if clean and (await store.claim(CLEAN_MARKER, self.owner, self.lease)).status == "acquired":
                await store.finish(CLEAN_MARKER, self.owner, ok=True)
            await store.finish(RULE_MARKER, self.owner, ok=True)
        else:
            clean = await self._clean_marker(store)
        if clean:
            return 0.0
        marker = await store.record(RULE_MARKER)
        first_ran = marker.lease_until - self.lease if marker is not None else time.time()
        return first_ran + store.limits.record_ttl

    async def _clean_marker(self, store: Store) -> bool:
        """Whether the receiver that first ran this rule on ``store`` found it holding no records; waits (a lease
        at most) while that receiver, another worker starting beside this one, is still looking."""
        deadline = time.monotonic() + self.lease
        while True:
            marker = await store.record(RULE_MARKER)
            if marker is None or marker.state != "running" or time.monotonic() >= deadline:
                return await store.record(CLEAN_MARKER) is not None
            await asyncio.sleep(0.05)

    async def start(self) -> None:
        """Lifespan start-up: accept callbacks again and open the store."""
        self.closing = False
        self._store = None  # the app may have closed the one of an earlier run
        if self.enabled:
            await self.open()

    async def close(self) -> None:
        """Lifespan shutdown: refuse new callbacks (503) and let in-flight ones finish (up to
        ``shutdown_timeout``); the app closes the store afterwards."""
        self.closing = True
        if self._in_flight:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), self.shutdown_timeout)
            except asyncio.TimeoutError:
                logger.warning(
                    "shutdown: %d callbacks still running after %g s", self._in_flight, self.shutdown_timeout
                )
        await self.unsaved.close(self.shutdown_timeout)
        self._store = None

    async def health(self) -> StoreHealth:
        """The store's health (opening it when needed); never raises."""
        if self.closing:
            return StoreHealth(False, "receiver", "shutting down")
        if not self.enabled:
            return StoreHealth(True, "none", "ok")
        try:
            store = await self.open()
        except StoreUnavailable as exc:
            return StoreHealth(False, exc.backend, exc.reason)
        return await store.health()

    async def deliver(
        self,
        event: Event,
        bound_token: str | None,
        run: Callable[[], Awaitable[Response | None]] | None,
    ) -> Delivered:
        """Run ``run`` (the matched handler, answering its response) under the guarantees; ``None``: no handler.
        ``DeliveryRefused`` when the event must not run now (403, 503)."""
        if self.closing:
            raise DeliveryRefused(503, "shutting-down", "this receiver is shutting down; deliver to the fallback URL")
        self._in_flight += 1
        try:
            if not self.enabled:
                return Delivered(run is not None, None if run is None else await run())
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.store_deadline
            store = self._store
            if store is None:
                store = await answer_by(self.open(), deadline, "store")
            call_id = event_call_id(event)
            identity = self.platform.identity(event) if run is not None else None
            if identity is not None and self.legacy_until and time.time() < self.legacy_until:
                earlier = await self._handled_under_legacy_rule(store, event, identity, deadline)
                if earlier is not None:
                    return earlier
            if identity is not None and self.unsaved:  # a duplicate of a run whose outcome waits in this worker
                waiting = self.unsaved.get(identity)
                if waiting is not None and waiting.ok:
                    return Delivered(False, _replayed(waiting.reply))
            if identity is not None and run is not None and _parent_session(event) is None:
                # The usual case in two trips to the store (``Store.admit`` before the handler, ``settle`` after)
                # instead of the seven below: on memory:// 125 -> 50 us, on SQLite 7 -> 2 transactions and
                # 1.7 -> 0.9 ms, on Redis 7 -> 2 round trips (benchmarks/stores_micro.py, "callback" rows).
                # Anything unusual (someone queued ahead, a transfer's first event) takes the steps. memory://
                # answers at once: called directly, without a coroutine or a deadline around it.
                admission = Admission(
                    identity, self.owner, self.lease, self.platform.call_key(event), bound_token, call_id
                )
                if type(store) is MemoryStore:
                    admitted = store.admit_now(admission)
                else:
                    admitted = await answer_by(store.admit(admission), deadline, store.backend)
                verdict = admitted.verdict
                if verdict == "run":
                    return await self._run_admitted(store, event, admission, admitted.ticket, admitted.session, run)
                if verdict == "duplicate":
                    return Delivered(False, _replayed(admitted.reply))
                if verdict == "forbidden":
                    raise _bound_elsewhere()
            # The steps one by one, each store call under the deadline.
            steps = bounded(store, deadline)
            if bound_token is not None and call_id is not None and not await steps.bind_token(bound_token, call_id):
                raise _bound_elsewhere()
            if identity is None or run is None:
                return Delivered(False, None)
            known = await steps.record(identity)  # a read: a late duplicate is answered without queueing
            if known is not None and known.state == "done":
                return Delivered(False, _replayed(known.reply))
            admission = Admission(identity, self.owner, self.lease, self.platform.call_key(event), bound_token, call_id)
            taken = await self._take(steps, event, admission, deadline)
            if isinstance(taken, Delivered):
                return taken
            ticket, loaded = taken
            return await self._run_admitted(store, event, admission, ticket, loaded, run)
        except StoreUnavailable as exc:
            logger.error("callback refused: %s", exc)
            raise DeliveryRefused(503, "store-unavailable", str(exc), backend=exc.backend) from None
        except TurnTimeout as exc:
            raise DeliveryRefused(503, "busy", str(exc)) from None
        except DeliveryRefused:
            raise
        except Exception as exc:
            # Handlers' exceptions never get here (they are answered as a 500 by the app), so this is the store
            # raising something unforeseen: a value it holds that this version cannot read, or a bug. Still a 503
            # that names it, which the platform retries, never the server's plain-text 500; the traceback goes to
            # the log, not to whoever sent the request.
            backend = getattr(self._store, "backend", "unknown")
            logger.exception("callback refused: the %s store failed", backend)
            detail = f"the {backend} store failed: {type(exc).__name__} (the receiver's log has the details)"
            raise DeliveryRefused(503, "store-error", detail, backend=backend) from None
        finally:
            self._in_flight -= 1
            if self._idle is not None and not self._in_flight:
                self._idle.set()

    async def _handled_under_legacy_rule(
        self, store: Store, event: Event, identity: str, deadline: float
    ) -> Delivered | None:
        """The duplicate's answer when an earlier version handled the event (a record under the legacy identity);
        a 503 while one of its workers runs it; else None: the event is new to both rules."""
        legacy_identity = self.platform.legacy_identity
        legacy = legacy_identity(event) if legacy_identity is not None else identity
        if legacy == identity:
            return None
        known = await answer_by(store.record(legacy), deadline, store.backend)
        if known is None:
            return None
        if known.state == "done":
            return Delivered(False, _replayed(known.reply))
        if known.state == "running" and known.lease_until > time.time():
            raise DeliveryRefused(503, "busy", "a worker of an earlier version is handling this event")
        return None

    async def _take(
        self, steps: Store, event: Event, admission: Admission, deadline: float
    ) -> tuple[int, dict[str, Any]] | Delivered:
        """What ``Store.admit`` does in one trip, step by step (``steps``: the store under the deadline): wait for
        the call's turn, claim the event (waiting while another worker runs it) and load the call's session. The
        ticket and the session, or the duplicate's answer when the event was handled meanwhile."""
        key, identity = admission.call_key, admission.identity
        ticket = 0
        if key is not None:
            ticket = await take_turn(steps, key, lease=self.lease, timeout=_left(deadline))
        claimed = False
        try:
            async with contextlib.AsyncExitStack() as holding:
                if key is not None:  # the ticket is held while waiting for another worker's run to end
                    await holding.enter_async_context(
                        keep_alive(lambda: steps.turn(key, ticket, self.lease), self.lease / 3)
                    )
                claim = await claim_when_free(steps, identity, owner=self.owner, lease=self.lease, wait=_left(deadline))
            if claim.status == "duplicate":
                if key is not None:
                    await steps.leave(key, ticket)
                known = await steps.record(identity)
                return Delivered(False, _replayed(known.reply if known is not None else None))
            claimed = True
            loaded: dict[str, Any] = {}
            if key is not None:
                loaded = await steps.load_session(key)
                parent = _parent_session(event)
                if not loaded and parent is not None and await steps.copy_session(parent, key):
                    loaded = await steps.load_session(key)
        except BaseException as exc:
            with contextlib.suppress(Exception):  # give back what was taken; the leases free it otherwise
                if claimed:
                    await steps.settle(admission, ticket, ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
                elif key is not None:
                    await steps.leave(key, ticket)
            raise
        return ticket, loaded

    async def _run_admitted(
        self,
        store: Store,
        event: Event,
        admission: Admission,
        ticket: int,
        loaded: dict[str, Any],
        run: Callable[[], Awaitable[Response | None]],
    ) -> Delivered:
        """Run an event claimed and at the head of its call's queue (``ticket``), with the call's ``loaded``
        session, under the heartbeat; then ``settle`` it in one trip. The answer is the handler's whatever the
        store does: an outcome the store does not take in time is kept and saved later (``outcomes.py``)."""
        key = admission.call_key
        if key is not None:
            event.with_session(copy.deepcopy(loaded) if loaded else {})
        renewal = _Renewal(store, admission, ticket)
        alarm = self._watchdog.arm(self.lease / 3, renewal.due, self.lease / 3)
        try:
            response = await run()  # the handler's time is its own: the deadline binds the store calls only
        except BaseException as exc:
            alarm.cancel()
            await renewal.stop()
            await self._settle(store, admission, ticket, ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        alarm.cancel()
        if renewal.task is not None:
            await renewal.stop()
        if response is not None and response.status_code >= 500:
            await self._settle(store, admission, ticket, ok=False, error=f"the handler answered {response.status_code}")
            return Delivered(True, response)
        session = event.session if key is not None and event.session != loaded else None
        ends = self.session_end if key is not None and self.platform.ends_session(event) else None
        reply = _kept_reply(response, store.limits.reply_max_bytes, admission.identity)
        try:
            await self._settle(store, admission, ticket, ok=True, session=session, session_ends=ends, reply=reply)
        except SessionValueError as exc:
            await self._settle(store, admission, ticket, ok=False, error=str(exc)[:500])
            return Delivered(True, self._session_not_saved(key, event, exc))
        return Delivered(True, response)

    async def _settle(
        self,
        store: Store,
        admission: Admission,
        ticket: int,
        *,
        ok: bool,
        error: str | None = None,
        session: dict[str, Any] | None = None,
        session_ends: float | None = None,
        reply: StoredReply | None = None,
    ) -> None:
        """``Store.settle`` within ``AFTER_HANDLER_SECONDS``; when the store does not take it, keep the outcome
        to save later (``SessionValueError`` still raises: nothing was written)."""
        if type(store) is MemoryStore:  # it answers at once
            store.settle_now(admission, ticket, ok, error, session, session_ends, reply)
            return
        settled = store.settle(
            admission, ticket, ok=ok, error=error, session=session, session_ends=session_ends, reply=reply
        )
        loop = asyncio.get_running_loop()
        try:
            await answer_by(settled, loop.time() + AFTER_HANDLER_SECONDS, store.backend)
        except StoreUnavailable as exc:
            since = loop.time()
            outcome = UnsavedOutcome(store, admission, ticket, ok, error, session, session_ends, reply, since)
            self.unsaved.keep(outcome, exc)

    def _session_not_saved(self, key: str | None, event: Event, exc: SessionValueError) -> Response:
        logger.error("session of %s not saved after event %s: %s", key, event.event_type, exc)
        body = json.dumps({"error": "session-not-json", "detail": str(exc), "key": exc.key})
        return Response(body, status_code=500, media_type="application/json")


class _Renewal:
    """Keeps an admitted run's claim and queue ticket while its handler runs longer than a third of the lease:
    the watchdog calls ``due`` then, and every third of the lease after; at most one renewal runs at a time."""

    __slots__ = ("admission", "store", "task", "ticket")

    def __init__(self, store: Store, admission: Admission, ticket: int) -> None:
        self.store = store
        self.admission = admission
        self.ticket = ticket
        self.task: asyncio.Task[None] | None = None

    def due(self, every: float) -> float:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._renew())
        return every

    async def _renew(self) -> None:
        admission = self.admission
        try:
            await self.store.renew(admission.identity, admission.owner, admission.lease)
            if admission.call_key is not None:
                await self.store.turn(admission.call_key, self.ticket, admission.lease)
        except Exception:  # retried at the next alarm; the lease has two more thirds to go
            logger.debug("lease renewal of %s failed", admission.identity, exc_info=True)

    async def stop(self) -> None:
        """Cancel a renewal still running (the run is over: ``settle`` writes the outcome)."""
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _left(deadline: float) -> float:
    """Seconds from now to ``deadline`` (the event loop's time), at least 0."""
    return max(0.0, deadline - asyncio.get_running_loop().time())


def _kept_reply(response: Response | None, most: int, identity: str) -> StoredReply | None:
    """What a duplicate of the event is to get back: the response's status, content type and body (None: an
    empty 200, or a body not kept: streamed, or over ``most`` bytes)."""
    if response is None:
        return None
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return None
    if len(body) > most:
        logger.warning(
            "reply to event %s not kept for duplicates: %d bytes, over the store's reply_max_bytes (%d); a "
            "duplicate gets an empty 200",
            identity,
            len(body),
            most,
        )
        return None
    return StoredReply(response.status_code, response.headers.get("content-type"), body)


def _replayed(reply: StoredReply | None) -> Response | None:
    """The kept reply as a response to send a duplicate (None: an empty 200)."""
    if reply is None:
        return None
    headers = {"content-type": reply.media_type} if reply.media_type is not None else None
    return Response(reply.body, status_code=reply.status, headers=headers)


def _bound_elsewhere() -> DeliveryRefused:
    return DeliveryRefused(
        403, "forbidden", "this callback URL was made for another call", reason="token-bound-to-another-call"
    )


def _parent_session(event: Event) -> str | None:
    """The session key a transfer's new leg starts from: the call named by ``session_from`` in its context."""
    parent = event.context.get(SESSION_FROM)
    if isinstance(parent, str) and 0 < len(parent) <= _MAX_ID_LENGTH and parent != event_call_id(event):
        return f"call:{parent}"
    return None
