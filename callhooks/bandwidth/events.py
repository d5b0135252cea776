"""Typed Bandwidth Voice API v2 callbacks: one pydantic model per ``eventType``, the parsers, the identity rule,
the call key and the call state each event implies. Sans-I/O: ``BANDWIDTH_V2`` is what the receiver core plugs in.

Attribute names are the snake_case of the wire names (``from`` becomes ``from_``); ``model_dump(by_alias=True)``
gives the wire names back. Every field is optional (the platform omits some and adds others without notice) and
unknown fields are kept. The same event arrives as a JSON POST or, with a ``*Method="GET"`` URL, as query
parameters: every value a string there, nested objects (``diversion``, ``machineDetectionResult``, ...) as JSON
text. Both forms parse to equal events.

**Event types.** The documented ``recordComplete`` is the routing name; ``recordingComplete`` (the OpenAPI
description's and the SDK's spelling) is accepted on input as the same event. Any other unknown ``eventType``
parses as ``UnknownEvent``, routable by its wire string.

**Call state.** v2 events carry no state; each implies one (``call_state``), named after the states of the call
resource (``initiated``, ``answered``), with a disconnect's state told by its ``cause``:

- ``initiate``: ``initiated`` (an inbound call, not yet answered);
- ``answer``, ``redirect``, ``gather``, ``dtmf``, ``recordComplete``, ``machineDetectionComplete``,
  ``transferAnswer``, ``transferComplete``, ``bridgeComplete``, ``bridgeTargetComplete``, ``mediaStream*``,
  ``realTimeTranscription*``: ``answered``;
- ``disconnect`` and ``transferDisconnect`` (the B-leg's end), by ``cause`` (``DISCONNECT_CAUSE_STATE``):
  ``hangup`` → ``disconnected``, ``busy`` → ``busy``, ``timeout`` → ``no-answer``, ``cancel`` → ``canceled``,
  ``rejected`` → ``rejected``; ``callback-error``, ``invalid-bxml``, ``application-error``, ``account-limit``,
  ``node-capacity-exceeded``, ``error`` and ``unknown`` → ``failed``; no cause, or one not listed →
  ``disconnected``;
- ``recordingAvailable``, ``transcriptionAvailable``, the ``conference*`` events and unknown types: None (they
  may come after the call ended, or concern a conference).

**Identity** (``event_identity``). v2 events carry no event id. Bandwidth generates an event once and sends
that same event again when it retries (an async webhook, once, after a connection error) or falls back to the
``*FallbackUrl``: every field equal, ``eventTime`` included. Two different events differ in some field: at least
``eventTime``, which has millisecond precision (two presses of one digit are two ``dtmf`` events at two times).
So the identity is rule 2 of ``callhooks.identity`` (a 32-hex-digit digest) over the routing type and every
declared field with a value, after parsing (so the GET and POST forms of one event agree), leaving out the URLs
(``callUrl``, ``mediaUrl``, ... repeat the ids) and unknown fields (their type differs between the forms).

**Call key** (``call_key``). ``conference:<conferenceId>`` for ``conference*`` events (a conference's events are
ordered together and share a session), ``call:<callId>`` for the others (``transferAnswer`` and
``transferDisconnect`` belong to the B-leg, whose ``callId`` they carry).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AliasChoices, BeforeValidator, Field, TypeAdapter

from ..identity import ContentIdentity
from ..platform import Delivery, Platform, ReceivedEvent
from ..wire import WireModel, parse_json_string, parse_time, query_to_fields

__all__ = [
    "BANDWIDTH_V2",
    "DISCONNECT_CAUSE_STATE",
    "IMPLIED_CALL_STATE",
    "KNOWN_CALL_STATES",
    "KNOWN_EVENT_TYPES",
    "AnswerEvent",
    "BandwidthCallEvent",
    "BandwidthEvent",
    "BridgeCompleteEvent",
    "BridgeTargetCompleteEvent",
    "ConferenceCompletedEvent",
    "ConferenceCreatedEvent",
    "ConferenceEvent",
    "ConferenceMemberExitEvent",
    "ConferenceMemberJoinEvent",
    "ConferenceRecordingAvailableEvent",
    "ConferenceRedirectEvent",
    "DisconnectEvent",
    "Diversion",
    "DtmfEvent",
    "GatherEvent",
    "InitiateEvent",
    "MachineDetectionCompleteEvent",
    "MachineDetectionResult",
    "MediaStream",
    "MediaStreamEvent",
    "MediaStreamRejectedEvent",
    "MediaStreamStartedEvent",
    "MediaStreamStoppedEvent",
    "RealTimeTranscription",
    "RealTimeTranscriptionAvailableEvent",
    "RealTimeTranscriptionEvent",
    "RealTimeTranscriptionRejectedEvent",
    "RealTimeTranscriptionStartedEvent",
    "RealTimeTranscriptionStoppedEvent",
    "RecordCompleteEvent",
    "RecordingAvailableEvent",
    "RedirectEvent",
    "StirShaken",
    "TranscriptionAvailableEvent",
    "TranscriptionInfo",
    "TransferAnswerEvent",
    "TransferCompleteEvent",
    "TransferDisconnectEvent",
    "UnknownEvent",
    "call_key",
    "canonical_event_type",
    "ends_session",
    "event_identity",
    "parse_event",
    "parse_event_json",
]


# Some documented examples write the date and the time apart with a ``-``: ``2019-09-13-16:48:27.198Z``.
_DASHED_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})-(\d{2}:)")


def _parse_v2_time(value: Any) -> Any:
    if isinstance(value, str):
        value = _DASHED_TIME.sub(r"\1T\2", value.strip(), count=1)
    return parse_time(value)


#: Timestamps as ``wire.parse_time`` reads them, and the dashed form some v2 examples show.
Timestamp = Annotated[datetime, BeforeValidator(_parse_v2_time)]


# ---- nested objects (JSON text in GET callbacks) -------------------------------------------------------------


class Diversion(WireModel):
    """From the SIP Diversion header of an inbound call (``initiate``); every value a string, unknown keys kept."""

    orig_to: str | None = None
    reason: str | None = None
    screen: str | None = None
    privacy: str | None = None
    counter: str | None = None
    limit: str | None = None


class StirShaken(WireModel):
    """STIR/SHAKEN verification of an inbound call (``initiate``)."""

    verstat: str | None = None
    attestation_indicator: str | None = None
    originating_id: str | None = None


class MachineDetectionResult(WireModel):
    """Answering-machine detection's verdict: ``value`` (``human``, ``answering-machine``, ``tone-detected``,
    ``silence``, ``timeout``, ``error``) and ``duration`` (ISO-8601 duration text)."""

    value: str | None = None
    duration: str | None = None


class TranscriptionInfo(WireModel):
    """The ``transcription`` of ``transcriptionAvailable`` as the webhook docs send it (the content itself is
    fetched from ``url``)."""

    id: str | None = None
    url: str | None = None
    status: str | None = None
    completed_time: Timestamp | None = None


class MediaStream(WireModel):
    """The ``mediaStream`` of ``mediaStream*`` events (``originalMediaStream`` of a duplicate too)."""

    id: str | None = None
    name: str | None = None
    destination: str | None = None
    tracks: list[str] | None = None
    type: str | None = None
    start_time: Timestamp | None = None
    duration: str | None = None


class RealTimeTranscription(WireModel):
    """The ``realTimeTranscription`` of ``realTimeTranscription*`` events (``stabilized`` arrives as text too)."""

    id: str | None = None
    name: str | None = None
    tracks: list[str] | None = None
    start_time: Timestamp | None = None
    destination: str | None = None
    stabilized: bool | None = None
    status: str | None = None
    url: str | None = None
    completed_time: Timestamp | None = None
    duration: str | None = None


_Nested = TypeVar("_Nested")
#: A nested object that a GET callback carries as JSON text (``JsonText[Diversion]``).
JsonText = Annotated[_Nested | None, BeforeValidator(parse_json_string)]


# ---- events -------------------------------------------------------------------------------------------------

#: The state each event type implies (module docstring); ``disconnect`` and ``transferDisconnect`` refine theirs
#: by cause (``DISCONNECT_CAUSE_STATE``).
IMPLIED_CALL_STATE: dict[str, str | None] = {
    "initiate": "initiated",
    **dict.fromkeys(
        (
            "answer",
            "redirect",
            "gather",
            "dtmf",
            "recordComplete",
            "machineDetectionComplete",
            "transferAnswer",
            "transferComplete",
            "bridgeComplete",
            "bridgeTargetComplete",
            "mediaStreamStarted",
            "mediaStreamRejected",
            "mediaStreamStopped",
            "realTimeTranscriptionStarted",
            "realTimeTranscriptionRejected",
            "realTimeTranscriptionStopped",
            "realTimeTranscriptionAvailable",
        ),
        "answered",
    ),
    "disconnect": "disconnected",
    "transferDisconnect": "disconnected",
}

#: A call's end state by the ``cause`` of its ``disconnect`` (``transferDisconnect``); other causes: ``disconnected``.
DISCONNECT_CAUSE_STATE: dict[str, str] = {
    "hangup": "disconnected",
    "busy": "busy",
    "timeout": "no-answer",
    "cancel": "canceled",
    "rejected": "rejected",
    **dict.fromkeys(
        (
            "callback-error",
            "invalid-bxml",
            "application-error",
            "account-limit",
            "node-capacity-exceeded",
            "error",
            "unknown",
        ),
        "failed",
    ),
}

#: Call states handlers can be registered for without ``allow_unknown=True``.
KNOWN_CALL_STATES: frozenset[str] = frozenset(
    {state for state in IMPLIED_CALL_STATE.values() if state} | set(DISCONNECT_CAUSE_STATE.values())
)


class BandwidthEvent(WireModel, ReceivedEvent):
    """Base of every v2 callback. ``event_type`` is the wire ``eventType``, kept verbatim."""

    #: The name handlers are registered under; ``UnknownEvent`` routes by the wire value.
    route_type: ClassVar[str] = ""

    event_type: str
    event_time: Timestamp | None = None
    tag: str | None = None

    @property
    def event_route_type(self) -> str:
        """The event type used for routing: the class's canonical name, or the wire value if unknown."""
        return self.route_type or self.event_type

    @property
    def call_state(self) -> str | None:
        """The call state this event implies (module docstring); None when it implies none."""
        return IMPLIED_CALL_STATE.get(self.route_type)


class BandwidthCallEvent(BandwidthEvent):
    """The fields every call event has (``direction`` is ``inbound`` or ``outbound``; the three transfer fields
    only on events about a ``<Transfer>`` B-leg)."""

    account_id: str | None = None
    application_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    direction: str | None = None
    call_id: str | None = None
    call_url: str | None = None
    enqueued_time: Timestamp | None = None
    start_time: Timestamp | None = None
    answer_time: Timestamp | None = None
    parent_call_id: str | None = None
    transfer_caller_id: str | None = None
    transfer_to: str | None = None
    sip_call_id: str | None = None


class _Failure(BandwidthCallEvent):
    # Why a call, transfer or bridge ended or failed.
    cause: str | None = None
    error_message: str | None = None
    error_id: str | None = None


class _Ended(_Failure):
    end_time: Timestamp | None = None

    @property
    def call_state(self) -> str | None:
        """The end state by ``cause`` (``DISCONNECT_CAUSE_STATE``), ``disconnected`` for a cause not listed."""
        return DISCONNECT_CAUSE_STATE.get(self.cause or "", "disconnected")


class _Recording(BandwidthCallEvent):
    # ``startTime``/``endTime`` are the recording's here, not the call's.
    recording_id: str | None = None
    media_url: str | None = None
    end_time: Timestamp | None = None
    duration: str | None = None
    channels: int | None = None
    file_format: str | None = None


class InitiateEvent(BandwidthCallEvent):
    """An inbound call arrived (sync: answer with BXML)."""

    route_type = "initiate"
    diversion: JsonText[Diversion] = None
    stir_shaken: JsonText[StirShaken] = None
    uui: str | None = None
    sip_headers: JsonText[dict[str, str]] = None


class AnswerEvent(BandwidthCallEvent):
    """An outbound call was answered (sync); ``machineDetectionResult`` only with synchronous AMD."""

    route_type = "answer"
    machine_detection_result: JsonText[MachineDetectionResult] = None


class DisconnectEvent(_Ended):
    """A call ended (async), for any reason: ``cause``, and ``sipResponseCode`` when the SBC refused an INVITE."""

    route_type = "disconnect"
    sip_response_code: int | None = None


class RedirectEvent(BandwidthCallEvent):
    """``<Redirect>`` or a REST redirect asks for new BXML (sync)."""

    route_type = "redirect"


class GatherEvent(BandwidthCallEvent):
    """``<Gather>`` finished (sync): ``digits`` (empty on timeout) and ``terminatingDigit``."""

    route_type = "gather"
    digits: str | None = None
    terminating_digit: str | None = None


class DtmfEvent(BandwidthCallEvent):
    """One key pressed while ``<StartGather>`` runs (async)."""

    route_type = "dtmf"
    digit: str | None = None


class RecordCompleteEvent(_Recording):
    """``<Record>`` ended with the call still up (sync). Also parsed from ``eventType=recordingComplete``."""

    route_type = "recordComplete"


class RecordingAvailableEvent(_Recording):
    """A recording can be downloaded (async); ``status`` ``complete``, ``partial`` or ``error``."""

    route_type = "recordingAvailable"
    status: str | None = None


class TranscriptionAvailableEvent(_Recording):
    """A recording's transcription is ready (async)."""

    route_type = "transcriptionAvailable"
    transcription: JsonText[TranscriptionInfo] = None


class MachineDetectionCompleteEvent(BandwidthCallEvent):
    """Asynchronous answering-machine detection finished."""

    route_type = "machineDetectionComplete"
    machine_detection_result: JsonText[MachineDetectionResult] = None


class TransferAnswerEvent(BandwidthCallEvent):
    """A ``<Transfer>`` B-leg answered (sync, BXML for the B-leg); ``callId`` is the B-leg."""

    route_type = "transferAnswer"


class TransferCompleteEvent(_Failure):
    """The transfer ended or failed, the A-leg still up (sync); ``callId`` is the A-leg."""

    route_type = "transferComplete"


class TransferDisconnectEvent(_Ended):
    """A ``<Transfer>`` B-leg ended, for any reason (async); ``callId`` is the B-leg."""

    route_type = "transferDisconnect"


class BridgeCompleteEvent(_Failure):
    """The bridge target left, or bridging failed (``cause``), for the call that ran ``<Bridge>`` (sync)."""

    route_type = "bridgeComplete"


class BridgeTargetCompleteEvent(BandwidthCallEvent):
    """The call that ran ``<Bridge>`` left; BXML for the target, whose ``callId`` this carries (sync)."""

    route_type = "bridgeTargetComplete"


class MediaStreamEvent(BandwidthCallEvent):
    """Base of the ``<StartStream>`` events."""

    media_stream: JsonText[MediaStream] = None


class MediaStreamStartedEvent(MediaStreamEvent):
    """A media stream started (async)."""

    route_type = "mediaStreamStarted"


class MediaStreamRejectedEvent(MediaStreamEvent):
    """A media stream was refused (async): ``cause``, and the stream it duplicates."""

    route_type = "mediaStreamRejected"
    cause: str | None = None
    error_message: str | None = None
    original_media_stream: JsonText[MediaStream] = None


class MediaStreamStoppedEvent(MediaStreamEvent):
    """A media stream stopped (async)."""

    route_type = "mediaStreamStopped"
    cause: str | None = None
    error_message: str | None = None


class RealTimeTranscriptionEvent(BandwidthCallEvent):
    """Base of the ``<StartTranscription>`` events; the object also arrives under ``transcription``."""

    real_time_transcription: JsonText[RealTimeTranscription] = Field(
        default=None,
        validation_alias=AliasChoices("realTimeTranscription", "transcription", "real_time_transcription"),
        serialization_alias="realTimeTranscription",
    )


class RealTimeTranscriptionStartedEvent(RealTimeTranscriptionEvent):
    """A real-time transcription started (async)."""

    route_type = "realTimeTranscriptionStarted"


class RealTimeTranscriptionRejectedEvent(RealTimeTranscriptionEvent):
    """A real-time transcription was refused (async)."""

    route_type = "realTimeTranscriptionRejected"
    cause: str | None = None
    error_message: str | None = None
    original_transcription: JsonText[RealTimeTranscription] = None


class RealTimeTranscriptionStoppedEvent(RealTimeTranscriptionEvent):
    """A real-time transcription stopped (async)."""

    route_type = "realTimeTranscriptionStopped"
    cause: str | None = None
    error_message: str | None = None


class RealTimeTranscriptionAvailableEvent(RealTimeTranscriptionEvent):
    """A real-time transcription can be read (async)."""

    route_type = "realTimeTranscriptionAvailable"


class ConferenceEvent(BandwidthEvent):
    """Base of the ``conference*`` events: the conference's id and name; ``tag`` is the creating call's."""

    conference_id: str | None = None
    name: str | None = None


class ConferenceCreatedEvent(ConferenceEvent):
    """A conference was created (sync: conference BXML or 204)."""

    route_type = "conferenceCreated"


class ConferenceRedirectEvent(ConferenceEvent):
    """A REST update redirected the conference (sync)."""

    route_type = "conferenceRedirect"


class ConferenceCompletedEvent(ConferenceEvent):
    """The conference ended (async)."""

    route_type = "conferenceCompleted"


class _ConferenceMember(ConferenceEvent):
    call_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class ConferenceMemberJoinEvent(_ConferenceMember):
    """A call joined the conference (sync)."""

    route_type = "conferenceMemberJoin"


class ConferenceMemberExitEvent(_ConferenceMember):
    """A call left the conference (sync)."""

    route_type = "conferenceMemberExit"


class ConferenceRecordingAvailableEvent(ConferenceEvent):
    """A conference recording can be downloaded (async)."""

    route_type = "conferenceRecordingAvailable"
    account_id: str | None = None
    recording_id: str | None = None
    channels: int | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    duration: str | None = None
    file_format: str | None = None
    media_url: str | None = None
    status: str | None = None


class UnknownEvent(BandwidthEvent):
    """Any ``eventType`` this version does not know: still parsed (every field kept), routable by its string."""


_EVENT_CLASSES: tuple[type[BandwidthEvent], ...] = (
    InitiateEvent,
    AnswerEvent,
    DisconnectEvent,
    RedirectEvent,
    GatherEvent,
    DtmfEvent,
    RecordCompleteEvent,
    RecordingAvailableEvent,
    TranscriptionAvailableEvent,
    MachineDetectionCompleteEvent,
    TransferAnswerEvent,
    TransferCompleteEvent,
    TransferDisconnectEvent,
    BridgeCompleteEvent,
    BridgeTargetCompleteEvent,
    ConferenceCreatedEvent,
    ConferenceMemberJoinEvent,
    ConferenceMemberExitEvent,
    ConferenceRedirectEvent,
    ConferenceCompletedEvent,
    ConferenceRecordingAvailableEvent,
    MediaStreamStartedEvent,
    MediaStreamRejectedEvent,
    MediaStreamStoppedEvent,
    RealTimeTranscriptionStartedEvent,
    RealTimeTranscriptionRejectedEvent,
    RealTimeTranscriptionStoppedEvent,
    RealTimeTranscriptionAvailableEvent,
)
_CLASS_BY_TYPE: dict[str, type[BandwidthEvent]] = {cls.route_type: cls for cls in _EVENT_CLASSES}
#: Event types (routing names) handlers can be registered for without ``allow_unknown=True``.
KNOWN_EVENT_TYPES: frozenset[str] = frozenset(_CLASS_BY_TYPE)
# The OpenAPI description and the SDK name the documented ``recordComplete`` so.
_ALIASES: dict[str, str] = {"recordingComplete": "recordComplete"}


def canonical_event_type(event_type: str) -> str:
    """The routing name for a wire ``eventType`` (``recordingComplete`` → ``recordComplete``)."""
    return _ALIASES.get(event_type, event_type)


def parse_event(fields: Mapping[str, Any]) -> BandwidthEvent:
    """One decoded callback (a JSON object, or GET fields from ``query_to_fields``) as its typed event.

    Raises ``pydantic.ValidationError`` when ``eventType`` is missing or a known field has the wrong type.
    """
    event_type = fields.get("eventType", fields.get("event_type"))
    cls = _CLASS_BY_TYPE.get(canonical_event_type(event_type), UnknownEvent) if isinstance(event_type, str) else None
    return (cls or UnknownEvent).model_validate(fields)


_json_object: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def parse_event_json(body: bytes | str) -> BandwidthEvent:
    """A raw JSON body as its typed event; ``pydantic.ValidationError`` for invalid JSON or a non-object too."""
    return parse_event(_json_object.validate_json(body))


#: The identity rule of the module docstring: the routing type and the declared fields, URLs left out.
event_identity = ContentIdentity(lambda name: name == "event_type" or name.endswith("_url"))


def call_key(event: BandwidthEvent) -> str | None:
    """``conference:<id>`` for conference events, ``call:<id>`` for the others; None when it carries neither id."""
    if isinstance(event, ConferenceEvent) and event.conference_id:
        return f"conference:{event.conference_id}"
    call_id = getattr(event, "call_id", None) or (event.model_extra or {}).get("callId")
    return f"call:{call_id}" if isinstance(call_id, str) and call_id else None


def _parse(delivery: Delivery) -> BandwidthEvent:
    return parse_event(delivery.fields)


def _call_state(event: BandwidthEvent) -> str | None:
    return event.call_state


def ends_session(event: BandwidthEvent) -> bool:
    """Whether the event ends its call's session (``disconnect``, and a B-leg's ``transferDisconnect``) or its
    conference's (``conferenceCompleted``)."""
    return isinstance(event, (_Ended, ConferenceCompletedEvent))


#: Bandwidth Voice API v2 plugged into the core.
BANDWIDTH_V2: Platform[BandwidthEvent] = Platform(
    name="bandwidth-v2",
    parse=_parse,
    form_fields=query_to_fields,
    identity=event_identity,
    call_key=call_key,
    call_state=_call_state,
    event_types=KNOWN_EVENT_TYPES,
    call_states=KNOWN_CALL_STATES,
    canonical_event_type=canonical_event_type,
    ends_session=ends_session,
    callback_timeout=15.0,  # callbackTimeout's default (1-25 s)
    legacy_identity=event_identity.rule1,
)
