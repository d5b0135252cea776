"""Background handlers: events queued durably before the 200, run by a worker the app's lifespan owns.

``@hooks.on("recording", background=True)`` makes the receiver write the event to its store's durable queue
(``Store.enqueue``) and answer 200 once that write is done; the ``BackgroundWorker`` started at start-up takes
items from the queue and runs the handler. Items survive a crash or restart with a durable store (SQLite,
Redis): queued ones are taken on start-up, one that was running when its worker died once its lease runs out.
A failing run is retried with backoff (``BackgroundRetry``), then kept as a failed event with its error, which
``FailedEvents`` (and ``callhooks failed ...``) lists, shows, replays and drops. The same failed events hold the
callbacks the receiver answered 5xx (``failed_callbacks.py``); replayed, they run here too, through the guarantees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..catapult import CATAPULT
from ..platform import Delivery, Event, event_call_id
from ..stores import BackgroundRetry, FailedEvent, Store, process_due_items
from .monitoring import Monitor

__all__ = [
    "BACKGROUND_PAYLOAD_KIND",
    "CALLBACK_PAYLOAD_KIND",
    "BackgroundSettings",
    "BackgroundWorker",
    "FailedEvents",
    "QueuedEvent",
    "queued_event",
]

logger = logging.getLogger("callhooks.background")

#: Marks a durable-queue item written by the receiver (the queue could hold other kinds later).
BACKGROUND_PAYLOAD_KIND: Final = "callhooks.event"
#: Marks a callback the receiver answered 5xx (``failed_callbacks.py``): replayed, it runs its handler again.
CALLBACK_PAYLOAD_KIND: Final = "callhooks.callback"


@dataclass(frozen=True)
class BackgroundSettings:
    """How background handlers run: ``CallHooks(background=BackgroundSettings(...))``.

    ``retry``: runs in all and backoff between them, then the event is kept as a failed event. ``lease``:
    seconds an item stays taken without a renewal (renewed every third of it while the handler runs); an item
    whose worker died runs again once it passed. ``poll_interval``: seconds between looks for items that other
    processes queued or whose retry came due (items queued by this process start at once). ``stop_timeout``:
    seconds the running handler gets to finish at shutdown (then it is cancelled; its item runs again later
    from a durable store). ``concurrency``: items run at once in each process.
    """

    retry: BackgroundRetry = field(default_factory=BackgroundRetry)
    lease: float = 30.0
    poll_interval: float = 1.0
    stop_timeout: float = 10.0
    concurrency: int = 1

    def __post_init__(self) -> None:
        for name in ("lease", "poll_interval", "stop_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"BackgroundSettings.{name} must be positive (seconds)")
        if self.concurrency < 1:
            raise ValueError("BackgroundSettings.concurrency must be at least 1")
        if self.retry.max_attempts < 1:
            raise ValueError("BackgroundSettings.retry: BackgroundRetry.max_attempts must be at least 1")


@dataclass(frozen=True)
class QueuedEvent:
    """One background item as the queue holds it: the event and what the request told about it."""

    event: Event  #: with the verified callback-URL context attached
    method: str  #: "GET" or "POST", as it was delivered
    received_at: float  #: seconds since the epoch when the request arrived
    handler: str  #: qualified name of the handler it was queued for
    kind: str = BACKGROUND_PAYLOAD_KIND  #: ``CALLBACK_PAYLOAD_KIND``: a failed callback replayed


def queued_event(
    event: Event, *, method: str, received_at: float, handler: str, platform: str = CATAPULT.name
) -> dict[str, Any]:
    """The JSON payload written to the durable queue for ``event`` of ``platform`` (read back by ``read_queued``).
    The kind and tag its URL named (Twilio's: not among its fields) are kept beside its fields."""
    payload = {
        "kind": BACKGROUND_PAYLOAD_KIND,
        "fields": _wire_fields(event),
        "method": method,
        "context": dict(event.context),
        "received_at": received_at,
        "handler": handler,
    }
    if platform != CATAPULT.name:
        payload["platform"] = platform
        payload["route"] = {"kind": event.event_route_type, "tag": event.tag}
    return payload


def _wire_fields(event: Event) -> dict[str, Any]:
    # Wire names, JSON types, only the fields it had: what the platform sent (``events.wire_fields``).
    dump: Any = getattr(event, "model_dump")  # every platform's event is a pydantic model  # noqa: B009
    fields: dict[str, Any] = dump(mode="json", by_alias=True, exclude_unset=True)
    return fields


def read_queued(payload: Mapping[str, Any]) -> QueuedEvent:
    """The event a payload holds; ``ValueError`` when it is not one ``queued_event`` wrote."""
    kind = payload.get("kind")
    if kind not in (BACKGROUND_PAYLOAD_KIND, CALLBACK_PAYLOAD_KIND) or not isinstance(payload.get("fields"), dict):
        raise ValueError(f"not a queued callhooks event (kind {payload.get('kind')!r})")
    context = payload.get("context") or {}
    platform = CATAPULT
    if "platform" in payload:
        from .receiving import receiving_class  # receiving imports the app's pieces, this among them

        platform = receiving_class(str(payload["platform"])).platform
    route: dict[str, Any] = payload["route"] if isinstance(payload.get("route"), dict) else {}
    event: Event = platform.parse(Delivery(payload["fields"], kind=route.get("kind"), tag=route.get("tag")))
    return QueuedEvent(
        event.with_context(context) if context else event,
        str(payload.get("method", "POST")),
        float(payload.get("received_at", 0.0)),
        str(payload.get("handler", "?")),
        str(kind),
    )


def _consumer_name() -> str:
    # Unique per worker task life: a restarted process must not look like the one that died holding items.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class BackgroundWorker:
    """Runs queued background events with ``run_event`` until stopped; one per app per process.

    ``start`` launches ``settings.concurrency`` tasks on the running loop; ``wake`` makes them look at the queue
    now (the receiver calls it after each enqueue); ``stop`` lets running handlers finish within
    ``settings.stop_timeout``. With ``memory://`` (which dies with the process) ``stop`` also runs what is still
    queued, within the same timeout, since nothing else ever would.
    """

    def __init__(
        self,
        store: Store,
        run_event: Callable[[QueuedEvent], Awaitable[object]],
        settings: BackgroundSettings | None = None,
        monitor: Monitor | None = None,
    ) -> None:
        self.store = store
        #: Hears ``background_retried``/``background_failed`` (the app's observation channel: the metrics count them)
        self.monitor = monitor
        self.run_event = run_event
        self.settings = settings or BackgroundSettings()
        self.consumer = _consumer_name()
        self._wake = asyncio.Event()
        self._stopping = False
        self._draining = False
        self._queue_down = False  # the last look at the queue failed (logged once until it works again)
        self._tasks: list[asyncio.Task[None]] = []
        self.handled = 0  #: items this worker took (handled, retried or failed), for tests and metrics

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"callhooks-background-{n}")
            for n in range(self.settings.concurrency)
        ]

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop taking items (after draining ``memory://``); cancel what still runs after ``stop_timeout``."""
        self._draining = self.store.backend == "memory"
        self._stopping = True
        self._wake.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=self.settings.stop_timeout)
        if pending:
            logger.warning(
                "background handlers still running after %.1f s at shutdown were cancelled; their events stay "
                "queued and run again once their lease (%.1f s) runs out (with a durable store)",
                self.settings.stop_timeout,
                self.settings.lease,
            )
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
        self._tasks = []
        if self._draining:
            with contextlib.suppress(Exception):
                left = await self.store.queue_size()
                if left:
                    logger.warning(
                        "%d background events (waiting for a retry, or cancelled) are lost with memory://; "
                        "use a sqlite:/// or redis:// store to keep them across restarts",
                        left,
                    )

    async def _loop(self) -> None:
        while True:
            if self._stopping and not self._draining:
                return
            try:
                took = await process_due_items(
                    self.store,
                    self.consumer,
                    self._handle,
                    policy=self.settings.retry,
                    lease=self.settings.lease,
                    limit=1,  # one at a time per task: the rest stays queued for any worker to take
                    on_failed_run=self._failed_run if self.monitor is not None else None,
                )
            except Exception as exc:  # the store is down: keep the items, try again after a pause
                # Once per outage at WARNING (every receiver runs a worker: one line a second would drown the log).
                level = logging.DEBUG if self._queue_down else logging.WARNING
                logger.log(
                    level, "background queue unavailable, retrying every %.1f s: %s", self.settings.poll_interval, exc
                )
                self._queue_down = True
                took = 0
                if self._stopping:
                    return
            else:
                if self._queue_down:
                    logger.info("background queue available again")
                    self._queue_down = False
            self.handled += took
            if took:
                continue
            if self._stopping:
                return  # drained: nothing left that is due
            self._wake.clear()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    def _failed_run(self, payload: dict[str, Any], error: str, given_up: bool) -> None:
        if self.monitor is None:
            return
        try:
            queued = read_queued(payload)
        except ValueError:  # not an event: the receiver's monitors have nothing to say about it
            return
        if given_up:
            self.monitor.background_failed(queued.event, queued.handler, error)
        else:
            self.monitor.background_retried(queued.event, queued.handler, error)

    async def _handle(self, payload: dict[str, Any]) -> None:
        queued = read_queued(payload)
        try:
            await self.run_event(queued)
        except Exception as exc:
            # One line per failed run; the retry or the move to the failed events follows (stores.retry).
            logger.warning(
                "background handler %s failed for call %s event %s: %s: %s",
                queued.handler,
                event_call_id(queued.event),
                queued.event.event_type,
                type(exc).__name__,
                exc,
            )
            raise


class FailedEvents:
    """Background events that failed every run, and callbacks answered 5xx, kept with their error: list, show,
    replay, drop.

    ``hooks.failed_events`` (once the app's store is open) or ``FailedEvents(await open_store(url))``.
    """

    def __init__(self, store: Store, on_queued: Callable[[], object] | None = None) -> None:
        self.store = store
        self.on_queued = on_queued  #: told when ``replay`` queued an event (the app wakes its worker)

    async def list(self, limit: int = 100) -> list[FailedEvent]:
        """Newest first."""
        return await self.store.list_failed(limit)

    async def show(self, failed_id: str) -> FailedEvent | None:
        return await self.store.get_failed(failed_id)

    async def replay(self, failed_id: str) -> str | None:
        """Queue the event again (its attempts start over); the new item's id, or None when there is no such
        failed event. A running receiver's worker picks it up at once when replayed through its app
        (``hooks.failed_events``), otherwise within its ``poll_interval``."""
        item_id = await self.store.replay_failed(failed_id)
        if item_id is not None and self.on_queued is not None:
            self.on_queued()
        return item_id

    async def drop(self, failed_id: str) -> bool:
        """Forget the failed event; False when there was none."""
        return await self.store.drop_failed(failed_id)


def describe_failed(failed: FailedEvent) -> dict[str, Any]:
    """A failed event as JSON for people: id, kind (``background`` or ``callback``), error, attempts, when, and the
    queued event's fields (a callback's also the status and reason it was answered)."""
    kind = "callback" if failed.payload.get("kind") == CALLBACK_PAYLOAD_KIND else "background"
    answered: dict[str, Any] = {key: failed.payload[key] for key in ("status", "reason") if key in failed.payload}
    return {
        "id": failed.id,
        "kind": kind,
        **answered,
        "error": failed.error,
        "attempts": failed.attempts,
        "failed_at": failed.failed_at,
        **{key: failed.payload.get(key) for key in ("handler", "method", "received_at", "context", "fields")},
    }
