"""Dispatch: an accepted event goes through the guarantees to its handler, whose result becomes the answer.

``Dispatcher.dispatch`` answers one verified event (``receiver_http`` hands it over): it finds the handler, runs it
under the guarantees (``guarantees.py``), sends the answer, reports it (``observation.py``) and keeps a callback
answered 5xx as a failed event. ``Dispatcher.run_handler`` is the handler-run protocol, written once for a
handler answering a callback and for a background handler run by the worker (``background.py``): the call
handle bound, the monitors told, the result checked, a failure logged and turned into the answer or an error.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Final

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..platform import Event, event_call_id
from ..stores import Store, StoreUnavailable
from .background import (
    CALLBACK_PAYLOAD_KIND,
    BackgroundSettings,
    BackgroundWorker,
    FailedEvents,
    QueuedEvent,
    queued_event,
)
from .deadline import answer_by
from .failed_callbacks import FailedCallbacks, failed_callback, refusal_reason
from .guarantees import Delivery, DeliveryRefused
from .handler_runs import HandlerRunner, checked_result, is_handler_fault
from .monitoring import HandlerRun
from .observation import Observation
from .pairing import CallBinder, check_binder, check_pairing
from .receiving import Receiving
from .routing import Handler, Router
from .settings import Settings
from .watchdog import Watchdog

__all__ = ["Dispatcher", "send_empty_ok", "send_json"]

logger = logging.getLogger("callhooks")

# A handler still running at this share of callback_timeout gets a warning: the platform is about to give up.
_SLOW_HANDLER_SHARE: Final = 0.8
_HANDLER_FAILED: Final = {"error": "handler-failed", "detail": "the handler for this event failed"}
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]
_EMPTY_OK_HEADERS: Final = [(b"content-length", b"0")]


class Dispatcher:
    """Runs handlers for one receiver: answering callbacks, and background handlers in its worker.

    ``client``: the attached client whose call handles ``(event, call)`` handlers receive (``None``: none yet).
    """

    def __init__(
        self,
        settings: Settings,
        router: Router,
        receiving: Receiving,
        observation: Observation,
        open_store: Callable[[], Awaitable[Store]],
    ) -> None:
        """The parts ``settings`` configure: ``runner`` (sync handlers' threads), ``delivery`` (the guarantees, on
        the store ``open_store`` opens), ``failed_callbacks`` (callbacks answered 5xx, kept as failed events)."""
        self.router = router
        self.receiving = receiving
        self.observation = observation
        self._report = observation.report  # bound once: the hot path looks up one name
        self.open_store = open_store
        self.runner = HandlerRunner(settings.handler_threads, settings.slow_handler_warning)
        self.delivery = Delivery(
            open_store,
            enabled=settings.store is not None,
            wait=settings.wait,
            margin=settings.busy_margin,
            session_end=settings.session_end,
            shutdown_timeout=settings.shutdown_timeout,
            lease=settings.lease,
            platform=receiving.platform,
        )
        self.failed_callbacks = FailedCallbacks(open_store)
        self.background = settings.background if settings.background is not None else BackgroundSettings()
        self.callback_timeout = settings.wait
        self.on_error = settings.on_error
        self.client: CallBinder | None = None
        self.worker: BackgroundWorker | None = None
        self._starting_worker: asyncio.Lock | None = None
        self._watchdog = Watchdog()  # warns of handlers still running near callback_timeout

    def attach(self, client: object) -> None:
        """Give ``(event, call)`` handlers handles from ``client``, every registered handler checked against it."""
        binder = check_binder(client)
        for handler in self.router:
            check_pairing(handler, binder, final=False)
        self.client = binder

    def admit(self, handlers: Iterable[Handler], *, final: bool = False) -> None:
        """Check ``handlers`` against the attached client (``final``: no other can be attached any more) and the
        platform's own rules; ``TypeError``/``ValueError`` naming the one refused."""
        for handler in handlers:
            check_pairing(handler, self.client, final=final)
            if not final:
                self.receiving.check_handler(handler)

    async def dispatch(
        self,
        event: Event,
        scope: Scope,
        receive: Receive,
        send: Send,
        started: float,
        token: str | None = None,
        body: bytes = b"",
        media_type: str = "",
    ) -> None:
        """Answer one verified ``event`` (``token``: the callback URL's, for token binding) and report it."""
        handler = self.router.match(event)
        method: str = scope["method"]
        # Where run_handler leaves how the handler ran, for the monitors; only when someone watches.
        watched = HandlerRun() if self.observation.monitors else None
        run: Callable[[], Awaitable[Response | None]] | None = None
        if handler is not None and handler.background:  # queued durably, run later (background.py)
            run = partial(self.queue_background, handler, event, method)
        elif handler is not None:
            run = partial(self.run_handler, handler, event, method, watched)
        try:  # the guarantees (delivery.py): token binding, per-call order, exactly once, the call's session
            delivered = await self.delivery.deliver(event, token, run)
        except DeliveryRefused as refused:
            await send_json(send, refused.status, refused.body)
            reason = refused.body.get("reason") or refused.body["error"]
            self._report(event, None, refused.status, started, scope, body, media_type, refused=reason)
            if refused.status >= 500 and handler is not None:
                self._keep_failed(event, handler, method, started, refused.status, refusal_reason(refused))
            return
        response = delivered.response
        if response is None and self.receiving.answers_nothing:
            response = self.receiving.nothing(event)  # a platform whose empty 200 would be an error (Twilio)
        if response is None:
            await send_empty_ok(send)
        else:
            await response(scope, receive, send)
        status = 200 if response is None else response.status_code
        self._report(
            event,
            handler if delivered.ran else None,
            status,
            started,
            scope,
            body,
            media_type,
            response,
            watched,
            duplicate=handler is not None and not delivered.ran,
        )
        if status >= 500 and handler is not None:
            self._keep_failed(event, handler, method, started, status, refusal_reason(response))

    async def run_handler(
        self, handler: Handler, event: Event, method: str, watched: HandlerRun | None = None, *, answering: bool = True
    ) -> Response | None:
        """Run ``handler`` on ``event``: the one protocol for answers and background runs.

        Answering a callback (``answering``), a document it returns becomes the platform's reply, a handler still
        running near ``callback_timeout`` is logged, and a failure is logged and answered (``on_error``'s response,
        else a 500 so the platform delivers again to the fallback URL). In the background worker a failure is
        raised (the worker retries it) and a response is ignored. With ``watched`` (someone watches) the monitors
        hear it start and finish, and ``watched`` gets how long it ran and what it raised.
        """
        slow_warning = (
            self._watchdog.arm(
                self.callback_timeout * _SLOW_HANDLER_SHARE, _warn_slow, handler, event, self.callback_timeout
            )
            if answering
            else None
        )
        if watched is not None:
            self.observation.handler_started(event, handler.name)
            began = time.perf_counter()
        try:
            args: tuple[Any, ...] = (event, self._bind_call(handler, event)) if handler.wants_call else (event,)
            returned = await self.runner.run(handler, args)
            if isinstance(returned, self.receiving.documents):  # a call-control document (receiving.py)
                result = self.receiving.reply(handler, event, method, returned) if answering else returned
            else:
                result = checked_result(handler, returned)
        except BaseException as exc:
            fault = is_handler_fault(exc)
            if watched is not None:  # a cancelled handler (server shutdown) ends too, for the in-flight gauge
                watched.seconds = time.perf_counter() - began
                if fault:
                    watched.error = exc
                self.observation.handler_finished(event, handler.name, watched.seconds, exc)
            if not fault or (not answering and isinstance(exc, Exception)):
                raise
            if not answering:  # SystemExit must not stop the worker: retried like any failure
                raise RuntimeError(f"handler raised {type(exc).__name__}: {exc}") from exc
            custom = await self._handle_error(handler, event, exc)
            # A 500 makes the platform retry the event at the call's fallbackUrl, so it is not lost. The handler's
            # name and the exception stay in the log: the body goes to whoever sent the request.
            failed = Response(json.dumps(_HANDLER_FAILED), status_code=500, media_type="application/json")
            return failed if custom is None else custom
        finally:
            if slow_warning is not None:
                slow_warning.cancel()
        if watched is not None:
            watched.seconds = time.perf_counter() - began
            self.observation.handler_finished(event, handler.name, watched.seconds, None)
        if answering:
            return result if isinstance(result, Response) else None
        if result is not None:
            logger.warning("background handler %s returned a response; it is ignored (the 200 was sent)", handler.name)
        return None

    def _bind_call(self, handler: Handler, event: Event) -> Any:
        if self.client is None:
            # Found at start-up (check_handlers) when the app is served with lifespan; mounted apps get
            # their host's lifespan, so the check can only happen here.
            check_pairing(handler, None, final=True)
        call_id = event_call_id(event)
        if call_id is None:
            return None  # conference and transcription events belong to no single call
        assert self.client is not None
        return self.client.calls.bind(call_id)

    async def _handle_error(self, handler: Handler, event: Event, exc: BaseException) -> Response | None:
        """Log the failure and ask ``on_error``; the response it chose, or ``None`` for the default 500."""
        logger.error(
            "handler %s failed for call %s event %s",
            handler.name,
            event_call_id(event),
            event.event_type,
            exc_info=exc,
        )
        if self.on_error is not None:
            try:
                custom = self.on_error(event, exc)
                if inspect.isawaitable(custom):
                    custom = await custom
            except Exception as hook_exc:
                logger.error("on_error hook failed for call %s", event_call_id(event), exc_info=hook_exc)
                custom = None
            if isinstance(custom, Response):
                return custom
        return None

    def _keep_failed(
        self, event: Event, handler: Handler, method: str, started: float, status: int, reason: str
    ) -> None:
        """Keep a callback answered 5xx as a failed event (written after the response, off this path)."""
        received_at = time.time() - (time.perf_counter() - started)
        payload = failed_callback(
            event,
            method=method,
            received_at=received_at,
            handler=handler.name,
            status=status,
            reason=reason,
            platform=self.receiving.platform.name,
        )
        self.failed_callbacks.keep(payload)

    # -- background handlers (background.py) ---------------------------------------------------------------

    async def start_background(self) -> BackgroundWorker:
        """Open the store and start the worker running background handlers."""
        if self._starting_worker is None:
            self._starting_worker = asyncio.Lock()
        async with self._starting_worker:
            if self.worker is None:
                worker = BackgroundWorker(await self.open_store(), self.run_queued, self.background, self.observation)
                worker.start()
                self.worker = worker
        return self.worker

    async def stop_background(self) -> None:
        """Let the running background handlers finish (``BackgroundSettings.stop_timeout``) and stop the worker."""
        worker, self.worker = self.worker, None
        if worker is not None:
            await worker.stop()

    def failed_events(self, store: Store | None) -> FailedEvents:
        """The failed events of ``store`` (``RuntimeError`` while it is not open), the worker woken by a replay."""
        if store is None:
            raise RuntimeError("the store is not open yet: it opens at start-up (or `await hooks.open_store()`)")
        return FailedEvents(store, on_queued=self.worker.wake if self.worker is not None else None)

    async def queue_background(self, handler: Handler, event: Event, method: str) -> Response | None:
        """Write the event to the durable queue; the answer: ``None`` (an empty 200) once it is stored, a 503
        when it cannot be. Runs under the guarantees like a handler, so a duplicate is not queued twice."""
        payload = queued_event(
            event, method=method, received_at=time.time(), handler=handler.name, platform=self.receiving.platform.name
        )
        try:
            worker = self.worker or await self.start_background()
            # In the handler's place, so not under the callback's store deadline: under one of its own.
            deadline = asyncio.get_running_loop().time() + self.delivery.store_deadline
            await answer_by(worker.store.enqueue(payload), deadline, worker.store.backend)
        except (StoreUnavailable, ValueError) as exc:  # ValueError: a bad store URL, found when first opened
            logger.error("could not queue event %s of call %s: %s", event.event_type, event_call_id(event), exc)
            body = json.dumps({"error": "store-unavailable", "detail": str(exc)})
            return Response(body, status_code=503, media_type="application/json")
        worker.wake()
        return None

    async def run_queued(self, queued: QueuedEvent) -> None:
        """Run a queued event's handler (in the worker); an exception makes the worker retry it."""
        if queued.kind == CALLBACK_PAYLOAD_KIND:
            await self._replay_callback(queued)
            return
        event = queued.event
        handler = self.router.match(event)
        if handler is None or not handler.background:
            raise LookupError(f"no background handler matches this {event.event_type} event any more")
        # Background runs count in the handler metrics like answered ones.
        watched = HandlerRun() if self.observation.monitors else None
        await self.run_handler(handler, event, queued.method, watched, answering=False)

    async def _replay_callback(self, queued: QueuedEvent) -> None:
        """Run a replayed failed callback as its delivery would have run (in the worker): through the guarantees,
        so one handled meanwhile is a duplicate. A 5xx again raises, and the worker retries it with backoff."""
        event = queued.event
        handler = self.router.match(event)
        if handler is None:
            logger.warning(
                "replayed callback %s of call %s: no handler matches it now", event.event_type, event_call_id(event)
            )
            return
        run: Callable[[], Awaitable[Response | None]]
        if handler.background:
            run = partial(self.queue_background, handler, event, queued.method)
        else:
            run = partial(self.run_handler, handler, event, queued.method, None)
        try:
            delivered = await self.delivery.deliver(event, None, run)
        except DeliveryRefused as refused:
            raise RuntimeError(f"answered {refused.status}: {refusal_reason(refused)}") from None
        response = delivered.response
        if response is not None and response.status_code >= 500:
            raise RuntimeError(f"answered {response.status_code}: {refusal_reason(response)}")


def _warn_slow(handler: Handler, event: Event, timeout: float) -> None:  # a watchdog alarm, rung once
    logger.warning(
        "handler %s is still running for call %s event %s after %.1f s: the platform gives up at its "
        "callbackTimeout (%.1f s here) and delivers the event again to the fallback URL",
        handler.name,
        event_call_id(event),
        event.event_type,
        timeout * _SLOW_HANDLER_SHARE,
        timeout,
    )


async def send_json(
    send: Send, status: int, body: Mapping[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a whole JSON answer with ``status`` (and ``headers``) straight to ASGI ``send``."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def send_empty_ok(send: Send) -> None:
    """Send an empty 200."""
    await send({"type": "http.response.start", "status": 200, "headers": _EMPTY_OK_HEADERS})
    await send({"type": "http.response.body", "body": b""})
