"""Typed Twilio Programmable Voice webhooks: one pydantic model per kind of request, the parser, the identity
rule, the call key and the call state. Sans-I/O: ``TWILIO`` is what the receiver core plugs in.

**Kinds.** Twilio sends no event type: what a request is follows from the URL it was sent to (the Voice URL, a
``<Gather action>``, a ``StatusCallback``, ...). The receiver names the kind in the callback URLs it signs, and
parsing takes it as an argument (``parse_event("gather", fields)``); it is the routing name
(``event.event_route_type``). ``KINDS`` lists the kinds and their models; a kind not listed parses as
``TwilioEvent`` with every parameter kept, routable by its string.

**Fields.** Parameters arrive as form fields (POST) or query parameters (GET), every value a string. Attribute
names are the snake_case of the PascalCase wire names (``CallSid`` → ``call_sid``, ``From`` → ``from_``; the
Gather action's ``msg`` stays ``msg``); ``model_dump(by_alias=True)`` gives the wire names back. Numbers, booleans
(``true``/``false``) and times (RFC 2822, ``Tue, 31 Aug 2010 20:36:28 +0000``) are typed; ``Digits`` stays text
(``"007"``). Twilio adds parameters at any time: unknown ones are kept (``event.model_extra``), as are the
per-header ``DialSipHeader_<name>`` ones. Two fields come from the URL, not the body: ``kind`` and ``tag``.

**Call state** (``call_state``): Twilio's ``CallStatus``, verbatim, so handlers use the platform's own words:

================  ===========================================================================================
``CallStatus``    meaning
================  ===========================================================================================
``queued``        created by REST, waiting to be dialled
``initiated``     dialling
``ringing``       ringing (the Voice URL request of an inbound call carries it)
``in-progress``   answered (the ``answered`` status callback and every action URL carry it)
``completed``     answered, then ended
``busy``          the callee was busy (never answered)
``no-answer``     not answered in time
``canceled``      ended by REST while queued or ringing
``failed``        could not be placed
================  ===========================================================================================

A request without ``CallStatus`` implies ``in-progress`` when it can only come from a live call (the Gather,
Record and Dial actions, the partial speech results and asynchronous AMD) and no state otherwise (recording,
transcription, conference, queue and stream callbacks). An unlisted ``CallStatus`` is kept as it came.

**Identity** (``event_identity``). Twilio sends ``I-Twilio-Idempotency-Token`` on its webhooks, the same on every
retry of one request: when the request carried it, it alone is the identity. Without it, the identity is rule 2
of ``callhooks.identity`` (a 32-hex-digit digest) over the kind, the URL's tag and every declared parameter after
parsing (``CallSid``, ``CallStatus``, ``SequenceNumber``, ``Timestamp``, ``Digits``, ...; URLs left out, unknown
parameters too, so the GET and POST forms of one request agree). Status and conference callbacks differ by
``SequenceNumber``, recording callbacks by ``RecordingStatus``; but two action requests identical in every
parameter (the same digits pressed at the same menu twice in one call) are then one event: without the header,
a receiver that must tell them apart puts something unique (a step number) in each action URL's tag.

**Call key** (``call_key``). ``conference:<ConferenceSid>`` for conference callbacks (and recordings of a
conference without a ``CallSid``), ``call:<CallSid>`` for the others. The Dial action's ``CallSid`` is the parent
call's, a ``<Number>`` status callback's the child leg's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, ClassVar

from pydantic import AliasGenerator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from ..identity import ContentIdentity
from ..platform import Delivery, Platform, ReceivedEvent, lower_headers
from ..wire import parse_time, query_to_fields

__all__ = [
    "ENDED_CALL_STATES",
    "IDEMPOTENCY_HEADER",
    "IMPLIED_CALL_STATE",
    "KINDS",
    "KNOWN_CALL_STATES",
    "TWILIO",
    "AmdEvent",
    "CallRequestEvent",
    "ConferenceEvent",
    "DequeueEvent",
    "DialEvent",
    "EnqueueEvent",
    "GatherEvent",
    "GatherPartialEvent",
    "QueueWaitEvent",
    "RecordEvent",
    "RecordingStatusEvent",
    "StatusEvent",
    "StreamEvent",
    "TranscriptionEvent",
    "TwilioEvent",
    "call_key",
    "ends_session",
    "event_identity",
    "parse_event",
    "wire_params",
]

#: The header whose value is the same on every retry of one webhook request (lower case, as ``lower_headers``).
IDEMPOTENCY_HEADER = "i-twilio-idempotency-token"


def _parse_twilio_time(value: Any) -> Any:
    # RFC 2822 in callbacks (it has spaces, ISO-8601 needs none); anything else as ``wire.parse_time`` reads it.
    if isinstance(value, str) and " " in value.strip():
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # "-0000": UTC, unstated
    return parse_time(value)


#: A Twilio timestamp (``Timestamp``, ``RecordingStartTime``): RFC 2822, read as an aware datetime.
TwilioTime = Annotated[datetime, BeforeValidator(_parse_twilio_time)]

# The fields a request's URL and headers supply (the same names are written out as the aliases below, where mypy
# wants literals). No Twilio parameter has an '@' in its name, and the parser sets these after the body's fields,
# so a parameter can never pose as the kind, the tag or the token.
_KIND = "@kind"
_TAG = "@tag"
_TOKEN = "@idempotencyToken"


class TwilioEvent(BaseModel, ReceivedEvent):
    """The parameters on every voice request (the Voice URL's, and most callbacks'); base of every kind's model.

    Also the model of a kind this version does not know, with all its parameters kept.
    """

    model_config = ConfigDict(alias_generator=AliasGenerator(alias=to_pascal), extra="allow")

    #: The implied ``call_state`` when the request carries no ``CallStatus`` (module docstring).
    implied_call_state: ClassVar[str | None] = None
    route_in_url: ClassVar[bool] = True  # the kind and tag travel in the URL's token

    kind: str = Field(alias="@kind", exclude=True)
    tag: str | None = Field(default=None, alias="@tag", exclude=True)
    idempotency_token: str | None = Field(default=None, alias="@idempotencyToken", exclude=True)

    call_sid: str | None = None
    account_sid: str | None = None
    from_: str | None = Field(default=None, alias="From")
    to: str | None = None
    call_status: str | None = None
    api_version: str | None = None
    direction: str | None = None
    forwarded_from: str | None = None
    caller_name: str | None = None
    parent_call_sid: str | None = None
    call_token: str | None = None
    application_sid: str | None = None
    from_city: str | None = None
    from_state: str | None = None
    from_zip: str | None = None
    from_country: str | None = None
    to_city: str | None = None
    to_state: str | None = None
    to_zip: str | None = None
    to_country: str | None = None
    called: str | None = None
    caller: str | None = None
    called_city: str | None = None
    called_state: str | None = None
    called_zip: str | None = None
    called_country: str | None = None
    caller_city: str | None = None
    caller_state: str | None = None
    caller_zip: str | None = None
    caller_country: str | None = None
    stir_verstat: str | None = None
    stir_passport_token: str | None = None

    @property
    def event_route_type(self) -> str:
        """The kind: the name handlers are registered under (``hooks.on("gather")``)."""
        return self.kind

    @property
    def event_type(self) -> str:
        """The kind, under the name every platform's events share (logs, metrics)."""
        return self.kind

    @property
    def call_id(self) -> str | None:
        """``CallSid``, under the name every platform's events share (sessions, token binding, ``(event, call)``)."""
        return self.call_sid

    @property
    def call_state(self) -> str | None:
        """``CallStatus``, or the state the kind implies without it (module docstring)."""
        return self.call_status or self.implied_call_state


class CallRequestEvent(TwilioEvent):
    """A request for TwiML with only the common parameters and what a call brings: the Voice URL of an inbound
    call (``CallStatus=ringing``) or of an answered outbound one (``AnsweredBy`` with synchronous AMD), a
    ``<Redirect>``, a ``<Dial>`` noun's whisper ``url``, and fallback URLs (``ErrorCode``, ``ErrorUrl``)."""

    answered_by: str | None = None
    machine_detection_duration: int | None = None
    error_code: int | None = None
    error_url: str | None = None


class StatusEvent(TwilioEvent):
    """A call progress ``StatusCallback`` (also a ``<Number>``/``<Client>``/``<Sip>`` child leg's). The
    ``answered`` event reports ``CallStatus=in-progress``; order by ``SequenceNumber``, not by arrival."""

    status_callback_event: str | None = None
    callback_source: str | None = None
    sequence_number: int | None = None
    timestamp: TwilioTime | None = None
    call_duration: int | None = None
    duration: int | None = None
    sip_response_code: int | None = None
    recording_url: str | None = None
    recording_sid: str | None = None
    recording_duration: int | None = None
    answered_by: str | None = None


class GatherEvent(TwilioEvent):
    """A ``<Gather action>``: ``Digits`` (without the finishing key) and ``FinishedOnKey``, or ``SpeechResult``
    and its ``Confidence``."""

    implied_call_state = "in-progress"
    digits: str | None = None
    finished_on_key: str | None = None
    speech_result: str | None = None
    confidence: float | None = None
    msg: str | None = Field(default=None, alias="msg")


class GatherPartialEvent(TwilioEvent):
    """A ``<Gather partialResultCallback>``: speech recognised so far."""

    implied_call_state = "in-progress"
    sequence_number: int | None = None
    unstable_speech_result: str | None = None
    stable_speech_result: str | None = None
    stability: float | None = None


class RecordEvent(TwilioEvent):
    """A ``<Record action>``: the recording and ``Digits`` (the key that stopped it, or ``hangup``)."""

    implied_call_state = "in-progress"
    recording_url: str | None = None
    recording_sid: str | None = None
    recording_duration: int | None = None
    digits: str | None = None


class RecordingStatusEvent(TwilioEvent):
    """A ``recordingStatusCallback``: ``RecordingStatus`` ``in-progress``, ``completed``, ``absent`` or
    ``failed``; ``ConferenceSid`` for a conference's recording."""

    recording_sid: str | None = None
    recording_url: str | None = None
    recording_status: str | None = None
    recording_duration: int | None = None
    recording_channels: int | None = None
    recording_source: str | None = None
    recording_start_time: TwilioTime | None = None
    recording_track: str | None = None
    error_code: int | None = None
    conference_sid: str | None = None


class TranscriptionEvent(TwilioEvent):
    """A ``<Record transcribeCallback>``: ``TranscriptionStatus`` ``completed`` or ``failed``."""

    transcription_sid: str | None = None
    transcription_text: str | None = None
    transcription_status: str | None = None
    transcription_url: str | None = None
    recording_sid: str | None = None
    recording_url: str | None = None


class DialEvent(TwilioEvent):
    """A ``<Dial action>``, for the parent call when the dialled leg ended: ``DialCallStatus`` and the leg."""

    implied_call_state = "in-progress"
    dial_call_status: str | None = None
    dial_call_sid: str | None = None
    dial_call_duration: int | None = None
    dial_bridged: bool | None = None
    recording_url: str | None = None
    recording_sid: str | None = None
    recording_duration: int | None = None
    dial_sip_call_id: str | None = None
    dial_sip_response_code: int | None = None


class AmdEvent(TwilioEvent):
    """An ``AsyncAmdStatusCallback``: ``AnsweredBy`` (``human``, ``machine_start``, ``machine_end_beep``,
    ``machine_end_silence``, ``machine_end_other``, ``fax``, ``unknown``) after ``MachineDetectionDuration`` ms."""

    implied_call_state = "in-progress"
    answered_by: str | None = None
    machine_detection_duration: int | None = None


class ConferenceEvent(TwilioEvent):
    """A ``<Conference statusCallback>``: ``StatusCallbackEvent`` (``conference-start``, ``participant-join``,
    ...), the participant's settings on participant events, why it ended on ``conference-end``."""

    conference_sid: str | None = None
    friendly_name: str | None = None
    sequence_number: int | None = None
    timestamp: TwilioTime | None = None
    status_callback_event: str | None = None
    muted: bool | None = None
    hold: bool | None = None
    coaching: bool | None = None
    call_sid_to_coach: str | None = None
    end_conference_on_exit: bool | None = None
    start_conference_on_enter: bool | None = None
    participant_label: str | None = None
    reason_conference_ended: str | None = None
    call_sid_ending_conference: str | None = None
    participant_label_ending_conference: str | None = None
    reason: str | None = None


class EnqueueEvent(TwilioEvent):
    """An ``<Enqueue action>``: how the call left the queue (``QueueResult``)."""

    queue_result: str | None = None
    queue_sid: str | None = None
    queue_time: int | None = None


class QueueWaitEvent(TwilioEvent):
    """An ``<Enqueue waitUrl>`` request: the caller's place in the queue."""

    queue_position: int | None = None
    queue_sid: str | None = None
    queue_time: int | None = None
    avg_queue_time: int | None = None
    current_queue_size: int | None = None
    max_queue_size: int | None = None


class DequeueEvent(TwilioEvent):
    """A ``<Dial><Queue url>`` request, for the dequeued caller before the two are bridged."""

    queue_sid: str | None = None
    queue_time: int | None = None
    dequeing_call_sid: str | None = None


class StreamEvent(TwilioEvent):
    """A ``<Stream statusCallback>``: ``StreamEvent`` ``stream-started``, ``stream-stopped`` or ``stream-error``."""

    stream_sid: str | None = None
    stream_name: str | None = None
    stream_event: str | None = None
    stream_error: str | None = None
    timestamp: TwilioTime | None = None


#: Each kind a callback URL can name, and its model.
KINDS: dict[str, type[TwilioEvent]] = {
    "call": CallRequestEvent,
    "answer": CallRequestEvent,
    "redirect": CallRequestEvent,
    "whisper": CallRequestEvent,
    "fallback": CallRequestEvent,
    "status": StatusEvent,
    "gather": GatherEvent,
    "gather-partial": GatherPartialEvent,
    "record": RecordEvent,
    "recording-status": RecordingStatusEvent,
    "transcription": TranscriptionEvent,
    "dial": DialEvent,
    "amd": AmdEvent,
    "conference": ConferenceEvent,
    "enqueue": EnqueueEvent,
    "queue-wait": QueueWaitEvent,
    "dequeue": DequeueEvent,
    "stream": StreamEvent,
    "connect": TwilioEvent,
    "refer": TwilioEvent,
    "pay": TwilioEvent,
    "pay-status": TwilioEvent,
    "start": TwilioEvent,
}
#: The state each kind implies without ``CallStatus`` (kinds not listed: none).
IMPLIED_CALL_STATE: dict[str, str] = {
    kind: model.implied_call_state for kind, model in KINDS.items() if model.implied_call_state
}
#: Call states handlers can be registered for without ``allow_unknown=True``: the values of ``CallStatus``.
KNOWN_CALL_STATES: frozenset[str] = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "canceled", "failed"}
)


def parse_event(
    kind: str,
    fields: Mapping[str, Any],
    *,
    tag: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> TwilioEvent:
    """One request's parameters (form or query fields, decoded) as the typed event of ``kind``.

    ``kind`` and ``tag`` are what the (verified) URL named; ``headers`` the request's, for the idempotency token.
    Raises ``pydantic.ValidationError`` when a known parameter has the wrong type (``SequenceNumber=x``).
    """
    token = lower_headers(headers).get(IDEMPOTENCY_HEADER) or None
    model = KINDS.get(kind, TwilioEvent)
    return model.model_validate({**fields, _KIND: kind, _TAG: tag, _TOKEN: token})


def _token_identity(token: str) -> str:
    return hashlib.sha256(b"twilio-idempotency-token\0" + token.encode()).hexdigest()[:32]


_content_identity = ContentIdentity(lambda name: name in ("kind", "idempotency_token") or name.endswith("_url"))


def event_identity(event: TwilioEvent, headers: Mapping[str, str] | None = None) -> str:
    """The request's identity (32 hex digits) by the rule in the module docstring: the idempotency token of
    ``headers`` or of the request the event was parsed from, else the content of the request."""
    token = lower_headers(headers).get(IDEMPOTENCY_HEADER) or event.idempotency_token
    return _token_identity(token) if token else _content_identity(event)


def call_key(event: TwilioEvent) -> str | None:
    """``conference:<ConferenceSid>`` for conference callbacks (and conference recordings without a call),
    ``call:<CallSid>`` for the others; None when the request carries neither."""
    conference_sid = getattr(event, "conference_sid", None)
    if conference_sid and (isinstance(event, ConferenceEvent) or not event.call_sid):
        return f"conference:{conference_sid}"
    return f"call:{event.call_sid}" if event.call_sid else None


def _parse(delivery: Delivery) -> TwilioEvent:
    if delivery.kind is None:
        raise ValueError("a Twilio request is parsed with the kind its URL names; this delivery has none")
    return parse_event(delivery.kind, delivery.fields, tag=delivery.tag, headers=delivery.headers)


def _identity(event: TwilioEvent) -> str:
    return event_identity(event)


def _legacy_identity(event: TwilioEvent) -> str:
    # rule 1 of callhooks.identity for the content; the idempotency token's identity is the same under both rules
    token = event.idempotency_token
    return _token_identity(token) if token else _content_identity.rule1(event)


def _call_state(event: TwilioEvent) -> str | None:
    return event.call_state


#: ``CallStatus`` values a call never leaves.
ENDED_CALL_STATES: frozenset[str] = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})


def ends_session(event: TwilioEvent) -> bool:
    """Whether the request ends its call's session (a final ``CallStatus``) or its conference's (``conference-end``)."""
    if isinstance(event, ConferenceEvent):
        return event.status_callback_event == "conference-end"
    return event.call_status in ENDED_CALL_STATES


#: Twilio plugged into the core: the kind and tag come from the URL (``Delivery.kind``, ``Delivery.tag``).
TWILIO: Platform[TwilioEvent] = Platform(
    name="twilio",
    parse=_parse,
    form_fields=query_to_fields,
    identity=_identity,
    call_key=call_key,
    call_state=_call_state,
    event_types=frozenset(KINDS),
    call_states=KNOWN_CALL_STATES,
    ends_session=ends_session,
    callback_timeout=15.0,  # the webhook timeout Twilio waits by default
    legacy_identity=_legacy_identity,
)


def wire_params(event: TwilioEvent) -> dict[str, str]:
    """The request parameters ``event`` was parsed from, as Twilio sends them: every value text (``true``/``false``,
    times in RFC 2822), the URL's kind and tag and the idempotency header not among them."""
    params: dict[str, str] = {}
    for name, value in event.model_dump(by_alias=True, exclude_unset=True).items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[name] = format_datetime(value)
        else:
            params[name] = str(value)
    return params
