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

__all__ = ["KEEP_ALIVE_SECONDS", "MAX_STREAM_CLIENTS", "Listener", "StreamHub"]

#: Pages that may listen at once.
MAX_STREAM_CLIENTS: Final = 32
#: Notices queued for one page before it is told to reset.
MAX_QUEUED_NOTICES: Final = 256
#: Seconds between keep-alive comments, so proxies and browsers keep an idle stream open.
KEEP_ALIVE_SECONDS: Final = 15.0


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

    def __init__(self, max_clients: int = MAX_STREAM_CLIENTS, keep_alive: float = KEEP_ALIVE_SECONDS) -> None:
        self.max_clients = max_clients
        self.keep_alive = keep_alive
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
        """The stream's text for ``listener`` until the client goes away (then it leaves the hub)."""
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    notice = await asyncio.wait_for(listener.queue.get(), self.keep_alive)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if notice.get("type") == "reset":
                    listener.behind = False
                yield f"data: {json.dumps(notice, separators=(',', ':'))}\n\n"
        finally:
            self.listeners.discard(listener)
