"""The part of the store interface that the memory and SQLite stores share: records under expiring keys.

Each operation is one atomic read-modify-write of one key (``_update``), with the transition from ``records.py``.
The backends differ only in how they keep keys and in their queue and failed-event tables.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from . import records
from .base import Admission, Claim, Limits, OnceRecord, Store, Turn
from .keys import FIFO, ONCE, SESSION, TOKEN, token_key
from .sessions import decode_session, encode_session

__all__ = ["KeyValueStore", "Update", "admit_keys", "settle_keys"]

#: (current value or None, now) -> (new value or None to delete, expires at, answer)
Update = Callable[[Any, float], records.Change]


def admit_keys(admission: Admission) -> tuple[str, str, str, str]:
    """The keys ``records.admit`` takes, in its order: the token's binding, the event's record, the call's queue
    and its session."""
    token = token_key(admission.token) if admission.token is not None else TOKEN + "-"  # "-" is no token's digest
    return token, ONCE + admission.identity, FIFO + str(admission.call_key), SESSION + str(admission.call_key)


def settle_keys(admission: Admission) -> tuple[str, str, str]:
    """The keys ``records.settle`` takes, in its order: the event's record, the call's queue and its session."""
    return ONCE + admission.identity, FIFO + str(admission.call_key), SESSION + str(admission.call_key)


class KeyValueStore(Store):
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.clock = clock

    @abstractmethod
    async def _update(self, key: str, update: Update) -> Any:
        """Apply ``update`` to ``key`` atomically and return its answer."""

    @abstractmethod
    async def _read(self, key: str) -> Any:
        """The live value under ``key``, or None."""

    # -- idempotency records -------------------------------------------------------------------------------

    async def claim(self, identity: str, owner: str, lease: float) -> Claim:
        keep = self.limits.record_ttl
        answer: Claim = await self._update(ONCE + identity, lambda v, now: records.claim(v, now, owner, lease, keep))
        return answer

    async def renew(self, identity: str, owner: str, lease: float) -> bool:
        keep = self.limits.record_ttl
        return bool(await self._update(ONCE + identity, lambda v, now: records.renew(v, now, owner, lease, keep)))

    async def finish(self, identity: str, owner: str, *, ok: bool, error: str | None = None) -> bool:
        keep = self.limits.record_ttl
        update: Update = lambda v, now: records.finish(v, now, owner, ok, error, keep)  # noqa: E731
        return bool(await self._update(ONCE + identity, update))

    async def record(self, identity: str) -> OnceRecord | None:
        return records.to_record(await self._read(ONCE + identity))

    # -- per-call fair FIFO --------------------------------------------------------------------------------

    async def enter(self, key: str, lease: float) -> int:
        return int(await self._update(FIFO + key, lambda v, now: records.enter(v, now, lease)))

    async def turn(self, key: str, ticket: int, lease: float) -> Turn:
        answer: Turn = await self._update(FIFO + key, lambda v, now: records.turn(v, now, ticket, lease))
        return answer

    async def leave(self, key: str, ticket: int) -> None:
        await self._update(FIFO + key, lambda v, now: records.leave(v, now, ticket))

    # -- call sessions -------------------------------------------------------------------------------------

    async def load_session(self, key: str) -> dict[str, Any]:
        return decode_session(await self._read(SESSION + key))

    async def save_session(self, key: str, data: Mapping[str, Any]) -> None:
        text = encode_session(data, self.limits.session_max_bytes)
        ttl = self.limits.session_idle_ttl
        await self._update(SESSION + key, lambda v, now: (text, now + ttl, None))

    async def end_session(self, key: str, after: float) -> None:
        await self._update(SESSION + key, lambda v, now: (v, now + after, None))

    async def copy_session(self, parent: str, child: str) -> bool:
        text = await self._read(SESSION + parent)
        if text is None:
            return False
        ttl = self.limits.session_idle_ttl
        await self._update(SESSION + child, lambda v, now: (text, now + ttl, None))
        return True

    # -- token binding -------------------------------------------------------------------------------------

    async def bind_token(self, token: str, call_id: str) -> bool:
        ttl = self.limits.token_ttl

        def bind(value: Any, now: float) -> records.Change:
            bound = call_id if value is None else value
            return bound, now + ttl, bound == call_id

        return bool(await self._update(token_key(token), bind))
