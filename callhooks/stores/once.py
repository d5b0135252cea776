"""Exactly-once handling of one event across workers and hosts, on any store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .base import Claim, Store
from .errors import TurnTimeout
from .leases import Backoff, keep_alive

__all__ = ["Once", "claim_when_free", "run_once"]

T = TypeVar("T")


@dataclass(frozen=True)
class Once(Generic[T]):
    ran: bool  #: False: the event was already handled (a duplicate delivery)
    value: T | None  #: what ``work`` returned, when it ran here
    attempt: int  #: the claim that ran it (2 or more: an earlier delivery failed or its worker died)


async def run_once(
    store: Store,
    identity: str,
    work: Callable[[], Awaitable[T]],
    *,
    owner: str,
    lease: float = 30.0,
    wait: float = 30.0,
) -> Once[T]:
    """Run ``work`` unless the event ``identity`` was handled already.

    A delivery that arrives while another runs the event waits (up to ``wait`` seconds, then ``TurnTimeout``)
    for its outcome: done means a duplicate; failed, or abandoned because the runner's lease expired, means this
    delivery runs it. While ``work`` runs its lease is renewed every third of ``lease``. When ``work`` raises,
    the record says failed (so the platform's retry or fallback delivery runs it) and the error propagates.
    """
    claim = await claim_when_free(store, identity, owner=owner, lease=lease, wait=wait)
    if claim.status == "duplicate":
        return Once(False, None, 0)
    try:
        async with keep_alive(lambda: store.renew(identity, owner, lease), lease / 3):
            value = await work()
    except BaseException as exc:
        await store.finish(identity, owner, ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    await store.finish(identity, owner, ok=True)
    return Once(True, value, claim.attempt)


async def claim_when_free(store: Store, identity: str, *, owner: str, lease: float, wait: float) -> Claim:
    """Claim ``identity`` (``acquired``) or learn it was handled (``duplicate``), waiting while another worker runs
    it: up to ``wait`` seconds, then ``TurnTimeout``."""
    backoff = Backoff(wait)
    while (claim := await store.claim(identity, owner, lease)).status == "running":
        if not await backoff.wait():
            raise TurnTimeout(f"event {identity} is still being handled elsewhere after {wait} s")
    return claim
