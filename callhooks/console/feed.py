"""Where the console's entries go and come from: straight into this process's view, or, when the app has a
store for its guarantees, through the store's shared journal so every worker's and host's events show.

Refused requests never go through the store: anyone can send them, so a flood of them would slow the store
for every callback and push real calls out of the journal. Each worker keeps its own sample in memory
(``put_rejection``).

In shared mode the monitor only queues entries (bounded); a background task appends them in batches and reads
the journal back from its cursor, so nothing blocks the event loop and a store outage costs callbacks
nothing: it is logged once, entries wait (the oldest dropped beyond the bound) and the task keeps trying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Protocol, runtime_checkable

from .journal import fit_entry
from .stream import StreamHub
from .view import CallView

__all__ = ["MAX_PENDING_ENTRIES", "ConsoleFeed", "JournalStore"]

logger = logging.getLogger("callhooks")

#: Entries (and characters of their texts) waiting to be appended to the store's journal; beyond either the
#: oldest are dropped.
MAX_PENDING_ENTRIES: Final = 10_000
MAX_PENDING_CHARS: Final = 32 * 1024 * 1024
#: Entries appended in one call.
BATCH: Final = 200
#: Seconds between reads of the shared journal when nothing happened here (other workers' events).
POLL_SECONDS: Final = 0.5
#: Seconds to wait after the store failed before trying again.
RETRY_SECONDS: Final = 2.0
READ_PAGE: Final = 500
#: Entries read back from the journal's end when a console starts (its view keeps recent calls only).
READ_BACK: Final = 5000
#: Largest entry when the store does not say (``Limits.journal_entry_max_bytes``).
DEFAULT_ENTRY_MAX_BYTES: Final = 256 * 1024
#: Seconds given at shutdown to write the entries still waiting.
CLOSE_SECONDS: Final = 2.0


@runtime_checkable
class JournalStore(Protocol):
    """The part of a ``Store`` the console uses: a shared journal trimmed by the store's limits."""

    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None: ...

    async def read_journal(self, after: int, limit: int = 500) -> list[tuple[int, dict[str, Any]]]: ...


class ConsoleFeed:
    """Takes entries from the monitor (``put``) and keeps ``view`` up to date, telling ``hub`` of each.

    ``open_store``: how to get the app's store (``None``: no store, so this process's entries only). A store
    without a journal (``JournalStore``) is treated as none.
    """

    def __init__(
        self,
        view: CallView,
        hub: StreamHub,
        open_store: Callable[[], Awaitable[object]] | None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.view = view
        self.hub = hub
        self._open_store = open_store
        self.poll_seconds = poll_seconds
        self.store: JournalStore | None = None
        self.shared: bool | None = None if open_store is not None else False  # None: not decided yet
        self.pending: deque[dict[str, Any]] = deque()
        self._pending_sizes: deque[int] = deque()
        self.pending_chars = 0
        self.cursor = 0
        self._local_seq = 0
        self._rejection_seq = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    # -- in ----------------------------------------------------------------------------------------------

    def put(self, entry: dict[str, Any]) -> None:
        """One entry from the monitor (on the event loop): shown now, or queued for the store's journal."""
        if self.shared is False:
            self._local_seq += 1
            self._show(self._local_seq, entry)
            return
        size = _rough_size(entry)
        self.pending.append(entry)
        self._pending_sizes.append(size)
        self.pending_chars += size
        while len(self.pending) > MAX_PENDING_ENTRIES or self.pending_chars > MAX_PENDING_CHARS:
            self._pop()  # the store has been away long enough: the oldest waiting entries are lost
        self.start()
        if self._wake is not None:
            self._wake.set()

    def put_rejection(self, entry: dict[str, Any]) -> None:
        """One refused request's entry: into this process's view only, never the store's journal."""
        self._rejection_seq += 1
        self.view.add(self._rejection_seq, entry)
        self.hub.publish({"type": "rejection", "seq": self._rejection_seq, "callId": None})

    def _show(self, seq: int, entry: Mapping[str, Any]) -> None:
        key = self.view.add(seq, entry)
        self.hub.publish({"type": entry.get("kind", "event"), "seq": seq, "callId": key})

    # -- the background task (shared mode) -----------------------------------------------------------------

    def start(self) -> None:
        """Start the task that talks to the store (on the running loop; once)."""
        if self.shared is False or (self._task is not None and not self._task.done()):
            return
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="callhooks-console-journal")

    async def refresh(self) -> None:
        """Make sure the view holds what the journal holds now (before a page or API request is answered)."""
        if self.shared is False:
            return
        self.start()
        try:
            if self.shared is None:
                await self._choose()
            if self.shared and self.store is not None and not self._failing:
                await self._read()
        except Exception as exc:  # the page shows what it has; the task logs the outage and keeps trying
            logger.debug("callhooks console: could not read the store's journal now: %s", exc)

    async def close(self) -> None:
        """Stop the task, after one last try (bounded) at writing the entries still waiting."""
        if self.shared and self.store is not None and self.pending:
            try:
                await asyncio.wait_for(self._append(), CLOSE_SECONDS)
            except Exception as exc:
                logger.warning("callhooks console: %d entries not written to the journal: %s", len(self.pending), exc)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                if self.shared is None:
                    await self._choose()
                if not self.shared:
                    return
                await self._append()
                await self._read()
                if self._failing:
                    logger.warning("callhooks console: the store's journal works again")
                    self._failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a store outage: callbacks go on, the console catches up later
                if not self._failing:
                    logger.warning("callhooks console: the store's journal failed (%s); retrying", exc)
                    self._failing = True
                await self._sleep(RETRY_SECONDS)
                continue
            await self._sleep(self.poll_seconds)

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _choose(self) -> None:
        assert self._open_store is not None
        store = await self._open_store()
        if self.shared is not None:  # decided meanwhile (by a request, or the task)
            return
        if isinstance(store, JournalStore):
            tail = getattr(store, "journal_tail", None)
            self.cursor = max(0, await tail() - READ_BACK) if tail is not None else 0
            self.store, self.shared = store, True
            return
        logger.info("callhooks console: the store has no shared journal; showing this process's events only")
        self.shared = False
        while self.pending:
            self._local_seq += 1
            self._show(self._local_seq, self._pop())

    async def _append(self) -> None:
        assert self.store is not None
        limits = getattr(self.store, "limits", None)
        max_bytes = int(getattr(limits, "journal_entry_max_bytes", DEFAULT_ENTRY_MAX_BYTES))
        while self.pending:
            count = min(BATCH, len(self.pending))
            batch = [fit_entry(self.pending[i], max_bytes) for i in range(count)]
            try:
                await self.store.append_journal(batch)
            except ValueError as exc:  # refused for what it holds: trying again would refuse it again
                logger.warning("callhooks console: the journal refused %d entries; they are dropped: %s", count, exc)
            for _ in range(count):
                self._pop()

    def _pop(self) -> dict[str, Any]:
        self.pending_chars -= self._pending_sizes.popleft()
        return self.pending.popleft()

    async def _read(self) -> None:
        assert self.store is not None
        while True:
            page = await self.store.read_journal(self.cursor, READ_PAGE)
            for seq, entry in page:
                if seq > self.cursor:
                    self.cursor = seq
                    self._show(seq, entry)
            if not page and self.cursor and await self._restarted():
                continue
            if len(page) < READ_PAGE:
                return

    async def _restarted(self) -> bool:
        """Whether the journal started again below our cursor (a restarted ``memory://`` or Redis server that
        lost its data): then read it from the start."""
        tail = getattr(self.store, "journal_tail", None)
        if tail is None or await tail() >= self.cursor:
            return False
        logger.info("callhooks console: the store's journal started again; reading it from its start")
        self.cursor = 0
        return True


def _rough_size(entry: Mapping[str, Any]) -> int:
    """About how many characters ``entry`` holds: its texts, the answer's body and the traceback (cheap: no JSON)."""
    size = sum(len(value) for value in entry.values() if isinstance(value, str))
    for name, inner in (("response", "body"), ("error", "traceback")):
        part = entry.get(name)
        if isinstance(part, Mapping) and isinstance(part.get(inner), str):
            size += len(part[inner])
    return size + len(entry.get("payload") or "")  # the typed fields are about the payload's size again
