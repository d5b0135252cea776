"""A change counter that wakes waiters: how the phone's live stream learns that a call moved on."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Changes"]


class Changes:
    """``bump()`` after any change (synchronous, on the simulator's loop); ``wait()`` until the next one."""

    def __init__(self) -> None:
        self.version = 0
        self._event: asyncio.Event | None = None

    def bump(self) -> None:
        """Something changed: count it and wake everyone waiting."""
        self.version += 1
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until ``version`` differs from ``seen``, at most ``timeout`` seconds; True when it does."""
        if self.version != seen:
            return True
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return self.version != seen
