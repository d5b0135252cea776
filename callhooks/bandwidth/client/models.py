"""Typed views of what the Voice API v2 returns: calls, recordings, transcriptions, conferences.

Attributes are snake_case and accept the camelCase wire names (``from`` is ``from_``). Times are read
leniently (the docs' examples carry non-ISO forms; an unreadable one becomes ``None``) and unknown fields are
kept (``model_extra``): Bandwidth adds fields to live payloads over time.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...client.models import Resource, Timestamp

__all__ = [
    "CallState",
    "Conference",
    "ConferenceMember",
    "ConferenceRecording",
    "CreatedCall",
    "RealTimeTranscription",
    "Recording",
    "RecordingTranscriptions",
    "Transcript",
    "TranscriptionMetadata",
    "TranscriptionTrack",
]


class CreatedCall(Resource):
    """The answer to creating a call (``CreateCallResponse``): the new ``call_id`` and the effective settings."""

    call_id: str
    account_id: str | None = None
    application_id: str | None = None
    to: str | None = None
    from_: str | None = Field(default=None, alias="from")
    enqueued_time: Timestamp = None
    call_url: str | None = None
    call_timeout: float | None = None
    callback_timeout: float | None = None
    tag: str | None = None
    answer_method: str | None = None
    answer_url: str | None = None
    answer_fallback_method: str | None = None
    answer_fallback_url: str | None = None
    disconnect_method: str | None = None
    disconnect_url: str | None = None
    priority: int | None = None
    # Echoed by the platform; kept out of reprs and logs.
    username: str | None = Field(default=None, repr=False)
    password: str | None = Field(default=None, repr=False)
    fallback_username: str | None = Field(default=None, repr=False)
    fallback_password: str | None = Field(default=None, repr=False)


class CallState(Resource):
    """A call's state (``GET /calls/{callId}``): readable a few minutes after creation, for 7 days after it ends."""

    call_id: str
    account_id: str | None = None
    application_id: str | None = None
    parent_call_id: str | None = None
    to: str | None = None
    from_: str | None = Field(default=None, alias="from")
    direction: str | None = None
    state: str | None = None
    stir_shaken: dict[str, str] | None = None
    identity: str | None = None
    enqueued_time: Timestamp = None
    start_time: Timestamp = None
    answer_time: Timestamp = None
    end_time: Timestamp = None
    disconnect_cause: str | None = None
    error_message: str | None = None
    error_id: str | None = None
    last_update: Timestamp = None


class Recording(Resource):
    """A call's recording (``CallRecordingMetadata``); ``duration`` is ISO-8601 (``PT13.67S``)."""

    recording_id: str
    call_id: str | None = None
    account_id: str | None = None
    application_id: str | None = None
    parent_call_id: str | None = None
    to: str | None = None
    from_: str | None = Field(default=None, alias="from")
    transfer_caller_id: str | None = None
    transfer_to: str | None = None
    duration: str | None = None
    direction: str | None = None
    channels: int | None = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    file_format: str | None = None
    status: str | None = None
    media_url: str | None = None
    transcription: dict[str, Any] | None = None
    recording_name: str | None = None


class ConferenceRecording(Resource):
    """A conference's recording (``ConferenceRecordingMetadata``)."""

    recording_id: str
    conference_id: str | None = None
    account_id: str | None = None
    name: str | None = None
    duration: str | None = None
    channels: int | None = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    file_format: str | None = None
    status: str | None = None
    media_url: str | None = None
    recording_name: str | None = None


class Transcript(Resource):
    """One speaker's text of a recording's transcription."""

    text: str | None = None
    confidence: float | None = None
    speaker: int | None = None


class RecordingTranscriptions(Resource):
    """A recording's transcription (``RecordingTranscriptions``): one transcript per channel."""

    transcripts: list[Transcript] = Field(default_factory=list)


class TranscriptionMetadata(Resource):
    """A real-time transcription of a call (items of ``GET /calls/{callId}/transcriptions``)."""

    transcription_id: str
    transcription_name: str | None = None
    transcription_url: str | None = None


class TranscriptionTrack(Resource):
    """One track (``inbound``/``outbound``) of a real-time transcription."""

    track: str | None = None
    transcript: str | None = None
    confidence: float | None = None
    detected_language: str | None = None


class RealTimeTranscription(Resource):
    """A real-time transcription's text (``CallTranscriptionResponse``)."""

    transcription_id: str
    account_id: str | None = None
    call_id: str | None = None
    tracks: list[TranscriptionTrack] = Field(default_factory=list)


class ConferenceMember(Resource):
    """A call in a conference (``memberId`` is the member's call id)."""

    call_id: str
    conference_id: str | None = None
    member_url: str | None = None
    mute: bool | None = None
    hold: bool | None = None
    call_ids_to_coach: list[str] | None = None


class Conference(Resource):
    """A conference; ``active_members`` only when read one at a time (the list leaves it out)."""

    id: str
    name: str | None = None
    created_time: Timestamp = None
    completed_time: Timestamp = None
    conference_event_url: str | None = None
    conference_event_method: str | None = None
    tag: str | None = None
    active_members: list[ConferenceMember] | None = None
