"""The receiver's life: its store opened and closed, its ASGI lifespan run, the user's start-up and shutdown callbacks.

At start-up (``lifespan.startup``): tokens kept out of the access log, the callback log line shown, the handlers
checked against the attached client, the store opened and the background worker started, then the user's
``on_startup`` callbacks. At shutdown the reverse: in-flight handlers finish, the worker stops, failed callbacks
are written, the user's ``on_shutdown`` callbacks run, and a store this receiver opened from its URL is closed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from starlette.types import Receive, Send

from .. import logs
from ..stores import Store, StoreUnavailable, check_store_url, open_store
from .dispatch import Dispatcher

__all__ = ["Lifecycle"]

logger = logging.getLogger("callhooks")


class Lifecycle:
    """The store (``store``: a URL, opened on first use, or an open ``Store``) and the lifespan of one receiver."""

    def __init__(self, store: str | Store) -> None:
        self.store_url = check_store_url(store) if isinstance(store, str) else None
        self.store: Store | None = None if isinstance(store, str) else store
        self.startup_callbacks: list[Callable[[], object]] = []
        self.shutdown_callbacks: list[Callable[[], object]] = []

    async def open_store(self) -> Store:
        """The store, opened from its URL on first use (``StoreUnavailable``/``ValueError`` when it cannot)."""
        if self.store is None:
            assert self.store_url is not None
            self.store = await open_store(self.store_url)
        return self.store

    async def run(
        self, receive: Receive, send: Send, dispatcher: Dispatcher, check_handlers: Callable[[], None]
    ) -> None:
        """Answer the ASGI lifespan messages until shutdown, starting and stopping ``dispatcher``'s parts;
        ``check_handlers``: the app's check of its handlers against the attached client."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                failed = await self._start(dispatcher, check_handlers)
                if failed is not None:
                    await send({"type": "lifespan.startup.failed", "message": failed})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop(dispatcher)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self, dispatcher: Dispatcher, check_handlers: Callable[[], None]) -> str | None:
        """Start the receiver; why it cannot, in one line, or None."""
        try:
            logs.install()  # served now: uvicorn's access log shows <token>, not the token
            logs.show_callback_lines()
            check_handlers()
        except (TypeError, ValueError) as exc:
            return str(exc)
        try:
            await dispatcher.delivery.start()  # opens the store: one clear line when it cannot be
            # Also without background handlers: it runs the failed callbacks that are replayed.
            await dispatcher.start_background()
        except (StoreUnavailable, ValueError) as exc:
            return f"callhooks: {exc}"
        for callback in self.startup_callbacks:
            result = callback()
            if inspect.isawaitable(result):
                await result
        return None

    async def _stop(self, dispatcher: Dispatcher) -> None:
        await dispatcher.delivery.close()  # in-flight handlers finish first; new callbacks get 503
        await dispatcher.stop_background()
        await dispatcher.failed_callbacks.close(dispatcher.delivery.shutdown_timeout)  # before the store closes
        for callback in reversed(self.shutdown_callbacks):
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("shutdown callback %r failed", callback)
        if self.store_url is not None and self.store is not None:  # opened here, so closed here
            await self.store.close()
            self.store = None
