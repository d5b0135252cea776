"""The console's monitor: every request the receiver answers becomes a journal entry for the feed (marked
``replay`` when the console itself sent it again: replay.py); refused requests are counted, and a sample of them
kept in full."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from ..receiver.monitoring import Dispatched, Monitor, Rejection
from .feed import ConsoleFeed
from .journal import EntryMaker
from .replay import caught

__all__ = ["REJECTIONS_PER_SECOND", "REJECTION_BURST", "ConsoleMonitor", "RejectionSampler"]

#: Refused requests kept in full per second, on average, and at most at once: the rest are only counted.
REJECTIONS_PER_SECOND: Final = 5.0
REJECTION_BURST: Final = 20


class RejectionSampler:
    """Says which refused requests are kept in full: a token bucket of ``burst`` refilled at ``rate`` a second.

    Refused requests come from anyone, as fast as they like: building each one's entry (its payload decoded,
    searched and masked) would be work an anonymous client could ask for without limit."""

    def __init__(
        self,
        rate: float = REJECTIONS_PER_SECOND,
        burst: int = REJECTION_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class ConsoleMonitor(Monitor):
    def __init__(self, maker: EntryMaker, feed: ConsoleFeed, sampler: RejectionSampler | None = None) -> None:
        self.maker = maker
        self.feed = feed
        self.sampler = sampler if sampler is not None else RejectionSampler()

    def callback_dispatched(self, record: Dispatched) -> None:
        self.feed.put(_marked(self.maker.event(record), caught(record)))

    def callback_rejected(self, record: Rejection) -> None:
        if record.challenge:  # v2's first try of every webhook: neither news nor a share of the sample
            return
        self.feed.view.count_rejection(record.reason)
        if self.sampler.take():
            self.feed.put_rejection(_marked(self.maker.rejection(record), caught(record)))


def _marked(entry: dict[str, Any], replay: dict[str, Any] | None) -> dict[str, Any]:
    if replay is not None:
        entry["replay"] = replay
    return entry
