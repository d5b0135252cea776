"""``AsyncClient``: the calls API over an ``httpx.AsyncClient``, for receivers and async code."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from .base import ClientBase
from .facades import ApplicationsApi, CallHandleApi, CallsApi
from .transport import AsyncShell
from .wire import Page

__all__ = ["AsyncApplications", "AsyncCallHandle", "AsyncCalls", "AsyncClient"]

T = TypeVar("T")


class AsyncClient(ClientBase[httpx.AsyncBaseTransport], AsyncShell):
    """Async client for the Catapult calls API of one user: ``Client``'s API, awaited.

    See ``ClientBase`` for the arguments. One connection pool is kept until ``await close()`` (or the end of
    an ``async with`` block).
    """

    http: httpx.AsyncClient
    calls: AsyncCalls
    applications: AsyncApplications

    def _connect(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]) -> None:
        self._open(transport, options)
        self.calls = AsyncCalls(self)
        self.applications = AsyncApplications(self)


class AsyncCalls(CallsApi["AsyncClient"]):
    """``client.calls`` of an ``AsyncClient``: the calls API, awaited. Control methods take the call id first."""

    def bind(self, call_id: str) -> AsyncCallHandle:
        """A handle for one call: the control methods without the ``call_id`` argument."""
        return AsyncCallHandle(self, call_id)

    async def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page`` (of calls, events, ...), or ``None`` after the last."""
        return await self.client.next_page(page)


class AsyncCallHandle(CallHandleApi["AsyncClient"]):
    """One call of an ``AsyncClient``: ``await handle.speak("Hi")`` is ``await client.calls.speak(handle.id, "Hi")``."""


class AsyncApplications(ApplicationsApi["AsyncClient"]):
    """``client.applications`` of an ``AsyncClient``: the applications API, awaited."""
