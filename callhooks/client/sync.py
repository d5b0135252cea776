"""``Client``: the calls API over a blocking ``httpx.Client``, for scripts."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from .base import ClientBase
from .facades import ApplicationsApi, CallHandleApi, CallsApi
from .transport import BlockingShell
from .wire import Page

__all__ = ["Applications", "CallHandle", "Calls", "Client"]

T = TypeVar("T")


class Client(ClientBase[httpx.BaseTransport], BlockingShell):
    """Blocking client for the Catapult calls API of one user; see ``ClientBase`` for the arguments.

    One connection pool is kept until ``close()`` (or the end of a ``with`` block).
    """

    http: httpx.Client
    calls: Calls
    applications: Applications

    def _connect(self, transport: httpx.BaseTransport | None, options: dict[str, Any]) -> None:
        self._open(transport, options)
        self.calls = Calls(self)
        self.applications = Applications(self)


class Calls(CallsApi["Client"]):
    """``client.calls``: the calls API. Control methods take the call id first; see ``bind``."""

    def bind(self, call_id: str) -> CallHandle:
        """A handle for one call: the control methods without the ``call_id`` argument."""
        return CallHandle(self, call_id)

    def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page`` (of calls, events, ...), or ``None`` after the last."""
        return self.client.next_page(page)


class CallHandle(CallHandleApi["Client"]):
    """One call of a ``Client``: ``handle.speak("Hi")`` is ``client.calls.speak(handle.id, "Hi")``."""


class Applications(ApplicationsApi["Client"]):
    """``client.applications``: create, read, list, update and delete applications."""
