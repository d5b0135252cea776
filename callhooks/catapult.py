"""Catapult (Bandwidth Voice API v1) as a ``Platform``: thin adapters over ``events`` and ``identity``, whose names
and behaviour stay as they are. The receiver serves Catapult through those modules directly; this value is what a
platform-neutral core is handed for it."""

from __future__ import annotations

from .events import (
    KNOWN_CALL_STATES,
    KNOWN_EVENT_TYPES,
    CallEvent,
    ConferenceEvent,
    canonical_event_type,
    parse_event,
    query_to_fields,
)
from .identity import call_key, event_identity, legacy_event_identity
from .platform import Delivery, Platform
from .rules import ENDED_CALL_STATES

# A session ends with its call: the states that never change again, and the error state calls end in.
_COMPLETED_CALL_STATES = ENDED_CALL_STATES | {"error"}

__all__ = ["CATAPULT"]


def _parse(delivery: Delivery) -> CallEvent:
    # The event type is in the body; a URL's kind means nothing here. The tag is the body's too.
    return parse_event(delivery.fields)


def _call_state(event: CallEvent) -> str | None:
    return event.call_state


def _ends_session(event: CallEvent) -> bool:
    """Whether the event ends its call (or its conference, for conference events)."""
    if isinstance(event, ConferenceEvent):
        return event.status == "completed"
    return event.call_state in _COMPLETED_CALL_STATES and call_key(event) == f"call:{event.call_id}"


#: Catapult v1 plugged into the core.
CATAPULT: Platform[CallEvent] = Platform(
    name="catapult",
    parse=_parse,
    form_fields=query_to_fields,
    identity=event_identity,
    call_key=call_key,
    call_state=_call_state,
    event_types=KNOWN_EVENT_TYPES,
    call_states=KNOWN_CALL_STATES,
    canonical_event_type=canonical_event_type,
    ends_session=_ends_session,
    legacy_identity=legacy_event_identity,
)
