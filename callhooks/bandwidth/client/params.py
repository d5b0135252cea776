"""Voice API v2 request parameters: checked before anything is sent, sent as camelCase JSON without nulls.

As for v1 (``callhooks.client.params``), each group of keyword arguments is a ``TypedDict`` that types the
client methods (through ``Unpack``) and, read by pydantic, checks the documented limits; a bad value raises
``pydantic.ValidationError`` (a ``ValueError``) naming the keyword. Limits are the v2 sheet's:
``callTimeout`` 1-300 s and ``callbackTimeout`` 1-25 s (decimals allowed), ``priority`` 1-5, ``tag`` up to
4096 characters, URLs up to 2048, callback credentials up to 1024.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, with_config
from typing_extensions import Required, TypedDict

from ...client.params import Address, HttpMethod, validate, wire_body
from ...events import format_time

__all__ = [
    "CreateCall",
    "CreateCallOptions",
    "ListCallsFilters",
    "ListConferencesFilters",
    "ListRecordingsFilters",
    "MachineDetection",
    "RecordingState",
    "RedirectOptions",
    "TranscribeOptions",
    "UpdateCall",
    "UpdateConference",
    "UpdateConferenceMemberFields",
    "body",
    "query",
]

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Secret = Annotated[str, StringConstraints(max_length=1024)]
Tag = Annotated[str, StringConstraints(max_length=4096)]
CallbackTimeout = Annotated[float, Field(ge=1, le=25)]
# The spec warns that decimals are mis-processed in machine detection: whole seconds only.
Seconds = Annotated[int, Field(ge=0)]

_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class MachineDetection(TypedDict, total=False):
    """``machineDetection`` of a new call (answering-machine detection); with a paired receiver and no
    ``callback_url``, the async result goes to the receiver."""

    mode: Literal["sync", "async"]
    detection_timeout: Seconds
    silence_timeout: Seconds
    speech_threshold: Seconds
    speech_end_threshold: Seconds
    machine_speech_end_threshold: Seconds
    delay_result: bool
    callback_url: Url
    callback_method: HttpMethod
    username: Secret
    password: Secret
    fallback_url: Url
    fallback_method: HttpMethod
    fallback_username: Secret
    fallback_password: Secret


@with_config(_STRICT)
class CreateCallOptions(TypedDict, total=False):
    """Optional keyword arguments of ``calls.create`` (``CreateCall``'s fields, snake_case)."""

    answer_url: Url
    answer_method: HttpMethod
    answer_fallback_url: Url
    answer_fallback_method: HttpMethod
    disconnect_url: Url
    disconnect_method: HttpMethod
    username: Secret
    password: Secret
    fallback_username: Secret
    fallback_password: Secret
    call_timeout: Annotated[float, Field(ge=1, le=300)]
    callback_timeout: CallbackTimeout
    machine_detection: MachineDetection
    priority: Annotated[int, Field(ge=1, le=5)]
    tag: Tag
    privacy: bool
    display_name: Annotated[str, StringConstraints(max_length=256)]
    uui: Annotated[str, StringConstraints(max_length=350)]


@with_config(_STRICT)
class CreateCall(CreateCallOptions):
    """The whole ``POST /calls`` body (``CreateCall``)."""

    from_: Required[Address]
    to: Required[Address]
    application_id: Required[Annotated[str, StringConstraints(min_length=1)]]


@with_config(_STRICT)
class RedirectOptions(TypedDict, total=False):
    """Optional keyword arguments of a redirect (of a call or a conference)."""

    redirect_method: HttpMethod
    redirect_fallback_url: Url
    redirect_fallback_method: HttpMethod
    username: Secret
    password: Secret
    fallback_username: Secret
    fallback_password: Secret


@with_config(_STRICT)
class UpdateCall(RedirectOptions, total=False):
    """The ``POST /calls/{callId}`` body (``UpdateCall``): redirect (``active``) or end (``completed``)."""

    state: Literal["active", "completed"]
    redirect_url: Url
    tag: Tag


@with_config(_STRICT)
class UpdateConference(RedirectOptions, total=False):
    """The ``POST /conferences/{conferenceId}`` body: redirect (``active``) or end (``completed``)."""

    status: Literal["active", "completed"]
    redirect_url: Url


@with_config(_STRICT)
class UpdateConferenceMemberFields(TypedDict, total=False):
    """What ``conferences.update_member`` may change; each is applied only when given."""

    mute: bool
    hold: bool
    call_ids_to_coach: list[str]


@with_config(_STRICT)
class TranscribeOptions(TypedDict, total=False):
    """Optional keyword arguments of ``recordings.transcribe``; with a paired receiver and no ``callback_url``,
    ``transcriptionAvailable`` goes to the receiver."""

    callback_url: Url
    callback_method: HttpMethod
    username: Secret
    password: Secret
    tag: Tag
    callback_timeout: CallbackTimeout
    detect_language: bool


@with_config(_STRICT)
class RecordingState(TypedDict):
    """The ``PUT /calls/{callId}/recording`` body: pause or resume the call's recording."""

    state: Literal["paused", "recording"]


@with_config(_STRICT)
class ListCallsFilters(TypedDict, total=False):
    """Filters of ``calls.list``: start times are inclusive (naive means UTC); at most 10 000 calls."""

    to: str
    from_: str
    min_start_time: datetime
    max_start_time: datetime
    disconnect_cause: str
    page_size: Annotated[int, Field(ge=1, le=10000)]


@with_config(_STRICT)
class ListRecordingsFilters(TypedDict, total=False):
    """Filters of ``recordings.list`` (the account's recordings, at most 1000)."""

    to: str
    from_: str
    min_start_time: datetime
    max_start_time: datetime


@with_config(_STRICT)
class ListConferencesFilters(TypedDict, total=False):
    """Filters of ``conferences.list``."""

    name: str
    min_created_time: datetime
    max_created_time: datetime
    page_size: Annotated[int, Field(ge=1, le=1000)]


def body(schema: type[Mapping[str, object]], values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body for keyword arguments ``values`` checked against ``schema``."""
    return wire_body(validate(schema, values))


def query(schema: type[Mapping[str, object]], values: Mapping[str, Any]) -> dict[str, str]:
    """The query of a list request; times as ISO-8601 UTC with ``Z``."""
    found = body(schema, values)
    return {name: format_time(value) if isinstance(value, datetime) else str(value) for name, value in found.items()}
