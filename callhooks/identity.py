"""What makes two callbacks the same event, and which call's queue and session an event belongs to.

The platform sends no event id, so the identity is derived from content. **The rule** (``IDENTITY_RULE`` 2): the
identity of an event is the BLAKE2b digest (16 bytes, 32 hex digits, personalised ``callhooks:id:2``) of the wire
names of its present fields in order (``@type`` first, the others sorted), joined by NUL, then NUL and ``=``, then
their values as text joined by NUL (a time as whole milliseconds since the epoch, so one instant in any offset is
one value; a number or boolean as Python writes it; a nested model as compact JSON, keys sorted; a value holding a
NUL, which no platform sends, makes the values written by ``ascii()`` after ``!`` instead). The fields are

- its routing type (``@type``, from ``event.event_route_type``: ``transfer-complete`` and ``transferComplete``
  are one type, a ``hangup`` with cause ``CALL_REJECTED`` is ``reject``), and
- every field the event's model declares that has a value, *after* parsing: the ids it carries (``callId``,
  ``conferenceId``, ``recordingId``, ...), its times (``time``, ``startTime``, ...) and the fields that tell
  repeats apart (``dtmfDigit``, ``digits``, ``state``, ``status``, ``cause``, ``tag``, ...), with URIs left out
  (they repeat the ids).

Because it is computed from the typed values, the GET form (every value a string, ``+`` possibly decoded as a
space, times as text) and the POST JSON form of one event give the same identity; fields the model does not
know (``extra``) are left out for the same reason: their type differs between the two forms. A field without a
value is left out, so a field a later version adds does not change the identity of events that lack it. Two
events identical in all of the above (same digit, same call, same millisecond) are indistinguishable and count
as one.

**Rule 1** (``ContentIdentity.rule1``), what earlier versions stored: the SHA-256 (first 32 hex digits) of the
canonical JSON object of the same fields (times as ISO-8601 UTC text with milliseconds). Records live a day
(``Limits.record_ttl``), so during an upgrade a store may hold records under rule-1 identities: the receiver
looks those up too while they may exist (``receiver/guarantees.py``, ``Delivery.legacy_until``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from itertools import compress, repeat
from operator import attrgetter, is_not
from typing import Any

from pydantic import BaseModel

from .events import CallEvent, ConferenceEvent, ConferenceMemberEvent, ConferencePlaybackEvent, format_time

__all__ = ["IDENTITY_RULE", "ContentIdentity", "call_key", "event_identity", "legacy_event_identity"]

#: The identity rule this version writes records under (the module docstring); rule 1 is still looked up.
IDENTITY_RULE = 2

_CONFERENCE_EVENTS = (ConferenceEvent, ConferenceMemberEvent, ConferencePlaybackEvent)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)
#: Rule 2's personalisation of BLAKE2b: a digest of the same text under another rule can never be equal.
_RULE2_PERSON = b"callhooks:id:2"
#: Declared types whose values are text already (every other field's value goes through ``_rule2_value``).
_PLAIN_TYPES: frozenset[Any] = frozenset({str, str | None})


def _rule2_value(value: Any) -> str:
    """A value of rule 2 as text: a time as whole milliseconds since the epoch (naive means UTC), a number or a
    boolean as Python writes it (``3``, ``1.5``, ``True``), a nested model (``diversion``) or any other object as
    its compact JSON, keys sorted."""
    if isinstance(value, datetime):
        utc = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return str((utc - _EPOCH) // _MILLISECOND)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):  # bool included
        return repr(value)
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return _dumps(value)


def _rule2_digest(names: str, values: tuple[str, ...]) -> str:
    """Rule 2's digest of the present fields' wire names and their values as text, each list joined by NUL.
    Values holding a NUL themselves (no platform sends one) would make the joined text ambiguous: those are
    written with ``ascii()`` instead, under another mark."""
    joined = "\0".join(values)
    clean = joined.count("\0") == len(values) - 1
    text = names + ("\0=" + joined if clean else "\0!" + ascii(values))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16, person=_RULE2_PERSON).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if hasattr(value, "model_dump"):  # a nested model (``diversion``): its declared fields, by wire name
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _declared(cls: type[BaseModel], leave_out: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(wire name, attribute name) of ``@type`` and of every field of ``cls`` not left out, in the rules' order."""
    fields = [("@type", "event_route_type")]
    fields += [(info.alias or name, name) for name, info in cls.model_fields.items() if not leave_out(name)]
    return sorted(fields)


class _Plan:
    """Rule 2 for one event class: the wire names in order, one C getter for their values, the positions whose
    values need ``_rule2_value``, and the names text of each pattern of present fields seen."""

    __slots__ = ("named", "names", "special", "values")

    def __init__(self, cls: type[BaseModel], fields: list[tuple[str, str]]) -> None:
        self.names = tuple(wire for wire, _ in fields)
        getter = attrgetter(*(name for _, name in fields))
        # One name makes ``attrgetter`` return the value itself, not a 1-tuple.
        self.values: Callable[[Any], tuple[Any, ...]] = getter if len(fields) > 1 else lambda e: (getter(e),)
        annotations = {name: info.annotation for name, info in cls.model_fields.items()}
        annotations["event_route_type"] = str
        self.special = tuple(i for i, (_, name) in enumerate(fields) if annotations[name] not in _PLAIN_TYPES)
        self.named: dict[bytes, str] = {}  # present-field pattern -> their names joined: a few per class

    def names_of(self, present: bytes) -> str:
        named = self.named.get(present)
        if named is None:
            named = self.named[present] = "\0".join(compress(self.names, present))
        return named


class ContentIdentity:
    """An identity rule for events that carry no id of their own (module docstring): rule 2 of the event's
    routing type (``@type``, read from ``event_route_type``) and every field its model declares that has a value,
    except those ``leave_out`` names (by attribute name). Unknown fields never count.

    Every platform whose events are told apart by their content uses one (``event_identity`` below is Catapult's);
    each keeps its own plans, one per event class. ``reference`` is rule 2 written plainly (the tests hold the
    planned one to it); ``rule1`` is the rule earlier versions stored identities under.
    """

    __slots__ = ("_leave_out", "_plans")

    def __init__(self, leave_out: Callable[[str], bool]) -> None:
        self._leave_out = leave_out
        self._plans: dict[type[BaseModel], _Plan] = {}  # one per event class: as many as the program defines

    def __call__(self, event: BaseModel) -> str:
        """The event's identity by rule 2 (32 hex digits)."""
        cls = type(event)
        try:
            plan = self._plans[cls]
        except KeyError:
            plan = self._plans[cls] = _Plan(cls, _declared(cls, self._leave_out))
        values = plan.values(event)
        if plan.special:
            values = _specials(values, plan.special)
        present = bytes(map(is_not, values, repeat(None)))  # 1 where a field has a value: all in C
        return _rule2_digest(plan.names_of(present), tuple(compress(values, present)))

    def reference(self, event: BaseModel) -> str:
        """Rule 2 written plainly, field by field: what ``__call__`` must answer for every event."""
        names: list[str] = []
        values: list[Any] = []
        for wire, name in _declared(type(event), self._leave_out):
            value = getattr(event, name)
            if value is None:
                continue
            value = _rule2_value(value)
            names.append(wire)
            values.append(value)
        return _rule2_digest("\0".join(names), tuple(values))

    def rule1(self, event: BaseModel) -> str:
        """The event's identity by rule 1 (earlier versions'): the SHA-256 (first 32 hex digits) of the canonical
        JSON object of the same fields, times as ISO-8601 UTC text with milliseconds."""
        fields: dict[str, Any] = {"@type": getattr(event, "event_route_type")}  # noqa: B009 (any platform's model)
        for name, info in type(event).model_fields.items():
            value = getattr(event, name)
            if value is None or self._leave_out(name):
                continue
            fields[info.alias or name] = _canonical(value)
        return hashlib.sha256(_dumps(fields).encode()).hexdigest()[:32]


def _specials(values: tuple[Any, ...], positions: tuple[int, ...]) -> tuple[Any, ...]:
    converted = list(values)
    for i in positions:
        if converted[i] is not None:
            converted[i] = _rule2_value(converted[i])
    return tuple(converted)


# Catapult's rule: the wire type is the routing type, and URIs repeat the ids they end with.
_catapult_identity = ContentIdentity(lambda name: name == "event_type" or name.endswith("_uri"))


def event_identity(event: CallEvent) -> str:
    """The event's identity (32 hex digits) by the rule in this module's docstring."""
    return _catapult_identity(event)


def legacy_event_identity(event: CallEvent) -> str:
    """The event's identity by rule 1, which earlier versions stored (32 hex digits)."""
    return _catapult_identity.rule1(event)


def call_key(event: CallEvent) -> str | None:
    """The key of the queue and session the event belongs to: ``conference:<id>`` for conference events
    (ordered per conference), ``call:<id>`` for the others; None when it carries neither id."""
    if isinstance(event, _CONFERENCE_EVENTS) and event.conference_id:
        return f"conference:{event.conference_id}"
    return f"call:{event.call_id}" if event.call_id else None
