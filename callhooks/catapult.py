"""Catapult (Bandwidth Voice API v1) as a ``Platform``: thin adapters over ``events`` and ``identity``, whose names
and behaviour stay as they are. The receiver serves Catapult through those modules directly; this value is what a
platform-neutral core is handed for it."""

from __future__ import annotations

from .events import KNOWN_CALL_STATES, KNOWN_EVENT_TYPES, CallEvent, canonical_event_type, parse_event, query_to_fields
from .identity import call_key, event_identity
from .platform import Delivery, Platform

__all__ = ["CATAPULT"]


def _parse(delivery: Delivery) -> CallEvent:
    # The event type is in the body; a URL's kind means nothing here. The tag is the body's too.
    return parse_event(delivery.fields)


def _call_state(event: CallEvent) -> str | None:
    return event.call_state


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
)
