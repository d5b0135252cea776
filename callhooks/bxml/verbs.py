"""The GA Catapult BXML verbs, one class each, validated when built (docs/platforms/catapult-bxml.md#verbs).

The text of a verb is its first positional argument, nested verbs are the positional arguments of ``Response``,
``Gather`` and ``Transfer``, and attributes are keyword arguments named in snake_case. ``None`` leaves an
attribute out of the document, so the platform's default applies.
"""

from __future__ import annotations

import re
import typing
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar, Literal

from .. import rules
from ..xmldoc.document import Document
from ..xmldoc.model import nest
from .model import (
    MAX_TAG,
    BXMLError,
    Callback,
    Url,
    Verb,
    check_absolute_url,
    check_choice,
    check_range,
)

__all__ = [
    "VERBS",
    "Gather",
    "GatherPrompt",
    "Hangup",
    "Pause",
    "PhoneNumber",
    "PlayAudio",
    "Record",
    "Redirect",
    "Response",
    "ResponseVerb",
    "SendDtmf",
    "SpeakSentence",
    "Transfer",
    "TransferVerb",
]

Gender = Literal["female", "male"]
FileFormat = Literal["wav", "mp3"]
DiversionTreatment = Literal["none", "propagate", "stack"]
DiversionReason = Literal[
    "unknown",
    "user-busy",
    "no-answer",
    "unavailable",
    "unconditional",
    "time-of-day",
    "do-not-disturb",
    "deflection",
    "follow-me",
    "out-of-service",
    "away",
]

# The voices by gender and language, the first of each being the default
# (docs/platforms/catapult-bxml.md#speaksentence and #speaksentence-defaults).
_VOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("female", "en_us"): ("susan", "julie", "kate"),
    ("female", "en_uk"): ("bridget",),
    ("female", "de"): ("katrin",),
    ("female", "es"): ("esperanza", "violeta"),
    ("female", "fr"): ("jolie",),
    ("female", "it"): ("paola",),
    ("male", "en_us"): ("paul", "dave"),
    ("male", "en_uk"): ("simon",),
    ("male", "de"): ("stefan",),
    ("male", "es"): ("jorge",),
    ("male", "fr"): ("bernard",),
    ("male", "it"): ("luca",),
}
_ALL_VOICES = tuple(voice for voices in _VOICES.values() for voice in voices)
_SEND_DTMF = re.compile(r"[0-9*#,wW]{1,92}")  # keys, ',' and 'w' (half a second), 'W' (a second)
_RECORD_DIGITS = re.compile(r"[0-9*#]+")
_CALLER_ID_WORDS = ("private", "unknown", "No Caller Id")  # with impersonation rights
MAX_GATHER_DIGITS = 128  # BXML's default and ceiling (REST gather stops at 30)
MAX_TRANSFER_TARGETS = 7  # transferTo and the PhoneNumbers together
MAX_PAUSE = 3600  # seconds
MAX_RECORD_DURATION = 3600  # seconds
MAX_SILENCE_TIMEOUT = 60  # seconds
MAX_REPEAT_COUNT = 30
MAX_DELAY_BEFORE_REPEAT = 60  # seconds


def _language(locale: str) -> str:
    folded = locale.casefold()
    return folded if folded.startswith("en") else folded[:2]


def _check_tag(verb: str, tag: str | None) -> None:
    if tag is not None and len(tag) > MAX_TAG:
        raise BXMLError(f"tag is {len(tag)} characters, over the {MAX_TAG} allowed", verb=verb)


@dataclass(frozen=True)
class SpeakSentence(Verb):
    """Speak ``sentence`` (text to speech). Blocks until spoken; no callback.

    ``gender``, ``locale`` and ``voice`` are always written; ``voice`` defaults to the first voice of the
    gender and language (``susan`` for female ``en_US``, ``paul`` for male).
    """

    _text_field: ClassVar[str | None] = "sentence"
    sentence: str
    _: KW_ONLY
    gender: Gender = "female"
    locale: str = "en_US"
    voice: str | None = None
    volume: int | None = None

    def _validate(self) -> None:
        check_choice("SpeakSentence", "gender", self.gender, rules.GENDERS)
        check_choice("SpeakSentence", "locale", self.locale, rules.LOCALES, fold=True)
        if self.voice is None:
            voices = _VOICES.get((self.gender, _language(self.locale)), ("susan",))
            object.__setattr__(self, "voice", voices[0])
        check_choice("SpeakSentence", "voice", self.voice, _ALL_VOICES, fold=True)
        check_range("SpeakSentence", "volume", self.volume, rules.VOLUME.low, rules.VOLUME.high)


@dataclass(frozen=True)
class PlayAudio(Verb):
    """Play the ``.wav`` or ``.mp3`` at ``url``. Blocks; no callback. ``delay_before_repeat`` applies in a Gather."""

    _text_field: ClassVar[str | None] = "url"
    url: Url
    _: KW_ONLY
    volume: int | None = None
    repeat_count: int | None = None
    delay_before_repeat: int | None = None

    def _validate(self) -> None:
        check_absolute_url("PlayAudio", "the audio URL", self.url)
        check_range("PlayAudio", "volume", self.volume, rules.VOLUME.low, rules.VOLUME.high)
        check_range("PlayAudio", "repeatCount", self.repeat_count, 1, MAX_REPEAT_COUNT)
        check_range("PlayAudio", "delayBeforeRepeat", self.delay_before_repeat, 0, MAX_DELAY_BEFORE_REPEAT)


@dataclass(frozen=True)
class PhoneNumber(Verb):
    """A transfer target inside a :class:`Transfer`; all targets ring at once and the first to answer wins."""

    _text_field: ClassVar[str | None] = "number"
    number: str

    def _validate(self) -> None:
        # The docs say only "number"; node-bandwidth's own fixtures use placeholders such as "transferOne".
        if re.search(r"\s", self.number):
            raise BXMLError(f"the number contains white space: {self.number!r}", verb="PhoneNumber")


@dataclass(frozen=True)
class SendDtmf(Verb):
    """Send ``digits`` (``0-9*#``; ``,`` or ``w`` wait half a second, ``W`` a second; at most 92). Blocks."""

    _text_field: ClassVar[str | None] = "digits"
    digits: str

    def _validate(self) -> None:
        if not _SEND_DTMF.fullmatch(self.digits):
            raise BXMLError(
                f"digits must be 1 to 92 of 0-9 * # , w W, got {self.digits!r}",
                verb="SendDtmf",
            )


@dataclass(frozen=True, kw_only=True)
class Pause(Verb):
    """Wait ``length`` seconds in silence (platform default 1, at most 3600)."""

    length: int | None = None

    def _validate(self) -> None:
        check_range("Pause", "length", self.length, 0, MAX_PAUSE)


@dataclass(frozen=True)
class Hangup(Verb):
    """End the call; nothing after it runs."""


@dataclass(frozen=True, kw_only=True)
class Redirect(Verb):
    """Send ``redirect`` to ``request_url`` and run the BXML it answers instead of the rest of this document."""

    request_url: Callback | None = None
    request_url_timeout: int

    def _validate(self) -> None:
        check_absolute_url("Redirect", "requestUrl", self.request_url)
        check_range("Redirect", "requestUrlTimeout", self.request_url_timeout, 1)

    def _missing(self) -> tuple[str, str] | None:
        return ("request_url", "requestUrl is required") if self.request_url is None else None


@dataclass(frozen=True, kw_only=True)
class Record(Verb):
    """Record the far end (or, inside a :class:`Transfer`, both sides); ``recording`` goes to ``request_url``."""

    request_url: Callback | None = None
    request_url_timeout: int | None = None
    file_format: FileFormat | None = None
    max_duration: int | None = None
    silence_timeout: int | None = None
    silence_threshold: int | None = None
    terminating_digits: str | None = None
    transcribe: bool | None = None
    transcribe_callback_url: Callback | None = None
    multi_channel: bool | None = None

    def _validate(self) -> None:
        check_absolute_url("Record", "requestUrl", self.request_url)
        check_range("Record", "requestUrlTimeout", self.request_url_timeout, 1)
        check_choice("Record", "fileFormat", self.file_format, rules.RECORDING_FORMATS)
        check_range("Record", "maxDuration", self.max_duration, 1, MAX_RECORD_DURATION)
        check_range("Record", "silenceTimeout", self.silence_timeout, 1, MAX_SILENCE_TIMEOUT)
        check_range("Record", "silenceThreshold", self.silence_threshold, 0)
        if self.terminating_digits is not None and not _RECORD_DIGITS.fullmatch(self.terminating_digits):
            raise BXMLError(f"terminatingDigits must be keys 0-9 * #, got {self.terminating_digits!r}", verb="Record")
        if self.transcribe and self.file_format == "mp3":
            raise BXMLError('transcribe="true" needs fileFormat wav', verb="Record")
        check_absolute_url("Record", "transcribeCallbackUrl", self.transcribe_callback_url)

    def _missing(self) -> tuple[str, str] | None:
        if self.transcribe and self.transcribe_callback_url is None:
            return ("transcribe_callback_url", 'transcribeCallbackUrl is required with transcribe="true"')
        return None

    def _fillable_urls(self) -> tuple[str, ...]:
        return ("request_url", "transcribe_callback_url") if self.transcribe else ("request_url",)


GatherPrompt = SpeakSentence | PlayAudio


@dataclass(frozen=True, init=False)
class Gather(Verb):
    """Collect digits while its prompts play; ``gather`` goes to ``request_url``, whose BXML replaces the document.

    Prompts: one or more :class:`SpeakSentence`, or exactly one :class:`PlayAudio`, never both.
    """

    holds: ClassVar[tuple[type[Verb], ...]] = (SpeakSentence, PlayAudio)
    verbs: tuple[GatherPrompt, ...]
    request_url: Callback | None = None
    request_url_timeout: int | None = None
    terminating_digits: str | None = None
    max_digits: int | None = None
    inter_digit_timeout: int | None = None
    bargeable: bool | None = None
    tag: str | None = None

    def __init__(
        self,
        *verbs: GatherPrompt,
        request_url: Callback | None = None,
        request_url_timeout: int | None = None,
        terminating_digits: str | None = None,
        max_digits: int | None = None,
        inter_digit_timeout: int | None = None,
        bargeable: bool | None = None,
        tag: str | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _validate(self) -> None:
        audio = sum(isinstance(verb, PlayAudio) for verb in self.verbs)
        if audio and (audio > 1 or len(self.verbs) > audio):
            raise BXMLError(
                f"holds {len(self.verbs) - audio} SpeakSentence and {audio} PlayAudio; "
                "a Gather holds SpeakSentence verbs or one PlayAudio, never both",
                verb="Gather",
            )
        check_absolute_url("Gather", "requestUrl", self.request_url)
        check_range("Gather", "requestUrlTimeout", self.request_url_timeout, 1)
        if self.terminating_digits is not None and not rules.GATHER_DIGITS.fullmatch(self.terminating_digits):
            digits = self.terminating_digits
            raise BXMLError(f"terminatingDigits must be keys 0-9 A-D * #, got {digits!r}", verb="Gather")
        check_range("Gather", "maxDigits", self.max_digits, 1, MAX_GATHER_DIGITS)
        check_range("Gather", "interDigitTimeout", self.inter_digit_timeout, 1, rules.INTER_DIGIT_TIMEOUT.high)
        _check_tag("Gather", self.tag)

    def _missing(self) -> tuple[str, str] | None:
        return ("request_url", "requestUrl is required") if self.request_url is None else None


TransferVerb = PhoneNumber | SpeakSentence | PlayAudio | Record


@dataclass(frozen=True, init=False)
class Transfer(Verb):
    """Ring ``transfer_to`` and the nested :class:`PhoneNumber` targets at once and bridge the first to answer.

    Nested :class:`SpeakSentence` / :class:`PlayAudio` are played to the callee before bridging (the whisper); a
    nested :class:`Record` records both sides. At most 7 targets in all.
    """

    holds: ClassVar[tuple[type[Verb], ...]] = (PhoneNumber, SpeakSentence, PlayAudio, Record)
    verbs: tuple[TransferVerb, ...]
    transfer_to: str | None = None
    transfer_caller_id: str | None = None
    call_timeout: int | None = None
    request_url: Callback | None = None
    request_url_timeout: int | None = None
    tag: str | None = None
    diversion_treatment: DiversionTreatment | None = None
    diversion_reason: DiversionReason | None = None

    def __init__(
        self,
        *verbs: TransferVerb,
        transfer_to: str | None = None,
        transfer_caller_id: str | None = None,
        call_timeout: int | None = None,
        request_url: Callback | None = None,
        request_url_timeout: int | None = None,
        tag: str | None = None,
        diversion_treatment: DiversionTreatment | None = None,
        diversion_reason: DiversionReason | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _validate(self) -> None:
        if sum(isinstance(verb, Record) for verb in self.verbs) > 1:
            raise BXMLError("holds more than one Record", verb="Transfer")
        targets = sum(isinstance(verb, PhoneNumber) for verb in self.verbs) + (self.transfer_to is not None)
        if not targets:
            raise BXMLError("needs a target: transferTo or a PhoneNumber", verb="Transfer")
        if targets > MAX_TRANSFER_TARGETS:
            raise BXMLError(
                f"has {targets} targets (transferTo and PhoneNumbers), over the {MAX_TRANSFER_TARGETS} allowed",
                verb="Transfer",
            )
        if self.transfer_to is not None and not rules.is_address(self.transfer_to):
            target = self.transfer_to
            raise BXMLError(f"transferTo must be an E.164 number or a sip: URI, got {target!r}", verb="Transfer")
        caller_id = self.transfer_caller_id
        if caller_id is not None and not (rules.is_address(caller_id) or caller_id in _CALLER_ID_WORDS):
            raise BXMLError(
                f"transferCallerId must be an E.164 number, a sip: URI, private, unknown or No Caller Id, "
                f"got {caller_id!r}",
                verb="Transfer",
            )
        check_range("Transfer", "callTimeout", self.call_timeout, 1, rules.CALL_TIMEOUT.high)
        check_absolute_url("Transfer", "requestUrl", self.request_url)
        check_range("Transfer", "requestUrlTimeout", self.request_url_timeout, 1)
        _check_tag("Transfer", self.tag)
        check_choice("Transfer", "diversionTreatment", self.diversion_treatment, typing.get_args(DiversionTreatment))
        check_choice("Transfer", "diversionReason", self.diversion_reason, typing.get_args(DiversionReason))


ResponseVerb = SpeakSentence | PlayAudio | Gather | Transfer | Record | Redirect | Hangup | Pause | SendDtmf


@dataclass(frozen=True, init=False)
class Response(Document, Verb):
    """A BXML document: ``str(response)`` is its text (declaration, UTF-8), checked against the 16 KB limit.

    ``with_default_urls(url)`` fills every callback URL left out: the ``request_url`` of Gather, Redirect, Record
    and Transfer, and ``transcribe_callback_url`` of a Record that transcribes. URLs given are kept.
    """

    holds: ClassVar[tuple[type[Verb], ...]] = (
        *(SpeakSentence, PlayAudio, Gather, Transfer, Record),
        *(Redirect, Hangup, Pause, SendDtmf),
    )
    verbs: tuple[ResponseVerb, ...]

    def __init__(self, *verbs: ResponseVerb) -> None:
        nest(self, verbs, locals())


VERBS: tuple[type[Verb], ...] = (
    *(Response, SpeakSentence, PlayAudio, Gather, Transfer, PhoneNumber),
    *(Record, Redirect, Hangup, Pause, SendDtmf),
)
