"""Typed views of what the platform returns: calls, call events, recordings, transcriptions, gathers.

Attributes are snake_case (``from`` is ``from_``) and also accept their camelCase wire names. The platform
sends booleans and numbers as text in places, and timestamps in several ISO-8601 dialects or as epoch
milliseconds, so those fields are read leniently: a value that cannot be understood becomes ``None``
rather than making a whole response unreadable. Unknown fields are kept (``model_extra``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

__all__ = ["Application", "Call", "CallLogEvent", "Gather", "PhoneNumber", "Recording", "Resource", "Transcription"]

_BOOL = TypeAdapter(bool)
# Epoch values above this are milliseconds (1e11 seconds is in the year 5138).
_EPOCH_MS_THRESHOLD = 100_000_000_000
_SHORT_OFFSET = re.compile(r"([+-]\d{2})$")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _flag(value: object) -> bool | None:
    if _blank(value):
        return None
    try:
        return _BOOL.validate_python(value.strip() if isinstance(value, str) else value)
    except ValidationError:
        return None


def _number(value: object) -> int | None:
    if _blank(value) or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() refuses is unreadable
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None  # inf, nan, 1e400: no count or duration
    return int(number) if number.is_integer() else round(number)


def _epoch(number: float) -> datetime | None:
    seconds = number / 1000 if abs(number) >= _EPOCH_MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None  # not a time a datetime can hold


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _epoch(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return _epoch(int(text))
    # Seen in the docs: 'Z', '-02:00' and a truncated '-03'; Python 3.10's parser wants '+00:00' forms.
    text = _SHORT_OFFSET.sub(r"\1:00", text.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # Platform times are UTC; a missing offset means UTC, not the local zone.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


Flag = Annotated[bool | None, BeforeValidator(_flag)]
Number = Annotated[int | None, BeforeValidator(_number)]
Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]


class Resource(BaseModel):
    """Base of the response models: camelCase aliases, snake_case attributes, unknown fields kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Call(Resource):
    """A call resource (``GET /v1/users/{userId}/calls/{callId}``)."""

    id: str
    direction: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    state: str | None = None
    start_time: Timestamp = None
    active_time: Timestamp = None
    end_time: Timestamp = None
    call_timeout: Number = None
    callback_url: str | None = None
    callback_http_method: str | None = None
    callback_timeout: Number = None
    fallback_url: str | None = None
    chargeable_duration: Number = None
    transfer_to: str | None = None
    transfer_caller_id: str | None = None
    whisper_audio: Any = None
    bridge_id: str | None = None
    bridge: str | None = None
    conference_id: str | None = None
    conference: str | None = None
    events: str | None = None
    recordings: str | None = None
    transcriptions: str | None = None
    recording_enabled: Flag = None
    recording_file_format: str | None = None
    recording_max_duration: Number = None
    transcription_enabled: Flag = None
    tag: str | None = None
    sip_headers: dict[str, str] | None = None


class Application(Resource):
    """An application (``GET /v1/users/{userId}/applications/{applicationId}``): where inbound calls go."""

    id: str
    name: str | None = None
    incoming_call_url: str | None = None
    incoming_call_url_callback_timeout: Number = None
    incoming_call_fallback_url: str | None = None
    callback_http_method: str | None = None
    auto_answer: Flag = None


class PhoneNumber(Resource):
    """One of the account's numbers (``GET /v1/users/{userId}/phoneNumbers``) and the application that takes its
    inbound calls."""

    number: str
    application_id: str | None = None


class CallLogEvent(Resource):
    """One entry of a call's event log (``GET …/calls/{id}/events``); ``data`` is often JSON in a string."""

    id: str
    time: Timestamp = None
    name: str | None = None
    data: Any = None


class Recording(Resource):
    """A recording of a call (``GET …/calls/{id}/recordings``)."""

    id: str
    start_time: Timestamp = None
    end_time: Timestamp = None
    call: str | None = None
    media: str | None = None
    state: str | None = None


class Transcription(Resource):
    """A transcription of a call's recording (``GET …/calls/{id}/transcriptions``)."""

    id: str
    state: str | None = None
    text: str | None = None
    text_size: Number = None
    text_url: str | None = None
    time: Timestamp = None
    chargeable_duration: Number = None


class Gather(Resource):
    """The state and result of a gather (``GET …/calls/{id}/gather/{gatherId}``)."""

    id: str
    state: str | None = None
    reason: str | None = None
    digits: str | None = None
    call: str | None = None
    created_time: Timestamp = None
    completed_time: Timestamp = None
