"""The BXML v2 verbs, one class each, validated when built.

Classes and keyword arguments are named as ``bandwidth-sdk``'s builder names them (``Gather(gather_url=...,
max_digits=...)``: the snake_case of the wire attribute, ``_from`` for ``from``), so code migrating from the SDK
reads the same; the text of a verb is its first positional argument and nested verbs are positional too.
``None`` leaves an attribute out, so the platform's default applies. Where that SDK has spelled an attribute
wrongly (``bridgeTargetCompleteFallback_url``, ``recordCompleteFallback_url``/``_method``, and the Conference
name as a ``name`` attribute, fixed in its 23.x), these follow the platform's documentation.
"""

from __future__ import annotations

import re
import typing
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar, Literal

from ...bxml.verbs import DiversionReason, DiversionTreatment, FileFormat, Gender
from ...xmldoc.document import Document
from ...xmldoc.model import Callback, Url, check_choice, check_length, check_range, check_url, nest, reachable
from .model import BXMLError, Credentials, FallbackCredentials, Method, Tagged, Verb

Tracks = Literal["inbound", "outbound", "both"]

VOICES = (
    *("julie", "kate", "susan", "dave", "paul", "bridget", "simon", "katrin", "stefan", "esperanza", "violeta"),
    *("jorge", "rosa", "jolie", "bernard", "paola", "luca", "masako", "kenji", "nadiya", "anatoli", "zeina"),
    *("zhiyu", "ruth", "stephen", "lupe", "pedro", "gabrielle", "liam"),
)
CALLER_ID_WORDS = ("Restricted", "Anonymous", "Private", "Unavailable")
MAX_GATHER_DIGITS = 50
MAX_GATHER_PROMPTS = 20  # repeatCount x nested verbs
MAX_TRANSFER_TARGETS = 8
MAX_SECONDS = 86400  # Pause and Ring
MAX_RECORD_DURATION = 10800  # 3 h
MAX_PARAMS = 12  # StreamParam / CustomParam
MAX_CONFERENCE_NAME = 100
_E164 = re.compile(r"\+?[1-9][0-9]{1,14}")
_SIP = re.compile(r"sips?:[^\s@]+@[^\s@]+", re.IGNORECASE)
_CONFERENCE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DIGITS = re.compile(r"[0-9*#]*")
_SEND_DTMF = re.compile(r"[0-9*#a-dA-D,wW]{1,50}")


def _check_address(verb: str, name: str, value: str | None, *, words: tuple[str, ...] = ()) -> None:
    if value is not None and not (_E164.fullmatch(value) or _SIP.fullmatch(value) or value in words):
        extra = f", or one of {', '.join(words)}" if words else ""
        raise BXMLError(f"{name} must be an E.164 number or a SIP URI{extra}, got {value!r}", verb=verb)


def _check_params(verb: str, params: tuple[Verb, ...]) -> None:
    if len(params) > MAX_PARAMS:
        raise BXMLError(f"holds {len(params)} parameters, over the {MAX_PARAMS} allowed", verb=verb)


@dataclass(frozen=True)
class SpeakSentence(Verb):
    """Speak ``text`` (text to speech). ``voice`` overrides ``gender`` and ``locale``."""

    _text_field: ClassVar[str | None] = "text"
    text: str
    _: KW_ONLY
    voice: str | None = None
    gender: Gender | None = None
    locale: str | None = None

    def _rules(self) -> None:
        check_choice("SpeakSentence", "voice", self.voice, VOICES, fold=True)


@dataclass(frozen=True)
class PlayAudio(Credentials):
    """Play the WAV or MP3 at ``audio_uri`` (relative URLs resolve against the document's URL)."""

    _text_field: ClassVar[str | None] = "audio_uri"
    audio_uri: Url

    def _rules(self) -> None:
        check_url("PlayAudio", "the audio URL", self.audio_uri)


@dataclass(frozen=True)
class Bridge(FallbackCredentials, Tagged):
    """Bridge the call ``target_call`` (a call id) onto this one."""

    _text_field: ClassVar[str | None] = "target_call"
    target_call: str
    _: KW_ONLY
    bridge_complete_url: Callback | None = None
    bridge_complete_method: Method | None = None
    bridge_complete_fallback_url: Url | None = None
    bridge_complete_fallback_method: Method | None = None
    bridge_target_complete_url: Callback | None = None
    bridge_target_complete_method: Method | None = None
    bridge_target_complete_fallback_url: Url | None = None
    bridge_target_complete_fallback_method: Method | None = None


@dataclass(frozen=True)
class Conference(FallbackCredentials, Tagged):
    """Join the conference ``name`` (at most 100 of letters, digits, ``-``, ``_``, ``.``), created on first use."""

    _text_field: ClassVar[str | None] = "name"
    name: str
    _: KW_ONLY
    mute: bool | None = None
    hold: bool | None = None
    call_ids_to_coach: str | None = None
    conference_event_url: Callback | None = None
    conference_event_method: Method | None = None
    conference_event_fallback_url: Url | None = None
    conference_event_fallback_method: Method | None = None
    callback_timeout: float | None = None

    def _rules(self) -> None:
        check_length("Conference", "the name", self.name, MAX_CONFERENCE_NAME)
        if not _CONFERENCE_NAME.fullmatch(self.name):
            raise BXMLError(f"the name may hold letters, digits, - _ . only, got {self.name!r}", verb="Conference")
        check_range("Conference", "callbackTimeout", self.callback_timeout, 1, 25)


@dataclass(frozen=True)
class Endpoint(Verb):
    """A BRTC endpoint to connect to, inside :class:`Connect`."""

    _text_field: ClassVar[str | None] = "endpoint_id"
    endpoint_id: str


@dataclass(frozen=True, init=False)
class Connect(Verb):
    """Connect the call to one or more BRTC :class:`Endpoint` s (beta)."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Endpoint,)
    verbs: tuple[Endpoint, ...]
    event_callback_url: Callback | None = None

    def __init__(self, *verbs: Endpoint, event_callback_url: str | None = None) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        if not self.verbs:
            raise BXMLError("needs at least one Endpoint", verb="Connect")


@dataclass(frozen=True, kw_only=True)
class Forward(Verb):
    """Forward an unanswered inbound call to ``to``; the application then controls neither leg."""

    to: str
    _from: str | None = None
    call_timeout: float | None = None
    diversion_treatment: DiversionTreatment | None = None
    diversion_reason: DiversionReason | None = None
    uui: str | None = None

    def _rules(self) -> None:
        _check_address("Forward", "to", self.to)
        _check_address("Forward", "from", self._from, words=CALLER_ID_WORDS)
        check_range("Forward", "callTimeout", self.call_timeout, 1, 300)
        check_length("Forward", "uui", self.uui, 256)


GatherPrompt = SpeakSentence | PlayAudio


@dataclass(frozen=True, init=False)
class Gather(FallbackCredentials, Tagged):
    """Collect digits while its prompts play; with ``gather_url`` the ``gather`` webhook's BXML replaces the rest
    of the document, without it the digits are discarded and the next verb runs."""

    holds: ClassVar[tuple[type[Verb], ...]] = (SpeakSentence, PlayAudio)
    verbs: tuple[GatherPrompt, ...]
    gather_url: Callback | None = None
    gather_method: Method | None = None
    gather_fallback_url: Url | None = None
    gather_fallback_method: Method | None = None
    terminating_digits: str | None = None
    max_digits: int | None = None
    inter_digit_timeout: int | None = None
    first_digit_timeout: int | None = None
    repeat_count: int | None = None

    def __init__(
        self,
        *verbs: GatherPrompt,
        gather_url: str | None = None,
        gather_method: Method | None = None,
        gather_fallback_url: str | None = None,
        gather_fallback_method: Method | None = None,
        username: str | None = None,
        password: str | None = None,
        fallback_username: str | None = None,
        fallback_password: str | None = None,
        tag: str | None = None,
        terminating_digits: str | None = None,
        max_digits: int | None = None,
        inter_digit_timeout: int | None = None,
        first_digit_timeout: int | None = None,
        repeat_count: int | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        if self.terminating_digits is not None and not _DIGITS.fullmatch(self.terminating_digits):
            raise BXMLError(f"terminatingDigits must be keys 0-9 * #, got {self.terminating_digits!r}", verb="Gather")
        check_range("Gather", "maxDigits", self.max_digits, 1, MAX_GATHER_DIGITS)
        check_range("Gather", "interDigitTimeout", self.inter_digit_timeout, 1, 60)
        check_range("Gather", "firstDigitTimeout", self.first_digit_timeout, 0, 60)
        check_range("Gather", "repeatCount", self.repeat_count, 1)
        prompts = (self.repeat_count or 1) * len(self.verbs)
        if prompts > MAX_GATHER_PROMPTS:
            raise BXMLError(
                f"repeatCount x nested verbs is {prompts}, over the {MAX_GATHER_PROMPTS} allowed", verb="Gather"
            )


@dataclass(frozen=True)
class Hangup(Verb):
    """End the call (reject it, unbilled, if it is an unanswered inbound call)."""


@dataclass(frozen=True, kw_only=True)
class Pause(Verb):
    """Wait ``duration`` seconds in silence (platform default 1; 0.1 to 86400)."""

    duration: float | None = None

    def _rules(self) -> None:
        check_range("Pause", "duration", self.duration, 0.1, MAX_SECONDS)


@dataclass(frozen=True)
class PauseRecording(Verb):
    """Pause the recording started by :class:`StartRecording` (paused time is not recorded or billed)."""


@dataclass(frozen=True)
class ResumeRecording(Verb):
    """Resume a paused recording."""


@dataclass(frozen=True)
class StopRecording(Verb):
    """Stop the recording started by :class:`StartRecording`."""


@dataclass(frozen=True)
class StopGather(Verb):
    """Stop the digit listener started by :class:`StartGather`."""


@dataclass(frozen=True, kw_only=True)
class _Recording(Credentials, Tagged):
    """What :class:`Record` and :class:`StartRecording` share."""

    recording_available_url: Callback | None = None
    recording_available_method: Method | None = None
    transcribe: bool | None = None
    detect_language: bool | None = None
    transcription_available_url: Callback | None = None
    transcription_available_method: Method | None = None
    file_format: FileFormat | None = None

    def _fillable_urls(self) -> tuple[str, ...]:
        filled = super()._fillable_urls()  # a transcription URL only where there will be a transcription
        return filled if self.transcribe else tuple(field for field in filled if field != "transcription_available_url")


@dataclass(frozen=True, kw_only=True)
class Record(_Recording, FallbackCredentials):
    """Record the caller; blocks until it ends. With ``record_complete_url`` the ``recordComplete`` webhook's BXML
    replaces the rest of the document."""

    record_complete_url: Callback | None = None
    record_complete_method: Method | None = None
    record_complete_fallback_url: Url | None = None
    record_complete_fallback_method: Method | None = None
    terminating_digits: str | None = None
    max_duration: int | None = None
    silence_timeout: int | None = None

    def _rules(self) -> None:
        if self.terminating_digits is not None and not _DIGITS.fullmatch(self.terminating_digits):
            raise BXMLError(f"terminatingDigits must be keys 0-9 * #, got {self.terminating_digits!r}", verb="Record")
        check_range("Record", "maxDuration", self.max_duration, 1, MAX_RECORD_DURATION)
        check_range("Record", "silenceTimeout", self.silence_timeout, 0, MAX_RECORD_DURATION)


@dataclass(frozen=True, kw_only=True)
class StartRecording(_Recording):
    """Record the call (both sides) or a conference in the background; one at a time."""

    multi_channel: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Redirect(FallbackCredentials, Tagged):
    """Send ``redirect`` to ``redirect_url`` and run the BXML it answers instead of the rest of this document."""

    redirect_url: Callback | None = None
    redirect_method: Method | None = None
    redirect_fallback_url: Url | None = None
    redirect_fallback_method: Method | None = None

    def _missing(self) -> tuple[str, str] | None:
        return ("redirect_url", "redirectUrl is required") if self.redirect_url is None else None


@dataclass(frozen=True, kw_only=True)
class Ring(Verb):
    """Play ringback for ``duration`` seconds (default 5); ``answer_call=False`` leaves an inbound call unanswered."""

    duration: float | None = None
    answer_call: bool | None = None

    def _rules(self) -> None:
        check_range("Ring", "duration", self.duration, 0.1, MAX_SECONDS)


@dataclass(frozen=True)
class SendDtmf(Verb):
    """Send ``digits`` (``0-9 * # a-d A-D``; ``,`` or ``w`` pause half a second, ``W`` a second; at most 50)."""

    _text_field: ClassVar[str | None] = "digits"
    digits: str
    _: KW_ONLY
    tone_duration: float | None = None
    tone_interval: float | None = None

    def _rules(self) -> None:
        if not _SEND_DTMF.fullmatch(self.digits):
            raise BXMLError(f"digits must be 1 to 50 of 0-9 * # a-d A-D , w W, got {self.digits!r}", verb="SendDtmf")
        check_range("SendDtmf", "toneDuration", self.tone_duration, 50, 5000)
        check_range("SendDtmf", "toneInterval", self.tone_interval, 50, 5000)


@dataclass(frozen=True, kw_only=True)
class StartGather(Credentials, Tagged):
    """Listen for digits in the background, each sent to ``dtmf_url`` as a ``dtmf`` webhook."""

    dtmf_url: Callback | None = None
    dtmf_method: Method | None = None

    def _missing(self) -> tuple[str, str] | None:
        return ("dtmf_url", "dtmfUrl is required") if self.dtmf_url is None else None


@dataclass(frozen=True, kw_only=True)
class _Param(Verb):
    """A name (at most 256 characters) and a value (at most 2048)."""

    name: str
    value: str

    def _rules(self) -> None:
        check_length(type(self).__name__, "name", self.name, 256)
        check_length(type(self).__name__, "value", self.value, 2048)


@dataclass(frozen=True, kw_only=True)
class StreamParam(_Param):
    """A name and value sent in a stream's ``start`` message."""


@dataclass(frozen=True, kw_only=True)
class CustomParam(_Param):
    """A name and value sent in a real-time transcription's ``start`` message."""


@dataclass(frozen=True, init=False)
class StartStream(Credentials):
    """Stream the call's audio to the WebSocket ``destination``; at most 12 :class:`StreamParam` s."""

    holds: ClassVar[tuple[type[Verb], ...]] = (StreamParam,)
    _websockets: ClassVar[frozenset[str]] = frozenset({"destination"})
    verbs: tuple[StreamParam, ...]
    destination: Url
    destination_username: str | None = None
    destination_password: str | None = None
    name: str | None = None
    mode: Literal["unidirectional", "bidirectional"] | None = None
    tracks: Tracks | None = None
    stream_event_url: Callback | None = None
    stream_event_method: Method | None = None

    def __init__(
        self,
        *verbs: StreamParam,
        destination: str,
        destination_username: str | None = None,
        destination_password: str | None = None,
        name: str | None = None,
        mode: Literal["unidirectional", "bidirectional"] | None = None,
        tracks: Tracks | None = None,
        stream_event_url: str | None = None,
        stream_event_method: Method | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        _check_params("StartStream", self.verbs)


@dataclass(frozen=True, kw_only=True)
class StopStream(Verb):
    """Stop the stream ``name``; ``wait`` waits for it to stop before the next verb."""

    name: str
    wait: bool | None = None


@dataclass(frozen=True, init=False)
class StartTranscription(Credentials):
    """Transcribe the call in real time; at most 12 :class:`CustomParam` s."""

    holds: ClassVar[tuple[type[Verb], ...]] = (CustomParam,)
    _websockets: ClassVar[frozenset[str]] = frozenset({"destination"})
    verbs: tuple[CustomParam, ...]
    name: str | None = None
    tracks: Tracks | None = None
    transcription_event_url: Callback | None = None
    transcription_event_method: Method | None = None
    destination: Url | None = None
    stabilized: bool | None = None

    def __init__(
        self,
        *verbs: CustomParam,
        name: str | None = None,
        tracks: Tracks | None = None,
        transcription_event_url: str | None = None,
        transcription_event_method: Method | None = None,
        username: str | None = None,
        password: str | None = None,
        destination: str | None = None,
        stabilized: bool | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        _check_params("StartTranscription", self.verbs)


@dataclass(frozen=True, kw_only=True)
class StopTranscription(Verb):
    """Stop the real-time transcription ``name``, or all of them."""

    name: str | None = None


@dataclass(frozen=True)
class Tag(Verb):
    """Set the call's tag to ``content`` (trimmed; ``Tag()`` clears it)."""

    _text_field: ClassVar[str | None] = "content"
    content: str | None = None

    def _rules(self) -> None:
        check_length("Tag", "the tag", self.content, 256)


@dataclass(frozen=True, kw_only=True)
class _Target(FallbackCredentials, Tagged):
    """What :class:`PhoneNumber` and :class:`SipUri` share: the B-leg's webhooks."""

    transfer_answer_url: Url | None = None  # whisper BXML for the callee: only when asked for, never filled
    transfer_answer_method: Method | None = None
    transfer_answer_fallback_url: Url | None = None
    transfer_answer_fallback_method: Method | None = None
    transfer_disconnect_url: Callback | None = None
    transfer_disconnect_method: Method | None = None
    uui: str | None = None


@dataclass(frozen=True)
class PhoneNumber(_Target):
    """An E.164 transfer target inside a :class:`Transfer`."""

    _text_field: ClassVar[str | None] = "number"
    number: str

    def _rules(self) -> None:
        _check_address("PhoneNumber", "the number", self.number)
        check_length("PhoneNumber", "uui", self.uui, 350)


@dataclass(frozen=True)
class SipUri(_Target):
    """A ``sip:`` transfer target inside a :class:`Transfer`."""

    _text_field: ClassVar[str | None] = "uri"
    uri: str

    def _rules(self) -> None:
        if not _SIP.fullmatch(self.uri):
            raise BXMLError(f"the uri must be a sip: URI, got {self.uri!r}", verb="SipUri")
        check_length("SipUri", "uui", self.uui, 256)


TransferTarget = PhoneNumber | SipUri


@dataclass(frozen=True, init=False)
class Transfer(FallbackCredentials, Tagged):
    """Ring 1 to 8 :class:`PhoneNumber` / :class:`SipUri` targets at once and bridge the first to answer."""

    holds: ClassVar[tuple[type[Verb], ...]] = (PhoneNumber, SipUri)
    verbs: tuple[TransferTarget, ...]
    transfer_caller_id: str | None = None
    transfer_caller_display_name: str | None = None
    call_timeout: float | None = None
    transfer_complete_url: Callback | None = None
    transfer_complete_method: Method | None = None
    transfer_complete_fallback_url: Url | None = None
    transfer_complete_fallback_method: Method | None = None
    diversion_treatment: DiversionTreatment | None = None
    diversion_reason: DiversionReason | None = None

    def __init__(
        self,
        *verbs: TransferTarget,
        transfer_caller_id: str | None = None,
        transfer_caller_display_name: str | None = None,
        call_timeout: float | None = None,
        transfer_complete_url: str | None = None,
        transfer_complete_method: Method | None = None,
        transfer_complete_fallback_url: str | None = None,
        transfer_complete_fallback_method: Method | None = None,
        username: str | None = None,
        password: str | None = None,
        fallback_username: str | None = None,
        fallback_password: str | None = None,
        tag: str | None = None,
        diversion_treatment: DiversionTreatment | None = None,
        diversion_reason: DiversionReason | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        if not 1 <= len(self.verbs) <= MAX_TRANSFER_TARGETS:
            raise BXMLError(
                f"has {len(self.verbs)} targets; a Transfer rings 1 to {MAX_TRANSFER_TARGETS} PhoneNumber/SipUri",
                verb="Transfer",
            )
        _check_address("Transfer", "transferCallerId", self.transfer_caller_id, words=CALLER_ID_WORDS)
        name = self.transfer_caller_display_name
        check_length("Transfer", "transferCallerDisplayName", name, 256, controls=False)
        check_range("Transfer", "callTimeout", self.call_timeout, 1, 300)


ResponseVerb = (
    Bridge
    | Conference
    | Connect
    | Forward
    | Gather
    | Hangup
    | Pause
    | PauseRecording
    | PlayAudio
    | Record
    | Redirect
    | ResumeRecording
    | Ring
    | SendDtmf
    | SpeakSentence
    | StartGather
    | StartRecording
    | StartStream
    | StartTranscription
    | StopGather
    | StopRecording
    | StopStream
    | StopTranscription
    | Tag
    | Transfer
)
_TOP_LEVEL = typing.cast(tuple[type[Verb], ...], typing.get_args(ResponseVerb))


@dataclass(frozen=True, init=False)
class Response(Document, Verb):
    """A BXML v2 document answering a synchronous webhook: ``str(response)`` is its text, checked against 64 KB.

    ``with_default_urls(url)`` fills every event URL left out (``gatherUrl``, ``redirectUrl``,
    ``recordCompleteUrl``, ``transferCompleteUrl``, ``bridgeCompleteUrl``, ``conferenceEventUrl``, ``dtmfUrl``...,
    but no fallback, whisper, audio or stream URL). A filled ``gatherUrl`` / ``recordCompleteUrl`` /
    ``transferCompleteUrl`` / ``bridgeCompleteUrl`` makes its webhook's answer replace the rest of the document.
    """

    holds: ClassVar[tuple[type[Verb], ...]] = _TOP_LEVEL
    verbs: tuple[ResponseVerb, ...]

    def __init__(self, *verbs: ResponseVerb) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Bxml(Document, Verb):
    """The same document with the ``<Bxml>`` root, for ``PUT /calls/{id}/bxml`` and ``PUT /conferences/{id}/bxml``."""

    holds: ClassVar[tuple[type[Verb], ...]] = _TOP_LEVEL
    verbs: tuple[ResponseVerb, ...]

    def __init__(self, *verbs: ResponseVerb) -> None:
        nest(self, verbs, locals())


VERBS = reachable(Response, Bxml)
