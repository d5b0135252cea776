"""Request bodies, validated like the platform and turned into typed parameters for the engine.

The rules themselves (limits, patterns, choices) are ``callhooks.rules``'s, shared with the client.
Numbers and booleans are accepted as JSON types or as strings (the docs send ``"30"`` and ``"true"``).
Every failure is a 400 whose ``details`` name the offending field; unknown fields are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from .. import rules
from .callback_hosts import CallbackHosts
from .errors import ApiError, validation_error

__all__ = ["AudioParams", "CallParams", "Fields", "GatherParams", "ListParams", "UpdateParams", "check_dtmf"]

_MISSING = object()
#: The strictest callback policy (loopback only): what parsing checks against unless given the simulator's.
LOOPBACK_ONLY = CallbackHosts()
T = TypeVar("T")


class Fields:
    """Typed, validating reads of one JSON object."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix  # for nested objects: errors name e.g. "prompt.sentence"

    def _invalid(self, name: str, value: object, message: str) -> ApiError:
        return validation_error(self.prefix + name, value, message)

    def _checked(self, name: str, value: T, check: Callable[[T], T]) -> T:
        """``check(value)`` from ``rules``; its ``ValueError`` becomes a 400 naming the field."""
        try:
            return check(value)
        except ValueError as error:
            raise self._invalid(name, value, f"'{name}' {error}") from None

    def given(self, name: str) -> bool:
        """True when the field is present and not null (an empty string counts as given)."""
        return self.data.get(name) is not None

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise self._invalid(name, "", f"'{name}' is required")
            return _MISSING
        return value

    def string(self, name: str, *, required: bool = False, rule: Callable[[str], str] | None = None) -> str | None:
        """A string field (``None`` when absent), checked by ``rule`` (one of ``rules``' checks) if given."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            raise self._invalid(name, value, f"'{name}' must be a string")
        return value if rule is None else self._checked(name, value, rule)

    def integer(self, name: str, default: int | None, allowed: rules.Range) -> int | None:
        """An integer in the ``allowed`` range, given as a JSON number or a numeric string."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value)
        ):
            number = int(value)
        if number is None:
            raise self._invalid(name, value, f"'{name}' must be an integer")
        return self._checked(name, number, allowed.check)

    def number(self, name: str, default: float | None, low: float) -> float | None:
        """A real number ``>= low``, given as a JSON number or a numeric string."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < low:
            raise self._invalid(name, value, f"'{name}' must be a number of at least {low:g}")
        return number

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        """``true``/``false`` as JSON booleans or strings (any case)."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self._invalid(name, value, f"'{name}' must be true or false")

    def choice(self, name: str, options: tuple[str, ...], default: str | None = None) -> str | None:
        """One of ``options``, matched case-insensitively; returns the canonical spelling."""
        value = self.string(name, rule=lambda value: rules.choice(value, options))
        return default if value is None else value

    def address(self, name: str, *, required: bool = False) -> str | None:
        """A phone number in E.164 form (``+`` and 7-15 digits) or a ``sip:user@host`` URI."""
        return self.string(name, required=required, rule=rules.address)

    def url(self, name: str) -> str | None:
        """A callback URL: absent or ``""`` mean none; otherwise it must be http(s)."""
        value = self.string(name)
        if not value:
            return None
        if not rules.HTTP_URL.fullmatch(value):
            raise ApiError(
                400,
                "bad-request",
                "callback-invalid-url",
                f"'{value}' is not a valid {name}",
                {self.prefix + name: value},
            )
        return value

    def callback_url(self, name: str, hosts: CallbackHosts) -> str | None:
        """:meth:`url`, for a URL the simulator will send requests to: its host must be one ``hosts`` allows."""
        value = self.url(name)
        if value is not None:
            hosts.check(self.prefix + name, value)
        return value

    def moment(self, name: str) -> datetime | None:
        """An ISO-8601 timestamp (``Z`` or any offset; without one it is UTC)."""
        value = self.string(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            message = f"'{name}' must be an ISO-8601 time such as 2019-03-14T15:09:40Z"
            raise self._invalid(name, value, message) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def mapping(self, name: str) -> dict[str, Any] | None:
        """A JSON object field."""
        value = self._get(name, False)
        if value is _MISSING:
            return None
        if not isinstance(value, Mapping):
            raise self._invalid(name, value, f"'{name}' must be an object")
        return dict(value)

    def sip_headers(self, name: str) -> dict[str, str] | None:
        """A JSON object of SIP headers (``X-`` names, string values)."""
        headers = self.mapping(name)
        return None if headers is None else self._checked(name, headers, rules.sip_headers)

    def audio_object(self, name: str) -> dict[str, Any] | None:
        """A nested audio object (``whisperAudio``, a gather ``prompt``), validated like ``/audio``."""
        audio = self.mapping(name)
        if audio is not None:
            nested = Fields(audio, f"{self.prefix}{name}.")
            nested.string("sentence", rule=rules.sentence)
            nested.url("fileUrl")
            nested.audio_options()
            nested.boolean("bargeable")
        return audio

    def audio_options(self) -> None:
        """The voice options shared by ``/audio``, ``whisperAudio`` and gather prompts."""
        self.choice("gender", rules.GENDERS)
        self.choice("locale", rules.LOCALES)
        self.choice("voice", rules.VOICES)
        self.boolean("loopEnabled")
        self.integer("volume", None, rules.VOLUME)


@dataclass(frozen=True)
class CallParams:
    """``POST /calls``."""

    from_: str
    to: str
    call_timeout: int
    callback_url: str | None
    callback_timeout: int
    callback_method: str
    fallback_url: str | None
    bridge_id: str | None
    conference_id: str | None
    recording_enabled: bool
    recording_max: int
    recording_format: str
    transcription_enabled: bool
    tag: str | None
    sip_headers: dict[str, str] | None

    @classmethod
    def parse(cls, data: Mapping[str, Any], hosts: CallbackHosts = LOOPBACK_ONLY) -> CallParams:
        """Validate a create-call body; its callback URLs must be on hosts that ``hosts`` allows."""
        f = Fields(data)
        return cls(
            from_=_required(f.address("from", required=True)),
            to=_required(f.address("to", required=True)),
            call_timeout=_required(f.integer("callTimeout", 60, rules.CALL_TIMEOUT)),
            callback_url=f.callback_url("callbackUrl", hosts),
            callback_timeout=_required(f.integer("callbackTimeout", 10000, rules.CALLBACK_TIMEOUT)),
            callback_method=_required(f.choice("callbackHttpMethod", rules.CALLBACK_HTTP_METHODS, "POST")),
            fallback_url=f.callback_url("fallbackUrl", hosts),
            bridge_id=f.string("bridgeId"),
            conference_id=f.string("conferenceId"),
            recording_enabled=bool(f.boolean("recordingEnabled", False)),
            recording_max=_required(f.integer("recordingMaxDuration", 3600, rules.POSITIVE)),
            recording_format=_required(f.choice("recordingFileFormat", rules.RECORDING_FORMATS, "wav")),
            transcription_enabled=bool(f.boolean("transcriptionEnabled", False)),
            tag=f.string("tag"),
            sip_headers=f.sip_headers("sipHeaders"),
        )


def _required(value: Any) -> Any:
    # only for values a validator already guaranteed; narrows ``X | None`` for mypy
    assert value is not None
    return value


@dataclass(frozen=True)
class ListParams:
    """``GET /calls`` query: paging, order and filters (times bound the start time, inclusive)."""

    page: int
    size: int
    sort_order: str
    filters: dict[str, str | None]  # wire name -> value, for from, to, bridgeId and conferenceId
    from_time: datetime | None
    to_time: datetime | None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListParams:
        """Validate a list query; unknown parameters are ignored like unknown body fields."""
        f = Fields(query)
        return cls(
            page=_required(f.integer("page", 0, rules.PAGE)),
            size=_required(f.integer("size", 25, rules.PAGE_SIZE)),
            sort_order=_required(f.choice("sortOrder", rules.SORT_ORDERS, "desc")),
            filters={name: _plus(f.string(name)) for name in ("from", "to", "bridgeId", "conferenceId")},
            from_time=f.moment("fromDateTime"),
            to_time=f.moment("toDateTime"),
        )


def _plus(value: str | None) -> str | None:
    # an unencoded "+1919…" in a query string arrives as " 1919…"; put the plus back
    return "+" + value[1:] if value is not None and value.startswith(" ") else value


@dataclass(frozen=True)
class UpdateParams:
    """``POST /calls/{id}``: a state change and/or settings."""

    state: str | None
    transfer_to: str | None
    transfer_caller_id: str | None
    whisper_audio: dict[str, Any] | None
    callback_url: str | None
    has_callback_url: bool
    tag: str | None
    recording_enabled: bool | None
    recording_format: str | None
    recording_max: int | None
    transcription_enabled: bool | None

    @classmethod
    def parse(cls, data: Mapping[str, Any], hosts: CallbackHosts = LOOPBACK_ONLY) -> UpdateParams:
        """Validate an update body (transfer fields are required/checked only for ``transferring``); a new
        ``callbackUrl`` must be on a host that ``hosts`` allows."""
        f = Fields(data)
        state = f.choice("state", rules.UPDATE_STATES)
        transfer_to = caller_id = whisper = None
        if state == "transferring":
            transfer_to = f.address("transferTo", required=True)
            caller_id = f.string("transferCallerId", rule=rules.caller_id)
            whisper = f.audio_object("whisperAudio")
            f.choice("diversionTreatment", rules.DIVERSION_TREATMENTS)
            f.string("diversionReason")
        return cls(
            state=state,
            transfer_to=transfer_to,
            transfer_caller_id=caller_id,
            whisper_audio=whisper,
            callback_url=f.callback_url("callbackUrl", hosts),
            # null is absent, as everywhere else (bandwidth-sdk sends "callbackUrl": null on every update)
            has_callback_url=f.given("callbackUrl"),
            tag=f.string("tag"),
            recording_enabled=f.boolean("recordingEnabled"),
            recording_format=f.choice("recordingFileFormat", rules.RECORDING_FORMATS),
            recording_max=f.integer("recordingMaxDuration", None, rules.POSITIVE),
            transcription_enabled=f.boolean("transcriptionEnabled"),
        )


@dataclass(frozen=True)
class AudioParams:
    """``POST /calls/{id}/audio``: speak ``sentence`` or play ``file_url``; an empty one stops."""

    kind: str  # "speak" or "playback"
    text: str  # the sentence or the file URL; "" means stop
    loop: bool
    tag: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AudioParams:
        """Validate an audio body: exactly one of ``sentence`` and ``fileUrl``."""
        f = Fields(data)
        sentence = f.string("sentence", rule=rules.sentence)
        file_url = f.string("fileUrl")
        if (sentence is None) == (file_url is None):
            raise validation_error("sentence", sentence or "", "give exactly one of 'sentence' and 'fileUrl'")
        if file_url:
            f.url("fileUrl")
        f.audio_options()
        loop = bool(f.boolean("loopEnabled", False))
        if sentence is not None:
            return cls("speak", sentence, loop, f.string("tag"))
        return cls("playback", file_url or "", loop, f.string("tag"))


@dataclass(frozen=True)
class GatherParams:
    """``POST /calls/{id}/gather``."""

    max_digits: int | None
    inter_digit_timeout: int
    terminating_digits: str
    tag: str | None
    prompt: dict[str, Any] | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> GatherParams:
        """Validate a gather body (``terminatingDigits`` defaults to ``#`` and cannot be emptied)."""
        f = Fields(data)
        terminating = f.string("terminatingDigits", rule=rules.gather_digits)
        prompt = f.audio_object("prompt")
        return cls(
            max_digits=f.integer("maxDigits", None, rules.GATHER_MAX_DIGITS),
            inter_digit_timeout=_required(f.integer("interDigitTimeout", 5, rules.INTER_DIGIT_TIMEOUT)),
            terminating_digits=terminating or "#",
            tag=f.string("tag"),
            prompt=prompt,
        )


def check_dtmf(data: Mapping[str, Any]) -> str:
    """Validate ``POST /calls/{id}/dtmf``: ``dtmfOut`` is 1-92 of ``[A-D0-9#*,wW]``."""
    return str(_required(Fields(data).string("dtmfOut", required=True, rule=rules.dtmf_out)))
