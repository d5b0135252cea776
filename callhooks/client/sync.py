"""``Client``: the calls API over a blocking ``httpx.Client``, for scripts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import httpx

from .base import ClientBase
from .facades import ApplicationsApi, CallHandleApi, CallsApi
from .retry import Failure, Sleep, perform
from .wire import Operation, Page, Request, Response

__all__ = ["Applications", "CallHandle", "Calls", "Client"]

T = TypeVar("T")


class Client(ClientBase[httpx.BaseTransport]):
    """Blocking client for the Catapult calls API of one user; see ``ClientBase`` for the arguments.

    One connection pool is kept until ``close()`` (or the end of a ``with`` block).
    """

    http: httpx.Client
    calls: Calls
    applications: Applications
    #: Whether call handles' methods are coroutines (what ``CallHooks.attach_client`` checks handlers against).
    asynchronous: ClassVar[bool] = False

    def _connect(self, transport: httpx.BaseTransport | None, options: dict[str, Any]) -> None:
        self.http = httpx.Client(transport=transport, **options)
        self.calls = Calls(self)
        self.applications = Applications(self)

    def run(self, operation: Operation[T]) -> T:
        """Run a sans-I/O operation (from ``self.operations``), with retries."""
        steps = perform(operation, self.retry)
        outcome: Response | Failure | None = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Sleep):
                time.sleep(self._sleeping(step))
                outcome = None
            else:
                outcome = self._send(step.request)

    def _send(self, request: Request) -> Response | Failure:
        try:
            response = self.http.request(request.method, request.url, params=request.params, json=request.json)
        except httpx.TransportError as error:
            return self._failure(request, error)
        return self._response(request, response)

    def iterate(self, operation: Operation[Page[T]] | None) -> Iterator[T]:
        """The items of a page operation's page and of every page after it."""
        while operation is not None:
            page = self.run(operation)
            yield from page.items
            operation = page.next_operation()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class Calls(CallsApi["Client"]):
    """``client.calls``: the calls API. Control methods take the call id first; see ``bind``."""

    def bind(self, call_id: str) -> CallHandle:
        """A handle for one call: the control methods without the ``call_id`` argument."""
        return CallHandle(self, call_id)

    def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page`` (of calls, events, ...), or ``None`` after the last."""
        operation = page.next_operation()
        return None if operation is None else self.client.run(operation)


class CallHandle(CallHandleApi["Client"]):
    """One call of a ``Client``: ``handle.speak("Hi")`` is ``client.calls.speak(handle.id, "Hi")``."""


class Applications(ApplicationsApi["Client"]):
    """``client.applications``: create, read, list, update and delete applications."""
