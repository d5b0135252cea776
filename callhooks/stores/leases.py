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
    """Call ``renew`` every ``every`` seconds while the block runs (a failed renewal is retried next time)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(Exception):
                await renew()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
