"""Waiting with a deadline and keeping a lease alive: the two timing helpers the guarantees share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["Backoff", "keep_alive"]


class Backoff:
    """Poll intervals from ``first`` doubling to ``most`` seconds, until ``timeout`` seconds have passed."""

    def __init__(self, timeout: float, first: float = 0.002, most: float = 0.05) -> None:
        self._deadline = asyncio.get_running_loop().time() + timeout
        self._delay = first
        self._most = most

    async def wait(self) -> bool:
        """Sleep the next interval; False (without sleeping) once the deadline has passed."""
        left = self._deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return False
        await asyncio.sleep(min(self._delay, left))
        self._delay = min(self._delay * 2, self._most)
        return True


@contextlib.asynccontextmanager
async def keep_alive(renew: Callable[[], Awaitable[object]], every: float) -> AsyncIterator[None]:
    """Call ``renew`` every ``every`` seconds while the block runs (a failed renewal is retried next time).

    A timer, not a task: a block shorter than ``every`` (almost every callback) costs one timer handle, and a
    renewal task exists only while a renewal runs (never two at once)."""
    loop = asyncio.get_running_loop()
    running: list[asyncio.Task[None]] = []

    async def renew_quietly() -> None:
        with contextlib.suppress(Exception):
            await renew()

    def beat() -> None:
        if not running or running[0].done():
            running[:] = [loop.create_task(renew_quietly())]
        timer[0] = loop.call_later(every, beat)

    timer = [loop.call_later(every, beat)]
    try:
        yield
    finally:
        timer[0].cancel()
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
