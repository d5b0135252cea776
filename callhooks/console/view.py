"""The console's picture of recent calls, built from journal entries: each call's summary and timeline, the
rejected requests, and the filters over them. Bounded three ways: calls kept, entries per call, and the total
size of what is kept (the least recently active call goes first)."""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..rules import ENDED_CALL_STATES

__all__ = ["DEFAULT_CALLS_KEPT", "CallFilter", "CallView"]

DEFAULT_CALLS_KEPT: Final = 200
#: Entries kept per call (a call with more keeps its latest).
MAX_ENTRIES_PER_CALL: Final = 500
#: Rejected requests kept.
MAX_REJECTIONS: Final = 200
#: Characters of JSON kept in all, across calls and rejections.
DEFAULT_MAX_CHARS: Final = 32 * 1024 * 1024
NO_CALL: Final = "(no call)"
#: States a call never leaves (the platform's ``error`` too: the phone page shows it as ended).
FINAL_STATES: Final = ENDED_CALL_STATES | {"error"}


@dataclass(frozen=True)
class CallFilter:
    """What the list is narrowed to; every part is a case-insensitive substring test, ``status`` an exact one
    (or ``error``: calls with a failure). Empty parts match everything."""

    call: str = ""
    number: str = ""
    tag: str = ""
    event: str = ""
    status: str = ""
    q: str = ""

    def matches(self, call: CallRecord) -> bool:
        summary = call.summary
        if self.call and self.call.lower() not in call.key.lower():
            return False
        if self.number and not any(_number_matches(self.number, summary[k] or "") for k in ("from", "to")):
            return False
        if self.tag and not any(self.tag.lower() in tag.lower() for tag in call.tags):
            return False
        if self.event and not any(self.event.lower() in kind.lower() for kind in call.event_types):
            return False
        if self.status:
            if self.status == "error":
                if not summary["error"]:
                    return False
            elif int(self.status) not in call.statuses:
                return False
        return not self.q or self.q.lower() in call.search_text()


@dataclass
class CallRecord:
    key: str
    entries: deque[tuple[int, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES_PER_CALL))
    sizes: deque[int] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES_PER_CALL))
    tags: set[str] = field(default_factory=set)
    event_types: set[str] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)
    handlers: set[str] = field(default_factory=set)
    summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.summary = {
            "callId": self.key,
            "direction": None,
            "from": None,
            "to": None,
            "state": None,
            "tag": None,
            "started": None,
            "last": None,
            "duration": 0.0,
            "events": 0,
            "lastStatus": None,
            "error": False,
            "seq": 0,
            "parentCallId": None,  # the call this one is a transfer leg of (CallView._link_transfer)
            "legs": [],  # this call's transfer legs
        }

    @property
    def size(self) -> int:
        return sum(self.sizes)

    def add(self, seq: int, entry: Mapping[str, Any], size: int) -> int:
        """Add ``entry``; returns the size of the entry pushed out (0 when none was)."""
        dropped = self.sizes[0] if len(self.sizes) == self.sizes.maxlen else 0
        self.entries.append((seq, dict(entry)))
        self.sizes.append(size)
        summary = self.summary
        at = float(entry.get("at") or 0.0)
        summary["started"] = at if summary["started"] is None else min(summary["started"], at)
        summary["last"] = at if summary["last"] is None else max(summary["last"], at)
        summary["duration"] = summary["last"] - summary["started"]
        summary["events"] += 1
        summary["seq"] = seq
        kind = str(entry.get("eventType") or "")
        self.event_types.add(kind)
        if kind == "incomingcall":
            summary["direction"] = "in"
        elif summary["direction"] is None and kind in ("answer", "timeout"):
            summary["direction"] = "out"  # answered or unanswered without an incomingcall first: we placed it
        for name in ("from", "to"):
            if summary[name] is None and entry.get(name):
                summary[name] = entry[name]
        # An ended call never comes back: transferComplete (callState "active") may follow the A-leg's hangup.
        if entry.get("state") and summary["state"] not in FINAL_STATES:
            summary["state"] = entry["state"]
        if entry.get("tag"):
            summary["tag"] = entry["tag"]
            self.tags.add(str(entry["tag"]))
        status = entry.get("status")
        if isinstance(status, int):
            summary["lastStatus"] = status
            self.statuses.add(status)
            if status >= 500:
                summary["error"] = True
        if entry.get("error"):
            summary["error"] = True
        if entry.get("handler"):
            self.handlers.add(str(entry["handler"]))
        return dropped

    def search_text(self) -> str:
        summary = self.summary
        parts = [self.key, *(str(summary[k] or "") for k in ("from", "to", "state", "direction"))]
        parts += [*self.tags, *self.event_types, *self.handlers, *(str(s) for s in self.statuses)]
        return " ".join(parts).lower()


class CallView:
    """Recent calls and rejections from journal entries (``add``), newest activity first."""

    def __init__(self, calls_kept: int = DEFAULT_CALLS_KEPT, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        if calls_kept < 1:
            raise ValueError("console_size (calls kept) must be at least 1")
        self.calls_kept = calls_kept
        self.max_chars = max_chars
        self.calls: OrderedDict[str, CallRecord] = OrderedDict()  # least recently active first
        self.rejections: deque[tuple[int, dict[str, Any]]] = deque(maxlen=MAX_REJECTIONS)
        self._rejection_sizes: deque[int] = deque(maxlen=MAX_REJECTIONS)
        # Every refused request is counted here, by reason (the reasons are the receiver's own codes, a few
        # dozen); only a sample of them is kept in full (``rejections``; console/monitor.py).
        self.refused = 0
        self.refused_by_reason: dict[str, int] = {}
        self.chars = 0
        self.last_seq = 0

    def count_rejection(self, reason: str) -> None:
        """Count one refused request, kept in full or not."""
        self.refused += 1
        self.refused_by_reason[reason] = self.refused_by_reason.get(reason, 0) + 1

    def add(self, seq: int, entry: Mapping[str, Any]) -> str | None:
        """Take one entry; returns the key of the call it belongs to (``None`` for a rejection)."""
        size = len(json.dumps(entry, separators=(",", ":"), default=str))
        if entry.get("kind") == "rejection":
            self._add_rejection(seq, entry, size)
            return None
        self.last_seq = max(self.last_seq, seq)
        key = _call_key(entry)
        call = self.calls.get(key)
        if call is None:
            call = self.calls[key] = CallRecord(key)
        else:
            self.calls.move_to_end(key)
        self.chars += size - call.add(seq, entry, size)
        if entry.get("eventType") == "transferComplete":
            self._link_transfer(call, entry)
        self._trim()
        return key

    def _add_rejection(self, seq: int, entry: Mapping[str, Any], size: int) -> None:
        if len(self._rejection_sizes) == MAX_REJECTIONS:
            self.chars -= self._rejection_sizes[0]
        self.rejections.append((seq, dict(entry)))
        self._rejection_sizes.append(size)
        self.chars += size
        self._trim()

    def _link_transfer(self, parent: CallRecord, entry: Mapping[str, Any]) -> None:
        """Link the leg a ``transferComplete`` tells of to ``parent``. Catapult's event names the leg only by its
        ``from``/``to``: the leg is the call with those numbers that started during ``parent`` and is linked to
        no call yet (the latest such, when the same number was called twice)."""
        leg_from, leg_to = entry.get("from"), entry.get("to")
        if not leg_to:
            return
        began, ended = parent.summary["started"] or 0.0, float(entry.get("at") or 0.0)
        legs = [
            call
            for call in self.calls.values()
            if call is not parent
            and call.summary["parentCallId"] is None
            and call.summary["to"] == leg_to
            and (not leg_from or call.summary["from"] == leg_from)
            and began <= (call.summary["started"] or 0.0) <= ended
        ]
        if legs:
            leg = max(legs, key=lambda call: call.summary["started"] or 0.0)
            leg.summary["parentCallId"] = parent.key
            parent.summary["legs"] = [*parent.summary["legs"], leg.key]

    def extend(self, entries: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        for seq, entry in entries:
            self.add(seq, entry)

    def _trim(self) -> None:
        while len(self.calls) > self.calls_kept or (self.chars > self.max_chars and len(self.calls) > 1):
            _, oldest = self.calls.popitem(last=False)
            self.chars -= oldest.size
        while self.chars > self.max_chars and self.rejections:
            self.rejections.popleft()
            self.chars -= self._rejection_sizes.popleft()

    @property
    def entry_count(self) -> int:
        return sum(len(call.entries) for call in self.calls.values()) + len(self.rejections)

    def summaries(self, where: CallFilter, limit: int) -> list[dict[str, Any]]:
        """Summaries of the calls ``where`` matches, newest first (by when each started)."""
        found = [call for call in self.calls.values() if where.matches(call)]
        found.sort(key=lambda call: (call.summary["started"] or 0.0, call.summary["seq"]), reverse=True)
        return [dict(call.summary) for call in found[:limit]]

    def call(self, key: str) -> CallRecord | None:
        return self.calls.get(key)

    def entry(self, seq: int) -> dict[str, Any] | None:
        """The kept event entry numbered ``seq`` (``None`` when it is not, or no longer, kept)."""
        for call in self.calls.values():
            for number, entry in call.entries:
                if number == seq:
                    return entry
        return None

    def rejected(self, limit: int) -> list[dict[str, Any]]:
        return [{"seq": seq, **entry} for seq, entry in reversed(self.rejections)][:limit]


def _number_matches(wanted: str, number: str) -> bool:
    """``wanted`` in ``number``, comparing digits only when it has any (``919-555`` finds ``+1919555…``)."""
    digits = "".join(c for c in wanted if c.isdigit())
    if not digits:
        return wanted in number
    return digits in "".join(c for c in number if c.isdigit())


def _call_key(entry: Mapping[str, Any]) -> str:
    call_id = entry.get("callId")
    if call_id:
        return str(call_id)
    fields = entry.get("fields")
    conference = fields.get("conferenceId") if isinstance(fields, Mapping) else None
    return f"conference {conference}" if conference else NO_CALL
