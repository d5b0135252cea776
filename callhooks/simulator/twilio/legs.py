"""What the Twilio profile knows about each call beyond the engine's record: its SIDs, where its TwiML and status
callbacks go, the status events asked for, the next ``SequenceNumber``, and how it ended.

Twilio's ids are a two-letter prefix and 32 hex digits (``CA…``, ``RE…``); the engine's are its own (``c-…``). Each
SID is derived from the engine's id, so a seeded simulator hands out the same SIDs on every run.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..models import Call, Delivery, Recording

__all__ = [
    "ALL_STATUS_EVENTS",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "WEBHOOK_TIMEOUT_MS",
    "Leg",
    "Legs",
    "RecordingInfo",
    "sid",
]

#: The account ``callhooks simulate --platform twilio`` plays unless told otherwise.
DEFAULT_ACCOUNT_SID = "AC" + "5" * 32
DEFAULT_AUTH_TOKEN = "simulator-auth-token"
#: Twilio waits 15 s for a webhook's answer.
WEBHOOK_TIMEOUT_MS = 15000
ALL_STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


def sid(prefix: str, engine_id: str) -> str:
    """A Twilio SID (``prefix`` + 32 hex digits) for the engine's id ``engine_id``."""
    return prefix + hashlib.sha256(engine_id.encode()).hexdigest()[:32]


@dataclass
class RecordingInfo:
    """A recording as the REST API and the recording callbacks show it."""

    recording: Recording
    call_sid: str
    source: str  #: ``RecordVerb``, ``DialVerb``, ``OutboundAPI``...
    status_callback: Delivery | None = None
    deleted: bool = False
    #: A ``<Record>``'s: its ``recordingStatusCallback`` follows the Record action, so the TwiML runner sends it.
    after_action: bool = False

    @property
    def sid(self) -> str:
        """Its ``RE…`` SID."""
        return sid("RE", self.recording.id)


@dataclass
class Leg:
    """One Twilio call (a leg): ``voice`` is where its TwiML comes from (``Url``, ``Method``, ``FallbackUrl`` and
    ``FallbackMethod``, or the inline ``twiml``), ``status`` where its status callbacks go and ``events`` which ones."""

    call: Call
    direction: str  #: ``inbound``, ``outbound-api`` or ``outbound-dial``
    voice: Delivery | None = None
    twiml: str | None = None
    status: Delivery | None = None
    events: frozenset[str] = frozenset({"completed"})
    parent_sid: str | None = None
    machine_detection: str | None = None
    recording_callback: Delivery | None = None  #: ``RecordingStatusCallback`` of a call created with ``Record``
    final_status: str | None = None  #: set when the call ends (or when ``<Reject>`` says how it will)
    deleted: bool = False  #: ``DELETE /Calls/{Sid}.json``: gone from the API
    sequence: Iterator[int] = field(default_factory=itertools.count)

    @property
    def sid(self) -> str:
        """Its ``CA…`` SID."""
        return sid("CA", self.call.id)


class Legs:
    """Every Twilio call and recording the simulator holds, by SID and by engine id."""

    def __init__(self) -> None:
        self._by_id: dict[str, Leg] = {}
        self._by_sid: dict[str, Leg] = {}
        self.recordings: dict[str, RecordingInfo] = {}  # by RE… SID

    def add(self, leg: Leg) -> Leg:
        """Hold ``leg``."""
        self._by_id[leg.call.id] = leg
        self._by_sid[leg.sid] = leg
        return leg

    def of(self, call: Call) -> Leg:
        """The leg of an engine call (one the profile did not create, e.g. a ``<Dial>`` target, gets a plain one)."""
        leg = self._by_id.get(call.id)
        if leg is None:
            leg = self.add(Leg(call, "outbound-dial" if call.quiet else "outbound-api"))
        return leg

    def by_sid(self, call_sid: str) -> Leg | None:
        """The leg with this ``CA…`` SID."""
        return self._by_sid.get(call_sid)

    def all(self) -> list[Leg]:
        """Every leg, oldest first."""
        return list(self._by_id.values())

    def add_recording(self, info: RecordingInfo) -> RecordingInfo:
        """Hold a recording."""
        self.recordings[info.sid] = info
        return info

    def recording_of(self, recording: Recording) -> RecordingInfo | None:
        """The info on an engine recording, if the profile holds it."""
        return self.recordings.get(sid("RE", recording.id))
