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
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from typing_extensions import Self

__all__ = ["Delivery", "Event", "Platform", "ReceivedEvent", "RoutedEvent", "event_call_id", "lower_headers"]


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


class Event(RoutedEvent, Protocol):
    """What the receiver core reads from any platform's event: routing's questions, the wire type for logs, and
    what ``ReceivedEvent`` attaches (the URL's context, the call's session)."""

    @property
    def event_type(self) -> str:
        """The event's type as the platform names it (the kind, for Twilio)."""

    @property
    def context(self) -> dict[str, Any]:
        """The context signed into the callback URL the event arrived on."""

    @property
    def session(self) -> dict[str, Any]:
        """The session of the event's call (or conference)."""

    def with_context(self, context: Mapping[str, Any]) -> Any:
        """Attach the verified context; returns the event."""

    def with_session(self, session: dict[str, Any]) -> Any:
        """Attach the loaded session; returns the event."""


EventT = TypeVar("EventT", bound=RoutedEvent)

_CONTEXT = "_context"
_SESSION = "_session"


class ReceivedEvent:
    """What the receiver attaches to any platform's pydantic event: the verified context of the callback URL and
    the call's session. A mixin of every platform's base event model.

    No ``PrivateAttr``: declaring one makes pydantic run a Python post-init hook on every parsed event, about
    1.5-2 µs of a 5-7 µs parse (benchmarks/micro.py). Both live in pydantic's own slot for private state instead
    (so copies and pickling carry them), created when first attached or read.
    """

    __slots__ = ()
    __pydantic_private__: dict[str, Any] | None
    #: Whether the callback URL, not the request, names the event's kind and tag (Twilio's): a recording of the
    #: event keeps them beside its context (``fixtures.recorded_context``), to sign them back in when replayed.
    route_in_url: ClassVar[bool] = False

    @property
    def context(self) -> dict[str, Any]:
        """The context signed into the callback URL this event arrived on (empty when none)."""
        private = self.__pydantic_private__
        if private is None:
            private = {_CONTEXT: {}}
            object.__setattr__(self, "__pydantic_private__", private)
        context: dict[str, Any] = private[_CONTEXT]
        return context

    def with_context(self, context: Mapping[str, Any]) -> Self:
        """Attach the verified callback-URL context (done by the receiver after verification)."""
        object.__setattr__(self, "__pydantic_private__", {_CONTEXT: dict(context)})
        return self

    @property
    def session(self) -> dict[str, Any]:
        """This call's session (this conference's, for conference events): a mutable mapping loaded from the
        receiver's store before the handler runs and saved after it when changed. Values must be JSON."""
        private = self.__pydantic_private__
        if private is None:
            private = {_CONTEXT: {}}
            object.__setattr__(self, "__pydantic_private__", private)
        session: dict[str, Any] | None = private.get(_SESSION)
        if session is None:
            session = private[_SESSION] = {}
        return session

    def with_session(self, session: dict[str, Any]) -> Self:
        """Attach the session loaded from the store (done by the receiver before the handler runs)."""
        private = self.__pydantic_private__
        if private is None:
            object.__setattr__(self, "__pydantic_private__", {_CONTEXT: {}, _SESSION: session})
        else:
            private[_SESSION] = session
        return self


def event_call_id(event: object) -> str | None:
    """The id of the call an event is about (``call_id``), None for events about no single call (a v2
    conference's own events have no such field at all)."""
    call_id = getattr(event, "call_id", None)
    return call_id if isinstance(call_id, str) else None


def _never(event: object) -> bool:
    return False


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
    #: Whether the event ends the session of its ``call_key`` (the call ended, or the conference): it is then kept
    #: for the receiver's ``session_end`` seconds more (recordings and transcriptions come later).
    ends_session: Callable[[EventT], bool] = _never
    #: Seconds the platform waits for a callback's answer by default before it gives up and delivers the event to
    #: the fallback URL: a receiver's ``callback_timeout`` unless the application set another.
    callback_timeout: float = 10.0
    #: The identity earlier versions stored records under (``identity.py``, rule 1), looked up while a store may
    #: still hold such records; None when it is ``identity``'s.
    legacy_identity: Callable[[EventT], str] | None = None
