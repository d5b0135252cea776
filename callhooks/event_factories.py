"""Catapult event factories with realistic defaults: ``answer_event(call_id="c-1", tag="menu")``, for users' tests
(``callhooks.testing``) and for ``callhooks send``.

Each factory returns the typed event, built from wire fields exactly as the platform would send them, so
``event.model_dump(by_alias=True, exclude_unset=True, mode="json")`` is a faithful callback body.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from .events import (
    AnswerEvent,
    CallEvent,
    ConferenceEvent,
    ConferenceMemberEvent,
    ConferencePlaybackEvent,
    ConferenceSpeakEvent,
    DtmfEvent,
    ErrorEvent,
    GatherEvent,
    HangupEvent,
    IncomingCallEvent,
    PlaybackEvent,
    RecordingEvent,
    RedirectEvent,
    SpeakEvent,
    TimeoutEvent,
    TranscriptionEvent,
    TransferCompleteEvent,
    format_time,
    parse_event,
)
from .wire import to_wire_names

__all__ = [
    "API_BASE",
    "FACTORIES",
    "USER_ID",
    "answer_event",
    "conference_event",
    "conference_member_event",
    "conference_playback_event",
    "conference_speak_event",
    "dtmf_event",
    "error_event",
    "gather_event",
    "hangup_event",
    "incoming_call_event",
    "make_event",
    "new_id",
    "playback_event",
    "recording_event",
    "redirect_event",
    "reject_event",
    "speak_event",
    "timeout_event",
    "transcription_event",
    "transfer_complete_event",
]

E = TypeVar("E", bound=CallEvent)

API_BASE = "https://api.catapult.inetwork.com/v1"
USER_ID = "u-testuser0000000000000000"
APP_NUMBER = "+19195550100"
CUSTOMER_NUMBER = "+19195551212"


def new_id(prefix: str) -> str:
    """An id shaped like the platform's: ``c-`` + 23 lowercase alphanumerics."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "-" + "".join(secrets.choice(alphabet) for _ in range(23))


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def make_event(event_type: str, **fields: Any) -> CallEvent:
    """Any event, from its wire ``eventType`` and snake_case fields (``None`` values are left out)."""
    return parse_event({"eventType": event_type, **to_wire_names(fields)})


def _call_fields(call_id: str | None, fields: dict[str, Any], *, numbers: bool = True) -> dict[str, Any]:
    call_id = call_id or new_id("c")
    base: dict[str, Any] = {
        "call_id": call_id,
        "call_uri": f"{API_BASE}/users/{USER_ID}/calls/{call_id}",
        "time": _now(),
    }
    if numbers:
        base.update(from_=APP_NUMBER, to=CUSTOMER_NUMBER)
    base.update(fields)
    return base


def incoming_call_event(call_id: str | None = None, **fields: Any) -> IncomingCallEvent:
    """A ``incomingcall`` event with realistic values; ``fields`` (snake_case) override them."""
    defaults = {"from_": CUSTOMER_NUMBER, "to": APP_NUMBER, "call_state": "active", "application_id": new_id("a")}
    return _typed(IncomingCallEvent, make_event("incomingcall", **_call_fields(call_id, {**defaults, **fields})))


def answer_event(call_id: str | None = None, **fields: Any) -> AnswerEvent:
    """A ``answer`` event with realistic values; ``fields`` (snake_case) override them."""
    return _typed(AnswerEvent, make_event("answer", **_call_fields(call_id, {"call_state": "active", **fields})))


def hangup_event(call_id: str | None = None, **fields: Any) -> HangupEvent:
    """A ``hangup`` event with realistic values; ``fields`` (snake_case) override them."""
    defaults = {"call_state": "completed", "cause": "NORMAL_CLEARING"}
    return _typed(HangupEvent, make_event("hangup", **_call_fields(call_id, {**defaults, **fields})))


def reject_event(call_id: str | None = None, **fields: Any) -> HangupEvent:
    """A ``hangup`` with cause ``CALL_REJECTED``: parsed as ``RejectEvent``."""
    return hangup_event(call_id, **{"cause": "CALL_REJECTED", **fields})


def timeout_event(call_id: str | None = None, **fields: Any) -> TimeoutEvent:
    """A ``timeout`` event with realistic values; ``fields`` (snake_case) override them."""
    return _typed(TimeoutEvent, make_event("timeout", **_call_fields(call_id, fields)))


def playback_event(call_id: str | None = None, **fields: Any) -> PlaybackEvent:
    """A ``playback`` event with realistic values; ``fields`` (snake_case) override them."""
    fields = {"status": "done", **fields}
    return _typed(PlaybackEvent, make_event("playback", **_call_fields(call_id, fields, numbers=False)))


def speak_event(call_id: str | None = None, **fields: Any) -> SpeakEvent:
    """A ``speak`` event with realistic values; ``fields`` (snake_case) override them."""
    status = fields.pop("status", "done")
    fields = {"status": status, "state": "PLAYBACK_STOP" if status == "done" else "PLAYBACK_START", **fields}
    return _typed(SpeakEvent, make_event("speak", **_call_fields(call_id, fields, numbers=False)))


def dtmf_event(call_id: str | None = None, **fields: Any) -> DtmfEvent:
    """A ``dtmf`` event with realistic values; ``fields`` (snake_case) override them."""
    fields = {"dtmf_digit": "1", "dtmf_duration": "160", **fields}
    return _typed(DtmfEvent, make_event("dtmf", **_call_fields(call_id, fields, numbers=False)))


def gather_event(call_id: str | None = None, **fields: Any) -> GatherEvent:
    """A ``gather`` event with realistic values; ``fields`` (snake_case) override them."""
    defaults = {
        "gather_id": new_id("g"),
        "state": "completed",
        "reason": "max-digits",
        "digits": "1",
    }
    return _typed(GatherEvent, make_event("gather", **_call_fields(call_id, {**defaults, **fields}, numbers=False)))


def recording_event(call_id: str | None = None, **fields: Any) -> RecordingEvent:
    """A ``recording`` event with realistic values; ``fields`` (snake_case) override them."""
    recording_id = fields.pop("recording_id", None) or new_id("rec")
    defaults = {
        "call_id": call_id or new_id("c"),
        "recording_id": recording_id,
        "recording_uri": f"{API_BASE}/users/{USER_ID}/recordings/{recording_id}",
        "state": "complete",
        "status": "complete",
        "start_time": _now(),
        "end_time": _now(),
    }
    return _typed(RecordingEvent, make_event("recording", **{**defaults, **fields}))


def transcription_event(**fields: Any) -> TranscriptionEvent:
    """A ``transcription`` event with realistic values; ``fields`` (snake_case) override them."""
    recording_id = fields.pop("recording_id", None) or new_id("rec")
    transcription_id = fields.pop("transcription_id", None) or new_id("tr")
    text = fields.pop("text", "Hi, please call me back about my order.")
    defaults = {
        "transcription_id": transcription_id,
        "recording_id": recording_id,
        "transcription_uri": f"{API_BASE}/users/{USER_ID}/recordings/{recording_id}/transcriptions/{transcription_id}",
        "state": "completed",
        "status": "completed",
        "text": text,
        "text_size": len(text),
        "text_url": f"{API_BASE}/users/{USER_ID}/media/{transcription_id}",
    }
    return _typed(TranscriptionEvent, make_event("transcription", **{**defaults, **fields}))


def _conference_fields(fields: dict[str, Any]) -> dict[str, Any]:
    conference_id = fields.pop("conference_id", None) or new_id("conf")
    return {
        "conference_id": conference_id,
        "conference_uri": f"{API_BASE}/users/{USER_ID}/conferences/{conference_id}",
        **fields,
    }


def conference_event(**fields: Any) -> ConferenceEvent:
    """A ``conference`` event with realistic values; ``fields`` (snake_case) override them."""
    defaults = {"status": "created", "created_time": _now()}
    return _typed(ConferenceEvent, make_event("conference", **_conference_fields({**defaults, **fields})))


def conference_member_event(call_id: str | None = None, **fields: Any) -> ConferenceMemberEvent:
    """A ``conference-member`` event with realistic values; ``fields`` (snake_case) override them."""
    conference_id = fields.pop("conference_id", None) or new_id("conf")
    member_id = fields.pop("member_id", None) or new_id("member")
    defaults = {
        "conference_id": conference_id,
        "call_id": call_id or new_id("c"),
        "member_id": member_id,
        "member_uri": f"{API_BASE}/users/{USER_ID}/conferences/{conference_id}/members/{member_id}",
        "state": "active",
        "hold": False,
        "mute": False,
        "active_members": 1,
        "time": _now(),
    }
    return _typed(ConferenceMemberEvent, make_event("conference-member", **{**defaults, **fields}))


def conference_playback_event(**fields: Any) -> ConferencePlaybackEvent:
    """A ``conference-playback`` event with realistic values; ``fields`` (snake_case) override them."""
    defaults = {"status": "done", "time": _now()}
    return _typed(
        ConferencePlaybackEvent, make_event("conference-playback", **_conference_fields({**defaults, **fields}))
    )


def conference_speak_event(**fields: Any) -> ConferenceSpeakEvent:
    """A ``conference-speak`` event with realistic values; ``fields`` (snake_case) override them."""
    defaults = {"status": "done", "time": _now()}
    return _typed(ConferenceSpeakEvent, make_event("conference-speak", **_conference_fields({**defaults, **fields})))


def redirect_event(call_id: str | None = None, **fields: Any) -> RedirectEvent:
    """A ``redirect`` event with realistic values; ``fields`` (snake_case) override them."""
    call_id = call_id or new_id("c")
    defaults = {"call_id": call_id, "call_state": "active", "from_": CUSTOMER_NUMBER, "to": APP_NUMBER}
    return _typed(RedirectEvent, make_event("redirect", **{**defaults, **fields}))


def transfer_complete_event(call_id: str | None = None, **fields: Any) -> TransferCompleteEvent:
    """A ``transferComplete`` event with realistic values; ``fields`` (snake_case) override them."""
    return _typed(
        TransferCompleteEvent,
        make_event("transferComplete", **_call_fields(call_id, {"call_state": "active", **fields})),
    )


def error_event(call_id: str | None = None, **fields: Any) -> ErrorEvent:
    """A ``error`` event with realistic values; ``fields`` (snake_case) override them."""
    return _typed(ErrorEvent, make_event("error", **_call_fields(call_id, {"call_state": "error", **fields})))


def _typed(cls: type[E], event: CallEvent) -> E:
    if not isinstance(event, cls):
        raise TypeError(f"fields given made a {type(event).__name__}, not a {cls.__name__}")
    return event


#: The factory for each wire ``eventType`` (``callhooks send`` uses it to build sample events).
FACTORIES: dict[str, Callable[..., CallEvent]] = {
    "incomingcall": incoming_call_event,
    "answer": answer_event,
    "hangup": hangup_event,
    "reject": reject_event,
    "timeout": timeout_event,
    "playback": playback_event,
    "speak": speak_event,
    "dtmf": dtmf_event,
    "gather": gather_event,
    "recording": recording_event,
    "transcription": transcription_event,
    "conference": conference_event,
    "conference-member": conference_member_event,
    "conference-playback": conference_playback_event,
    "conference-speak": conference_speak_event,
    "redirect": redirect_event,
    "transferComplete": transfer_complete_event,
    "error": error_event,
}
