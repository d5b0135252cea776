"""The console's monitor: every request the receiver answers becomes a journal entry for the feed (marked
``replay`` when the console itself sent it again: replay.py)."""

from __future__ import annotations

from typing import Any

from ..monitoring import Dispatched, Monitor, Rejection
from .feed import ConsoleFeed
from .journal import EntryMaker
from .replay import caught

__all__ = ["ConsoleMonitor"]


class ConsoleMonitor(Monitor):
    def __init__(self, maker: EntryMaker, feed: ConsoleFeed) -> None:
        self.maker = maker
        self.feed = feed

    def callback_dispatched(self, record: Dispatched) -> None:
        self.feed.put(_marked(self.maker.event(record), caught(record)))

    def callback_rejected(self, record: Rejection) -> None:
        self.feed.put(_marked(self.maker.rejection(record), caught(record)))


def _marked(entry: dict[str, Any], replay: dict[str, Any] | None) -> dict[str, Any]:
    if replay is not None:
        entry["replay"] = replay
    return entry
