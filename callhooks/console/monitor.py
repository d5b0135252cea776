"""The console's monitor: every request the receiver answers becomes a journal entry for the feed."""

from __future__ import annotations

from ..monitoring import Dispatched, Monitor, Rejection
from .feed import ConsoleFeed
from .journal import EntryMaker

__all__ = ["ConsoleMonitor"]


class ConsoleMonitor(Monitor):
    def __init__(self, maker: EntryMaker, feed: ConsoleFeed) -> None:
        self.maker = maker
        self.feed = feed

    def callback_dispatched(self, record: Dispatched) -> None:
        self.feed.put(self.maker.event(record))

    def callback_rejected(self, record: Rejection) -> None:
        self.feed.put(self.maker.rejection(record))
