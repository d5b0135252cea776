"""A callback's store deadline: the time by which each store call it makes must have answered.

A store that stops answering without closing its connections (a Redis server paused, a host behind a dead link)
holds every call for the client's socket timeout, and a callback makes several calls in a row: it answered its
503 after 11.5 s, when the platform had given up at 10. Under a deadline a store call still unanswered then is
cut short with ``StoreUnavailable``, so the 503 goes out with a margin before the platform's callback timeout.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

from ..stores import Store, StoreUnavailable
from .handler_runs import resume

__all__ = ["answer_by", "bounded"]

T = TypeVar("T")


async def answer_by(step: Coroutine[Any, Any, T], deadline: float, backend: str) -> T:
    """What ``step`` (a store call) returns, when it answers by ``deadline`` (the event loop's time); else
    ``StoreUnavailable``. A call that answers without waiting (``memory://``, SQLite with the file free) costs
    no timer: it is stepped by hand first, and only one that waits is timed from where it waits."""
    try:
        waiting_on = step.send(None)
    except StopIteration as returned:
        done: T = returned.value
        return done
    try:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout_at(deadline):
                result: T = await resume(step, waiting_on)
                return result
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(_finish(step, waiting_on), max(0.0, deadline - loop.time()))
    except asyncio.TimeoutError:
        raise StoreUnavailable(
            backend, "no answer in time: the callback is answered before the platform gives up"
        ) from None


async def _finish(step: Coroutine[Any, Any, T], waiting_on: Any) -> T:
    result: T = await resume(step, waiting_on)
    return result


class _Bounded:
    """``store`` with each of its coroutine methods bounded by ``deadline`` (other attributes as they are)."""

    def __init__(self, store: Store, deadline: float) -> None:
        self._store = store
        self._deadline = deadline

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not callable(found):
            return found
        store, deadline = self._store, self._deadline

        def call(*args: Any, **kwargs: Any) -> Any:
            result = found(*args, **kwargs)
            if not isinstance(result, Coroutine):
                return result
            return answer_by(result, deadline, store.backend)

        return call


def bounded(store: Store, deadline: float) -> Store:
    """``store`` seen through ``deadline`` (the event loop's time): for the helpers a callback's steps before its
    handler use (``take_turn``, ``claim_when_free``), which call the store themselves."""
    return cast(Store, _Bounded(store, deadline))  # duck-typed: every call goes to ``store``
