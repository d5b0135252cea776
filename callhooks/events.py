"""Typed callback events: one pydantic model per Catapult v1 ``eventType``, and the parsers that pick them.

The wire format (docs/platforms/catapult-voice.md#common-fields and #events) is kept here and nowhere else. Attribute
names are the snake_case of the wire names (``from`` becomes ``from_``); ``model_dump(by_alias=True)`` gives the wire
names back. Every field the platform may omit is optional and unknown fields are kept, because the platform adds fields
without notice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar
from urllib.parse import quote, urlencode

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import CoreSchema, core_schema

from .platform import ReceivedEvent
from .wire import MAX_JSON_FIELD_DEPTH as MAX_JSON_FIELD_DEPTH  # public here before wire.py existed
from .wire import Timestamp, WireModel, format_time, parse_json_string, query_to_fields

__all__ = [
    "IMPLIED_CALL_STATE",
    "KNOWN_CALL_STATES",
    "KNOWN_EVENT_TYPES",
    "AnswerEvent",
    "CallEvent",
    "ConferenceEvent",
    "ConferenceMemberEvent",
    "ConferencePlaybackEvent",
    "ConferenceSpeakEvent",
    "DtmfEvent",
    "ErrorEvent",
    "GatherEvent",
    "HangupEvent",
    "IncomingCallEvent",
    "PlaybackEvent",
    "RecordingEvent",
    "RedirectEvent",
    "RejectEvent",
    "SpeakEvent",
    "TimeoutEvent",
    "TranscriptionEvent",
    "TransferCompleteEvent",
    "UnknownEvent",
    "canonical_event_type",
    "encode_query",
    "event_adapter",
    "format_time",
    "parse_event",
    "parse_event_json",
    "query_to_fields",
    "wire_fields",
]


class Diversion(WireModel):
    """Where an inbound call was diverted from (``incomingcall``/``answer``, limited availability)."""

    orig_to: str | None = None
    reason: str | None = None
    screen: str | None = None
    privacy: str | None = None
    counter: int | None = None
    limit: int | None = None


DiversionField = Annotated[Diversion | None, BeforeValidator(parse_json_string)]

# The call state each event type implies when the wire carries no ``callState``. Routing by state uses
# ``event.call_state``, so ``@hooks.on(state="active")`` also sees ``dtmf`` events, which never carry it.
IMPLIED_CALL_STATE: dict[str, str] = {
    "incomingcall": "active",
    "answer": "active",
    "playback": "active",
    "speak": "active",
    "dtmf": "active",
    "gather": "active",
    "redirect": "active",
    "transferComplete": "active",
    "hangup": "completed",
    "timeout": "completed",
    "reject": "rejected",
    "error": "error",
}


def _implied(event_type: str) -> Any:
    # A class-level default: free at parse time, and left out of ``model_dump(exclude_unset=True)``.
    return Field(default=IMPLIED_CALL_STATE[event_type], alias="callState")


class CallEvent(WireModel, ReceivedEvent):
    """Base of every callback event. ``event_type`` is the wire ``eventType``, kept verbatim."""

    #: The name handlers are registered under (``hooks.on("answer")``); ``UnknownEvent`` uses the wire value.
    route_type: ClassVar[str] = ""

    event_type: str
    call_id: str | None = None
    call_uri: str | None = None
    call_state: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    tag: str | None = None
    time: Timestamp | None = None

    @field_validator("call_state", mode="before")
    @classmethod
    def _null_state_is_absent(cls, value: Any) -> Any:
        # Runs only when the wire carries callState; an explicit null means "not said", as absence does.
        return cls.model_fields["call_state"].default if value is None else value

    @property
    def event_route_type(self) -> str:
        """The event type used for routing: the class's canonical name, or the wire value if unknown."""
        return self.route_type or self.event_type


class IncomingCallEvent(CallEvent):
    """An inbound call arrived, sent to the incomingCallUrl of the application owning the number
    (docs/platforms/catapult-voice.md#incomingcall).
    """

    route_type = "incomingcall"
    call_state: str | None = _implied("incomingcall")
    application_id: str | None = None
    diversion: DiversionField = None


class AnswerEvent(CallEvent):
    """The call was answered; a tag only on outbound calls (docs/platforms/catapult-voice.md#answer)."""

    route_type = "answer"
    call_state: str | None = _implied("answer")
    application_id: str | None = None
    diversion: DiversionField = None


class HangupEvent(CallEvent):
    """The call ended, with its ``cause`` (rejects come as a hangup with cause ``CALL_REJECTED``)
    (docs/platforms/catapult-voice.md#hangup-and-the-reject-event).
    """

    route_type = "hangup"
    call_state: str | None = _implied("hangup")
    cause: str | None = None


class RejectEvent(HangupEvent):
    """A ``hangup`` whose cause is ``CALL_REJECTED`` (or the rare ``eventType=reject``).

    Handlers registered for ``"hangup"`` also receive it unless a ``"reject"`` handler matches as well.
    """

    route_type = "reject"
    call_state: str | None = _implied("reject")


class TimeoutEvent(CallEvent):
    """An outbound call was not answered within its ``callTimeout`` (docs/platforms/catapult-voice.md#timeout)."""

    route_type = "timeout"
    call_state: str | None = _implied("timeout")


class PlaybackEvent(CallEvent):
    """An audio file's playback ``started`` or is ``done``, with the tag of its request
    (docs/platforms/catapult-voice.md#playback).
    """

    route_type = "playback"
    call_state: str | None = _implied("playback")
    status: str | None = None


class SpeakEvent(CallEvent):
    """Text-to-speech ``started`` or is ``done``, with the tag of its request
    (docs/platforms/catapult-voice.md#speak).
    """

    route_type = "speak"
    call_state: str | None = _implied("speak")
    status: str | None = None
    state: str | None = None


class DtmfEvent(CallEvent):
    """One keypad digit was detected (``dtmf_digit``) (docs/platforms/catapult-voice.md#dtmf)."""

    route_type = "dtmf"
    call_state: str | None = _implied("dtmf")
    dtmf_digit: str | None = None
    dtmf_duration: int | None = None


class GatherEvent(CallEvent):
    """A gather completed: its ``digits``, ``reason`` and the gather's tag (docs/platforms/catapult-voice.md#gather)."""

    route_type = "gather"
    call_state: str | None = _implied("gather")
    gather_id: str | None = None
    state: str | None = None
    reason: str | None = None
    digits: str | None = None
    terminating_digit: str | None = None


class RecordingEvent(CallEvent):
    """A recording was saved (``complete``) or failed (``error``); no ``time``
    (docs/platforms/catapult-voice.md#recording).
    """

    route_type = "recording"
    recording_id: str | None = None
    recording_uri: str | None = None
    state: str | None = None
    status: str | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None


class TranscriptionEvent(CallEvent):
    """A recording's transcription finished or failed; no call id and no ``time``
    (docs/platforms/catapult-voice.md#transcription-beta).
    """

    route_type = "transcription"
    transcription_id: str | None = None
    transcription_uri: str | None = None
    recording_id: str | None = None
    state: str | None = None
    status: str | None = None
    text: str | None = None
    text_size: int | None = None
    text_url: str | None = None


class ConferenceEvent(CallEvent):
    """A conference was ``created`` or ``completed`` (docs/platforms/catapult-voice.md#conference)."""

    route_type = "conference"
    conference_id: str | None = None
    conference_uri: str | None = None
    status: str | None = None
    created_time: Timestamp | None = None
    completed_time: Timestamp | None = None


class ConferenceMemberEvent(CallEvent):
    """A conference member joined, left, or was muted or held (docs/platforms/catapult-voice.md#conference-member)."""

    route_type = "conference-member"
    conference_id: str | None = None
    member_id: str | None = None
    member_uri: str | None = None
    state: str | None = None
    hold: bool | None = None
    mute: bool | None = None
    active_members: int | None = None


class ConferencePlaybackEvent(CallEvent):
    """Audio played into a conference ``started`` or is ``done``
    (docs/platforms/catapult-voice.md#conference-playback).
    """

    route_type = "conference-playback"
    conference_id: str | None = None
    conference_uri: str | None = None
    status: str | None = None


class ConferenceSpeakEvent(ConferencePlaybackEvent):
    """Text-to-speech in a conference ``started`` or is ``done`` (docs/platforms/catapult-voice.md#conference-speak)."""

    route_type = "conference-speak"


class RedirectEvent(CallEvent):
    """BXML's ``<Redirect>`` ran; the reply is the call's next document
    (docs/platforms/catapult-voice.md#redirect-bxml).
    """

    route_type = "redirect"
    call_state: str | None = _implied("redirect")


class TransferCompleteEvent(CallEvent):
    """The B leg of a BXML ``<Transfer>`` hung up (``from``/``to`` are the B leg's)
    (docs/platforms/catapult-voice.md#transfercomplete-bxml).
    """

    route_type = "transferComplete"
    call_state: str | None = _implied("transferComplete")


class ErrorEvent(CallEvent):
    """The call failed (known from the SDKs only; its trigger is undocumented)
    (docs/platforms/catapult-voice.md#error-sdks-only).
    """

    route_type = "error"
    call_state: str | None = _implied("error")


class UnknownEvent(CallEvent):
    """Any ``eventType`` this version does not know: still delivered, routable by its type string."""


_EVENT_CLASSES: tuple[type[CallEvent], ...] = (
    IncomingCallEvent,
    AnswerEvent,
    HangupEvent,
    RejectEvent,
    TimeoutEvent,
    PlaybackEvent,
    SpeakEvent,
    DtmfEvent,
    GatherEvent,
    RecordingEvent,
    TranscriptionEvent,
    ConferenceEvent,
    ConferenceMemberEvent,
    ConferencePlaybackEvent,
    ConferenceSpeakEvent,
    RedirectEvent,
    TransferCompleteEvent,
    ErrorEvent,
)
_CLASS_BY_TYPE: dict[str, type[CallEvent]] = {cls.route_type: cls for cls in _EVENT_CLASSES}
#: Event types handlers can be registered for without ``allow_unknown=True`` (routing names and wire aliases).
KNOWN_EVENT_TYPES: frozenset[str] = frozenset(_CLASS_BY_TYPE)
#: Call states the platform reports (the call resource's states, plus ``error`` as the SDKs model it).
KNOWN_CALL_STATES: frozenset[str] = frozenset({"started", "rejected", "active", "completed", "transferring", "error"})
# Spellings seen in SDKs for the same event (C#'s parser accepts both for transfer-complete).
_ALIASES: dict[str, str] = {"transfer-complete": "transferComplete"}
_UNKNOWN = "__unknown__"
_NO_EVENT_TYPE = "__missing__"


def canonical_event_type(event_type: str) -> str:
    """The routing name for a wire ``eventType`` (``transfer-complete`` → ``transferComplete``)."""
    return _ALIASES.get(event_type, event_type)


def _discriminate(data: Any) -> str | None:
    if isinstance(data, CallEvent):
        return data.event_route_type
    if not isinstance(data, dict):
        return None
    event_type = data.get("eventType")
    if event_type is None:
        event_type = data.get("event_type")
    if not isinstance(event_type, str):
        return None
    event_type = canonical_event_type(event_type)
    if event_type == "hangup" and data.get("cause") == "CALL_REJECTED":
        return "reject"
    return event_type if event_type in _CLASS_BY_TYPE else _UNKNOWN


# Build the union from the class table so adding an event class is a one-line change.
_union: Any = Annotated[UnknownEvent, Tag(_UNKNOWN)]
for _cls in _EVENT_CLASSES:
    _union = _union | Annotated[_cls, Tag(_cls.route_type)]

event_adapter: TypeAdapter[CallEvent] = TypeAdapter(
    Annotated[
        _union,
        Discriminator(
            _discriminate,
            custom_error_type="missing_event_type",
            custom_error_message="the callback has no eventType string",
        ),
    ]
)


class _KnownEvent:
    """The union of the known event classes, chosen by the wire ``eventType`` inside pydantic-core.

    ``event_adapter`` decides with ``_discriminate``, a Python function pydantic-core calls on every event (and
    on JSON input, only after building a dict of it). Here the tag is looked up at a path (``eventType``, else
    ``event_type``) in Rust: parsing an event takes about a fifth less time (benchmarks/micro.py, parse). The
    rare cases it cannot decide go to ``event_adapter`` (``_parse``): an unknown or missing type, and a hangup
    whose cause says it was a reject.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        tags = {**{c.route_type: c for c in _EVENT_CLASSES}, **{a: _CLASS_BY_TYPE[t] for a, t in _ALIASES.items()}}
        choices = {tag: handler.generate_schema(event_class) for tag, event_class in tags.items()}
        paths: list[list[str | int]] = [["eventType"], ["event_type"]]
        return core_schema.tagged_union_schema(choices, discriminator=paths)


_known_adapter: TypeAdapter[Any] = TypeAdapter(_KnownEvent)


def _parse(validate: Callable[[Any], CallEvent], fallback: Callable[[Any], CallEvent], data: Any) -> CallEvent:
    try:
        event = validate(data)
    except ValidationError:
        return fallback(data)  # decided (and any error raised) by event_adapter, exactly as without the fast path
    if type(event) is HangupEvent and event.cause == "CALL_REJECTED":
        return _as_reject(event, fallback, data)
    return event


def _as_reject(event: HangupEvent, fallback: Callable[[Any], CallEvent], data: Any) -> CallEvent:
    """The ``RejectEvent`` a hangup parsed as ``HangupEvent`` is, without parsing it again: the two classes have
    the same fields, validated alike, and differ only in the state implied when ``callState`` is absent or null
    (``rejected``, not ``completed``). An absent one is not in the fields set; a null one cannot be told from an
    explicit ``completed`` after parsing, so input that may hold a null (the ``null`` literal anywhere in a JSON
    body, a ``None`` value in a dict) is parsed again by ``event_adapter``, as before (rare: Catapult sends the
    state as text)."""
    stated = "call_state" in event.model_fields_set
    if stated and event.call_state == IMPLIED_CALL_STATE["hangup"] and _may_hold_null(data):
        return fallback(data)
    # The instance becomes a RejectEvent in place: the subclass adds no field and no slot (the same layout), so
    # its values, fields set and extras stay as validated. model_construct would take longer than parsing again.
    object.__setattr__(event, "__class__", RejectEvent)
    if not stated:
        event.__dict__["call_state"] = IMPLIED_CALL_STATE["reject"]
    return event


def _may_hold_null(data: Any) -> bool:
    if isinstance(data, bytes | bytearray | memoryview):
        return b"null" in bytes(data)
    if isinstance(data, str):
        return "null" in data
    return not isinstance(data, dict) or any(value is None for value in data.values())


def parse_event(data: Mapping[str, Any]) -> CallEvent:
    """Turn one decoded callback (a JSON object, or GET/form fields whose values are all strings) into an event.

    Raises ``pydantic.ValidationError`` when ``eventType`` is missing or a known field has the wrong type.
    """
    return _parse(_known_adapter.validate_python, event_adapter.validate_python, dict(data))


def parse_event_json(body: bytes | str) -> CallEvent:
    """Parse a raw JSON body straight into the typed event (no intermediate dict on the fast path)."""
    return _parse(_known_adapter.validate_json, event_adapter.validate_json, body)


def wire_fields(event: CallEvent) -> dict[str, Any]:
    """The event as the platform sends it in a POST body: wire names, JSON types, only the fields it had."""
    return event.model_dump(mode="json", by_alias=True, exclude_unset=True)


def encode_query(fields: Mapping[str, Any]) -> str:
    """A callback's fields as the platform's GET query string: percent-encoded (``+`` as ``%2B``), booleans as
    ``true``/``false``, numbers as text, nested objects (``diversion``) as JSON strings."""
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, separators=(",", ":"))
        else:
            text = str(value)
        pairs.append((key, text))
    return urlencode(pairs, quote_via=quote)


del _cls
