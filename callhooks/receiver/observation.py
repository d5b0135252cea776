"""The receiver's one observation channel: what it tells its monitors and observers, and its callback log line.

``Observation`` is itself a ``Monitor`` that passes each typed call on to every monitor registered
(``CallHooks.add_monitor``: the console, the metrics, a user's audit) and to every observer (``add_observer``:
a plain function of the ``Dispatched`` record, held as a monitor that hears only ``callback_dispatched``). An
exception in one is logged and ignored. ``watching`` says whether anyone listens: with nobody, no record is built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from starlette.responses import Response
from starlette.types import Scope

from ..platform import Event, event_call_id
from .monitoring import Dispatched, HandlerRun, Monitor, Rejection
from .routing import Handler

__all__ = ["Observation", "Observer"]

logger = logging.getLogger("callhooks")
#: One line per callback at INFO: time, call, event, state, tag, handler, status, duration.
callback_logger: Final = logging.getLogger("callhooks.callbacks")


class Observer(Monitor):
    """A function called with each ``Dispatched`` record (``CallHooks.add_observer``), as a monitor."""

    def __init__(self, observer: Callable[[Dispatched], None]) -> None:
        self.observer = observer

    def callback_dispatched(self, record: Dispatched) -> None:
        self.observer(record)


class Observation(Monitor):
    """Every monitor and observer of one receiver, told through the ``Monitor`` methods (module docstring)."""

    def __init__(self) -> None:
        self.monitors: list[Monitor] = []

    @property
    def watching(self) -> bool:
        """Whether any monitor or observer listens (else nothing is recorded)."""
        return bool(self.monitors)

    def add_monitor(self, monitor: Monitor) -> None:
        self.monitors.append(monitor)

    def add_observer(self, observer: Callable[[Dispatched], None]) -> None:
        self.monitors.append(Observer(observer))

    def handler_started(self, event: Event, handler: str) -> None:
        for monitor in self.monitors:
            try:
                monitor.handler_started(event, handler)
            except Exception:
                _failed(monitor, "handler_started")

    def handler_finished(self, event: Event, handler: str, seconds: float, error: BaseException | None) -> None:
        for monitor in self.monitors:
            try:
                monitor.handler_finished(event, handler, seconds, error)
            except Exception:
                _failed(monitor, "handler_finished")

    def callback_dispatched(self, record: Dispatched) -> None:
        for monitor in self.monitors:
            try:
                monitor.callback_dispatched(record)
            except Exception:
                _failed(monitor, "callback_dispatched")

    def callback_rejected(self, record: Rejection) -> None:
        for monitor in self.monitors:
            try:
                monitor.callback_rejected(record)
            except Exception:
                _failed(monitor, "callback_rejected")

    def background_retried(self, event: Event, handler: str, error: str) -> None:
        for monitor in self.monitors:
            try:
                monitor.background_retried(event, handler, error)
            except Exception:
                _failed(monitor, "background_retried")

    def background_failed(self, event: Event, handler: str, error: str) -> None:
        for monitor in self.monitors:
            try:
                monitor.background_failed(event, handler, error)
            except Exception:
                _failed(monitor, "background_failed")

    def report(
        self,
        event: Event,
        handler: Handler | None,
        status: int,
        started: float,
        scope: Scope,
        body: bytes,
        media_type: str,
        response: Response | None = None,
        run: HandlerRun | None = None,
        *,
        duplicate: bool = False,
        refused: str | None = None,
    ) -> None:
        """Tell the monitors what happened to ``event`` (one record for all of them, built only when someone
        watches) and write its line to the callback log."""
        duration = time.perf_counter() - started
        if self.monitors:
            method: str = scope["method"]
            posted = method == "POST"
            record = Dispatched(
                event,
                handler.name if handler else None,
                status,
                duration,
                method=method,
                payload=body if posted else scope.get("query_string", b""),
                response=response,
                error=run.error if run else None,
                handler_seconds=run.seconds if run else None,
                received=time.time() - duration,
                duplicate=duplicate,
                media_type=media_type if posted else "",
            )
            self.callback_dispatched(record)
        if not callback_logger.isEnabledFor(logging.INFO):
            return
        name = handler.name if handler is not None else "-"
        duration_ms = round(duration * 1000, 2)
        call_id = event_call_id(event)
        callback_logger.info(
            "call=%s event=%s state=%s tag=%s handler=%s status=%d duration_ms=%.2f",
            call_id,
            event.event_type,
            event.call_state,
            event.tag,
            name,
            status,
            duration_ms,
            extra={  # logs.CALLBACK_FIELDS, as keys of their own in CALLHOOKS_LOG_FORMAT=json
                "call_id": call_id,
                "event": event.event_type,
                "state": event.call_state,
                "tag": event.tag,
                "handler": name,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
        if refused is not None:  # the guarantees answered it: say why, as the console does
            logger.info("event %s of call %s refused: %s", event.event_type, call_id, refused)
        elif duplicate:
            logger.info("event %s of call %s already handled: answered as a duplicate", event.event_type, call_id)
        elif handler is None:
            logger.info("no handler matched event %s of call %s", event.event_type, call_id)


def _failed(monitor: Monitor, method: str) -> None:
    if isinstance(monitor, Observer):
        logger.exception("observer %r failed", monitor.observer)
    else:
        logger.exception("monitor %r failed in %s", monitor, method)
