"""What the receiver core needs to know about a telephony platform, as data and small functions.

A platform is one ``Platform`` value: how a delivered callback becomes a typed event (``parse``), what makes two
deliveries the same event (``identity``), which queue and session an event belongs to (``call_key``), the call
state it implies (``call_state``), and the event types and states handlers may be registered for. The core (the
receiver, routing, exactly-once delivery) works on any event that answers the ``RoutedEvent`` questions, so a
platform brings models and these functions and nothing else. ``callhooks.catapult.CATAPULT``,
``callhooks.bandwidth.events.BANDWIDTH_V2`` and ``callhooks.twilio.events.TWILIO`` are the three there are.

Nothing here does I/O or names a platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Delivery", "Platform", "RoutedEvent", "lower_headers"]


class RoutedEvent(Protocol):
    """What routing reads from any platform's event: the routing type, the call state and the tag."""

    @property
    def event_route_type(self) -> str:
        """The name handlers are registered under (``hooks.on("answer")``)."""

    @property
    def call_state(self) -> str | None:
        """The state of the call the event implies (None when it says nothing about one)."""

    @property
    def tag(self) -> str | None:
        """The application's tag the event carries (in its body, or in the URL it was sent to)."""


EventT = TypeVar("EventT", bound=RoutedEvent)


def lower_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """Request headers keyed by lower-case name (HTTP names are case-insensitive); the last of repeats wins."""
    if headers is None:
        return {}
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {name.lower(): value for name, value in pairs}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One callback as the core hands it to a platform's ``parse``.

    ``fields`` are the decoded body (a JSON object) or GET/form fields (``Platform.form_fields`` of the pairs).
    ``kind`` and ``tag`` come from the verified callback URL: platforms whose body names no event type (Twilio)
    are told the kind this way, and the tag is an application's label for what the URL was made for.
    ``headers`` are the request's, by lower-case name (``lower_headers``).
    """

    fields: Mapping[str, Any]
    kind: str | None = None
    tag: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Platform(Generic[EventT]):
    """A platform plugged into the receiver core (this module's docstring)."""

    #: Short name for logs and configuration (``catapult``, ``bandwidth-v2``, ``twilio``).
    name: str
    #: The typed event of one delivery; raises ``pydantic.ValidationError`` for fields of the wrong type.
    parse: Callable[[Delivery], EventT]
    #: GET/form pairs (already percent-decoded) as the ``fields`` of a ``Delivery``.
    form_fields: Callable[[list[tuple[str, str]]], dict[str, str]]
    #: What makes two deliveries one event: equal strings for a retry of the same event, different for two events.
    identity: Callable[[EventT], str]
    #: The key of the queue and session the event belongs to (``call:<id>``, ``conference:<id>``), or None.
    call_key: Callable[[EventT], str | None]
    #: The call state the event implies, or None.
    call_state: Callable[[EventT], str | None]
    #: Event types (routing names) handlers may be registered for without ``allow_unknown``.
    event_types: frozenset[str]
    #: Call states handlers may be registered for without ``allow_unknown``.
    call_states: frozenset[str]
    #: The routing name of another spelling of an event type (``recordingComplete`` → ``recordComplete``).
    canonical_event_type: Callable[[str], str] = str
    #: Seconds the platform waits for a callback's answer by default before it gives up and delivers the event to
    #: the fallback URL: a receiver's ``callback_timeout`` unless the application set another.
    callback_timeout: float = 10.0
