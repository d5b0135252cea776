"""Waiting in tests without racing a clock: poll a condition until it holds, with a deadline that only matters
when something is wrong.

A test that sleeps a fixed time and then looks fails when the machine is busy; a test that polls with a
deadline passes as soon as the thing happened, however slowly, and fails with a message naming what never did:

>>> from callhooks.testing import wait_until
>>> seen = ["answer"]
>>> wait_until(lambda: seen, what="the answer event")
['answer']

The deadlines default to :data:`DEFAULT_TIMEOUT`, generous on purpose: a passing run never waits for them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["DEFAULT_TIMEOUT", "latest", "wait_until", "wait_until_async"]

T = TypeVar("T")

#: Seconds before a wait gives up: long enough for a loaded 2-core CI machine, reached only by a failing test.
DEFAULT_TIMEOUT = 30.0


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.01,
    what: str = "the condition",
) -> T:
    """Call ``condition`` until it returns something truthy, and return that; ``AssertionError`` naming ``what``
    once ``timeout`` seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


async def wait_until_async(
    condition: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.005,
    what: str = "the condition",
) -> T:
    """:func:`wait_until` for a coroutine function, sleeping on the event loop between tries."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def latest(
    fetch: Callable[[], T],
    until: Callable[[T], bool],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.01,
) -> T:
    """Fetch until ``until(value)`` holds or ``timeout`` passes, and return the last value either way: for a test
    that then asserts on it, so a failure shows what arrived instead of a bare time-out."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)
