"""Outcomes of handlers that ran but could not be saved (the store was down or locked): kept in the worker and
saved once the store answers again.

A handler that succeeded is answered as it answered, never 503: a 503 makes the platform deliver again and the
handler run a second time. Its outcome (the record's state and reply, the call's session, giving up the call's
turn) waits here and is tried again every ``every`` seconds, so the event's record says done and the call's next
event gets its turn within about ``every`` of the store coming back. Bounded: at most ``most`` outcomes, each for
at most ``keep_for`` seconds; one dropped is logged as an error (its event may run again when delivered again).
While one waits, a duplicate delivered to this worker is answered from it (``get``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..stores import Admission, Store, StoreUnavailable
from ..stores.reply import StoredReply
from .deadline import answer_by

__all__ = ["DEFAULT_SAVE_EVERY", "UnsavedOutcome", "UnsavedOutcomes"]

logger = logging.getLogger("callhooks")

#: Seconds between tries to save the kept outcomes.
DEFAULT_SAVE_EVERY: Final = 0.1
#: Seconds one try may take (a store that does not answer is tried again at the next round).
_TRY_SECONDS: Final = 1.0


@dataclass(frozen=True)
class UnsavedOutcome:
    """What ``Store.settle`` was to write after a run (its arguments), and since when it waits."""

    store: Store
    admission: Admission
    ticket: int
    ok: bool
    error: str | None
    session: Mapping[str, Any] | None
    session_ends: float | None
    reply: StoredReply | None
    since: float  #: the event loop's time when it was first kept

    async def save(self) -> None:
        """``Store.settle`` it (``StoreUnavailable`` when the store does not answer within ``_TRY_SECONDS``)."""
        settled = self.store.settle(
            self.admission,
            self.ticket,
            ok=self.ok,
            error=self.error,
            session=self.session,
            session_ends=self.session_ends,
            reply=self.reply,
        )
        await answer_by(settled, asyncio.get_running_loop().time() + _TRY_SECONDS, self.store.backend)


class UnsavedOutcomes:
    """The outcomes a worker holds until its store takes them (this module's docstring)."""

    def __init__(self, *, most: int = 10_000, keep_for: float = 3600.0, every: float = DEFAULT_SAVE_EVERY) -> None:
        self.most = most
        self.keep_for = keep_for
        self.every = every
        self.saved_late = 0  #: outcomes kept here and saved later, since start
        self.lost = 0  #: outcomes dropped unsaved (over ``most``, older than ``keep_for``, or at shutdown)
        self._waiting: dict[str, UnsavedOutcome] = {}  # by event identity, oldest first
        self._saver: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._waiting)

    def get(self, identity: str) -> UnsavedOutcome | None:
        """The outcome kept for the event ``identity``, if one waits."""
        return self._waiting.get(identity)

    def keep(self, outcome: UnsavedOutcome, why: StoreUnavailable) -> None:
        """Hold ``outcome`` and save it once the store answers (starting the saver when it is not running)."""
        identity = outcome.admission.identity
        self._waiting.pop(identity, None)
        self._waiting[identity] = outcome
        logger.warning(
            "outcome of event %s (%s) not saved: %s; kept to save when the store answers (%d waiting)",
            identity,
            outcome.admission.call_key or "no call",
            why.reason,
            len(self._waiting),
        )
        while len(self._waiting) > self.most:
            self._drop(next(iter(self._waiting)), f"more than {self.most} outcomes waiting")
        if self._saver is None or self._saver.done():
            self._saver = asyncio.get_running_loop().create_task(self._save_while_waiting())

    async def _save_while_waiting(self) -> None:
        while self._waiting:
            await asyncio.sleep(self.every)
            await self.save_all()

    async def save_all(self) -> None:
        """One round: save each waiting outcome, oldest first, stopping at the first the store refuses."""
        now = asyncio.get_running_loop().time()
        for identity, outcome in list(self._waiting.items()):
            if now - outcome.since > self.keep_for:
                self._drop(identity, f"not saved in {self.keep_for:g} s")
                continue
            try:
                await outcome.save()
            except StoreUnavailable:
                return  # still down: the next round tries again
            except Exception:
                logger.exception("outcome of event %s could not be saved", identity)
                self._drop(identity, "the store failed on it")
                continue
            if self._waiting.get(identity) is outcome:
                del self._waiting[identity]
            self.saved_late += 1
            waited = asyncio.get_running_loop().time() - outcome.since
            logger.warning("outcome of event %s saved %.1f s late (%d waiting)", identity, waited, len(self._waiting))

    async def close(self, timeout: float) -> None:
        """At shutdown: try to save what waits for up to ``timeout`` seconds; what is left is lost (logged)."""
        saver, self._saver = self._saver, None
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._save_until_none_wait(), timeout)
        for identity in list(self._waiting):
            self._drop(identity, "the receiver shut down")

    async def _save_until_none_wait(self) -> None:
        await self.save_all()
        while self._waiting:
            await asyncio.sleep(self.every)
            await self.save_all()

    def _drop(self, identity: str, why: str) -> None:
        self._waiting.pop(identity, None)
        self.lost += 1
        logger.error("outcome of event %s dropped unsaved (%s): delivered again, it runs again", identity, why)
