"""The delivery guarantees around one handler run, on the receiver's store (``callhooks.stores``).

For each accepted event ``Delivery.deliver``: refuses it while shutting down (503), binds a per-call token
to its call id (403 for another call), waits for the event's turn in its call's fair FIFO (``call_turn``),
runs it at most once by its identity (``run_once``: a duplicate of a handled event is not run again; a
delivery whose first run failed with a 5xx or whose worker died runs again), with the call's session loaded
before and saved after. A store that cannot be reached is a 503 with a JSON reason: the platform then
delivers to the fallback URL. A store that does not answer is one too: every store call a callback makes must
answer within ``STORE_DEADLINE_SHARE`` of ``callback_timeout`` from its arrival (``deadline.py``), so the 503
goes out before the platform gives up. ``app.py`` only calls ``deliver`` and sends what it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple

from starlette.responses import Response

from .catapult import CATAPULT
from .deadline import Deadline, answer_by, bounded
from .platform import Event, Platform, event_call_id
from .stores import (
    Admission,
    Admitted,
    SessionValueError,
    Store,
    StoreHealth,
    StoreUnavailable,
    TurnTimeout,
    call_turn,
    run_once,
)
from .watchdog import Watchdog

__all__ = [
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
#: The share of ``callback_timeout`` (the platform's wait) by which a callback's store calls must have answered,
#: measured from when it reached the guarantees: 8 s of Catapult's 10 s. A store call after the handler gets at
#: least ``AFTER_HANDLER_SECONDS`` however long the handler ran, so a slow handler is not answered 503 for it.
STORE_DEADLINE_SHARE: Final = 0.8
AFTER_HANDLER_SECONDS: Final = 1.0

_MAX_ID_LENGTH: Final = 256


class DeliveryRefused(Exception):
    """The event is not run: answer ``status`` with the JSON ``body``."""

    def __init__(self, status: int, error: str, detail: str, **extra: str) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, str] = {"error": error, "detail": detail, **extra}


class Delivered(NamedTuple):
    ran: bool  #: False: a duplicate of a handled event, or no handler matched
    response: Response | None  #: what the handler answered (None: an empty 200)


class _Failed(Exception):
    """The run failed (5xx): its record says failed, so the platform's next delivery runs it again."""

    def __init__(self, response: Response) -> None:
        self.response = response


class Delivery:
    """The guarantees, run on the store ``opener`` opens (the app's: it owns and closes it). ``enabled=False``:
    no guarantees, every delivery runs its handler (only the refusal at shutdown is kept). ``wait``: the
    platform's callback timeout; store calls answer within ``STORE_DEADLINE_SHARE`` of it, else a 503.
    ``platform`` says what an event's identity and call key are, and which events end a session."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[Store]],
        *,
        enabled: bool = True,
        wait: float,
        session_end: float = DEFAULT_SESSION_END,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        lease: float = 30.0,
        platform: Platform[Any] = CATAPULT,
    ) -> None:
        self._opener = opener
        self.platform = platform
        self.enabled = enabled
        self.wait = wait
        self.store_deadline = wait * STORE_DEADLINE_SHARE
        self.session_end = session_end
        self.shutdown_timeout = shutdown_timeout
        self.lease = lease
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.closing = False
        self._store: Store | None = None
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
                self._store = await self._opener()
            return self._store

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
            deadline = asyncio.get_running_loop().time() + self.store_deadline
            store = self._store
            if store is None:
                store = await answer_by(self.open(), deadline, "store")
            call_id = event_call_id(event)
            identity: str | None = None
            if run is not None and _parent_session(event) is None:
                # The usual case in two trips to the store (``Store.admit`` before the handler, ``settle`` after)
                # instead of the seven below: on memory:// 125 -> 50 us, on SQLite 7 -> 2 transactions and
                # 1.7 -> 0.9 ms, on Redis 7 -> 2 round trips (benchmarks/stores_micro.py, "callback" rows).
                # Anything unusual (someone queued ahead, a transfer's first event) takes the steps.
                identity = self.platform.identity(event)
                admission = Admission(
                    identity, self.owner, self.lease, self.platform.call_key(event), bound_token, call_id
                )
                admitted = await answer_by(store.admit(admission), deadline, store.backend)
                if admitted.verdict == "run":
                    return await self._run_admitted(store, event, admission, admitted, run, deadline)
                if admitted.verdict == "duplicate":
                    return Delivered(False, None)
                if admitted.verdict == "forbidden":
                    raise _bound_elsewhere()
            # The steps one by one, each store call under the deadline (paused while the handler runs).
            until = Deadline(deadline)
            store = bounded(store, until)
            if bound_token is not None and call_id is not None and not await store.bind_token(bound_token, call_id):
                raise _bound_elsewhere()
            if run is None:
                return Delivered(False, None)
            identity = identity or self.platform.identity(event)  # computed once, also when admit sent us here
            known = await store.record(identity)  # a read: a late duplicate is answered without queueing
            if known is not None and known.state == "done":
                return Delivered(False, None)
            key = self.platform.call_key(event)
            if key is None:
                return await self._once(store, event, identity, None, run, until)
            async with call_turn(store, key, lease=self.lease, timeout=_left(deadline)):
                return await self._once(store, event, identity, key, run, until)
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

    async def _run_admitted(
        self,
        store: Store,
        event: Event,
        admission: Admission,
        admitted: Admitted,
        run: Callable[[], Awaitable[Response | None]],
        deadline: float,
    ) -> Delivered:
        """Run an event ``Store.admit`` claimed and put at the head of its call's queue, then ``settle`` it: what
        ``call_turn``, ``run_once`` and ``_run`` do step by step, in one trip after the handler."""
        key, ticket, backend = admission.call_key, admitted.ticket, store.backend
        loaded = admitted.session
        if key is not None:
            event.with_session(copy.deepcopy(loaded) if loaded else {})
        renewal = _Renewal(store, admission, ticket)
        alarm = self._watchdog.arm(self.lease / 3, renewal.due, self.lease / 3)
        try:
            response = await run()  # the handler's time is its own: the deadline binds the store calls only
        except BaseException as exc:
            alarm.cancel()
            await renewal.stop()
            error = f"{type(exc).__name__}: {exc}"[:500]
            await answer_by(store.settle(admission, ticket, ok=False, error=error), _after_handler(deadline), backend)
            raise
        alarm.cancel()
        if renewal.task is not None:
            await renewal.stop()
        settle_by = _after_handler(deadline)
        if response is not None and response.status_code >= 500:
            error = f"the handler answered {response.status_code}"
            await answer_by(store.settle(admission, ticket, ok=False, error=error), settle_by, backend)
            return Delivered(True, response)
        session = event.session if key is not None and event.session != loaded else None
        ends = self.session_end if key is not None and self.platform.ends_session(event) else None
        try:
            settled = store.settle(admission, ticket, ok=True, session=session, session_ends=ends)
            await answer_by(settled, settle_by, backend)
        except SessionValueError as exc:
            await answer_by(store.settle(admission, ticket, ok=False, error=str(exc)[:500]), settle_by, backend)
            return Delivered(True, self._session_not_saved(key, event, exc))
        return Delivered(True, response)

    def _session_not_saved(self, key: str | None, event: Event, exc: SessionValueError) -> Response:
        logger.error("session of %s not saved after event %s: %s", key, event.event_type, exc)
        body = json.dumps({"error": "session-not-json", "detail": str(exc), "key": exc.key})
        return Response(body, status_code=500, media_type="application/json")

    async def _once(
        self,
        store: Store,
        event: Event,
        identity: str,
        key: str | None,
        run: Callable[[], Awaitable[Response | None]],
        until: Deadline,
    ) -> Delivered:
        try:
            once = await run_once(
                store,
                identity,
                lambda: self._run(store, event, key, run, until),
                owner=self.owner,
                lease=self.lease,
                wait=_left(until.at),
            )
        except _Failed as failed:
            return Delivered(True, failed.response)
        return Delivered(once.ran, once.value)

    async def _run(
        self,
        store: Store,
        event: Event,
        key: str | None,
        run: Callable[[], Awaitable[Response | None]],
        until: Deadline,
    ) -> Response | None:
        loaded: dict[str, Any] = {}
        if key is not None:
            loaded = await store.load_session(key)
            parent = _parent_session(event)
            if not loaded and parent is not None and await store.copy_session(parent, key):
                loaded = await store.load_session(key)
            event.with_session(copy.deepcopy(loaded) if loaded else {})
        deadline, until.at = until.at, None  # the handler's time is its own, and its lease renewals' too
        try:
            response = await run()
        finally:
            until.at = _after_handler(deadline)
        if response is not None and response.status_code >= 500:
            raise _Failed(response)
        if key is not None:
            try:
                if event.session != loaded:
                    await store.save_session(key, event.session)
            except SessionValueError as exc:
                raise _Failed(self._session_not_saved(key, event, exc)) from None
            if self.platform.ends_session(event):
                await store.end_session(key, self.session_end)
        return response


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


def _left(deadline: float | None) -> float:
    """Seconds from now to ``deadline`` (the event loop's time), at least 0."""
    return 0.0 if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())


def _after_handler(deadline: float | None) -> float:
    """The deadline of the store calls after a handler ran: the callback's, or ``AFTER_HANDLER_SECONDS`` from
    now when the handler used it up."""
    floor = asyncio.get_running_loop().time() + AFTER_HANDLER_SECONDS
    return floor if deadline is None else max(deadline, floor)


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
