"""The simulator's records of calls and their gathers, audio, recordings and transcriptions.

Times are simulated seconds (see :mod:`callhooks.simulator.clock`); :mod:`.resources` renders them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..rules import ENDED_CALL_STATES
from .behaviours import FarEnd
from .clock import Timer

__all__ = ["Audio", "Call", "Delivery", "Gather", "Heard", "LogEntry", "Recording", "Transcription"]

# A call in one of these states can no longer change (docs/platforms/catapult-voice.md#states-and-transitions).


@dataclass(frozen=True)
class Delivery:
    """Where and how a call's events are sent, captured when each event is produced."""

    url: str | None
    method: str = "POST"
    timeout_ms: int = 10000
    fallback_url: str | None = None
    #: Basic credentials for ``url`` and for ``fallback_url`` (platforms that take them per URL).
    credentials: tuple[str, str] | None = None
    fallback_credentials: tuple[str, str] | None = None
    #: How ``fallback_url`` is requested, when the platform lets it differ from ``method``.
    fallback_method: str | None = None

    def credentials_for(self, url: str) -> tuple[str, str] | None:
        """The credentials to send to ``url``: the fallback's for the fallback URL, else the callback's."""
        if url == self.fallback_url and url != self.url:
            return self.fallback_credentials
        return self.credentials

    def method_for(self, url: str) -> str:
        """The HTTP method for ``url``: ``fallback_method`` (when set) for the fallback URL, else ``method``."""
        if url == self.fallback_url and url != self.url and self.fallback_method:
            return self.fallback_method
        return self.method


@dataclass
class Gather:
    """A ``POST …/gather`` operation."""

    id: str
    created: float
    max_digits: int | None
    inter_digit_timeout: float
    terminating_digits: str
    tag: str | None
    prompt: dict[str, Any] | None
    state: str = "started"
    reason: str | None = None
    digits: str = ""
    completed: float | None = None
    #: A BXML ``<Gather>``: told ``(gather, terminating_digit)`` when it completes, instead of the event being sent.
    on_finish: Callable[[Gather, str | None], None] | None = None


@dataclass
class Audio:
    """The speak or playback currently playing on a call."""

    kind: str  # "speak" or "playback": also the eventType
    tag: str | None
    text: str = ""  # the sentence or the file URL


@dataclass
class Recording:
    """A recording of a call (one per stretch of ``recordingEnabled``)."""

    id: str
    start: float
    file_format: str
    end: float | None = None
    state: str = "recording"
    text: str = ""
    # A BXML <Record>: where its recording and transcription events go (default: the call's URL, and a
    # transcription only with transcriptionEnabled), and who is told when it stops.
    deliver_to: Delivery | None = None
    transcribe_to: Delivery | None = None
    on_stop: Callable[[], None] | None = None
    #: Keys that stop it when the far end presses one (Twilio's ``finishOnKey``); the far end's next scripted
    #: keys are pressed while it records. ``finished_on_key``: the key that stopped it.
    finish_keys: str = ""
    finished_on_key: str | None = None


@dataclass
class Transcription:
    """The transcription of a recording."""

    id: str
    recording_id: str
    text: str
    duration: float
    time: float
    state: str = "completed"


@dataclass
class LogEntry:
    """One entry of ``GET …/calls/{id}/events``: ``data`` is a string, as on the platform."""

    id: str
    time: float
    name: str
    data: str


@dataclass(frozen=True)
class Heard:
    """One thing the far end of a call heard or did, as the phone page shows it.

    ``kind``: ``state`` (ringing, answered, ended), ``speak`` (a sentence), ``play`` (an audio URL), ``gather``
    (digits are awaited), ``gathered`` (what a gather got), ``key`` (a key the far end pressed), ``tones``
    (DTMF the app sent), ``verb`` (another BXML verb ran).
    """

    time: float
    kind: str
    text: str


@dataclass
class Call:
    """A call leg and everything the engine tracks about it."""

    id: str
    direction: str
    from_: str
    to: str
    base_url: str
    start: float
    far_end: FarEnd
    delivery: Delivery
    seq: int
    call_timeout: int = 60
    state: str = "started"
    active: float | None = None
    end: float | None = None
    bridge_id: str | None = None
    conference_id: str | None = None
    recording_enabled: bool = False
    recording_format: str = "wav"
    recording_max: int = 3600
    transcription_enabled: bool = False
    tag: str | None = None
    sip_headers: dict[str, str] | None = None
    transfer_to: str | None = None
    transfer_caller_id: str | None = None
    whisper_audio: dict[str, Any] | None = None
    diversion: dict[str, Any] | None = None  # inbound calls only: sent on incomingcall and answer
    application_id: str | None = None  # inbound calls to a number an application owns
    quiet: bool = False  # a leg the platform sends no events for (a target of a BXML <Transfer>)
    # legs of a transfer: the A-leg knows its B-leg and vice versa
    child: str | None = None
    parent: str | None = None
    timers: dict[str, Timer] = field(default_factory=dict)
    audio: Audio | None = None
    gather: Gather | None = None
    gathers: dict[str, Gather] = field(default_factory=dict)
    recording: Recording | None = None
    recordings: list[Recording] = field(default_factory=list)
    transcriptions: list[Transcription] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    heard: list[Heard] = field(default_factory=list)
    keys: deque[str] = field(default_factory=deque)  # far-end key presses still to come
    scripted_digits: deque[str] = field(default_factory=deque)  # far-end digit strings not yet used

    @property
    def ended(self) -> bool:
        """True once the call is in a terminal state."""
        return self.state in ENDED_CALL_STATES
