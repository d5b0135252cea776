"""Per-call order: a fair FIFO per call key (tickets taken on arrival), across workers and hosts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from .base import Store
from .errors import TurnTimeout
from .leases import Backoff, keep_alive

__all__ = ["call_turn", "take_turn"]


async def take_turn(store: Store, key: str, *, lease: float, timeout: float) -> int:
    """Take a ticket in ``key``'s queue and wait (up to ``timeout`` seconds, then ``TurnTimeout``) until it is at
    the head; the ticket, renewed, whose holder must ``leave`` when done (it is given back here when waiting fails).
    A ticket dropped because this process stalled longer than the lease is taken again at the back of the queue."""
    ticket = await store.enter(key, lease)
    try:
        backoff = Backoff(timeout)
        while (answer := await store.turn(key, ticket, lease)) != "yes":
            if answer == "lost":
                ticket = await store.enter(key, lease)
            elif not await backoff.wait():
                raise TurnTimeout(f"no turn in {key}'s queue after {timeout} s")
    except BaseException:
        await store.leave(key, ticket)
        raise
    return ticket


@contextlib.asynccontextmanager
async def call_turn(store: Store, key: str, *, lease: float = 30.0, timeout: float = 30.0) -> AsyncIterator[int]:
    """Wait for this arrival's turn in ``key``'s queue, hold it while the block runs, then pass it on.

    The ticket is taken at once, so arrivals are served in arrival order, not in the random order of lock
    retries. Waiting and holding both renew the ticket's lease (every third of ``lease``); a worker that dies
    stops renewing and its ticket is skipped once the lease runs out. Gives up with ``TurnTimeout`` after
    ``timeout`` seconds of waiting (the ticket is given back). A ticket dropped because this process stalled
    longer than the lease is taken again at the back of the queue.
    """
    ticket = await take_turn(store, key, lease=lease, timeout=timeout)
    try:
        async with keep_alive(lambda: store.turn(key, ticket, lease), lease / 3):
            yield ticket
    finally:
        await store.leave(key, ticket)
