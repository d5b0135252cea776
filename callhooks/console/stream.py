"""Server-sent events for the console's pages: each connected page gets a bounded queue of notices.

A notice is small (which call changed, its sequence number); the page fetches what it shows through the JSON
API. A page that falls behind (its queue full) gets one ``reset`` notice instead of the ones it missed, and
reloads. The number of pages listening at once is bounded too: one more gets a 503.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Final

__all__ = ["KEEP_ALIVE_SECONDS", "MAX_STREAM_CLIENTS", "STREAM_SECONDS", "Listener", "StreamHub"]

#: Pages that may listen at once.
MAX_STREAM_CLIENTS: Final = 32
#: Notices queued for one page before it is told to reset.
MAX_QUEUED_NOTICES: Final = 256
#: Seconds between keep-alive comments, so proxies and browsers keep an idle stream open.
KEEP_ALIVE_SECONDS: Final = 15.0
#: Seconds one stream lasts; the page then reconnects (and catches up). A server shutting down gracefully waits
#: for open responses, so this bounds how long an open console page can hold it up.
STREAM_SECONDS: Final = 30.0


class Listener:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_QUEUED_NOTICES)
        self.behind = False

    def offer(self, notice: dict[str, Any]) -> None:
        if self.behind:
            return
        try:
            self.queue.put_nowait(notice)
        except asyncio.QueueFull:
            self.behind = True  # what it missed is gone: it is told to reload once it catches up
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait({"type": "reset"})


class StreamHub:
    """The pages listening now; ``publish`` is called on the event loop, never blocks."""

    def __init__(
        self,
        max_clients: int = MAX_STREAM_CLIENTS,
        keep_alive: float = KEEP_ALIVE_SECONDS,
        lifetime: float = STREAM_SECONDS,
    ) -> None:
        self.max_clients = max_clients
        self.keep_alive = keep_alive
        self.lifetime = lifetime
        self.listeners: set[Listener] = set()

    def publish(self, notice: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener.offer(notice)

    def join(self) -> Listener | None:
        """A new listener, or ``None`` when as many as allowed are listening already."""
        if len(self.listeners) >= self.max_clients:
            return None
        listener = Listener()
        self.listeners.add(listener)
        return listener

    async def frames(self, listener: Listener) -> AsyncIterator[str]:
        """The stream's text for ``listener`` until the client goes away or its lifetime is over (then it leaves
        the hub)."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.lifetime
        try:
            yield "retry: 1000\n\n"
            while (left := ends - loop.time()) > 0:
                try:
                    notice = await asyncio.wait_for(listener.queue.get(), min(self.keep_alive, left))
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if notice.get("type") == "reset":
                    listener.behind = False
                yield f"data: {json.dumps(notice, separators=(',', ':'))}\n\n"
        finally:
            self.listeners.discard(listener)
