"""The receiver's side of pairing with a REST client: what ``CallHooks`` needs from it, checked once.

A handler written as ``(event, call)`` gets a handle bound to the event's call. Whatever gives those handles
(``Client`` or ``AsyncClient``) says once, as a class attribute, whether the handle's methods must be awaited,
so a mismatch with a handler is found when the handler is registered or the client attached, not per event.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from .routing import Handler

__all__ = ["CallBinder", "CallNamespace", "check_binder", "check_pairing"]


class CallNamespace(Protocol):
    def bind(self, call_id: str) -> Any:
        """A handle whose methods control the call ``call_id``."""
        ...


@runtime_checkable
class CallBinder(Protocol):
    """Something that binds a call id to a call handle: ``client.calls.bind(call_id)``.

    ``asynchronous`` is ``True`` when the handle's methods are coroutines (``AsyncClient``).
    """

    asynchronous: ClassVar[bool]

    @property
    def calls(self) -> CallNamespace: ...


def check_binder(client: object) -> CallBinder:
    if not isinstance(client, CallBinder) or not isinstance(getattr(type(client), "asynchronous", None), bool):
        raise TypeError(
            f"client must be a callhooks Client or AsyncClient (something with calls.bind(call_id) and a "
            f"class attribute asynchronous: bool), not {type(client).__name__}"
        )
    return client


def check_pairing(handler: Handler, client: CallBinder | None, *, final: bool) -> None:
    """Refuse a handler that cannot work with ``client``; ``final`` when no client can be attached any more."""
    if client is None:
        if final and handler.wants_call:
            raise TypeError(
                f"handler {handler.name} takes (event, call) but no client is attached: call "
                "hooks.attach_client(AsyncClient(hooks=hooks)) (or Client for synchronous handlers), or write "
                "the handler as (event)"
            )
        return
    if handler.wants_call and not handler.is_async and client.asynchronous:
        # Its methods would return coroutines that a sync handler never awaits: the call control would
        # silently not happen.
        raise TypeError(
            f"handler {handler.name} is synchronous but the attached client is an AsyncClient: make the "
            "handler async, or attach a Client"
        )
    if handler.wants_call and handler.is_async and not client.asynchronous:
        # A blocking client inside an async handler stalls the event loop, and with it every other callback.
        raise TypeError(
            f"handler {handler.name} is async but the attached client is a blocking Client: attach an "
            "AsyncClient, or make the handler synchronous (it then runs in a worker thread)"
        )
