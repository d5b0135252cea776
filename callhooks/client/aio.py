"""``AsyncClient``: the calls API over an ``httpx.AsyncClient``, for receivers and async code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import anyio
import httpx

from .base import ClientBase
from .facades import ApplicationsApi, CallHandleApi, CallsApi
from .retry import Failure, Sleep, perform
from .wire import Operation, Page, Request, Response

__all__ = ["AsyncApplications", "AsyncCallHandle", "AsyncCalls", "AsyncClient"]

T = TypeVar("T")


class AsyncClient(ClientBase[httpx.AsyncBaseTransport]):
    """Async client for the Catapult calls API of one user: ``Client``'s API, awaited.

    See ``ClientBase`` for the arguments. One connection pool is kept until ``await close()`` (or the end of
    an ``async with`` block).
    """

    http: httpx.AsyncClient
    calls: AsyncCalls
    applications: AsyncApplications
    #: Whether call handles' methods are coroutines (what ``CallHooks.attach_client`` checks handlers against).
    asynchronous: ClassVar[bool] = True

    def _connect(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]) -> None:
        self.http = httpx.AsyncClient(transport=transport, **options)
        self.calls = AsyncCalls(self)
        self.applications = AsyncApplications(self)

    async def run(self, operation: Operation[T]) -> T:
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
                await anyio.sleep(self._sleeping(step))
                outcome = None
            else:
                outcome = await self._send(step.request)

    async def _send(self, request: Request) -> Response | Failure:
        try:
            response = await self.http.request(request.method, request.url, params=request.params, json=request.json)
        except httpx.TransportError as error:
            return self._failure(request, error)
        return self._response(request, response)

    async def iterate(self, operation: Operation[Page[T]] | None) -> AsyncIterator[T]:
        """The items of a page operation's page and of every page after it."""
        while operation is not None:
            page = await self.run(operation)
            for item in page.items:
                yield item
            operation = page.next_operation()

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


class AsyncCalls(CallsApi["AsyncClient"]):
    """``client.calls`` of an ``AsyncClient``: the calls API, awaited. Control methods take the call id first."""

    def bind(self, call_id: str) -> AsyncCallHandle:
        """A handle for one call: the control methods without the ``call_id`` argument."""
        return AsyncCallHandle(self, call_id)

    async def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page`` (of calls, events, ...), or ``None`` after the last."""
        operation = page.next_operation()
        return None if operation is None else await self.client.run(operation)


class AsyncCallHandle(CallHandleApi["AsyncClient"]):
    """One call of an ``AsyncClient``: ``await handle.speak("Hi")`` is ``await client.calls.speak(handle.id, "Hi")``."""


class AsyncApplications(ApplicationsApi["AsyncClient"]):
    """``client.applications`` of an ``AsyncClient``: the applications API, awaited."""
