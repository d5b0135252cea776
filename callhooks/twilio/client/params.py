"""Twilio request parameters: checked before anything is sent, sent form-encoded as Twilio expects.

As for the other clients, each group of keyword arguments is a ``TypedDict`` that types the methods
(``Unpack``) and is checked by pydantic; a bad value is a ``ValueError`` naming the keyword. On the wire the
names are PascalCase (``status_callback_event`` is ``StatusCallbackEvent``), lists repeat their name once per
value, booleans are ``true``/``false``, times ``%Y-%m-%dT%H:%M:%SZ`` (as twilio-python sends them), and the
list filters' ``_before``/``_after`` are the ``<``/``>`` that Twilio puts in the name (``StartTime<``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, with_config
from typing_extensions import TypedDict

from ...client.params import HttpMethod, validate

__all__ = [
    "CreateCallOptions",
    "ListCallsFilters",
    "ListRecordingsFilters",
    "UpdateCallFields",
    "form_pairs",
]

Twiml = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Url = Annotated[str, StringConstraints(min_length=1)]
StatusEvent = Literal["initiated", "ringing", "answered", "completed"]
_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class CreateCallOptions(TypedDict, total=False):
    """Optional keyword arguments of ``calls.create`` (the Calls resource's create parameters, snake_case).

    Exactly one of ``url``, ``twiml`` and ``application_sid`` says what the call runs (with a paired
    receiver and none given: ``url`` is the receiver's signed URL).
    """

    url: Url
    twiml: Twiml
    application_sid: Annotated[str, StringConstraints(pattern=r"^AP[0-9a-fA-F]{32}$")]
    method: HttpMethod
    fallback_url: Url
    fallback_method: HttpMethod
    status_callback: Url
    status_callback_event: list[StatusEvent]
    status_callback_method: HttpMethod
    send_digits: Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9ABCD#*wW]*$")]
    timeout: Annotated[int, Field(ge=1, le=600)]
    record: bool
    recording_channels: Literal["mono", "dual"]
    recording_status_callback: Url
    recording_status_callback_method: HttpMethod
    recording_status_callback_event: list[Literal["in-progress", "completed", "absent"]]
    recording_track: Literal["inbound", "outbound", "both"]
    trim: Literal["trim-silence", "do-not-trim"]
    sip_auth_username: str
    sip_auth_password: str
    machine_detection: Literal["Enable", "DetectMessageEnd"]
    machine_detection_timeout: Annotated[int, Field(ge=1)]
    machine_detection_speech_threshold: Annotated[int, Field(ge=1000, le=6000)]
    machine_detection_speech_end_threshold: Annotated[int, Field(ge=500, le=5000)]
    machine_detection_silence_timeout: Annotated[int, Field(ge=2000, le=10000)]
    async_amd: bool
    async_amd_status_callback: Url
    async_amd_status_callback_method: HttpMethod
    caller_id: str
    call_reason: str
    call_token: str
    time_limit: Annotated[int, Field(ge=1)]


@with_config(_STRICT)
class CreateCall(CreateCallOptions):
    """The whole ``POST /Calls.json`` form."""

    to: str
    from_: str


@with_config(_STRICT)
class UpdateCallFields(TypedDict, total=False):
    """What ``calls.update`` may change on a live call (``url`` and ``twiml`` redirect it; one at most)."""

    url: Url
    twiml: Twiml
    method: HttpMethod
    status: Literal["canceled", "completed"]
    fallback_url: Url
    fallback_method: HttpMethod
    status_callback: Url
    status_callback_method: HttpMethod
    time_limit: Annotated[int, Field(ge=1)]


@with_config(_STRICT)
class ListCallsFilters(TypedDict, total=False):
    """Filters of ``calls.list``: ``start_time_after`` is ``StartTime>`` (on or after), and so on."""

    to: str
    from_: str
    parent_call_sid: str
    status: Literal["queued", "ringing", "in-progress", "canceled", "completed", "failed", "busy", "no-answer"]
    start_time: datetime
    start_time_before: datetime
    start_time_after: datetime
    end_time: datetime
    end_time_before: datetime
    end_time_after: datetime
    page_size: Annotated[int, Field(ge=1, le=1000)]


@with_config(_STRICT)
class ListRecordingsFilters(TypedDict, total=False):
    """Filters of ``recordings.list``."""

    call_sid: str
    conference_sid: str
    date_created: datetime
    date_created_before: datetime
    date_created_after: datetime
    page_size: Annotated[int, Field(ge=1, le=1000)]


_SUFFIXES = {"_before": "<", "_after": ">"}


def _name(keyword: str) -> str:
    """``status_callback_event`` -> ``StatusCallbackEvent``; ``start_time_after`` -> ``StartTime>``."""
    suffix = ""
    for ending, mark in _SUFFIXES.items():
        if keyword.endswith(ending):
            keyword, suffix = keyword.removesuffix(ending), mark
    return "".join(part.capitalize() for part in keyword.rstrip("_").split("_")) + suffix


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def form_pairs(schema: type[Mapping[str, object]], values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``values`` checked against ``schema``, as form (or query) pairs in their order; a list gives one pair per
    item."""
    pairs: list[tuple[str, str]] = []
    checked = validate(schema, values)
    for keyword in values:  # in the caller's order (the schema would reorder them)
        value = checked.get(keyword)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((_name(keyword), _text(item)))
    return pairs
