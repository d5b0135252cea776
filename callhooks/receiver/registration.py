"""The receiver's handler registration and client pairing: what ``CallHooks`` adds to ``Registrar``.

Handlers are held by a ``Router``; each one registered is first checked against the attached client (an async
handler taking ``(event, call)`` needs an ``AsyncClient``, a sync one a ``Client``) by the ``Dispatcher``, which
holds the client its handlers' call handles come from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from ..platform import Event, Platform
from .dispatch import Dispatcher
from .pairing import CallBinder
from .routing import Handler, HandlerKey, Registrar, Router

__all__ = ["HandlerRegistration"]

C = TypeVar("C", bound=CallBinder)


class HandlerRegistration(Registrar):
    """Registration checked against the attached client, over ``self.router`` and ``self.dispatcher``."""

    router: Router
    dispatcher: Dispatcher

    @property
    def platform(self) -> Platform[Any]:
        """The platform served (``callhooks.platform.Platform``): its parser, identity rule and known names."""
        return self.router.platform

    @property
    def client(self) -> CallBinder | None:
        """The attached client whose call handles ``(event, call)`` handlers receive (``attach_client``)."""
        return self.dispatcher.client

    def attach_client(self, client: C) -> C:
        """Give handlers written as ``(event, call)`` handles from ``client`` (a ``Client`` or ``AsyncClient``;
        the other direction is the client's ``hooks=``). Every handler is checked against it now (an async one
        needs an ``AsyncClient``, a sync one a ``Client``): a mismatch is a ``TypeError`` naming it."""
        self.dispatcher.attach(client)
        return client

    def detach_client(self) -> CallBinder | None:
        """Undo ``attach_client``; returns the client that was attached."""
        client, self.dispatcher.client = self.dispatcher.client, None
        return client

    def check_handlers(self) -> None:
        """At start-up, no other client to come: a handler taking ``(event, call)`` with none is a ``TypeError``."""
        self.dispatcher.admit(self.router, final=True)

    def add(self, handler: Handler) -> None:
        """Register a built handler (``add_handler`` and ``on`` come here), checked against the attached client."""
        self.dispatcher.admit([handler])
        self.router.add(handler)

    def include(self, router: Router | HandlerRegistration) -> None:
        """Add every handler of ``router`` (a ``Router``, or another ``CallHooks``'s), all or none."""
        other = router if isinstance(router, Router) else router.router
        self.dispatcher.admit(other)
        self.router.include(other)

    def match(self, event: Event) -> Handler | None:
        """The handler that would run for ``event``, or ``None``."""
        return self.router.match(event)

    @property
    def handlers(self) -> Mapping[HandlerKey, Handler]:
        return self.router.handlers

    def __iter__(self) -> Iterator[Handler]:
        return iter(self.router)

    def __len__(self) -> int:
        return len(self.router)
