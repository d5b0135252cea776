"""Fixtures' helpers shared by the store tests: open a store of each kind, count calls, poll with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from callhooks.stores import Limits, Store, open_store

BACKENDS = ["memory", "sqlite", "redis"]
SHARED_BACKENDS = ["sqlite", "redis"]  # the ones several processes can share


def store_url(backend: str, directory: Path, redis_url: str | None) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{directory / 'callhooks.db'}"
    assert redis_url is not None
    return redis_url


async def opened(url: str, limits: Limits | None = None) -> Store:
    return await open_store(url, limits=limits)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


class Counting:
    """A store that counts calls to each method (to know that every task has reached the store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)
        if not callable(target):
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return await target(*args, **kwargs)

        return counted
