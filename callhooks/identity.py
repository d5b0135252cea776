"""What makes two callbacks the same event, and which call's queue and session an event belongs to.

The platform sends no event id, so the identity is derived from content. **The rule:** the identity of an
event is the SHA-256 (first 32 hex digits) of the canonical JSON of

- its routing type (``event.event_route_type``: ``transfer-complete`` and ``transferComplete`` are one type,
  a ``hangup`` with cause ``CALL_REJECTED`` is ``reject``), and
- every field the event's model declares that has a value, *after* parsing: the ids it carries (``callId``,
  ``conferenceId``, ``memberId``, ``recordingId``, ``transcriptionId``, ``gatherId``), its times (``time``,
  ``startTime``, ``endTime``, ``createdTime``, ``completedTime``, as UTC with millisecond precision) and the
  fields that tell repeats apart (``dtmfDigit``, ``digits``, ``state``, ``status``, ``cause``, ``tag``,
  ``callState``, ...), with URIs left out (they repeat the ids).

Because it is computed from the typed values, the GET form (every value a string, ``+`` possibly decoded as a
space, times as text) and the POST JSON form of one event give the same identity; fields the model does not
know (``extra``) are left out for the same reason: their type differs between the two forms. Two events
identical in all of the above (same digit, same call, same millisecond) are indistinguishable and count as one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any

from pydantic import BaseModel

from .events import CallEvent, ConferenceEvent, ConferenceMemberEvent, ConferencePlaybackEvent, format_time

__all__ = ["ContentIdentity", "call_key", "event_identity"]

_CONFERENCE_EVENTS = (ConferenceEvent, ConferenceMemberEvent, ConferencePlaybackEvent)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if hasattr(value, "model_dump"):  # a nested model (``diversion``): its declared fields, by wire name
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The canonical JSON is written field by field from a plan made once per event class, instead of a dict given to
# ``json.dumps(sort_keys=True)``: half the instructions per event (100k -> 48k, callgrind, mean of every factory
# event type; with format_time's own saving). The text is the same to the byte (tests/stores/test_stores_identity.py
# compares it with the dict's): the fields come in the order ``sort_keys`` puts them, strings are escaped by the
# encoder ``json.dumps`` itself uses, ints and bools written as it writes them, and any other value
# (``diversion``) by ``json.dumps`` itself, which writes a value nested in an object as it writes it alone.


class _Plan:
    """The fields of an event class, sorted by wire name: one getter for their values, and each one's ``"name":``.
    ``@type`` is one of them, read from ``event_route_type``."""

    __slots__ = ("prefixes", "values")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        fields = sorted(fields)
        self.values: Callable[[Any], tuple[Any, ...]] = attrgetter(*(name for _, name in fields))
        self.prefixes = tuple(_dumps(wire) + ":" for wire, _ in fields)

    @staticmethod
    def of(cls: type[BaseModel], leave_out: Callable[[str], bool]) -> _Plan | None:
        """None when two of the class's fields share a wire name (one key, the last value: the dict's way), or
        when it has no field to add to ``@type`` (one name makes ``attrgetter`` return a value, not a tuple)."""
        fields = [("@type", "event_route_type")] + [
            (info.alias or name, name) for name, info in cls.model_fields.items() if not leave_out(name)
        ]
        unique = len({wire for wire, _ in fields}) == len(fields)
        return _Plan(fields) if unique and len(fields) > 1 else None


class ContentIdentity:
    """An identity rule for events that carry no id of their own: the SHA-256 (first 32 hex digits) of the canonical
    JSON of the event's routing type (``@type``, read from ``event_route_type``) and every field its model declares
    that has a value, except those ``leave_out`` names (by attribute name). Unknown fields never count.

    Every platform whose events are told apart by their content uses one (``event_identity`` below is Catapult's);
    each keeps its own plans, one per event class.
    """

    __slots__ = ("_leave_out", "_plans")

    def __init__(self, leave_out: Callable[[str], bool]) -> None:
        self._leave_out = leave_out
        self._plans: dict[type[BaseModel], _Plan | None] = {}  # one per event class: as many as the program defines

    def __call__(self, event: BaseModel) -> str:
        """The event's identity (32 hex digits)."""
        cls = type(event)
        try:
            plan = self._plans[cls]
        except KeyError:
            plan = self._plans[cls] = _Plan.of(cls, self._leave_out)
        text = self._canonical_text(event) if plan is None else _planned_text(plan, event)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _canonical_text(self, event: BaseModel) -> str:
        fields: dict[str, Any] = {"@type": getattr(event, "event_route_type")}  # noqa: B009 (any platform's model)
        for name, info in type(event).model_fields.items():
            value = getattr(event, name)
            if value is None or self._leave_out(name):
                continue
            fields[info.alias or name] = _canonical(value)
        return _dumps(fields)


def _planned_text(plan: _Plan, event: BaseModel) -> str:
    parts = []
    for prefix, value in zip(plan.prefixes, plan.values(event), strict=True):
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            parts.append(prefix + encode_basestring(value))
        elif kind is datetime:
            parts.append(f'{prefix}"{format_time(value)}"')
        elif kind is int:
            parts.append(prefix + int.__repr__(value))  # as json.dumps writes an int
        elif kind is bool:
            parts.append(prefix + ("true" if value else "false"))
        else:
            parts.append(prefix + _dumps(_canonical(value)))
    return "{" + ",".join(parts) + "}"


# Catapult's rule: the wire type is the routing type, and URIs repeat the ids they end with.
_catapult_identity = ContentIdentity(lambda name: name == "event_type" or name.endswith("_uri"))


def event_identity(event: CallEvent) -> str:
    """The event's identity (32 hex digits) by the rule in this module's docstring."""
    return _catapult_identity(event)


def call_key(event: CallEvent) -> str | None:
    """The key of the queue and session the event belongs to: ``conference:<id>`` for conference events
    (ordered per conference), ``call:<id>`` for the others; None when it carries neither id."""
    if isinstance(event, _CONFERENCE_EVENTS) and event.conference_id:
        return f"conference:{event.conference_id}"
    return f"call:{event.call_id}" if event.call_id else None
