"""Prometheus metrics of a receiver: ``CallHooks(metrics=True)`` serves them at ``<receiver path>/metrics``.

``CallbackMetrics`` is a ``Monitor``: it counts what the receiver tells it (callbacks answered, rejections,
handler runs, background retries and failures) into prometheus-client metrics held by a registry of its own,
so several apps in one process (tests) keep their own figures. The background queue's depth is read from the
store when scraped, and the outcomes kept through a store outage (``outcomes.py``) from the receiver. Under
``PROMETHEUS_MULTIPROC_DIR`` (several uvicorn workers) prometheus-client writes every process's values to files
there, and a scrape, whichever worker answers it, adds them up (``MultiProcessCollector``): see
docs/guides/metrics-logs.md, "Several workers".
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.types import ASGIApp, Receive, Scope, Send

from .catapult import CATAPULT
from .platform import Platform
from .receiver.gate import BasicAuthGate
from .receiver.monitoring import Dispatched, Monitor, Rejection
from .receiver.outcomes import UnsavedOutcomes
from .signing import validate_basic_auth
from .stores import Store

if TYPE_CHECKING:
    from .app import CallHooks
    from .receiver.failed_callbacks import FailedCallbacks

try:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
        multiprocess,
        values,
    )
except ImportError:  # pragma: no cover - depends on the install
    raise ImportError(
        "callhooks: metrics=True (CALLHOOKS_METRICS=1) needs prometheus-client: pip install 'callhooks[metrics]'"
    ) from None

__all__ = ["METRICS_ENDPOINT", "CallbackMetrics", "MetricsEndpoint", "multiprocess_dir", "serve_metrics"]

logger = logging.getLogger("callhooks")

#: The path segment the metrics are served at, below the receiver's path.
METRICS_ENDPOINT: Final = "metrics"
#: Seconds a scrape waits for the store to say how long the background queue is; then the gauge keeps its value.
QUEUE_SIZE_TIMEOUT: Final = 2.0
# Event types come from the network (verified, but a platform could add new ones): the label keeps to the
# known ones, so the number of series stays bounded.
_OTHER_EVENT: Final = "other"


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` when prometheus-client runs in multiprocess mode (it chose so when imported,
    from that variable): values then live in files there, shared by the workers."""
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def _event_label(event: Any, platform: Platform[Any]) -> str:
    kind = platform.canonical_event_type(event.event_type)
    return kind if kind in platform.event_types else _OTHER_EVENT


class CallbackMetrics(Monitor):
    """The receiver's figures (names below), counted as its monitor tells them."""

    def __init__(
        self,
        store: Callable[[], Store | None],
        registry: CollectorRegistry | None = None,
        outcomes: UnsavedOutcomes | None = None,
        failed_callbacks: FailedCallbacks | None = None,
        platform: Platform[Any] = CATAPULT,
    ) -> None:
        self.platform = platform  #: whose event types are labels of their own (others count as "other")
        self.store = store  #: the app's store once open (``None`` before): the queue depth is read from it
        self.outcomes = outcomes  #: the receiver's outcomes waiting for the store (read when scraped)
        self.failed_callbacks = failed_callbacks  #: the app's, whose counts are read when scraped
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        into = self.registry
        self.callbacks = Counter(
            "callhooks_callbacks",
            "Callbacks answered, by event type and HTTP status sent back",
            ["event", "status"],
            registry=into,
        )
        self.rejections = Counter(
            "callhooks_rejections",
            "Requests refused before any handler ran, by reason and HTTP status",
            ["reason", "status"],
            registry=into,
        )
        self.handler_seconds = Histogram(
            "callhooks_handler_duration_seconds",
            "Time a handler took to answer an event, by handler",
            ["handler"],
            registry=into,
        )
        self.in_flight = Gauge(
            "callhooks_handlers_in_flight",
            "Handlers running now",
            registry=into,
            multiprocess_mode="livesum",
        )
        self.duplicates = Counter(
            "callhooks_duplicates_suppressed",
            "Deliveries of an event already handled, answered without running its handler again (with a store)",
            ["event"],
            registry=into,
        )
        self.queue_depth = Gauge(
            "callhooks_background_queue_depth",
            "Background events queued, running or waiting for a retry in the store (read when scraped)",
            registry=into,
            multiprocess_mode="mostrecent",
        )
        self.retries = Counter(
            "callhooks_background_retries",
            "Background handler runs that failed and will be retried, by handler",
            ["handler"],
            registry=into,
        )
        self.evictions = Counter(
            "callhooks_store_evictions",
            "Keys the store dropped before their time to stay within its cap (memory://'s memory_max_keys): "
            "exactly-once and sessions lapse for them (read when scraped)",
            registry=into,
        )
        self._evictions_seen = 0
        self.unsaved = Gauge(
            "callhooks_outcomes_unsaved",
            "Outcomes of handlers that ran (answered as they answered) waiting for the store to take them",
            registry=into,
            multiprocess_mode="livesum",
        )
        self.saved_late = Counter(
            "callhooks_outcomes_saved_late",
            "Outcomes the store did not take in time, saved once it answered again",
            registry=into,
        )
        self.dropped = Counter(
            "callhooks_outcomes_dropped",
            "Outcomes dropped unsaved (too many waiting, waiting too long, or at shutdown): those events run "
            "again when delivered again",
            registry=into,
        )
        self._outcomes_seen = (0, 0)
        self.data_losses = Counter(
            "callhooks_store_data_lost",
            "Times the store was found to have lost its data (a Redis server restarted without persistence, "
            "flushed, or evicting keys): handled events may run again, sessions start empty (read when scraped)",
            registry=into,
        )
        self._data_losses_seen = 0
        self.callbacks_kept = Counter(
            "callhooks_failed_callbacks_kept",
            "Callbacks answered 5xx written to the store as failed events (callhooks failed list; read when scraped)",
            registry=into,
        )
        self.callbacks_not_kept = Counter(
            "callhooks_failed_callbacks_not_kept",
            "Callbacks answered 5xx that could not be kept (too many waited for a store that was down, or left at "
            "shutdown): each is logged at ERROR with its fields (read when scraped)",
            registry=into,
        )
        self._kept_seen = self._not_kept_seen = 0
        self.failed = Counter(
            "callhooks_background_failed",
            "Background events that failed their last run and were kept as failed events, by handler",
            ["handler"],
            registry=into,
        )

    # -- Monitor --------------------------------------------------------------------------------------------

    def handler_started(self, event: Any, handler: str) -> None:
        self.in_flight.inc()

    def handler_finished(self, event: Any, handler: str, seconds: float, error: BaseException | None) -> None:
        self.in_flight.dec()
        self.handler_seconds.labels(handler).observe(seconds)

    def callback_dispatched(self, record: Dispatched) -> None:
        event = _event_label(record.event, self.platform)
        self.callbacks.labels(event, str(record.status)).inc()
        if record.duplicate:
            self.duplicates.labels(event).inc()

    def callback_rejected(self, record: Rejection) -> None:
        self.rejections.labels(record.reason, str(record.status)).inc()

    def background_retried(self, event: Any, handler: str, error: str) -> None:
        self.retries.labels(handler).inc()

    def background_failed(self, event: Any, handler: str, error: str) -> None:
        self.failed.labels(handler).inc()

    # -- scraping -------------------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the store's evictions and the queue depth (bounded by ``QUEUE_SIZE_TIMEOUT``). A store that is
        down or not open yet leaves the gauge as it was: the scrape still answers."""
        self._count_outcomes()
        failed = self.failed_callbacks
        if failed is not None:
            self._kept_seen = _count_up_to(self.callbacks_kept, failed.kept, self._kept_seen)
            self._not_kept_seen = _count_up_to(self.callbacks_not_kept, failed.dropped, self._not_kept_seen)
        store = self.store()
        if store is None:
            return
        stats = store.stats()
        self._evictions_seen = _count_up_to(self.evictions, stats.evictions, self._evictions_seen)
        self._data_losses_seen = _count_up_to(self.data_losses, stats.data_losses, self._data_losses_seen)
        try:
            size = await asyncio.wait_for(store.queue_size(), QUEUE_SIZE_TIMEOUT)
        except Exception as exc:  # StoreUnavailable, a timeout, a closed connection: not the scrape's failure
            logger.debug("metrics: the background queue depth is unavailable: %s", exc)
            return
        self.queue_depth.set(size)

    def _count_outcomes(self) -> None:
        outcomes = self.outcomes
        if outcomes is None:
            return
        self.unsaved.set(len(outcomes))
        saved, dropped = self._outcomes_seen
        self.saved_late.inc(max(0, outcomes.saved_late - saved))
        self.dropped.inc(max(0, outcomes.lost - dropped))
        self._outcomes_seen = (outcomes.saved_late, outcomes.lost)

    def exposition(self) -> bytes:
        """The Prometheus text: this process's registry, or every worker's values under multiprocess mode."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


def _count_up_to(counter: Counter, total: int, seen: int) -> int:
    """Raise ``counter`` by what the store counted (``total``) since it was last read (``seen``); the new seen."""
    if total > seen:
        counter.inc(total - seen)
    return max(total, seen)


class MetricsEndpoint:
    """The ASGI app served at ``<receiver path>/metrics``: GET (or HEAD) the Prometheus text (``serve_metrics``
    puts it behind a ``BasicAuthGate`` when the metrics have credentials of their own)."""

    def __init__(self, metrics: CallbackMetrics) -> None:
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"][len(scope.get("root_path", "")) :]
        if path.rstrip("/") != f"/{METRICS_ENDPOINT}":
            await _send(send, 404, b'{"error": "not-found", "detail": "no such callhooks endpoint"}')
            return
        if scope["method"] not in ("GET", "HEAD"):
            body = b'{"error": "method-not-allowed", "detail": "the metrics are read with GET"}'
            await _send(send, 405, body, [(b"allow", b"GET, HEAD")])
            return
        await self.metrics.refresh()
        # Files are read in multiprocess mode: off the event loop.
        text = await _off_loop(self.metrics.exposition)
        body = b"" if scope["method"] == "HEAD" else text
        await _send(send, 200, body, content_type=CONTENT_TYPE_LATEST.encode(), length=len(text))


async def _off_loop(work: Callable[[], bytes]) -> bytes:
    run: Awaitable[bytes] = asyncio.get_running_loop().run_in_executor(None, work)
    return await run


async def _send(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    content_type: bytes = b"application/json",
    length: int | None = None,
) -> None:
    size = str(len(body) if length is None else length).encode()
    start = [(b"content-type", content_type), (b"content-length", size), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def serve_metrics(hooks: CallHooks, auth: tuple[str, str] | None = None) -> CallbackMetrics:
    """Count ``hooks``'s callbacks and serve them at ``<receiver path>/metrics`` (what ``metrics=True`` does).

    Under multiprocess mode a worker that shuts down marks itself dead, so its live gauges stop counting.
    """
    metrics = CallbackMetrics(
        lambda: hooks.store,
        outcomes=hooks.delivery.unsaved,
        failed_callbacks=hooks.failed_callbacks,
        platform=hooks.platform,
    )
    hooks.add_monitor(metrics)
    endpoint: ASGIApp = MetricsEndpoint(metrics)
    if auth is not None:
        detail = "the metrics need their own basic-auth credentials"
        endpoint = BasicAuthGate(endpoint, validate_basic_auth(auth), realm="callhooks metrics", detail=detail)
    hooks.add_endpoint(METRICS_ENDPOINT, endpoint)
    if multiprocess_dir() is not None:
        hooks.on_shutdown(_mark_this_process_dead)
    return metrics


def _mark_this_process_dead() -> None:
    multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
