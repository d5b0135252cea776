"""The TwiML voice verbs and nouns, one class each, validated when built.

Classes are named as twilio-python's ``VoiceResponse`` methods name them (``say`` -> :class:`Say`, ``dial`` ->
:class:`Dial`, ``Dial.number`` -> :class:`Number`) and take the same snake_case keyword arguments, whose wire
names are their lower camelCase (``status_callback_event`` -> ``statusCallbackEvent``). A verb's text is its first
positional argument and nested verbs are positional too (``Dial("+14155552671")`` or ``Dial(Number(...),
Client(...))``). ``None`` leaves an attribute out. Booleans are written ``true``/``false``; list attributes
(``statusCallbackEvent``, ``hints``...) are space- or comma-separated strings, as TwiML reads them (twilio-python
would write a Python list as its repr).
"""

from __future__ import annotations

import re
import typing
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar, Literal

from ...xmldoc.document import Document
from ...xmldoc.model import Callback, Url, check_length, check_range, check_url, nest, reachable
from .model import Method, TwiMLError, Verb

Trim = Literal["trim-silence", "do-not-trim"]
MAX_DIAL_PARTIES = 10  # Number and Client nouns dialled at once
_PLAY_DIGITS = re.compile(r"[0-9*#wW]+")
_FINISH_KEYS = re.compile(r"[0-9*#]*")
_SIP = re.compile(r"sips?:\S+", re.IGNORECASE)
_INPUTS = frozenset({"dtmf", "speech"})


@dataclass(frozen=True, kw_only=True)
class _StatusCallback(Verb):
    """A dialled party's call-progress webhook."""

    status_callback_event: str | None = None
    status_callback: Callback | None = None
    status_callback_method: Method | None = None


@dataclass(frozen=True, kw_only=True)
class _Whisper(Verb):
    """``url``: TwiML run on the called party before it is connected (only when asked for, never filled)."""

    url: Url | None = None
    method: Method | None = None


@dataclass(frozen=True, kw_only=True)
class _MachineDetection(Verb):
    """Answering-machine detection on a dialled party."""

    machine_detection: str | None = None
    amd_status_callback_method: Method | None = None
    amd_status_callback: Callback | None = None
    machine_detection_timeout: int | None = None
    machine_detection_speech_threshold: int | None = None
    machine_detection_speech_end_threshold: int | None = None
    machine_detection_silence_timeout: int | None = None


@dataclass(frozen=True, kw_only=True)
class _RecordingCallback(Verb):
    """A recording's status webhook."""

    recording_status_callback: Callback | None = None
    recording_status_callback_method: Method | None = None
    recording_status_callback_event: str | None = None
    recording_configuration_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Action(Verb):
    """``action``: where the outcome goes, whose TwiML replaces the rest of the document."""

    action: Callback | None = None
    method: Method | None = None


@dataclass(frozen=True, kw_only=True)
class Parameter(Verb):
    """A name and value passed on (to a stream, a client, an application, a payment, or with a hang-up or rejection)."""

    name: str
    value: str


@dataclass(frozen=True)
class Say(Verb):
    """Speak ``message`` (``loop`` times; 0 repeats until the call ends)."""

    _text_field: ClassVar[str | None] = "message"
    message: str
    _: KW_ONLY
    voice: str | None = None
    loop: int | None = None
    language: str | None = None

    def _rules(self) -> None:
        check_range("Say", "loop", self.loop, 0)


@dataclass(frozen=True)
class Play(Verb):
    """Play the audio at ``url``, or send ``digits`` (``0-9 * #``, ``w`` waits half a second)."""

    _text_field: ClassVar[str | None] = "url"
    url: Url | None = None
    _: KW_ONLY
    loop: int | None = None
    digits: str | None = None

    def _rules(self) -> None:
        if self.url is None and self.digits is None:
            raise TwiMLError("needs a url or digits", verb="Play")
        check_url("Play", "the url", self.url)
        check_range("Play", "loop", self.loop, 0)
        if self.digits is not None and not _PLAY_DIGITS.fullmatch(self.digits):
            raise TwiMLError(f"digits must be keys 0-9 * # and w, got {self.digits!r}", verb="Play")


@dataclass(frozen=True, kw_only=True)
class Pause(Verb):
    """Wait ``length`` seconds in silence (default 1)."""

    length: int | None = None

    def _rules(self) -> None:
        check_range("Pause", "length", self.length, 0)


GatherPrompt = Say | Play | Pause


@dataclass(frozen=True, init=False)
class Gather(_Action):
    """Collect digits or speech while its prompts play; the result goes to ``action`` (default: this document)."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Say, Play, Pause)
    verbs: tuple[GatherPrompt, ...]
    input: str | None = None
    timeout: int | None = None
    speech_timeout: int | Literal["auto"] | None = None
    max_speech_time: int | None = None
    profanity_filter: bool | None = None
    finish_on_key: str | None = None
    num_digits: int | None = None
    partial_result_callback: Callback | None = None
    partial_result_callback_method: Method | None = None
    language: str | None = None
    hints: str | None = None
    barge_in: bool | None = None
    debug: bool | None = None
    action_on_empty_result: bool | None = None
    speech_model: str | None = None
    enhanced: bool | None = None

    def __init__(
        self,
        *verbs: GatherPrompt,
        input: str | None = None,
        action: str | None = None,
        method: Method | None = None,
        timeout: int | None = None,
        speech_timeout: int | Literal["auto"] | None = None,
        max_speech_time: int | None = None,
        profanity_filter: bool | None = None,
        finish_on_key: str | None = None,
        num_digits: int | None = None,
        partial_result_callback: str | None = None,
        partial_result_callback_method: Method | None = None,
        language: str | None = None,
        hints: str | None = None,
        barge_in: bool | None = None,
        debug: bool | None = None,
        action_on_empty_result: bool | None = None,
        speech_model: str | None = None,
        enhanced: bool | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        if self.input is not None and (not self.input.split() or set(self.input.split()) - _INPUTS):
            raise TwiMLError(f"input must be dtmf, speech or both (space-separated), got {self.input!r}", verb="Gather")
        check_range("Gather", "timeout", self.timeout, 0)
        if isinstance(self.speech_timeout, int):
            check_range("Gather", "speechTimeout", self.speech_timeout, 0)
        check_range("Gather", "maxSpeechTime", self.max_speech_time, 1, 60)
        if self.finish_on_key is not None and not re.fullmatch(r"[0-9*#]?", self.finish_on_key):
            raise TwiMLError(f"finishOnKey must be one key 0-9 * # or empty, got {self.finish_on_key!r}", verb="Gather")
        check_range("Gather", "numDigits", self.num_digits, 1)


@dataclass(frozen=True)
class Number(_StatusCallback, _Whisper, _MachineDetection):
    """A phone number to dial, inside :class:`Dial`; ``send_digits`` are played once it answers."""

    _text_field: ClassVar[str | None] = "phone_number"
    phone_number: str
    _: KW_ONLY
    send_digits: str | None = None
    byoc: str | None = None

    def _rules(self) -> None:
        if self.send_digits is not None and not _PLAY_DIGITS.fullmatch(self.send_digits):
            raise TwiMLError(f"sendDigits must be keys 0-9 * # and w, got {self.send_digits!r}", verb="Number")


@dataclass(frozen=True)
class Identity(Verb):
    """A client's identity, inside a :class:`Client` that also passes :class:`Parameter` s."""

    _text_field: ClassVar[str | None] = "client_identity"
    client_identity: str

    def _rules(self) -> None:
        check_length("Identity", "the identity", self.client_identity, 256)


@dataclass(frozen=True, init=False)
class Client(_StatusCallback, _Whisper):
    """A Voice SDK client to dial: its identity (at most 256 characters) as the one positional ``str``, or an
    :class:`Identity` with the :class:`Parameter` s to pass to it."""

    _text_field: ClassVar[str | None] = "identity"
    holds: ClassVar[tuple[type[Verb], ...]] = (Identity, Parameter)
    verbs: tuple[Identity | Parameter, ...]
    identity: str | None = None

    def __init__(
        self,
        *parts: Identity | Parameter | str,
        url: str | None = None,
        method: Method | None = None,
        status_callback_event: str | None = None,
        status_callback: str | None = None,
        status_callback_method: Method | None = None,
    ) -> None:
        nest(self, parts, locals())

    def _rules(self) -> None:
        check_length("Client", "the identity", self.identity, 256)
        if self.identity is None and not any(isinstance(verb, Identity) for verb in self.verbs):
            raise TwiMLError("needs an identity: as text or as an Identity", verb="Client")


@dataclass(frozen=True)
class Conference(_StatusCallback, _RecordingCallback):
    """Join the conference room ``name``."""

    _text_field: ClassVar[str | None] = "name"
    name: str
    _: KW_ONLY
    muted: bool | None = None
    beep: bool | Literal["onEnter", "onExit"] | None = None
    start_conference_on_enter: bool | None = None
    end_conference_on_exit: bool | None = None
    wait_url: Url | None = None
    wait_method: Method | None = None
    max_participants: int | None = None
    record: Literal["do-not-record", "record-from-start"] | None = None
    region: str | None = None
    coach: str | None = None
    trim: Trim | None = None
    event_callback_url: Callback | None = None
    jitter_buffer_size: Literal["large", "medium", "small", "off"] | None = None
    participant_label: str | None = None

    def _rules(self) -> None:
        check_range("Conference", "maxParticipants", self.max_participants, 2, 250)


@dataclass(frozen=True)
class Queue(_Whisper):
    """The queue ``name`` to dial: bridges the caller to the call at its front."""

    _text_field: ClassVar[str | None] = "name"
    name: str
    _: KW_ONLY
    reservation_sid: str | None = None
    post_work_activity_sid: str | None = None


@dataclass(frozen=True)
class Uri(Verb):
    """One SIP URI of a :class:`Sip` with several, tried by ``priority`` and shared by ``weight``."""

    _text_field: ClassVar[str | None] = "sip_url"
    sip_url: str
    _: KW_ONLY
    priority: int | None = None
    weight: int | None = None
    username: str | None = None
    password: str | None = None

    def _rules(self) -> None:
        _check_sip("Uri", self.sip_url)
        check_range("Uri", "priority", self.priority, 0)
        check_range("Uri", "weight", self.weight, 1)


@dataclass(frozen=True, kw_only=True)
class Header(Parameter):
    """A SIP header to send, inside :class:`Headers`."""


@dataclass(frozen=True, init=False)
class Headers(Verb):
    """The SIP headers a :class:`Sip` sends."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Header,)
    verbs: tuple[Header, ...]

    def __init__(self, *verbs: Header) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Sip(_StatusCallback, _Whisper, _MachineDetection):
    """A SIP endpoint to dial inside :class:`Dial` (or to refer to, inside :class:`Refer`): its ``sip:`` URI as the
    one positional ``str``, or :class:`Uri` s (and :class:`Headers`)."""

    _text_field: ClassVar[str | None] = "sip_url"
    holds: ClassVar[tuple[type[Verb], ...]] = (Uri, Headers)
    verbs: tuple[Uri | Headers, ...]
    sip_url: str | None = None
    username: str | None = None
    password: str | None = None

    def __init__(
        self,
        *parts: Uri | Headers | str,
        username: str | None = None,
        password: str | None = None,
        url: str | None = None,
        method: Method | None = None,
        status_callback_event: str | None = None,
        status_callback: str | None = None,
        status_callback_method: Method | None = None,
        machine_detection: str | None = None,
        amd_status_callback_method: Method | None = None,
        amd_status_callback: str | None = None,
        machine_detection_timeout: int | None = None,
        machine_detection_speech_threshold: int | None = None,
        machine_detection_speech_end_threshold: int | None = None,
        machine_detection_silence_timeout: int | None = None,
    ) -> None:
        nest(self, parts, locals())

    def _rules(self) -> None:
        if self.sip_url is None and not any(isinstance(verb, Uri) for verb in self.verbs):
            raise TwiMLError("needs a sip: URI: as text or as a Uri", verb="Sip")
        if self.sip_url is not None:
            _check_sip("Sip", self.sip_url)


def _check_sip(verb: str, value: str) -> None:
    if not _SIP.fullmatch(value):
        raise TwiMLError(f"the sip_url must be a sip: URI, got {value!r}", verb=verb)


@dataclass(frozen=True)
class Sim(Verb):
    """A Twilio SIM to dial, by its SID."""

    _text_field: ClassVar[str | None] = "sim_sid"
    sim_sid: str


@dataclass(frozen=True)
class ApplicationSid(Verb):
    """The TwiML App to dial, inside an :class:`Application` that also passes :class:`Parameter` s."""

    _text_field: ClassVar[str | None] = "sid"
    sid: str


@dataclass(frozen=True, init=False)
class Application(_StatusCallback, _Whisper):
    """A TwiML App to dial: its SID as the one positional ``str``, or an :class:`ApplicationSid` with
    :class:`Parameter` s."""

    _text_field: ClassVar[str | None] = "application_sid"
    holds: ClassVar[tuple[type[Verb], ...]] = (ApplicationSid, Parameter)
    verbs: tuple[ApplicationSid | Parameter, ...]
    application_sid: str | None = None
    customer_id: str | None = None
    copy_parent_to: bool | None = None

    def __init__(
        self,
        *parts: ApplicationSid | Parameter | str,
        url: str | None = None,
        method: Method | None = None,
        status_callback_event: str | None = None,
        status_callback: str | None = None,
        status_callback_method: Method | None = None,
        customer_id: str | None = None,
        copy_parent_to: bool | None = None,
    ) -> None:
        nest(self, parts, locals())

    def _rules(self) -> None:
        if self.application_sid is None and not any(isinstance(verb, ApplicationSid) for verb in self.verbs):
            raise TwiMLError("needs an application SID: as text or as an ApplicationSid", verb="Application")


@dataclass(frozen=True)
class WhatsApp(_StatusCallback, _Whisper):
    """A WhatsApp user to call, by phone number."""

    _text_field: ClassVar[str | None] = "phone_number"
    phone_number: str


DialNoun = Number | Client | Conference | Queue | Sip | Sim | Application | WhatsApp


@dataclass(frozen=True, init=False)
class Dial(_Action, _RecordingCallback):
    """Call a number (its one positional ``str``) or the nouns it holds, and bridge the first to answer."""

    _text_field: ClassVar[str | None] = "number"
    holds: ClassVar[tuple[type[Verb], ...]] = (Number, Client, Conference, Queue, Sip, Sim, Application, WhatsApp)
    verbs: tuple[DialNoun, ...]
    number: str | None = None
    timeout: int | None = None
    hangup_on_star: bool | None = None
    time_limit: int | None = None
    caller_id: str | None = None
    record: (
        Literal[
            "do-not-record",
            "record-from-answer",
            "record-from-ringing",
            "record-from-answer-dual",
            "record-from-ringing-dual",
        ]
        | None
    ) = None
    trim: Trim | None = None
    recording_track: Literal["both", "inbound", "outbound"] | None = None
    answer_on_bridge: bool | None = None
    ring_tone: str | None = None
    sequential: bool | None = None
    refer_url: Url | None = None
    refer_method: Method | None = None
    events: str | None = None
    passports: str | None = None
    call_reason: str | None = None

    def __init__(
        self,
        *parts: DialNoun | str,
        action: str | None = None,
        method: Method | None = None,
        timeout: int | None = None,
        hangup_on_star: bool | None = None,
        time_limit: int | None = None,
        caller_id: str | None = None,
        record: Literal[
            "do-not-record",
            "record-from-answer",
            "record-from-ringing",
            "record-from-answer-dual",
            "record-from-ringing-dual",
        ]
        | None = None,
        trim: Trim | None = None,
        recording_status_callback: str | None = None,
        recording_status_callback_method: Method | None = None,
        recording_status_callback_event: str | None = None,
        recording_configuration_id: str | None = None,
        recording_track: Literal["both", "inbound", "outbound"] | None = None,
        answer_on_bridge: bool | None = None,
        ring_tone: str | None = None,
        sequential: bool | None = None,
        refer_url: str | None = None,
        refer_method: Method | None = None,
        events: str | None = None,
        passports: str | None = None,
        call_reason: str | None = None,
    ) -> None:
        nest(self, parts, locals())

    def _rules(self) -> None:
        if self.number is None and not self.verbs:
            raise TwiMLError("needs a number or nouns to dial", verb="Dial")
        parties = sum(isinstance(verb, Number | Client) for verb in self.verbs)
        if parties > MAX_DIAL_PARTIES:
            raise TwiMLError(
                f"dials {parties} Number/Client nouns, over the {MAX_DIAL_PARTIES} allowed at once", verb="Dial"
            )
        check_range("Dial", "timeout", self.timeout, 5, 600)
        check_range("Dial", "timeLimit", self.time_limit, 1)
        check_length("Dial", "callReason", self.call_reason, 50)


@dataclass(frozen=True, kw_only=True)
class Record(_Action, _RecordingCallback):
    """Record the caller; the recording goes to ``action`` (default: this document)."""

    timeout: int | None = None
    finish_on_key: str | None = None
    max_length: int | None = None
    play_beep: bool | None = None
    trim: Trim | None = None
    transcribe: bool | None = None
    transcribe_callback: Callback | None = None

    def _rules(self) -> None:
        check_range("Record", "timeout", self.timeout, 0)
        if self.finish_on_key is not None and not _FINISH_KEYS.fullmatch(self.finish_on_key):
            raise TwiMLError(f"finishOnKey must be keys 0-9 * #, got {self.finish_on_key!r}", verb="Record")
        check_range("Record", "maxLength", self.max_length, 1)

    def _fillable_urls(self) -> tuple[str, ...]:
        filled = super()._fillable_urls()  # a transcription URL only where there will be a transcription
        return filled if self.transcribe else tuple(field for field in filled if field != "transcribe_callback")


@dataclass(frozen=True)
class Redirect(Verb):
    """Fetch the TwiML at ``url`` and run it instead of the rest of this document."""

    _text_field: ClassVar[str | None] = "url"
    url: Callback
    _: KW_ONLY
    method: Method | None = None

    def _rules(self) -> None:
        check_url("Redirect", "the url", self.url)


@dataclass(frozen=True, init=False)
class Hangup(Verb):
    """End the call."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Parameter,)
    verbs: tuple[Parameter, ...]

    def __init__(self, *verbs: Parameter) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Reject(Verb):
    """Refuse an incoming call without answering it (not billed), as ``rejected`` or ``busy``."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Parameter,)
    verbs: tuple[Parameter, ...]
    reason: Literal["rejected", "busy"] | None = None

    def __init__(self, *verbs: Parameter, reason: Literal["rejected", "busy"] | None = None) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True)
class Task(Verb):
    """A TaskRouter task's attributes (a JSON ``body``), inside :class:`Enqueue`."""

    _text_field: ClassVar[str | None] = "body"
    body: str
    _: KW_ONLY
    priority: int | None = None
    timeout: int | None = None

    def _rules(self) -> None:
        check_range("Task", "priority", self.priority, 0)
        check_range("Task", "timeout", self.timeout, 1)


@dataclass(frozen=True, init=False)
class Enqueue(_Action):
    """Put the caller in the queue ``name`` (its one positional ``str``), or hand a :class:`Task` to a workflow."""

    _text_field: ClassVar[str | None] = "name"
    holds: ClassVar[tuple[type[Verb], ...]] = (Task,)
    verbs: tuple[Task, ...]
    name: str | None = None
    max_queue_size: int | None = None
    wait_url: Url | None = None
    wait_url_method: Method | None = None
    workflow_sid: str | None = None

    def __init__(
        self,
        *parts: Task | str,
        action: str | None = None,
        max_queue_size: int | None = None,
        method: Method | None = None,
        wait_url: str | None = None,
        wait_url_method: Method | None = None,
        workflow_sid: str | None = None,
    ) -> None:
        nest(self, parts, locals())

    def _rules(self) -> None:
        if self.name is None and not self.verbs:
            raise TwiMLError("needs a queue name or a Task", verb="Enqueue")
        check_range("Enqueue", "maxQueueSize", self.max_queue_size, 1)


@dataclass(frozen=True)
class Leave(Verb):
    """Leave the queue (in a ``waitUrl`` document); the call goes on after its :class:`Enqueue`."""


@dataclass(frozen=True)
class Echo(Verb):
    """Play back what the caller says (a loopback test)."""


@dataclass(frozen=True, init=False)
class Stream(Verb):
    """A media stream of the call to the WebSocket ``url`` (in :class:`Start` / :class:`Connect`), or the one named
    ``name`` to stop (in :class:`Stop`)."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Parameter,)
    _websockets: ClassVar[frozenset[str]] = frozenset({"url"})
    verbs: tuple[Parameter, ...]
    name: str | None = None
    connector_name: str | None = None
    url: Url | None = None
    track: Literal["inbound_track", "outbound_track", "both_tracks"] | None = None
    status_callback: Callback | None = None
    status_callback_method: Method | None = None
    audio_format: str | None = None
    sample_rate: int | None = None

    def __init__(
        self,
        *verbs: Parameter,
        name: str | None = None,
        connector_name: str | None = None,
        url: str | None = None,
        track: Literal["inbound_track", "outbound_track", "both_tracks"] | None = None,
        status_callback: str | None = None,
        status_callback_method: Method | None = None,
        audio_format: str | None = None,
        sample_rate: int | None = None,
    ) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, kw_only=True)
class Recording(_RecordingCallback):
    """A background recording of the call, inside :class:`Start`."""

    trim: Trim | None = None
    track: Literal["both", "inbound", "outbound"] | None = None
    channels: Literal["mono", "dual"] | None = None


@dataclass(frozen=True)
class Room(Verb):
    """A Twilio Video room ``name`` to connect the call to, inside :class:`Connect`."""

    _text_field: ClassVar[str | None] = "name"
    name: str
    _: KW_ONLY
    participant_identity: str | None = None


@dataclass(frozen=True, init=False)
class Start(_Action):
    """Start background work on the call: media streams and recordings."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Stream, Recording)
    verbs: tuple[Stream | Recording, ...]

    def __init__(self, *verbs: Stream | Recording, action: str | None = None, method: Method | None = None) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Stop(Verb):
    """Stop the named :class:`Stream` s."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Stream,)
    verbs: tuple[Stream, ...]

    def __init__(self, *verbs: Stream) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Connect(_Action):
    """Connect the call to a bidirectional :class:`Stream` or a :class:`Room`; the rest of the document waits."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Stream, Room)
    verbs: tuple[Stream | Room, ...]

    def __init__(self, *verbs: Stream | Room, action: str | None = None, method: Method | None = None) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Refer(_Action):
    """Transfer a SIP call by a SIP REFER to the :class:`Sip` it holds."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Sip,)
    verbs: tuple[Sip, ...]

    def __init__(self, *verbs: Sip, action: str | None = None, method: Method | None = None) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Prompt(Verb):
    """What :class:`Pay` says or plays when it asks ``for_`` an input (or after an ``error_type``)."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Say, Play, Pause)
    verbs: tuple[GatherPrompt, ...]
    for_: str | None = None
    error_type: str | None = None
    card_type: str | None = None
    attempt: str | None = None
    require_matching_inputs: bool | None = None

    def __init__(
        self,
        *verbs: GatherPrompt,
        for_: str | None = None,
        error_type: str | None = None,
        card_type: str | None = None,
        attempt: str | None = None,
        require_matching_inputs: bool | None = None,
    ) -> None:
        nest(self, verbs, locals())


@dataclass(frozen=True, init=False)
class Pay(Verb):
    """Collect a payment (Twilio <Pay>); the result goes to ``action``."""

    holds: ClassVar[tuple[type[Verb], ...]] = (Prompt, Parameter)
    verbs: tuple[Prompt | Parameter, ...]
    input: str | None = None
    action: Callback | None = None
    bank_account_type: str | None = None
    status_callback: Callback | None = None
    status_callback_method: Method | None = None
    timeout: int | None = None
    max_attempts: int | None = None
    security_code: bool | None = None
    postal_code: bool | str | None = None
    min_postal_code_length: int | None = None
    payment_connector: str | None = None
    payment_method: Literal["credit-card", "ach-debit"] | None = None
    token_type: str | None = None
    charge_amount: str | None = None
    currency: str | None = None
    description: str | None = None
    valid_card_types: str | None = None
    language: str | None = None

    def __init__(
        self,
        *verbs: Prompt | Parameter,
        input: str | None = None,
        action: str | None = None,
        bank_account_type: str | None = None,
        status_callback: str | None = None,
        status_callback_method: Method | None = None,
        timeout: int | None = None,
        max_attempts: int | None = None,
        security_code: bool | None = None,
        postal_code: bool | str | None = None,
        min_postal_code_length: int | None = None,
        payment_connector: str | None = None,
        payment_method: Literal["credit-card", "ach-debit"] | None = None,
        token_type: str | None = None,
        charge_amount: str | None = None,
        currency: str | None = None,
        description: str | None = None,
        valid_card_types: str | None = None,
        language: str | None = None,
    ) -> None:
        nest(self, verbs, locals())

    def _rules(self) -> None:
        check_range("Pay", "timeout", self.timeout, 1)
        check_range("Pay", "maxAttempts", self.max_attempts, 1)
        check_range("Pay", "minPostalCodeLength", self.min_postal_code_length, 0)


ResponseVerb = (
    Say
    | Play
    | Pause
    | Gather
    | Dial
    | Record
    | Redirect
    | Hangup
    | Reject
    | Enqueue
    | Leave
    | Echo
    | Start
    | Stop
    | Connect
    | Refer
    | Pay
)
_TOP_LEVEL = typing.cast(tuple[type[Verb], ...], typing.get_args(ResponseVerb))


@dataclass(frozen=True, init=False)
class Response(Document, Verb):
    """A TwiML document: ``str(response)`` is its text (declaration, UTF-8), checked against 64 KB.

    ``with_default_urls(url)`` fills every callback URL left out (``action``, ``statusCallback``,
    ``recordingStatusCallback``, ``transcribeCallback`` of a Record that transcribes...), but no whisper, wait,
    audio or stream URL. A filled ``action`` of Dial or Enqueue makes its webhook's TwiML replace the rest of the
    document.
    """

    holds: ClassVar[tuple[type[Verb], ...]] = _TOP_LEVEL
    verbs: tuple[ResponseVerb, ...]

    def __init__(self, *verbs: ResponseVerb) -> None:
        nest(self, verbs, locals())


VERBS = reachable(Response)
