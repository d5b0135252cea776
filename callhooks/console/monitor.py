"""The console's monitor: every request the receiver answers becomes a journal entry for the feed."""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from ..events import CallEvent
from ..monitoring import Dispatched, Monitor, Rejection
from .feed import ConsoleFeed
from .journal import EntryMaker

__all__ = ["ConsoleMonitor"]

# Handler durations waiting for their event's answer; bounded in case an answer never comes.
_MAX_TIMINGS: Final = 1024


class ConsoleMonitor(Monitor):
    def __init__(self, maker: EntryMaker, feed: ConsoleFeed) -> None:
        self.maker = maker
        self.feed = feed
        self._handler_seconds: OrderedDict[int, float] = OrderedDict()

    def handler_finished(self, event: CallEvent, handler: str, seconds: float, error: BaseException | None) -> None:
        self._handler_seconds[id(event)] = seconds
        if len(self._handler_seconds) > _MAX_TIMINGS:
            self._handler_seconds.popitem(last=False)

    def callback_dispatched(self, record: Dispatched) -> None:
        seconds = self._handler_seconds.pop(id(record.event), None)
        self.feed.put(self.maker.event(record, seconds))

    def callback_rejected(self, record: Rejection) -> None:
        self.feed.put(self.maker.rejection(record))
