"""Request parameters: checked before anything is sent, turned into camelCase JSON without nulls.

Each group of keyword arguments is a ``TypedDict``: the same declaration types the client methods (through
``Unpack``) and, read by pydantic, validates the values with the checks and ranges of ``callhooks.rules``,
which the simulator enforces too. A bad value raises ``pydantic.ValidationError`` (a ``ValueError``) whose
location is the keyword the caller used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, TypeAdapter, with_config
from typing_extensions import NotRequired, Required, TypedDict

from .. import rules
from ..events import format_time

__all__ = [
    "ApplicationFields",
    "ApplicationOptions",
    "AudioOptions",
    "CreateCallOptions",
    "GatherOptions",
    "ListCallsFilters",
    "PlayOptions",
    "RecordingOptions",
    "SpeakOptions",
    "TransferOptions",
    "UpdateCallFields",
    "application",
    "audio",
    "create_call",
    "dtmf",
    "gather",
    "list_query",
    "phone_number",
    "recording",
    "transfer",
    "validate",
    "wire_body",
]


def _rule(check: Callable[[Any], Any]) -> AfterValidator:
    """One of ``rules``' checks as a pydantic validator (its ``ValueError`` names the keyword)."""
    return AfterValidator(check)


def _one_of(options: tuple[str, ...]) -> AfterValidator:
    return AfterValidator(lambda value: rules.choice(value, options))


def _within(allowed: rules.Range) -> Any:
    return Field(ge=allowed.low, le=allowed.high)


Address = Annotated[str, _rule(rules.address)]
# The platform documents upper case; SDK docs write lower case. Accept both, send upper case.
HttpMethod = Annotated[str, _one_of(rules.CALLBACK_HTTP_METHODS)]
# An empty sentence stops speech: that is stop_speaking, so speaking needs some text.
Sentence = Annotated[str, StringConstraints(min_length=1), _rule(rules.sentence)]
DtmfDigits = Annotated[str, _rule(rules.dtmf_out)]
# The docs give terminatingDigits no length limit; this client caps it at 30 keys.
TerminatingDigits = Annotated[str, StringConstraints(max_length=30), _rule(rules.gather_digits)]
CallTimeout = Annotated[int, _within(rules.CALL_TIMEOUT)]
CallbackTimeout = Annotated[int, _within(rules.CALLBACK_TIMEOUT)]
PositiveInt = Annotated[int, _within(rules.POSITIVE)]
Volume = Annotated[int, _within(rules.VOLUME)]
SipHeaders = Annotated[dict[str, str], _rule(rules.sip_headers)]
FileFormat = Annotated[str, _one_of(rules.RECORDING_FORMATS)]
Gender = Annotated[str, _one_of(rules.GENDERS)]

_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class AudioOptions(TypedDict, total=False):
    """An audio description (transfer ``whisper_audio``, gather ``prompt``): a sentence or a file."""

    sentence: Sentence
    file_url: str
    gender: Gender
    locale: str
    voice: str
    loop_enabled: bool


@with_config(_STRICT)
class CreateCallOptions(TypedDict, total=False):
    """Optional keyword arguments of ``calls.create`` (the Node SDK's ``Call.create`` params, snake_case)."""

    call_timeout: CallTimeout
    callback_url: str
    callback_http_method: HttpMethod
    callback_timeout: CallbackTimeout
    fallback_url: str
    bridge_id: str
    conference_id: str
    recording_enabled: bool
    recording_max_duration: PositiveInt
    recording_file_format: FileFormat
    transcription_enabled: bool
    tag: str
    sip_headers: SipHeaders


@with_config(_STRICT)
class ApplicationOptions(TypedDict, total=False):
    """Settings of a new application (``applications.create``): where and how inbound calls to its numbers are
    delivered. ``incoming_call_url_callback_timeout`` is in milliseconds."""

    incoming_call_url: str
    incoming_call_url_callback_timeout: CallbackTimeout
    incoming_call_fallback_url: str
    callback_http_method: HttpMethod
    auto_answer: bool


@with_config(_STRICT)
class ApplicationFields(ApplicationOptions, total=False):
    """What ``applications.update`` can change: the settings and the name."""

    name: str


@with_config(_STRICT)
class _PhoneNumber(TypedDict):
    """``POST /phoneNumbers``: the number and the application that takes its inbound calls."""

    number: Address
    application_id: Annotated[str, StringConstraints(min_length=1)]


@with_config(_STRICT)
class _CreateCall(CreateCallOptions):
    from_: Required[Address]
    to: Required[Address]


@with_config(_STRICT)
class ListCallsFilters(TypedDict, total=False):
    """Filters of ``calls.list`` (``bridge_id``/``conference_id`` lists are not paginated by the platform).

    ``from_date_time``/``to_date_time`` bound the calls' start time (inclusive; naive means UTC), as the SDKs
    send them although the calls docs do not list them.
    """

    bridge_id: str
    conference_id: str
    from_: Address
    to: Address
    from_date_time: datetime
    to_date_time: datetime
    page: Annotated[int, _within(rules.PAGE)]
    size: Annotated[int, _within(rules.PAGE_SIZE)]
    sort_order: Annotated[str, _one_of(rules.SORT_ORDERS)]


@with_config(_STRICT)
class UpdateCallFields(TypedDict, total=False):
    """Fields ``calls.update`` may change on a call."""

    state: Annotated[str, _one_of(rules.STATE_CHANGES)]
    tag: str
    callback_url: str
    recording_enabled: bool
    recording_file_format: FileFormat
    recording_max_duration: PositiveInt


@with_config(_STRICT)
class TransferOptions(TypedDict, total=False):
    """Optional keyword arguments of ``transfer`` besides ``caller_id``/``whisper_audio``/``callback_context``."""

    callback_url: str
    callback_http_method: HttpMethod
    diversion_treatment: Annotated[str, _one_of(rules.DIVERSION_TREATMENTS)]
    diversion_reason: str


@with_config(_STRICT)
class _Transfer(TransferOptions):
    state: Literal["transferring"]
    transfer_to: Required[Address]
    transfer_caller_id: NotRequired[Annotated[str, _rule(rules.caller_id)]]
    whisper_audio: NotRequired[AudioOptions]


@with_config(_STRICT)
class PlayOptions(TypedDict, total=False):
    """Optional keyword arguments of ``play``; ``loop`` is sent as ``loopEnabled``."""

    loop: bool
    tag: str
    volume: Volume


@with_config(_STRICT)
class SpeakOptions(PlayOptions, total=False):
    """Optional keyword arguments of ``speak``."""

    voice: str
    gender: Gender
    locale: str


@with_config(_STRICT)
class _Audio(SpeakOptions, total=False):
    sentence: Sentence
    file_url: str


@with_config(_STRICT)
class GatherOptions(TypedDict, total=False):
    """Keyword arguments of ``gather``; ``prompt`` may be a plain sentence."""

    max_digits: Annotated[int, _within(rules.GATHER_MAX_DIGITS)]
    inter_digit_timeout: Annotated[int, _within(rules.INTER_DIGIT_TIMEOUT)]
    terminating_digits: TerminatingDigits
    tag: str
    prompt: AudioOptions | Sentence


@with_config(_STRICT)
class RecordingOptions(TypedDict, total=False):
    """Keyword arguments of ``start_recording``."""

    file_format: FileFormat
    max_duration: PositiveInt


@with_config(_STRICT)
class _Dtmf(TypedDict):
    dtmf_out: DtmfDigits


_Params = TypeVar("_Params", bound=Mapping[str, object])
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}

# Wire names that are not simply the camelCase of the keyword.
_RENAMED = {"from_": "from", "loop": "loopEnabled"}


def validate(schema: type[_Params], values: Mapping[str, Any]) -> _Params:
    """Check ``values`` against a parameter ``TypedDict``; the error names the offending keyword."""
    adapter = _ADAPTERS.get(schema)
    if adapter is None:
        adapter = _ADAPTERS[schema] = TypeAdapter(schema)
    checked: _Params = adapter.validate_python(dict(values))
    return checked


def _camel(name: str) -> str:
    if name in _RENAMED:
        return _RENAMED[name]
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def wire_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """camelCase keys (nested ones too, but never inside ``sip_headers``), ``None`` values dropped."""
    body: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and name != "sip_headers":
            value = wire_body(value)
        body[_camel(name)] = value
    return body


def create_call(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /calls`` body for ``from_``, ``to`` and the ``CreateCallOptions``."""
    checked = validate(_CreateCall, values)
    return wire_body({"from_": checked["from_"], "to": checked["to"], **checked})


def application(values: Mapping[str, Any]) -> dict[str, Any]:
    """The body of ``POST /applications`` (or of an update) for the ``ApplicationFields``."""
    return wire_body(validate(ApplicationFields, values))


def phone_number(values: Mapping[str, Any]) -> dict[str, Any]:
    """The body of ``POST /phoneNumbers``: ``{"number", "applicationId"}``."""
    return wire_body(validate(_PhoneNumber, values))


def transfer(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /calls/{id}`` body of a transfer (``state`` is ``transferring``)."""
    return wire_body(validate(_Transfer, {"state": "transferring", **values}))


def audio(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /calls/{id}/audio`` body of ``speak``/``play``."""
    return wire_body(validate(_Audio, values))


def gather(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /calls/{id}/gather`` body; a plain-string prompt becomes ``{"sentence": ...}``."""
    checked = dict(validate(GatherOptions, values))
    if isinstance(checked.get("prompt"), str):
        checked["prompt"] = {"sentence": checked["prompt"]}
    return wire_body(checked)


def dtmf(digits: str) -> dict[str, Any]:
    """The ``POST /calls/{id}/dtmf`` body."""
    return wire_body(validate(_Dtmf, {"dtmf_out": digits}))


def recording(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /calls/{id}`` body that starts recording."""
    checked = validate(RecordingOptions, values)
    return wire_body(
        {
            "recording_enabled": True,
            "recording_file_format": checked.get("file_format"),
            "recording_max_duration": checked.get("max_duration"),
        }
    )


def list_query(values: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters of ``GET /calls``; times as the platform writes them (ISO-8601 UTC, ``Z``)."""
    query = wire_body(validate(ListCallsFilters, values))
    return {name: format_time(value) if isinstance(value, datetime) else str(value) for name, value in query.items()}
