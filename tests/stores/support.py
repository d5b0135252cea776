"""Fixtures' helpers shared by the store tests: open a store of each kind, count calls, poll with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from callhooks.stores import Limits, Store, open_store
from callhooks.testing.polling import DEFAULT_TIMEOUT, wait_until_async
from callhooks.testing.redis_server import RedisServer

BACKENDS = ["memory", "sqlite", "redis"]
SHARED_BACKENDS = ["sqlite", "redis"]  # the ones several processes can share


def backend_url(request: pytest.FixtureRequest, directory: Path) -> str:
    """The URL of a fresh store of the kind ``request.param`` names (a file in ``directory``, or the flushed
    session redis-server)."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{directory / 'callhooks.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    server.flush()
    return server.url


async def follow_journal(
    store: Store, writing: asyncio.Future[Any], limit: int = 9
) -> list[tuple[int, dict[str, Any]]]:
    """Read the journal as a console does while ``writing`` runs: poll with the last number seen, a page at a time,
    until the writers finished and one more read finds nothing left."""
    seen: list[tuple[int, dict[str, Any]]] = []
    after = 0
    while True:
        done = writing.done()
        page = await store.read_journal(after, limit)
        seen.extend(page)
        after = page[-1][0] if page else after
        if done and not page:
            return seen
        if not page:
            await asyncio.wait([writing], timeout=0.005)


async def opened(url: str, limits: Limits | None = None) -> Store:
    return await open_store(url, limits=limits)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Poll ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    return await wait_until_async(check, timeout=timeout, what=getattr(check, "__name__", "the condition"))


class Counting:
    """A store that counts answered calls to each method (to know that every task has been answered)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)
        if not callable(target):
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            result = await target(*args, **kwargs)
            self.calls[name] = self.calls.get(name, 0) + 1  # counted once answered
            return result

        return counted
