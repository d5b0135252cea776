"""Running BXML v2 (docs/platforms/bandwidth-v2-simulator.md#calls-and-bxml-v2).

A call's first document is the reply to its ``answer`` (outbound) or ``initiate`` (inbound) webhook. Verbs run
one at a time in simulated time; a verb with a webhook that answers with BXML (``<Redirect>``, ``<Gather
gatherUrl>``, ``<Record recordCompleteUrl>``, ``<Transfer transferCompleteUrl>``, ``<Bridge
bridgeCompleteUrl>``) replaces the rest of the document with that reply; without its URL the next verb runs.
The end of a document hangs up (``cause=hangup``). A synchronous webhook that fails on its URL and its fallback
URL ends the call with ``callback-error``; a reply that is not a ``<Response>`` document, ``invalid-bxml``.

Verbs run: SpeakSentence, PlayAudio, Pause, Ring, SendDtmf, Tag, Hangup, Redirect, Gather, Record,
StartRecording, StopRecording, StartGather, StopGather (``dtmf`` webhooks outside a Gather), Transfer (PhoneNumber
and SipUri targets), Bridge and Conference. Any other verb ends the call with ``cause=application-error`` and an
``errorMessage`` naming it.

Choices where the platform's documents are silent: a ``<Record>`` stops when the far end's message
(``FarEnd.speak_seconds``) is followed by ``silenceTimeout`` seconds of silence (3 when not given); the BXML a
``transferAnswer`` is answered with runs on the transfer leg alone and the legs are bridged when it ends; the BXML
a ``conference*`` event is answered with is not run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...bandwidth import bxml
from ..delivery import Deliverer, SentEvent
from ..models import Call, Delivery, Gather, Recording, Transcription
from ..payloads import EventBody
from .calls import V2Calls, V2Events, V2Recording

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["ConferenceRoom", "V2Runner"]


#: Given the document a reply held and the URL that served it.
OnDocument = Callable[["_Session", bxml.Response], None]

PAUSE_SECONDS = 1.0
RING_SECONDS = 5.0
TONE_MS, TONE_GAP_MS = 200.0, 400.0
GATHER_MAX_DIGITS = 50
GATHER_TIMEOUT = 5
RECORD_MAX_DURATION = 60
RECORD_SILENCE = 3
TRANSFER_CALL_TIMEOUT = 30
_TIMER = "bxml"
_DTMF_PAUSES = {",": 0.5, "w": 0.5, "W": 1.0}
#: The verbs the simulator runs; any other ends the call with ``application-error``.
_RUN = frozenset(
    {
        "SpeakSentence",
        "PlayAudio",
        "Pause",
        "Ring",
        "SendDtmf",
        "Tag",
        "Hangup",
        "Redirect",
        "Gather",
        "Record",
        "StartRecording",
        "StopRecording",
        "StartGather",
        "StopGather",
        "Transfer",
        "Bridge",
        "Conference",
    }
)


@dataclass
class _Session:
    """The document a call is running: its verbs and the next one's index."""

    call: Call
    verbs: tuple[bxml.ResponseVerb, ...] = ()
    position: int = 0
    generation: int = 0  #: bumped when the document is replaced, so stale continuations do nothing
    blocking_recording: bool = False  #: a <Record> is running (a redirect stops it)
    #: What the end of the document does instead of hanging up (a transfer leg's whisper: the bridge).
    on_end: Callable[[], None] | None = None


@dataclass
class _Transfer:
    """A ``<Transfer>``: its targets ring at once, the first to answer is bridged."""

    session: _Session
    generation: int
    verb: bxml.Transfer
    legs: dict[str, bxml.TransferTarget] = field(default_factory=dict)
    winner: Call | None = None


@dataclass
class _Bridge:
    """A ``<Bridge>`` between the call that ran it and its target."""

    session: _Session
    generation: int
    verb: bxml.Bridge
    target: Call


@dataclass
class ConferenceRoom:
    """A conference: created by its first member, whose webhook settings and tag it keeps."""

    id: str
    name: str
    created: float
    verb: bxml.Conference
    delivery: Delivery
    tag: str | None
    members: list[Call] = field(default_factory=list)


class V2Runner:
    """Executes BXML v2 documents for the engine; ``deliverer`` sends webhooks and hands back replies."""

    def __init__(self, engine: Engine, deliverer: Deliverer, calls: V2Calls, events: V2Events) -> None:
        self.engine = engine
        self.deliverer = deliverer
        self.calls = calls
        self.events = events
        self._sessions: dict[str, _Session] = {}
        self._transfers: dict[str, _Transfer] = {}  # by the id of each target's leg
        self._bridges: dict[str, _Bridge] = {}  # by both calls' ids
        self._conferences: dict[str, ConferenceRoom] = {}  # by name
        self._member_of: dict[str, ConferenceRoom] = {}  # by call id

    # -- entry points from the engine ---------------------------------------------------------------------------

    def runs(self, call: Call) -> bool:
        """Every v2 call is run by BXML (transfer legs are driven by their A-leg's ``<Transfer>``)."""
        return not call.quiet

    def controls(self, call: Call) -> bool:
        """Whether the call's key presses go only to its document: not while a ``<StartGather>`` listens outside
        a ``<Gather>`` (each key is then a ``dtmf`` webhook)."""
        return self.calls.of(call).dtmf is None or call.gather is not None

    def start(self, call: Call, answer: EventBody) -> None:
        """Send ``answer``/``initiate`` to the call's URL and run the document it is answered with."""
        session = self._sessions[call.id] = _Session(call)
        self._request(session, answer, self.calls.of(call).answer, self._run)

    def leg_answered(self, leg: Call) -> bool:
        """A call was answered; True when it is a ``<Transfer>`` target (bridged here)."""
        transfer = self._transfers.get(leg.id)
        if transfer is None:
            return False
        a_leg = transfer.session.call
        if transfer.winner is not None or a_leg.ended:
            self.engine.end(leg, "cancel")
            return True
        transfer.winner = leg
        for other_id in transfer.legs:
            other = self.engine.calls[other_id]
            if other is not leg:
                self.engine.end(other, "cancel")
        target = transfer.legs[leg.id]
        if target.transfer_answer_url:  # its BXML runs on the leg alone; the bridge follows when it ends
            session = self._sessions[leg.id] = _Session(leg, on_end=lambda: self._bridge_transfer(transfer, leg))
            self._request(
                session,
                self.events.common(leg, "transferAnswer"),
                self._hook(leg, target, "transfer_answer"),
                self._run,
            )
        else:
            self._bridge_transfer(transfer, leg)
        return True

    def call_ended(self, call: Call, was_answered: bool) -> bool:
        """A call ended: its transfer legs, bridge and conference are told (the engine leaves its peers to us)."""
        self._sessions.pop(call.id, None)
        transfer = self._transfers.pop(call.id, None)
        if transfer is not None:
            self._leg_ended(transfer, call)
        for leg_id, leg_transfer in list(self._transfers.items()):
            if leg_transfer.session.call is call:  # the A-leg hung up: its legs go too
                self.engine.end(self.engine.calls[leg_id], "hangup" if leg_transfer.winner else "cancel")
        bridge = self._bridges.pop(call.id, None)
        if bridge is not None:
            self._bridge_ended(bridge, call)
        conference = self._member_of.pop(call.id, None)
        if conference is not None:
            self._leave(conference, call)
        return True

    # -- REST control -------------------------------------------------------------------------------------------

    def redirect(self, call: Call, target: Delivery) -> None:
        """``POST /calls/{id}`` with ``redirectUrl``: stop what runs and send ``redirect`` there."""
        session = self._interrupt(call)
        self._request(session, self.events.common(call, "redirect"), target, self._run)

    def replace(self, call: Call, document: bxml.Bxml) -> None:
        """``PUT /calls/{id}/bxml``: stop what runs and run ``document`` instead."""
        session = self._interrupt(call)
        self._run(session, bxml.Response(*document.verbs))

    def _interrupt(self, call: Call) -> _Session:
        session = self._sessions.setdefault(call.id, _Session(call))
        session.generation += 1
        self.engine.cancel(call, _TIMER)  # the running verb's
        if call.gather is not None:
            self.engine.stop_gather(call, call.gather)
        if session.blocking_recording:
            session.blocking_recording = False
            self.engine.stop_recording(call)
        bridge = self._bridges.get(call.id)
        if bridge is not None:  # a redirected call leaves its bridge; its peer is told as if it had hung up
            self._bridges.pop(bridge.session.call.id, None)
            self._bridges.pop(bridge.target.id, None)
            self._bridge_ended(bridge, call)
        conference = self._member_of.pop(call.id, None)
        if conference is not None:  # a redirected member leaves its conference
            self._leave(conference, call)
        return session

    # -- webhooks and replies -----------------------------------------------------------------------------------

    def _hook(self, call: Call, verb: bxml.Verb, prefix: str) -> Delivery:
        """Where a verb's webhook ``prefix`` (``gather``, ``redirect``...) goes: its ``…Url``, ``…Method``,
        ``…FallbackUrl``, ``…FallbackMethod``, the verb's credentials, and the call's callback timeout."""

        def attribute(name: str) -> str | None:
            value = getattr(verb, name, None)
            return value if isinstance(value, str) else None

        def pair(user: str, password: str) -> tuple[str, str] | None:
            first, second = attribute(user), attribute(password)
            return (first, second) if first is not None and second is not None else None

        return Delivery(
            attribute(f"{prefix}_url"),
            attribute(f"{prefix}_method") or "POST",
            self.calls.of(call).callback_timeout_ms,
            attribute(f"{prefix}_fallback_url"),
            pair("username", "password"),
            pair("fallback_username", "fallback_password"),
            attribute(f"{prefix}_fallback_method"),
        )

    def _send(
        self, call: Call, body: EventBody, target: Delivery, on_delivered: Callable[[SentEvent], None] | None = None
    ) -> None:
        """Send ``body`` without running its reply."""
        self.engine.log_event(call, body)
        if not target.url:
            return
        self.deliverer.enqueue(call.id, body, target, on_delivered)

    def _request(self, session: _Session, body: EventBody, target: Delivery, on_document: OnDocument) -> None:
        """Send a synchronous webhook and hand the ``<Response>`` it is answered with to ``on_document``."""
        call = session.call
        self.engine.log_event(call, body)
        generation = session.generation
        if not target.url:
            self._fail(call, "callback-error", f"No URL to send the {body['eventType']} webhook to")
            return
        self.deliverer.request(
            call.id,
            body,
            target,
            lambda record: self._replied(session, record, on_document),
            wanted=lambda: (
                not call.ended and session.generation == generation and self._sessions.get(call.id) is session
            ),
        )

    def _replied(self, session: _Session, record: SentEvent, on_document: OnDocument) -> None:
        call = session.call
        own = [attempt for attempt in record.attempts if attempt.copy == 0]  # not a duplicate's (a fault)
        last = own[-1] if own else None
        if record.outcome == "failed" or last is None or not last.ok:
            self._fail(call, "callback-error", f"The {record.event['eventType']} webhook could not be delivered")
            return
        if not last.body.strip():  # an empty reply: <Response/>, which hangs up
            on_document(session, bxml.Response())
            return
        try:
            document = bxml.parse(
                last.body, base_url=last.url, on_warning=lambda m: self.engine.log(call, "bxml-warning", m)
            )
            if not isinstance(document, bxml.Response):
                raise bxml.BXMLError("a webhook's reply must have the <Response> root, not <Bxml>")
        except bxml.BXMLError as exc:
            self.engine.log(call, "bxml-invalid", str(exc))
            message = f"The reply to the {record.event['eventType']} webhook is not valid BXML: {exc}"
            self.deliverer.report(record, "invalid-bxml", last.url, message)
            self._fail(call, "invalid-bxml", message)
            return
        on_document(session, document)

    def _fail(self, call: Call, cause: str, message: str) -> None:
        record = self.calls.of(call)
        record.cause, record.error_message = cause, message
        self.engine.log(call, "bxml-error", f"{cause}: {message}")
        self.engine.end(call, cause)

    # -- documents and verbs ------------------------------------------------------------------------------------

    def _run(self, session: _Session, document: bxml.Response) -> None:
        session.generation += 1
        session.verbs = document.verbs
        session.position = 0
        self.engine.log(session.call, "bxml-document", f"{len(document.verbs)} verbs")
        self._next(session, session.generation)

    def _next(self, session: _Session, generation: int) -> None:
        call = session.call
        if call.ended or session.generation != generation:
            return
        if session.position >= len(session.verbs):  # the end of a document hangs up
            self.engine.log(call, "bxml-end")
            if session.on_end is not None:
                session.on_end()
            else:
                self.engine.end(call, "hangup")
            return
        verb = session.verbs[session.position]
        session.position += 1
        name = type(verb).__name__
        self.engine.log(call, f"bxml-{name}")
        tag = getattr(verb, "tag", None)
        if tag is not None and not isinstance(verb, bxml.Tag):
            call.tag = tag or None
        if name not in _RUN:
            self._fail(call, "application-error", f"The simulator does not run <{name}>")
            return
        if isinstance(verb, bxml.Hangup):
            self.engine.end(call, "hangup")
        elif isinstance(verb, bxml.Tag):
            call.tag = (verb.content or "").strip() or None
            self._next(session, generation)
        elif isinstance(verb, bxml.Redirect):
            target = self._hook(call, verb, "redirect")
            self._request(session, self.events.common(call, "redirect"), target, self._run)
        elif isinstance(verb, bxml.Gather):
            self._gather(session, verb)
        elif isinstance(verb, bxml.Record):
            self._record(session, verb)
        elif isinstance(verb, bxml.StartRecording):
            self._start_recording(session, verb)
        elif isinstance(verb, bxml.StopRecording):
            self.engine.stop_recording(call)
            self._next(session, generation)
        elif isinstance(verb, bxml.StartGather | bxml.StopGather):
            listening = isinstance(verb, bxml.StartGather)
            self.calls.of(call).dtmf = self._hook(call, verb, "dtmf") if listening else None
            self._next(session, generation)
        elif isinstance(verb, bxml.Transfer):
            self._transfer(session, verb)
        elif isinstance(verb, bxml.Bridge):
            self._bridge(session, verb)
        elif isinstance(verb, bxml.Conference):
            self._join(session, verb)
        else:  # SpeakSentence, PlayAudio, Pause, Ring, SendDtmf: they only take time
            self._heard(call, verb)
            self._after(session, self._seconds(verb))

    def _heard(self, call: Call, verb: bxml.Verb) -> None:
        if isinstance(verb, bxml.SpeakSentence):
            self.engine.hear(call, "speak", verb.text)
        elif isinstance(verb, bxml.PlayAudio):
            self.engine.hear(call, "play", verb.audio_uri)
        elif isinstance(verb, bxml.SendDtmf):
            self.engine.log(call, "dtmf-out", verb.digits)
            self.engine.hear(call, "tones", verb.digits)
        else:
            self.engine.hear(call, "verb", type(verb).__name__)

    def _after(self, session: _Session, seconds: float) -> None:
        generation = session.generation
        if seconds <= 0:
            self._next(session, generation)
        else:
            self.engine.at(session.call, _TIMER, seconds, lambda: self._next(session, generation))

    def _seconds(self, verb: bxml.Verb) -> float:
        """How long a verb that only plays or waits takes, in simulated seconds."""
        options = self.engine.options
        if isinstance(verb, bxml.SpeakSentence):
            return max(1.0, len(verb.text) / options.speech_chars_per_second)
        if isinstance(verb, bxml.PlayAudio):
            return options.playback_seconds
        if isinstance(verb, bxml.Pause):
            return PAUSE_SECONDS if verb.duration is None else verb.duration
        if isinstance(verb, bxml.Ring):
            return RING_SECONDS if verb.duration is None else verb.duration
        if isinstance(verb, bxml.SendDtmf):
            tone = (verb.tone_duration or TONE_MS) + (verb.tone_interval or TONE_GAP_MS)
            return sum(_DTMF_PAUSES.get(key, tone / 1000) for key in verb.digits)
        return 0.0

    # -- Gather ---------------------------------------------------------------------------------------------

    def _gather(self, session: _Session, verb: bxml.Gather) -> None:
        call = session.call
        for prompt in verb.verbs:
            self._heard(call, prompt)
        prompt_seconds = sum(self._seconds(prompt) for prompt in verb.verbs) * (verb.repeat_count or 1)
        generation = session.generation

        def finished(gather: Gather, terminating_digit: str | None) -> None:
            if call.ended or session.generation != generation:
                return
            if not verb.gather_url:  # the digits are discarded; the next verb runs
                self._next(session, generation)
                return
            body = self.events.gathered(call, gather, terminating_digit)
            self._request(session, body, self._hook(call, verb, "gather"), self._run)

        gather = Gather(
            id=self.engine.ids.new("g"),
            created=self.engine.clock.now(),
            max_digits=verb.max_digits or GATHER_MAX_DIGITS,
            inter_digit_timeout=verb.inter_digit_timeout or GATHER_TIMEOUT,
            terminating_digits=verb.terminating_digits or "",
            tag=verb.tag,
            prompt=None,
            on_finish=finished,
        )
        self.engine.open_gather(call, gather, prompt_seconds)

    # -- recordings -----------------------------------------------------------------------------------------

    def _recording(self, call: Call, verb: bxml.Record | bxml.StartRecording, channels: int = 1) -> V2Recording:
        recording = Recording(self.engine.ids.new("r"), self.engine.clock.now(), verb.file_format or "wav")
        kept = self.calls.of(call).recordings[recording.id] = V2Recording(recording, call.id, channels)
        recording.on_stop = lambda: self._available(call, kept, verb)
        return kept

    def _record(self, session: _Session, verb: bxml.Record) -> None:
        call = session.call
        generation = session.generation
        kept = self._recording(call, verb)
        available = kept.recording.on_stop
        assert available is not None

        def stopped() -> None:
            available()
            session.blocking_recording = False
            if call.ended or session.generation != generation:
                return  # recordComplete only while the call is up
            if not verb.record_complete_url:
                self._next(session, generation)
                return
            body = self.events.recorded(call, kept, "recordComplete")
            target = self._hook(call, verb, "record_complete")
            self._request(session, body, target, self._run)

        kept.recording.on_stop = stopped
        session.blocking_recording = True
        talk = call.far_end.speak_seconds
        length = (talk or 0.0) + (verb.silence_timeout or RECORD_SILENCE)
        self.engine.start_recording(call, kept.recording, min(float(verb.max_duration or RECORD_MAX_DURATION), length))

    def _start_recording(self, session: _Session, verb: bxml.StartRecording) -> None:
        kept = self._recording(session.call, verb, 2 if verb.multi_channel else 1)
        self.engine.start_recording(session.call, kept.recording)
        self._next(session, session.generation)

    def _available(self, call: Call, kept: V2Recording, verb: bxml.Record | bxml.StartRecording) -> None:
        """The recording stopped: ``recordingAvailable`` once processed, then ``transcriptionAvailable``."""
        delay = self.engine.options.transcription_delay
        if verb.recording_available_url:
            target = self._hook(call, verb, "recording_available")
            self.engine.clock.schedule(
                delay, lambda: self._send(call, self.events.recorded(call, kept, "recordingAvailable"), target)
            )
        if verb.transcribe:
            self.engine.clock.schedule(2 * delay, lambda: self._transcribed(call, kept, verb))

    def _transcribed(self, call: Call, kept: V2Recording, verb: bxml.Record | bxml.StartRecording) -> None:
        rec = kept.recording
        assert rec.end is not None
        kept.transcription = Transcription(
            self.engine.ids.new("t"), rec.id, rec.text, rec.end - rec.start, self.engine.clock.now()
        )
        if verb.transcription_available_url:
            target = self._hook(call, verb, "transcription_available")
            self._send(call, self.events.recorded(call, kept, "transcriptionAvailable"), target)

    # -- Transfer -------------------------------------------------------------------------------------------

    def _transfer(self, session: _Session, verb: bxml.Transfer) -> None:
        call = session.call
        transfer = _Transfer(session, session.generation, verb)
        call.state = "transferring"
        caller_id = verb.transfer_caller_id or call.from_
        timeout = math.ceil(verb.call_timeout or TRANSFER_CALL_TIMEOUT)
        for target in verb.verbs:
            number = target.number if isinstance(target, bxml.PhoneNumber) else target.uri
            leg = self.engine.new_leg(call, caller_id, number, timeout)
            record = self.calls.of(leg)
            record.parent_call_id, record.transfer_caller_id, record.transfer_to = call.id, caller_id, number
            record.application_id = self.calls.of(call).application_id
            record.callback_timeout_ms = self.calls.of(call).callback_timeout_ms
            if target.tag:
                leg.tag = target.tag
            transfer.legs[leg.id] = target
            self._transfers[leg.id] = transfer

    def _bridge_transfer(self, transfer: _Transfer, leg: Call) -> None:
        a_leg = transfer.session.call
        if a_leg.ended or leg.ended:
            return
        self.engine.bridge(a_leg, leg)

    def _leg_ended(self, transfer: _Transfer, leg: Call) -> None:
        """A transfer leg ended: ``transferDisconnect`` for it; ``transferComplete`` on a living A-leg when it was
        the bridged one, or the last of the unanswered ones."""
        target = transfer.legs[leg.id]
        if target.transfer_disconnect_url:
            delivery = self._hook(leg, target, "transfer_disconnect")
            self._send(leg, self.events.disconnect(leg, "transferDisconnect"), delivery)
        a_leg = transfer.session.call
        if a_leg.ended:
            return
        if transfer.winner is not None and transfer.winner is not leg:
            return
        if transfer.winner is None and not all(self.engine.calls[other].ended for other in transfer.legs):
            return
        a_leg.state = "active"
        a_leg.child = None
        session, verb = transfer.session, transfer.verb
        if session.generation != transfer.generation:
            return
        if not verb.transfer_complete_url:
            self._next(session, transfer.generation)
            return
        body = self.events.transfer_complete_of(a_leg, leg)
        target_url = self._hook(a_leg, verb, "transfer_complete")
        self._request(session, body, target_url, self._run)

    # -- Bridge ---------------------------------------------------------------------------------------------

    def _bridge(self, session: _Session, verb: bxml.Bridge) -> None:
        call = session.call
        target = self.engine.calls.get(verb.target_call)
        problem = None
        if target is None or target.ended:
            problem = f"Call {verb.target_call} is not an active call"
        elif target.state != "active" or target is call:
            problem = f"Call {verb.target_call} cannot be bridged in its current state"
        elif target.id in self._bridges:
            problem = f"Call {verb.target_call} is already bridged with another call"
        if problem is not None or target is None:
            self._bridge_done(session, session.generation, verb, "unknown", problem)
            return
        target_session = self._interrupt(target)
        target_session.verbs, target_session.position = (), 0
        bridge = _Bridge(session, session.generation, verb, target)
        self._bridges[call.id] = self._bridges[target.id] = bridge
        self.engine.bridge(call, target)

    def _bridge_ended(self, bridge: _Bridge, gone: Call) -> None:
        """One side of a bridge left: ``bridgeComplete`` to the caller of ``<Bridge>`` when the target left,
        ``bridgeTargetComplete`` to the target when the caller left (hung up without its URL)."""
        caller, target = bridge.session.call, bridge.target
        self._bridges.pop(caller.id, None)
        self._bridges.pop(target.id, None)
        if gone is target:
            if not caller.ended:
                caller.child = None
                self._bridge_done(bridge.session, bridge.generation, bridge.verb, None, None)
            return
        if target.ended:
            return
        verb = bridge.verb
        if not verb.bridge_target_complete_url:
            self.engine.end(target, "hangup")
            return
        session = self._sessions.setdefault(target.id, _Session(target))
        body = self.events.bridge_event(target, "bridgeTargetComplete")
        delivery = self._hook(target, verb, "bridge_target_complete")
        self._request(session, body, delivery, self._run)

    def _bridge_done(
        self, session: _Session, generation: int, verb: bxml.Bridge, cause: str | None, error: str | None
    ) -> None:
        call = session.call
        if call.ended or session.generation != generation:
            return
        if not verb.bridge_complete_url:
            self._next(session, generation)
            return
        body = self.events.bridge_event(call, "bridgeComplete", cause, error)
        target = self._hook(call, verb, "bridge_complete")
        self._request(session, body, target, self._run)

    # -- Conference ------------------------------------------------------------------------------------------

    def _join(self, session: _Session, verb: bxml.Conference) -> None:
        call = session.call
        conference = self._conferences.get(verb.name)
        if conference is None:
            delivery = self._hook(call, verb, "conference_event")
            conference = ConferenceRoom(
                self.engine.ids.new("conf"), verb.name, self.engine.clock.now(), verb, delivery, call.tag
            )
            self._conferences[verb.name] = conference
            self._conference_event(call, conference, "conferenceCreated")
        conference.members.append(call)
        self._member_of[call.id] = conference
        self.engine.hear(call, "state", f"in conference {verb.name}")
        self._conference_event(call, conference, "conferenceMemberJoin", call)

    def _leave(self, conference: ConferenceRoom, member: Call) -> None:
        conference.members.remove(member)
        self._conference_event(member, conference, "conferenceMemberExit", member)
        if not conference.members:
            self._conferences.pop(conference.name, None)
            self._conference_event(member, conference, "conferenceCompleted")

    def _conference_event(
        self, call: Call, conference: ConferenceRoom, event_type: str, member: Call | None = None
    ) -> None:
        body = self.events.conference_event(event_type, conference.id, conference.name, conference.tag, member)
        self._send(call, body, conference.delivery)

    # -- what the REST API reads ---------------------------------------------------------------------------

    def conferences(self) -> list[ConferenceRoom]:
        """The conferences in progress."""
        return list(self._conferences.values())
