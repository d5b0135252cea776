"""Background items: run what is due, retry failures with backoff, then keep them as failed events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .base import QueueItem, Store
from .leases import keep_alive

__all__ = ["BackgroundRetry", "FailedRun", "RetryPolicy", "process_due_items"]

logger = logging.getLogger("callhooks.stores")

#: Told of each failed run: the item's payload, the error, and whether it was given up (kept as a failed event)
#: rather than retried later. For the metrics; must be quick.
FailedRun = Callable[[dict[str, Any], str, bool], object]


@dataclass(frozen=True)
class BackgroundRetry:
    """How a background item is retried: ``max_attempts`` runs in all; the n-th retry waits
    ``base_delay * 2**(n-1)`` seconds, at most ``max_delay``. (Not the clients' ``callhooks.RetryPolicy``, which
    retries HTTP requests.)"""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 300.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed run."""
        return min(self.max_delay, self.base_delay * 2.0 ** max(0, failures - 1))


#: The name ``BackgroundRetry`` had before (kept: ``callhooks.stores.RetryPolicy`` is imported by applications).
RetryPolicy = BackgroundRetry


async def process_due_items(
    store: Store,
    consumer: str,
    handle: Callable[[dict[str, Any]], Awaitable[object]],
    *,
    policy: BackgroundRetry | None = None,
    lease: float = 60.0,
    limit: int = 10,
    on_failed_run: FailedRun | None = None,
) -> int:
    """Claim up to ``limit`` due items and run ``handle`` on each payload, one after the other; returns how many
    were claimed. Success acks the item; a failure is retried after the policy's delay, or becomes a failed
    event once ``max_attempts`` runs failed. The item's lease is renewed while ``handle`` runs."""
    policy = policy or BackgroundRetry()
    items = await store.claim_items(consumer, lease=lease, limit=limit)
    for item in items:
        if item.attempts >= policy.max_attempts:  # its workers kept dying (or losing the lease) while running it
            error = f"abandoned: {item.attempts} runs stopped before finishing (the worker died or lost its lease)"
            await store.fail_item(item.id, consumer, error)
            if on_failed_run is not None:
                on_failed_run(item.payload, error, True)
        else:
            await _run(store, consumer, item, handle, policy, lease, on_failed_run)
    return len(items)


async def _run(
    store: Store,
    consumer: str,
    item: QueueItem,
    handle: Callable[[dict[str, Any]], Awaitable[object]],
    policy: BackgroundRetry,
    lease: float,
    on_failed_run: FailedRun | None = None,
) -> None:
    try:
        async with keep_alive(lambda: store.renew_item(item.id, consumer, lease), lease / 3):
            await handle(item.payload)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        failures = item.attempts + 1
        if failures >= policy.max_attempts:
            logger.error("background item %s failed %d times, kept as a failed event: %s", item.id, failures, error)
            await store.fail_item(item.id, consumer, error)
        else:
            await store.retry_later(item.id, consumer, error, policy.delay(failures))
        if on_failed_run is not None:
            on_failed_run(item.payload, error, failures >= policy.max_attempts)
        return
    await store.ack(item.id, consumer)
