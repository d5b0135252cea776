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
from datetime import datetime
from typing import Any

from .events import CallEvent, ConferenceEvent, ConferenceMemberEvent, ConferencePlaybackEvent, format_time

__all__ = ["call_key", "event_identity"]

_CONFERENCE_EVENTS = (ConferenceEvent, ConferenceMemberEvent, ConferencePlaybackEvent)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if hasattr(value, "model_dump"):  # a nested model (``diversion``): its declared fields, by wire name
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def event_identity(event: CallEvent) -> str:
    """The event's identity (32 hex digits) by the rule in this module's docstring."""
    fields: dict[str, Any] = {"@type": event.event_route_type}
    for name, info in type(event).model_fields.items():
        value = getattr(event, name)
        if value is None or name == "event_type" or name.endswith("_uri"):
            continue
        fields[info.alias or name] = _canonical(value)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def call_key(event: CallEvent) -> str | None:
    """The key of the queue and session the event belongs to: ``conference:<id>`` for conference events
    (ordered per conference), ``call:<id>`` for the others; None when it carries neither id."""
    if isinstance(event, _CONFERENCE_EVENTS) and event.conference_id:
        return f"conference:{event.conference_id}"
    return f"call:{event.call_id}" if event.call_id else None
