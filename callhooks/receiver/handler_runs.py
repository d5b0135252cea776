"""How a handler is run: sync ones in a bounded thread pool, async ones watched for blocking the event loop,
and what they return checked.

A handler is the application's code, not ours, so the receiver defends itself against its faults: a value
that is not a response, an exception that is not an ``Exception`` (``SystemExit``, a stray
``CancelledError``), an ``async def`` that calls blocking code and so stalls every other callback.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Final

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.responses import Response

from .routing import Handler

__all__ = [
    "DEFAULT_HANDLER_THREADS",
    "DEFAULT_SLOW_HANDLER_WARNING",
    "HandlerFault",
    "HandlerRunner",
    "checked_result",
    "is_handler_fault",
    "resume",
]

logger = logging.getLogger("callhooks")

#: Threads for sync handlers (anyio's default). Each waits on its own I/O; raise it for slow sync handlers.
DEFAULT_HANDLER_THREADS: Final = 40
#: An ``async`` handler holding the event loop longer than this (seconds, in one step) gets a warning.
DEFAULT_SLOW_HANDLER_WARNING: Final = 0.5


class HandlerFault(TypeError):
    """A handler returned something that is neither ``None`` nor a Starlette ``Response``."""


def checked_result(handler: Handler, result: object) -> Response | None:
    """``result`` when it is an acceptable handler return value; ``HandlerFault`` naming the handler otherwise."""
    if result is None or isinstance(result, Response):
        return result
    if inspect.iscoroutine(result):
        result.close()  # never awaited on purpose: avoid the "was never awaited" warning at garbage collection
        raise HandlerFault(
            f"handler {handler.name} returned a coroutine: it is a sync function calling async code; "
            "make it `async def` and await it"
        )
    raise HandlerFault(
        f"handler {handler.name} returned a {type(result).__name__}; handlers return None or a Starlette Response"
    )


def is_handler_fault(exc: BaseException) -> bool:
    """Whether ``exc``, raised by a handler, is to be answered as a failed handler rather than propagated.

    ``SystemExit`` from a handler must not stop the server, and a ``CancelledError`` the handler raised
    itself is a fault; but a cancellation of the request's own task (the server shutting down) goes on.
    """
    if isinstance(exc, Exception | SystemExit):
        return True
    if isinstance(exc, asyncio.CancelledError):
        task = asyncio.current_task()
        return task is None or task.cancelling() == 0
    return False


class HandlerRunner:
    """Calls handlers: ``threads`` bounds the sync handlers running at once; an async handler step longer
    than ``slow_warning`` seconds is logged as a warning naming the handler."""

    def __init__(
        self,
        threads: int = DEFAULT_HANDLER_THREADS,
        slow_warning: float | None = DEFAULT_SLOW_HANDLER_WARNING,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if threads < 1:
            raise ValueError("handler_threads must be at least 1")
        if slow_warning is not None and slow_warning <= 0:
            raise ValueError("slow_handler_warning must be positive (or None to turn the warning off)")
        self.threads = threads
        self.slow_warning = slow_warning
        self.clock = clock
        self._limiter: CapacityLimiter | None = None  # made on first use, inside the running event loop

    async def run(self, handler: Handler, args: tuple[Any, ...]) -> object:
        if handler.is_async:
            coroutine = handler.func(*args)
            if self.slow_warning is None or not inspect.iscoroutine(coroutine):
                return await coroutine
            return await _Watched(coroutine, handler, self.slow_warning, self.clock)
        if self._limiter is None:
            self._limiter = CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(lambda: handler.func(*args), limiter=self._limiter)


class _Watched(Awaitable[object]):
    """Drives a handler's coroutine step by step, timing each step: a step is time the loop did nothing else."""

    def __init__(
        self, coroutine: Coroutine[Any, Any, object], handler: Handler, limit: float, clock: Callable[[], float]
    ) -> None:
        self._coroutine = coroutine
        self._handler = handler
        self._limit = limit
        self._clock = clock

    def __await__(self) -> Generator[Any, Any, object]:
        coroutine = self._coroutine
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            started = self._clock()
            try:
                yielded = coroutine.throw(to_throw) if to_throw is not None else coroutine.send(to_send)
            except StopIteration as stop:
                self._check(started)
                return stop.value
            self._check(started)
            try:
                to_send, to_throw = (yield yielded), None
            except BaseException as exc:  # relayed into the coroutine, as `await` would
                to_send, to_throw = None, exc

    def _check(self, started: float) -> None:
        held = self._clock() - started
        if held > self._limit:
            logger.warning(
                "async handler %s blocked the event loop for %.2fs (over %.2fs): every other callback waited; "
                "move blocking calls to a sync handler or `await anyio.to_thread.run_sync(...)`",
                self._handler.name,
                held,
                self._limit,
            )


@types.coroutine
def resume(coroutine: Coroutine[Any, Any, Any], waiting_on: Any) -> Generator[Any, Any, Any]:
    """Await ``coroutine`` from where it stands: it was stepped by hand (``send(None)``) and yielded
    ``waiting_on`` (what the event loop must wait for). Relays every later step as ``await`` would."""
    yielded = waiting_on
    while True:
        try:
            to_send, to_throw = (yield yielded), None
        except BaseException as exc:  # relayed into the coroutine, as `await` would
            to_send, to_throw = None, exc
        try:
            yielded = coroutine.throw(to_throw) if to_throw is not None else coroutine.send(to_send)
        except StopIteration as stop:
            return stop.value
