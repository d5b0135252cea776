"""Twilio request factories with realistic defaults, for users' tests: ``gather_event(digits="1",
tag="main-menu")``.

One factory per kind of request of :mod:`callhooks.twilio.events` (``make_event(kind, ...)`` for any kind).
Each starts from the parameters :func:`callhooks.twilio.samples.sample_params` writes (what ``callhooks send
--platform twilio`` sends: an inbound call's sids and numbers), adds what its kind carries (a status callback's
``CallStatus``, ``SequenceNumber`` and ``Timestamp``, a Gather action's ``Digits``, a recording's sid and URL,
...), sets the keyword arguments over them (snake_case, as the model's attributes: ``call_status``, ``digits``,
``from_``; ``None`` leaves a parameter out) and parses the result, so the typed event is exactly what the receiver
builds from that request. ``tag`` is the URL's tag (what ``@hooks.on("gather", tag=...)`` routes by), and each
event has a fresh ``idempotency_token`` (Twilio's ``I-Twilio-Idempotency-Token``) unless one is given.
:func:`callhooks.testing.send_event` sends the event to a signed URL naming its kind and tag.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, TypeVar

from pydantic.alias_generators import to_pascal

from .events import (
    IDEMPOTENCY_HEADER,
    AmdEvent,
    CallRequestEvent,
    ConferenceEvent,
    DequeueEvent,
    DialEvent,
    EnqueueEvent,
    GatherEvent,
    GatherPartialEvent,
    QueueWaitEvent,
    RecordEvent,
    RecordingStatusEvent,
    StatusEvent,
    StreamEvent,
    TranscriptionEvent,
    TwilioEvent,
    parse_event,
)
from .samples import APP_NUMBER, CUSTOMER_NUMBER, sample_params

__all__ = [
    "FACTORIES",
    "amd_event",
    "answer_event",
    "call_event",
    "conference_event",
    "dequeue_event",
    "dial_event",
    "enqueue_event",
    "fallback_event",
    "gather_event",
    "gather_partial_event",
    "make_event",
    "queue_wait_event",
    "record_event",
    "recording_status_event",
    "redirect_event",
    "status_event",
    "stream_event",
    "transcription_event",
    "whisper_event",
]

E = TypeVar("E", bound=TwilioEvent)

API = "https://api.twilio.com/2010-04-01"
DIALLED_NUMBER = "+19195550199"
#: ``StatusCallbackEvent`` of each final or progress ``CallStatus`` (``answered`` reports ``in-progress``).
_STATUS_EVENT = {"in-progress": "answered", "busy": "completed", "no-answer": "completed", "canceled": "completed"}
#: Parameters of a call's requests that recording, conference and stream callbacks do not carry.
_CALL_ONLY = ("ApiVersion", "CallStatus", "Direction", "From", "To", "Caller", "Called")


def new_sid(prefix: str) -> str:
    """A sid shaped like Twilio's: the two-letter prefix and 32 hex digits (``new_sid("CA")``)."""
    return prefix + secrets.token_hex(16)


def _now() -> str:
    return format_datetime(datetime.now(timezone.utc))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # naive means UTC, as when parsing
        return format_datetime(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return str(value)


def _recording(params: dict[str, str]) -> dict[str, str]:
    sid = new_sid("RE")
    return {"RecordingSid": sid, "RecordingUrl": f"{API}/Accounts/{params['AccountSid']}/Recordings/{sid}"}


def _status(params: dict[str, str]) -> dict[str, str]:
    return {
        "CallStatus": "completed",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
        "Timestamp": _now(),
        "CallDuration": "42",
    }


def _without_call(params: dict[str, str]) -> None:
    for name in _CALL_ONLY:
        params.pop(name, None)


#: What each kind carries beyond the sample's parameters (from the sample, for its sids).
_EXTRA: dict[str, Callable[[dict[str, str]], dict[str, str]]] = {
    "answer": lambda params: {"Direction": "outbound-api", "From": APP_NUMBER, "To": CUSTOMER_NUMBER},
    "fallback": lambda params: {"ErrorCode": "11200", "ErrorUrl": "https://calls.example.com/voice"},
    "status": _status,
    "gather": lambda params: {"Digits": "1", "FinishedOnKey": "", "msg": "Gather End"},
    "gather-partial": lambda params: {
        "SequenceNumber": "1",
        "UnstableSpeechResult": "sales",
        "StableSpeechResult": "",
        "Stability": "0.8",
    },
    "record": lambda params: {**_recording(params), "RecordingDuration": "13", "Digits": "#"},
    "recording-status": lambda params: {
        **_recording(params),
        "RecordingStatus": "completed",
        "RecordingDuration": "13",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
        "RecordingStartTime": _now(),
    },
    "transcription": lambda params: {
        **_recording(params),
        "TranscriptionSid": new_sid("TR"),
        "TranscriptionText": "Hi, please call me back about my order.",
        "TranscriptionStatus": "completed",
        "TranscriptionUrl": f"{API}/Accounts/{params['AccountSid']}/Transcriptions/{new_sid('TR')}",
    },
    "dial": lambda params: {
        "DialCallStatus": "completed",
        "DialCallSid": new_sid("CA"),
        "DialCallDuration": "42",
        "DialBridged": "true",
    },
    "amd": lambda params: {"Direction": "outbound-api", "AnsweredBy": "human", "MachineDetectionDuration": "2400"},
    "conference": lambda params: {
        "ConferenceSid": new_sid("CF"),
        "FriendlyName": "sample-room",
        "StatusCallbackEvent": "participant-join",
        "SequenceNumber": "1",
        "Timestamp": _now(),
        "Muted": "false",
        "Hold": "false",
        "Coaching": "false",
        "EndConferenceOnExit": "false",
        "StartConferenceOnEnter": "true",
    },
    "enqueue": lambda params: {"QueueResult": "bridged", "QueueSid": new_sid("QU"), "QueueTime": "30"},
    "queue-wait": lambda params: {
        "QueuePosition": "1",
        "QueueSid": new_sid("QU"),
        "QueueTime": "5",
        "AvgQueueTime": "30",
        "CurrentQueueSize": "1",
        "MaxQueueSize": "100",
    },
    "dequeue": lambda params: {"QueueSid": new_sid("QU"), "QueueTime": "30", "DequeingCallSid": new_sid("CA")},
    "stream": lambda params: {
        "StreamSid": new_sid("MZ"),
        "StreamName": "live-audio",
        "StreamEvent": "stream-started",
        "Timestamp": _now(),
    },
}


def make_event(
    kind: str, *, tag: str | None = None, idempotency_token: str | None = None, **fields: Any
) -> TwilioEvent:
    """A request of any ``kind`` (a kind not in ``KINDS`` parses as ``TwilioEvent``): the sample parameters with
    the kind's, ``fields`` (snake_case) set over them, as text (``True`` is ``true``, a datetime RFC 2822)."""
    params = sample_params(kind)
    if kind in ("recording-status", "conference", "stream"):
        _without_call(params)
    params.update(_EXTRA[kind](params) if kind in _EXTRA else {})
    if kind == "status":  # the event a status callback names, and its duration, follow from the status
        status = str(fields.get("call_status") or "completed")
        params["StatusCallbackEvent"] = _STATUS_EVENT.get(status, status)
        if status != "completed":
            del params["CallDuration"]
    for name, value in fields.items():
        key = "From" if name == "from_" else name if name == "msg" else to_pascal(name)
        if value is None:
            params.pop(key, None)
        else:
            params[key] = _text(value)
    token = idempotency_token or f"{params.get('CallSid', new_sid('CA'))}-{secrets.token_hex(8)}"
    return parse_event(kind, params, tag=tag, headers={IDEMPOTENCY_HEADER: token})


def _make(cls: type[E], kind: str, call_sid: str | None, fields: dict[str, Any]) -> E:
    event = make_event(kind, **({"call_sid": call_sid} if call_sid else {}), **fields)
    if not isinstance(event, cls):
        raise TypeError(f"fields given made a {type(event).__name__}, not a {cls.__name__}")
    return event


def call_event(call_sid: str | None = None, **fields: Any) -> CallRequestEvent:
    """A ``call``: an inbound call's request to the Voice URL (``CallStatus=ringing``)."""
    return _make(CallRequestEvent, "call", call_sid, fields)


def answer_event(call_sid: str | None = None, **fields: Any) -> CallRequestEvent:
    """An ``answer``: an outbound call placed by the paired client was answered and asks for TwiML."""
    return _make(CallRequestEvent, "answer", call_sid, fields)


def redirect_event(call_sid: str | None = None, **fields: Any) -> CallRequestEvent:
    """A ``redirect``: ``<Redirect>`` asks for new TwiML."""
    return _make(CallRequestEvent, "redirect", call_sid, fields)


def whisper_event(call_sid: str | None = None, **fields: Any) -> CallRequestEvent:
    """A ``whisper``: a ``<Dial>`` noun's ``url`` asks for TwiML for the dialled party."""
    return _make(CallRequestEvent, "whisper", call_sid, fields)


def fallback_event(call_sid: str | None = None, **fields: Any) -> CallRequestEvent:
    """A ``fallback``: the primary URL failed (``ErrorCode=11200``) and Twilio asks the fallback URL."""
    return _make(CallRequestEvent, "fallback", call_sid, fields)


def status_event(call_sid: str | None = None, **fields: Any) -> StatusEvent:
    """A ``status`` callback: ``call_status="completed"`` and ``sequence_number=0`` unless given;
    ``StatusCallbackEvent`` follows the status (``in-progress`` is ``answered``)."""
    return _make(StatusEvent, "status", call_sid, fields)


def gather_event(call_sid: str | None = None, **fields: Any) -> GatherEvent:
    """A ``gather`` action: ``digits="1"`` unless given (or ``speech_result=...``)."""
    return _make(GatherEvent, "gather", call_sid, fields)


def gather_partial_event(call_sid: str | None = None, **fields: Any) -> GatherPartialEvent:
    """A ``gather-partial`` request: speech recognised so far."""
    return _make(GatherPartialEvent, "gather-partial", call_sid, fields)


def record_event(call_sid: str | None = None, **fields: Any) -> RecordEvent:
    """A ``record`` action: a 13-second recording stopped by ``#`` unless given."""
    return _make(RecordEvent, "record", call_sid, fields)


def recording_status_event(call_sid: str | None = None, **fields: Any) -> RecordingStatusEvent:
    """A ``recording-status`` callback: ``recording_status="completed"`` unless given."""
    return _make(RecordingStatusEvent, "recording-status", call_sid, fields)


def transcription_event(call_sid: str | None = None, **fields: Any) -> TranscriptionEvent:
    """A ``transcription`` callback: ``transcription_status="completed"`` with its text unless given."""
    return _make(TranscriptionEvent, "transcription", call_sid, fields)


def dial_event(call_sid: str | None = None, **fields: Any) -> DialEvent:
    """A ``dial`` action: ``dial_call_status="completed"`` unless given; ``call_sid`` is the parent call's."""
    return _make(DialEvent, "dial", call_sid, fields)


def amd_event(call_sid: str | None = None, **fields: Any) -> AmdEvent:
    """An ``amd`` callback: ``answered_by="human"`` unless given."""
    return _make(AmdEvent, "amd", call_sid, fields)


def conference_event(call_sid: str | None = None, **fields: Any) -> ConferenceEvent:
    """A ``conference`` callback: ``status_callback_event="participant-join"`` unless given."""
    return _make(ConferenceEvent, "conference", call_sid, fields)


def enqueue_event(call_sid: str | None = None, **fields: Any) -> EnqueueEvent:
    """An ``enqueue`` action: ``queue_result="bridged"`` unless given."""
    return _make(EnqueueEvent, "enqueue", call_sid, fields)


def queue_wait_event(call_sid: str | None = None, **fields: Any) -> QueueWaitEvent:
    """A ``queue-wait`` request: first in the queue unless given."""
    return _make(QueueWaitEvent, "queue-wait", call_sid, fields)


def dequeue_event(call_sid: str | None = None, **fields: Any) -> DequeueEvent:
    """A ``dequeue`` request, for the caller taken from the queue."""
    return _make(DequeueEvent, "dequeue", call_sid, fields)


def stream_event(call_sid: str | None = None, **fields: Any) -> StreamEvent:
    """A ``stream`` callback: ``stream_event="stream-started"`` unless given."""
    return _make(StreamEvent, "stream", call_sid, fields)


#: The factory of each kind that has a model of its own or a request of its own (the rest: ``make_event``).
FACTORIES: dict[str, Callable[..., TwilioEvent]] = {
    "call": call_event,
    "answer": answer_event,
    "redirect": redirect_event,
    "whisper": whisper_event,
    "fallback": fallback_event,
    "status": status_event,
    "gather": gather_event,
    "gather-partial": gather_partial_event,
    "record": record_event,
    "recording-status": recording_status_event,
    "transcription": transcription_event,
    "dial": dial_event,
    "amd": amd_event,
    "conference": conference_event,
    "enqueue": enqueue_event,
    "queue-wait": queue_wait_event,
    "dequeue": dequeue_event,
    "stream": stream_event,
}
