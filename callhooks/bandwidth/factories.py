"""Voice API v2 event factories with realistic defaults, for users' tests: ``gather_event(call_id="c-1",
digits="1", tag="main-menu")``.

One factory per callback type of :mod:`callhooks.bandwidth.events`. Each starts from the body
:func:`callhooks.bandwidth.samples.sample_fields` writes (what ``callhooks send --platform bandwidth`` sends: an
inbound call's ids, numbers and times, or a conference's), adds what its type carries (a ``disconnect``'s
``cause`` and ``endTime``, a recording's id, media URL and duration, ...), sets the keyword arguments over it
(snake_case, ``from_`` for ``from``; ``None`` leaves a field out) and parses the result, so the typed event is
exactly what the receiver would build from that body. ``event.model_dump(mode="json", by_alias=True,
exclude_unset=True)`` is the body again; :func:`callhooks.testing.send_event` sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from ..wire import format_time, to_wire_names
from .events import (
    AnswerEvent,
    BandwidthEvent,
    BridgeCompleteEvent,
    BridgeTargetCompleteEvent,
    ConferenceCompletedEvent,
    ConferenceCreatedEvent,
    ConferenceMemberExitEvent,
    ConferenceMemberJoinEvent,
    ConferenceRecordingAvailableEvent,
    ConferenceRedirectEvent,
    DisconnectEvent,
    DtmfEvent,
    GatherEvent,
    InitiateEvent,
    MachineDetectionCompleteEvent,
    MediaStreamRejectedEvent,
    MediaStreamStartedEvent,
    MediaStreamStoppedEvent,
    RealTimeTranscriptionAvailableEvent,
    RealTimeTranscriptionRejectedEvent,
    RealTimeTranscriptionStartedEvent,
    RealTimeTranscriptionStoppedEvent,
    RecordCompleteEvent,
    RecordingAvailableEvent,
    RedirectEvent,
    TranscriptionAvailableEvent,
    TransferAnswerEvent,
    TransferCompleteEvent,
    TransferDisconnectEvent,
    canonical_event_type,
    parse_event,
)
from .samples import ACCOUNT_ID, APP_NUMBER, CUSTOMER_NUMBER, sample_fields

__all__ = [
    "FACTORIES",
    "answer_event",
    "bridge_complete_event",
    "bridge_target_complete_event",
    "conference_completed_event",
    "conference_created_event",
    "conference_member_exit_event",
    "conference_member_join_event",
    "conference_recording_available_event",
    "conference_redirect_event",
    "disconnect_event",
    "dtmf_event",
    "gather_event",
    "initiate_event",
    "machine_detection_complete_event",
    "make_event",
    "media_stream_rejected_event",
    "media_stream_started_event",
    "media_stream_stopped_event",
    "real_time_transcription_available_event",
    "real_time_transcription_rejected_event",
    "real_time_transcription_started_event",
    "real_time_transcription_stopped_event",
    "record_complete_event",
    "recording_available_event",
    "redirect_event",
    "transcription_available_event",
    "transfer_answer_event",
    "transfer_complete_event",
    "transfer_disconnect_event",
]

E = TypeVar("E", bound=BandwidthEvent)

API = f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT_ID}"
TRANSFER_NUMBER = "+19195550199"


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def _answered(wire: dict[str, Any]) -> dict[str, Any]:
    return {"answerTime": wire["startTime"]}


def _outbound(wire: dict[str, Any]) -> dict[str, Any]:
    # An answer comes for a call the application placed: from its number to the customer.
    return {"direction": "outbound", "from": APP_NUMBER, "to": CUSTOMER_NUMBER, **_answered(wire)}


def _ended(wire: dict[str, Any]) -> dict[str, Any]:
    return {**_answered(wire), "endTime": _now(), "cause": "hangup"}


def _transfer_leg(wire: dict[str, Any]) -> dict[str, Any]:
    # The B-leg of a <Transfer>: its own call id, the A-leg as parent, dialled from the customer's number.
    return {"parentCallId": f"c-{uuid.uuid4()}", "transferCallerId": CUSTOMER_NUMBER, "transferTo": TRANSFER_NUMBER}


def _recording(wire: dict[str, Any]) -> dict[str, Any]:
    recording_id = f"r-{uuid.uuid4()}"
    return {
        "recordingId": recording_id,
        "mediaUrl": f"{API}/calls/{wire['callId']}/recordings/{recording_id}/media",
        "endTime": _now(),
        "duration": "PT13.67S",
        "channels": 1,
        "fileFormat": "wav",
    }


def _stream(wire: dict[str, Any]) -> dict[str, Any]:
    stream = {"id": f"s-{uuid.uuid4()}", "name": "live-audio", "destination": "wss://media.example.com/stream"}
    return {"mediaStream": stream}


def _transcription(wire: dict[str, Any]) -> dict[str, Any]:
    return {"realTimeTranscription": {"id": f"t-{uuid.uuid4()}", "name": "live-transcript", "tracks": ["inbound"]}}


_REJECTED = {"cause": "error", "errorMessage": "destination unreachable"}

#: What each callback type carries beyond the sample's fields (from the sample body, for its ids and times).
_EXTRA: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "answer": _outbound,
    "disconnect": _ended,
    "redirect": _answered,
    "gather": lambda wire: {**_answered(wire), "digits": "1", "terminatingDigit": "#"},
    "dtmf": lambda wire: {**_answered(wire), "digit": "1"},
    "recordComplete": _recording,
    "recordingAvailable": lambda wire: {**_recording(wire), "status": "complete"},
    "transcriptionAvailable": lambda wire: {
        **{key: value for key, value in _recording(wire).items() if key != "channels"},
        "transcription": {"id": f"t-{uuid.uuid4()}", "status": "available", "completedTime": _now()},
    },
    "machineDetectionComplete": lambda wire: {
        **_outbound(wire),
        "machineDetectionResult": {"value": "human", "duration": "PT4.9891287S"},
    },
    "transferAnswer": lambda wire: {**_answered(wire), **_transfer_leg(wire)},
    "transferComplete": lambda wire: {
        **_answered(wire),
        "transferCallerId": CUSTOMER_NUMBER,
        "transferTo": TRANSFER_NUMBER,
        "cause": "hangup",
    },
    "transferDisconnect": lambda wire: {**_ended(wire), **_transfer_leg(wire)},
    "bridgeComplete": lambda wire: {**_answered(wire), "cause": "hangup"},
    "bridgeTargetComplete": _answered,
    "mediaStreamStarted": _stream,
    "mediaStreamRejected": lambda wire: {**_stream(wire), **_REJECTED},
    "mediaStreamStopped": lambda wire: {**_stream(wire), "cause": "hangup"},
    "realTimeTranscriptionStarted": _transcription,
    "realTimeTranscriptionRejected": lambda wire: {**_transcription(wire), **_REJECTED},
    "realTimeTranscriptionStopped": lambda wire: {**_transcription(wire), "cause": "hangup"},
    "realTimeTranscriptionAvailable": _transcription,
    "conferenceMemberJoin": lambda wire: {"callId": f"c-{uuid.uuid4()}", "from": CUSTOMER_NUMBER, "to": APP_NUMBER},
    "conferenceMemberExit": lambda wire: {"callId": f"c-{uuid.uuid4()}", "from": CUSTOMER_NUMBER, "to": APP_NUMBER},
    "conferenceRecordingAvailable": lambda wire: {
        "recordingId": f"r-{uuid.uuid4()}",
        "mediaUrl": f"{API}/conferences/{wire['conferenceId']}/recordings/media",
        "startTime": _now(),
        "endTime": _now(),
        "duration": "PT2M14.5S",
        "channels": 1,
        "fileFormat": "wav",
        "status": "complete",
    },
}


def _extra(event_type: str, wire: dict[str, Any]) -> dict[str, Any]:
    extra = _EXTRA.get(event_type)
    return extra(wire) if extra is not None else {}


def make_event(event_type: str, **fields: Any) -> BandwidthEvent:
    """Any v2 callback of ``event_type`` (its wire name; an unknown one parses as ``UnknownEvent``): the sample
    body with the type's fields, ``fields`` (snake_case) set over them. A ``call_id`` (``recording_id``,
    ``conference_id``) given moves the URLs that name it too, unless they are given."""
    wire = sample_fields(event_type)
    wire.update(_extra(canonical_event_type(event_type), wire))
    given = to_wire_names(fields)
    for key, value in given.items():
        if key in ("callId", "recordingId", "conferenceId"):
            for url in ("callUrl", "mediaUrl"):
                if isinstance(wire.get(url), str) and url not in given and isinstance(wire.get(key), str):
                    wire[url] = wire[url].replace(wire[key], str(value))
    wire.update(given)
    for left_out in to_wire_names(dict.fromkeys((name for name, value in fields.items() if value is None), "")):
        wire.pop(left_out, None)
    return parse_event(wire)


def _make(cls: type[E], event_type: str, call_id: str | None, fields: dict[str, Any]) -> E:
    event = make_event(event_type, **({"call_id": call_id} if call_id else {}), **fields)
    if not isinstance(event, cls):
        raise TypeError(f"fields given made a {type(event).__name__}, not a {cls.__name__}")
    return event


def initiate_event(call_id: str | None = None, **fields: Any) -> InitiateEvent:
    """An ``initiate``: an inbound call arrived (answer with BXML)."""
    return _make(InitiateEvent, "initiate", call_id, fields)


def answer_event(call_id: str | None = None, **fields: Any) -> AnswerEvent:
    """An ``answer``: an outbound call was answered (``machine_detection_result={...}`` with synchronous AMD)."""
    return _make(AnswerEvent, "answer", call_id, fields)


def disconnect_event(call_id: str | None = None, **fields: Any) -> DisconnectEvent:
    """A ``disconnect``: the call ended, ``cause="hangup"`` unless given (``busy``, ``timeout``, ``rejected``, ...)."""
    return _make(DisconnectEvent, "disconnect", call_id, fields)


def redirect_event(call_id: str | None = None, **fields: Any) -> RedirectEvent:
    """A ``redirect``: ``<Redirect>`` or a REST redirect asks for new BXML."""
    return _make(RedirectEvent, "redirect", call_id, fields)


def gather_event(call_id: str | None = None, **fields: Any) -> GatherEvent:
    """A ``gather``: ``<Gather>`` finished with ``digits="1"`` and ``terminating_digit="#"`` unless given."""
    return _make(GatherEvent, "gather", call_id, fields)


def dtmf_event(call_id: str | None = None, **fields: Any) -> DtmfEvent:
    """A ``dtmf``: one key (``digit="1"`` unless given) pressed while ``<StartGather>`` runs."""
    return _make(DtmfEvent, "dtmf", call_id, fields)


def record_complete_event(call_id: str | None = None, **fields: Any) -> RecordCompleteEvent:
    """A ``recordComplete``: ``<Record>`` ended with the call still up; a fresh ``recording_id`` unless given."""
    return _make(RecordCompleteEvent, "recordComplete", call_id, fields)


def recording_available_event(call_id: str | None = None, **fields: Any) -> RecordingAvailableEvent:
    """A ``recordingAvailable``: a recording can be downloaded (``status="complete"`` unless given)."""
    return _make(RecordingAvailableEvent, "recordingAvailable", call_id, fields)


def transcription_available_event(call_id: str | None = None, **fields: Any) -> TranscriptionAvailableEvent:
    """A ``transcriptionAvailable``: a recording's transcription is ready."""
    return _make(TranscriptionAvailableEvent, "transcriptionAvailable", call_id, fields)


def machine_detection_complete_event(call_id: str | None = None, **fields: Any) -> MachineDetectionCompleteEvent:
    """A ``machineDetectionComplete``: asynchronous AMD found a ``human`` unless ``machine_detection_result`` says."""
    return _make(MachineDetectionCompleteEvent, "machineDetectionComplete", call_id, fields)


def transfer_answer_event(call_id: str | None = None, **fields: Any) -> TransferAnswerEvent:
    """A ``transferAnswer``: a ``<Transfer>`` B-leg (``call_id``) answered; ``parent_call_id`` is the A-leg."""
    return _make(TransferAnswerEvent, "transferAnswer", call_id, fields)


def transfer_complete_event(call_id: str | None = None, **fields: Any) -> TransferCompleteEvent:
    """A ``transferComplete``: the transfer of the A-leg (``call_id``) ended, ``cause="hangup"`` unless given."""
    return _make(TransferCompleteEvent, "transferComplete", call_id, fields)


def transfer_disconnect_event(call_id: str | None = None, **fields: Any) -> TransferDisconnectEvent:
    """A ``transferDisconnect``: a ``<Transfer>`` B-leg (``call_id``) ended, ``cause="hangup"`` unless given."""
    return _make(TransferDisconnectEvent, "transferDisconnect", call_id, fields)


def bridge_complete_event(call_id: str | None = None, **fields: Any) -> BridgeCompleteEvent:
    """A ``bridgeComplete``: the bridge target left (``cause="hangup"`` unless given)."""
    return _make(BridgeCompleteEvent, "bridgeComplete", call_id, fields)


def bridge_target_complete_event(call_id: str | None = None, **fields: Any) -> BridgeTargetCompleteEvent:
    """A ``bridgeTargetComplete``: the call that ran ``<Bridge>`` left; ``call_id`` is the target."""
    return _make(BridgeTargetCompleteEvent, "bridgeTargetComplete", call_id, fields)


def media_stream_started_event(call_id: str | None = None, **fields: Any) -> MediaStreamStartedEvent:
    """A ``mediaStreamStarted``."""
    return _make(MediaStreamStartedEvent, "mediaStreamStarted", call_id, fields)


def media_stream_rejected_event(call_id: str | None = None, **fields: Any) -> MediaStreamRejectedEvent:
    """A ``mediaStreamRejected`` (``cause="error"`` unless given)."""
    return _make(MediaStreamRejectedEvent, "mediaStreamRejected", call_id, fields)


def media_stream_stopped_event(call_id: str | None = None, **fields: Any) -> MediaStreamStoppedEvent:
    """A ``mediaStreamStopped``."""
    return _make(MediaStreamStoppedEvent, "mediaStreamStopped", call_id, fields)


def real_time_transcription_started_event(
    call_id: str | None = None, **fields: Any
) -> RealTimeTranscriptionStartedEvent:
    """A ``realTimeTranscriptionStarted``."""
    return _make(RealTimeTranscriptionStartedEvent, "realTimeTranscriptionStarted", call_id, fields)


def real_time_transcription_rejected_event(
    call_id: str | None = None, **fields: Any
) -> RealTimeTranscriptionRejectedEvent:
    """A ``realTimeTranscriptionRejected`` (``cause="error"`` unless given)."""
    return _make(RealTimeTranscriptionRejectedEvent, "realTimeTranscriptionRejected", call_id, fields)


def real_time_transcription_stopped_event(
    call_id: str | None = None, **fields: Any
) -> RealTimeTranscriptionStoppedEvent:
    """A ``realTimeTranscriptionStopped``."""
    return _make(RealTimeTranscriptionStoppedEvent, "realTimeTranscriptionStopped", call_id, fields)


def real_time_transcription_available_event(
    call_id: str | None = None, **fields: Any
) -> RealTimeTranscriptionAvailableEvent:
    """A ``realTimeTranscriptionAvailable``."""
    return _make(RealTimeTranscriptionAvailableEvent, "realTimeTranscriptionAvailable", call_id, fields)


def conference_created_event(**fields: Any) -> ConferenceCreatedEvent:
    """A ``conferenceCreated`` (a fresh ``conference_id`` and the name ``sample-conference`` unless given)."""
    return _make(ConferenceCreatedEvent, "conferenceCreated", None, fields)


def conference_member_join_event(call_id: str | None = None, **fields: Any) -> ConferenceMemberJoinEvent:
    """A ``conferenceMemberJoin``: the call ``call_id`` joined."""
    return _make(ConferenceMemberJoinEvent, "conferenceMemberJoin", call_id, fields)


def conference_member_exit_event(call_id: str | None = None, **fields: Any) -> ConferenceMemberExitEvent:
    """A ``conferenceMemberExit``: the call ``call_id`` left."""
    return _make(ConferenceMemberExitEvent, "conferenceMemberExit", call_id, fields)


def conference_redirect_event(**fields: Any) -> ConferenceRedirectEvent:
    """A ``conferenceRedirect``."""
    return _make(ConferenceRedirectEvent, "conferenceRedirect", None, fields)


def conference_completed_event(**fields: Any) -> ConferenceCompletedEvent:
    """A ``conferenceCompleted``."""
    return _make(ConferenceCompletedEvent, "conferenceCompleted", None, fields)


def conference_recording_available_event(**fields: Any) -> ConferenceRecordingAvailableEvent:
    """A ``conferenceRecordingAvailable``."""
    return _make(ConferenceRecordingAvailableEvent, "conferenceRecordingAvailable", None, fields)


#: The factory of each callback type, by its routing name (``KNOWN_EVENT_TYPES``).
FACTORIES: dict[str, Callable[..., BandwidthEvent]] = {
    "initiate": initiate_event,
    "answer": answer_event,
    "disconnect": disconnect_event,
    "redirect": redirect_event,
    "gather": gather_event,
    "dtmf": dtmf_event,
    "recordComplete": record_complete_event,
    "recordingAvailable": recording_available_event,
    "transcriptionAvailable": transcription_available_event,
    "machineDetectionComplete": machine_detection_complete_event,
    "transferAnswer": transfer_answer_event,
    "transferComplete": transfer_complete_event,
    "transferDisconnect": transfer_disconnect_event,
    "bridgeComplete": bridge_complete_event,
    "bridgeTargetComplete": bridge_target_complete_event,
    "mediaStreamStarted": media_stream_started_event,
    "mediaStreamRejected": media_stream_rejected_event,
    "mediaStreamStopped": media_stream_stopped_event,
    "realTimeTranscriptionStarted": real_time_transcription_started_event,
    "realTimeTranscriptionRejected": real_time_transcription_rejected_event,
    "realTimeTranscriptionStopped": real_time_transcription_stopped_event,
    "realTimeTranscriptionAvailable": real_time_transcription_available_event,
    "conferenceCreated": conference_created_event,
    "conferenceMemberJoin": conference_member_join_event,
    "conferenceMemberExit": conference_member_exit_event,
    "conferenceRedirect": conference_redirect_event,
    "conferenceCompleted": conference_completed_event,
    "conferenceRecordingAvailable": conference_recording_available_event,
}
