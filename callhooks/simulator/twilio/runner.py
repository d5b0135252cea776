"""Running the TwiML a Twilio call is answered with, verb by verb, in simulated time.

A call's first document is the reply to its Voice URL request (``Url`` on REST create, the number's Voice URL for
an inbound call) or its inline ``Twiml``. Verbs run in order, each written to the call's event log as
``twiml-<Verb>``; falling off the end hangs up. ``<Redirect>``, a ``<Gather>`` that got input (or has
``actionOnEmptyResult``), a ``<Record>`` that recorded something and a ``<Dial action>`` request a URL whose reply
replaces the document; a ``<Gather>`` with no input, an empty ``<Record>`` and a ``<Dial>`` without ``action``
go on with the next verb. Relative URLs resolve against the URL of the current document, and a Gather's or
Record's ``action`` defaults to it.

* Say and Play take their time (``speech_chars_per_second``, ``playback_seconds``, times ``loop``); Pause its
  ``length`` (default 1 s).
* Gather: its nested Say/Play/Pause play while the far end may already press keys; ``numDigits``,
  ``finishOnKey`` (default ``#``; ``Digits`` never holds it) and ``timeout`` (default 5 s, counted from the end of
  the prompts) end it.
* Dial: each ``<Number>`` (or the number in its text) is a new leg (``Direction=outbound-dial``, ``ParentCallSid``)
  ringing for ``timeout`` (default 30 s) with ``callerId`` (default the caller's number), whose status callbacks go
  to the Number's ``statusCallback`` (``statusCallbackEvent``, default ``completed``); the first to answer is
  bridged and the others are hung up. When the dialled leg ends, or none answered, the ``action`` gets
  ``DialCallStatus`` (``completed``, ``busy``, ``no-answer``, ``failed``, ``canceled``) and the dialled leg.
  Nouns other than Number are not dialled (``failed``).
* Record: a beep (``playBeep``), then recording until ``timeout`` seconds of silence after the far end stops
  talking (:class:`~callhooks.simulator.FarEnd` ``speak_seconds``), ``maxLength`` or a hangup; the ``action``
  gets the recording and ``Digits`` (``hangup`` when the caller hung up, whose reply is not run). A far end that
  says nothing leaves an empty recording: no action, the next verb runs. ``recordingStatusCallback`` is told when
  the recording is ready: after the action, as Twilio sends it once the recording is stored. A far end with
  scripted ``digits`` presses its next keys while it records: one of ``finishOnKey`` (default any key) stops the
  recording, and ``Digits`` is that key.
* Hangup ends the call; Reject ends it unanswered, as ``busy`` (``reason="busy"``) or ``no-answer``.

A reply that is not a TwiML document (not 2xx, no answer in 15 s, empty, not XML, an unknown verb or attribute
value, over 64 KB) goes to the ``FallbackUrl`` once when the call has one, with ``ErrorCode`` (11200 for an HTTP
failure, 12100 for a document that does not parse) and ``ErrorUrl``. Otherwise the caller hears "an application
error has occurred", the call ends, and the failure is in the errors list (``GET /_sim/failures``), as Twilio's
debugger notifications are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from ...twilio import twiml
from ..delivery import Deliverer, SentEvent
from ..errors import redact_url
from ..models import Call, Delivery, Gather, Recording
from ..payloads import EventBody
from .events import TwilioEvents
from .legs import WEBHOOK_TIMEOUT_MS, Leg, RecordingInfo
from .payloads import TOKEN

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["TwimlRunner"]


GATHER_TIMEOUT = 5
GATHER_FINISH_ON_KEY = "#"
DIAL_TIMEOUT = 30
RECORD_TIMEOUT = 5
RECORD_MAX_LENGTH = 3600
RECORD_FINISH_ON_KEY = "1234567890*#"
BEEP_SECONDS = 0.5
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
_DOCUMENT_PARSE_FAILURE = "12100"
_TIMER = "twiml"

#: Given the document a reply held and the URL that served it (``None`` for inline TwiML).
OnDocument = Callable[["_Session", twiml.Response, "str | None"], None]


@dataclass
class _Session:
    """The document a call is running: its verbs, the next one's index and the URL that served it."""

    leg: Leg
    verbs: tuple[twiml.ResponseVerb, ...] = ()
    position: int = 0
    url: str | None = None
    generation: int = 0  #: bumped when the document is replaced, so stale continuations do nothing
    started: bool = False  #: a verb other than Reject ran: the call was answered


@dataclass
class _Dial:
    """A ``<Dial>`` in progress: its legs ring at once and the first to answer is bridged."""

    session: _Session
    generation: int
    verb: twiml.Dial
    legs: list[Leg] = field(default_factory=list)
    winner: Leg | None = None


class TwimlRunner:
    """Executes TwiML for the engine; ``deliverer`` sends the requests and hands back their replies."""

    def __init__(self, engine: Engine, deliverer: Deliverer, events: TwilioEvents) -> None:
        self.engine = engine
        self.deliverer = deliverer
        self.events = events
        self.legs = events.legs
        self.payloads = events.payloads
        self._sessions: dict[str, _Session] = {}
        self._dials: dict[str, _Dial] = {}  # by the engine id of each dialled leg

    # -- entry points from the engine ---------------------------------------------------------------------------

    def runs(self, call: Call) -> bool:
        """Whether ``call`` runs TwiML: every call but a dialled leg."""
        leg = self.legs.of(call)
        return not call.quiet and (leg.voice is not None or leg.twiml is not None)

    def controls(self, call: Call) -> bool:
        """Whether a document is running ``call``."""
        session = self._sessions.get(call.id)
        return session is not None and session.generation > 0

    def start(self, call: Call, answer: EventBody) -> None:
        """Request the call's TwiML with ``answer`` (or take its inline ``Twiml``) and run it."""
        leg = self.legs.of(call)
        session = self._sessions[call.id] = _Session(leg)
        if leg.twiml is None and leg.voice is not None:
            self._request(session, answer, leg.voice, self._run)
        self.events.status_callback(leg, "answered")  # after the Voice URL request, as Twilio sends them
        if leg.twiml is not None:
            self.engine.log_event(call, answer)
            self._run_inline(session, leg.twiml)

    def _run_inline(self, session: _Session, document: str) -> None:
        call = session.leg.call
        try:
            parsed = twiml.parse(document, on_warning=lambda m: self.engine.log(call, "twiml-warning", m))
        except twiml.TwiMLError as exc:
            self._application_error(session, f"the Twiml parameter is not a valid document: {exc}")
            return
        self._run(session, parsed, None)

    def redirect(self, call: Call, target: Delivery | None, document: str | None) -> None:
        """A REST update with ``Url`` (``target``) or ``Twiml``: the call leaves what it was doing for the new TwiML."""
        leg = self.legs.of(call)
        session = self._sessions.setdefault(call.id, _Session(leg))
        self._interrupt(session)
        self._leave_dial(call)
        if document is not None:
            self._run_inline(session, document)
        elif target is not None:
            self._request(session, self.payloads.call(leg, "in-progress", "redirect"), target, self._run)

    def leg_answered(self, call: Call) -> bool:
        """A call was answered; True when it is a dialled leg (bridged here)."""
        dial = self._dials.get(call.id)
        if dial is None:
            return False
        parent = dial.session.leg.call
        leg = self.legs.of(call)
        if dial.winner is not None or parent.ended:
            self.engine.end(call, "NORMAL_CLEARING")
            return True
        dial.winner = leg
        for other in dial.legs:
            if other is not leg:
                self.engine.end(other.call, "ORIGINATOR_CANCEL")
        self.engine.bridge(parent, call)
        self.events.status_callback(leg, "answered")
        return True

    def call_ended(self, call: Call, was_answered: bool) -> bool:
        """A call ended; True when it was a dialled leg (its parent is told here)."""
        dial = self._dials.pop(call.id, None)
        if dial is not None:
            self._dialled_leg_ended(dial, self.legs.of(call))
            return True
        if self._sessions.pop(call.id, None) is not None:
            self._leave_dial(call)
        return False

    # -- requests and replies -----------------------------------------------------------------------------------

    def _request(self, session: _Session, body: EventBody, target: Delivery, on_document: OnDocument) -> None:
        """Send ``body`` to ``target`` and hand the TwiML it is answered with to ``on_document``."""
        call = session.leg.call
        self.engine.log_event(call, body)
        generation = session.generation
        self.deliverer.request(
            call.id,
            body,
            target,
            lambda record: self._replied(session, body, target, record, on_document),
            wanted=lambda: (
                not call.ended and session.generation == generation and self._sessions.get(call.id) is session
            ),
        )

    def _notify(self, call: Call, body: EventBody, target: Delivery) -> None:
        """Send ``body`` without running its reply (the call has ended, or nobody waits for it)."""
        self.engine.log_event(call, body)
        self.deliverer.enqueue(call.id, body, target)

    def _replied(
        self, session: _Session, body: EventBody, target: Delivery, record: SentEvent, on_document: OnDocument
    ) -> None:
        call = session.leg.call
        own = [attempt for attempt in record.attempts if attempt.copy == 0]  # not a duplicate's (a fault)
        last = own[-1] if own else None
        if record.outcome == "failed" or last is None:  # the deliverer already tried the fallback URL
            self._application_error(session, f"no valid reply to the {body.get('@event')} request")
            return
        try:
            if last.error is not None:  # answered, but the answer was lost on the way back (a fault)
                raise twiml.TwiMLError(last.error)
            if not last.body.strip():
                raise twiml.TwiMLError("the reply is empty")
            document = twiml.parse(last.body, on_warning=lambda m: self.engine.log(call, "twiml-warning", m))
        except twiml.TwiMLError as exc:
            message = f"The reply to the {body.get('@event')} request is not a valid TwiML document: {exc}"
            self.engine.log(call, "twiml-invalid", str(exc))
            self.deliverer.report(record, "invalid-twiml", last.url, message)
            if target.fallback_url and last.url != target.fallback_url:
                retry = {**body, TOKEN: self.engine.ids.new("idem")}  # a new request, not a copy of the failed one
                retry.update(ErrorCode=_DOCUMENT_PARSE_FAILURE, ErrorUrl=last.url.partition("#")[0])
                method = target.fallback_method or target.method
                self._request(session, retry, Delivery(target.fallback_url, method, target.timeout_ms), on_document)
            else:
                self._application_error(session, "invalid TwiML")
            return
        on_document(session, document, last.url)

    def _application_error(self, session: _Session, why: str) -> None:
        call = session.leg.call
        self.engine.log(call, "twiml-error", why)
        self.engine.hear(call, "speak", APPLICATION_ERROR)
        self.engine.end(call, "NORMAL_CLEARING")

    # -- documents and verbs ------------------------------------------------------------------------------------

    def _run(self, session: _Session, document: twiml.Response, url: str | None) -> None:
        session.generation += 1
        session.verbs, session.position, session.url = document.verbs, 0, url
        where = f" from {redact_url(url)}" if url else " (inline)"
        self.engine.log(session.leg.call, "twiml-document", f"{len(document.verbs)} verbs{where}")
        self._next(session, session.generation)

    def _interrupt(self, session: _Session) -> None:
        """Stop what the current document is doing (a REST redirect)."""
        call = session.leg.call
        session.generation += 1  # pending continuations of the old document now do nothing
        if call.gather is not None:
            call.gather.on_finish = lambda gather, key: None
            self.engine.stop_gather(call, call.gather)
        if call.recording is not None:  # a <Record>'s stops: no action (the generation moved on), its status is told
            self.engine.stop_recording(call)

    def _next(self, session: _Session, generation: int) -> None:
        call = session.leg.call
        if call.ended or session.generation != generation:
            return
        if session.position >= len(session.verbs):
            self.engine.log(call, "twiml-end", "hang up")
            self.engine.end(call, "NORMAL_CLEARING")
            return
        verb = session.verbs[session.position]
        session.position += 1
        self.engine.log(call, f"twiml-{type(verb).__name__}", _describe(verb))
        if isinstance(verb, twiml.Reject):
            self._reject(session, verb)
            return
        session.started = True
        self._heard(call, verb)
        if isinstance(verb, twiml.Hangup):
            self.engine.end(call, "NORMAL_CLEARING")
        elif isinstance(verb, twiml.Redirect):
            target = self._action(session, verb.url, verb.method)
            if target is None:
                self._application_error(session, f"Redirect to {verb.url!r} with no document URL to resolve it against")
                return
            self._request(session, self.payloads.call(session.leg, "in-progress", "redirect"), target, self._run)
        elif isinstance(verb, twiml.Gather):
            self._gather(session, verb)
        elif isinstance(verb, twiml.Record):
            self._record(session, verb)
        elif isinstance(verb, twiml.Dial):
            self._dial(session, verb)
        elif isinstance(verb, twiml.Say | twiml.Play | twiml.Pause):
            self._after(session, self._seconds(verb))
        else:  # a verb the simulator does not play (Enqueue, Connect, Pay...): noted, and the call goes on
            self.engine.log(call, "twiml-unsupported", type(verb).__name__)
            self._next(session, generation)

    def _reject(self, session: _Session, verb: twiml.Reject) -> None:
        leg, call = session.leg, session.leg.call
        if not session.started and leg.direction == "inbound":
            leg.final_status = "busy" if verb.reason == "busy" else "no-answer"
            call.active = None  # never answered: not billed, no duration
        self.engine.end(call, "USER_BUSY" if verb.reason == "busy" else "CALL_REJECTED")

    def _heard(self, call: Call, verb: twiml.Verb) -> None:
        """Tell the far end's record what it hears."""
        if isinstance(verb, twiml.Say):
            self.engine.hear(call, "speak", verb.message)
        elif isinstance(verb, twiml.Play):
            if verb.url:
                self.engine.hear(call, "play", verb.url)
            if verb.digits:
                self.engine.hear(call, "tones", verb.digits)
        elif isinstance(verb, twiml.Gather):
            for prompt in verb.verbs:
                self._heard(call, prompt)
        elif not isinstance(verb, twiml.Pause):
            self.engine.hear(call, "verb", f"{type(verb).__name__} {_describe(verb)}".strip())

    def _after(self, session: _Session, seconds: float) -> None:
        generation = session.generation
        if seconds <= 0:
            self._next(session, generation)
        else:
            self.engine.at(session.leg.call, _TIMER, seconds, lambda: self._next(session, generation))

    def _seconds(self, verb: twiml.Verb) -> float:
        """How long a verb that only plays or waits takes, in simulated seconds."""
        options = self.engine.options
        if isinstance(verb, twiml.Say):
            return max(1.0, len(verb.message) / options.speech_chars_per_second) * max(1, verb.loop or 1)
        if isinstance(verb, twiml.Play):
            return options.playback_seconds * max(1, verb.loop or 1) if verb.url else 0.1 * len(verb.digits or "")
        if isinstance(verb, twiml.Pause):
            return float(1 if verb.length is None else verb.length)
        return 0.0

    def _action(self, session: _Session, url: str | None, method: str | None) -> Delivery | None:
        """Where an action goes: its URL (a relative one resolved against the current document's URL), else the
        current document's URL; None when neither exists (inline TwiML with a relative or no action)."""
        target = urljoin(session.url, url) if session.url and url else url or session.url
        if not target or not urlsplit(target).scheme:
            return None
        return Delivery(target, method or "POST", WEBHOOK_TIMEOUT_MS)

    # -- Gather -------------------------------------------------------------------------------------------------

    def _gather(self, session: _Session, verb: twiml.Gather) -> None:
        generation = session.generation
        prompt = sum(self._seconds(prompt_verb) for prompt_verb in verb.verbs)

        def finished(gather: Gather, key: str | None) -> None:
            self._gathered(session, generation, verb, gather, key)

        finish = GATHER_FINISH_ON_KEY if verb.finish_on_key is None else verb.finish_on_key
        gather = Gather(
            id=self.engine.ids.new("g"),
            created=self.engine.clock.now(),
            max_digits=verb.num_digits,
            inter_digit_timeout=verb.timeout if verb.timeout is not None else GATHER_TIMEOUT,
            terminating_digits=finish,
            tag=None,
            prompt=None,
            on_finish=finished,
        )
        self.engine.open_gather(session.leg.call, gather, prompt)

    def _gathered(
        self, session: _Session, generation: int, verb: twiml.Gather, gather: Gather, key: str | None
    ) -> None:
        if gather.reason == "hung-up" or session.generation != generation:
            return  # Twilio requests no action for a caller who hung up mid-Gather
        target = self._action(session, verb.action, verb.method)
        if target is None or not (gather.digits or key or verb.action_on_empty_result):
            self.engine.log(session.leg.call, "twiml-gather-empty", gather.id)
            self._next(session, generation)
            return
        self._request(session, self.payloads.gather(session.leg, gather.digits, key or ""), target, self._run)

    # -- Record -------------------------------------------------------------------------------------------------

    def _record(self, session: _Session, verb: twiml.Record) -> None:
        leg, call = session.leg, session.leg.call
        generation = session.generation
        recording = Recording(self.engine.ids.new("rec"), self.engine.clock.now(), "wav")
        recording.finish_keys = RECORD_FINISH_ON_KEY if verb.finish_on_key is None else verb.finish_on_key
        callback = None
        if verb.recording_status_callback:
            callback = self._action(session, verb.recording_status_callback, verb.recording_status_callback_method)
        info = self.legs.add_recording(RecordingInfo(recording, leg.sid, "RecordVerb", callback, after_action=True))
        recording.on_stop = lambda: self._recorded(session, generation, verb, info)
        beep = BEEP_SECONDS if verb.play_beep is not False else 0.0
        if beep:
            self.engine.hear(call, "tones", "beep")
        silence = verb.timeout if verb.timeout is not None else RECORD_TIMEOUT
        talk = call.far_end.speak_seconds
        length = silence if talk is None else talk + silence
        self.engine.start_recording(call, recording, min(float(verb.max_length or RECORD_MAX_LENGTH), length))

    def _recorded(self, session: _Session, generation: int, verb: twiml.Record, info: RecordingInfo) -> None:
        """The recording stopped: the Record action (if any), then its ``recordingStatusCallback``, which Twilio
        sends once the recording is stored, after the action; then the next verb when there was no action. A
        document replaced meanwhile (a REST redirect) gets no action, but the recording is still told."""
        call = session.leg.call
        go_on = session.generation == generation and not self._record_action(session, verb, info)
        self.events.recording_status(call, info)
        if go_on:
            self._next(session, generation)

    def _record_action(self, session: _Session, verb: twiml.Record, info: RecordingInfo) -> bool:
        """Request the Record action with the recording; False when there is none to request (no action, or an
        empty recording: the next verb runs)."""
        call = session.leg.call
        if call.far_end.speak_seconds is None and not call.ended:
            self.engine.log(call, "twiml-record-empty", info.sid)  # silence only: no action, the next verb
            return False
        target = self._action(session, verb.action, verb.method)
        if target is None:
            return False
        digits = "hangup" if call.ended else info.recording.finished_on_key or ""
        body = self.payloads.record(session.leg, info, digits)
        if call.ended:
            self._notify(call, body, target)
        else:
            self._request(session, body, target, self._run)
        return True

    # -- Dial ---------------------------------------------------------------------------------------------------

    def _dial(self, session: _Session, verb: twiml.Dial) -> None:
        leg, call = session.leg, session.leg.call
        dial = _Dial(session, session.generation, verb)
        numbers = ([verb.number] if verb.number else []) + [
            noun.phone_number for noun in verb.verbs if isinstance(noun, twiml.Number)
        ]
        if not numbers:
            self.engine.log(call, "twiml-dial-unsupported", "only <Number> and a number are dialled")
            self._dial_over(dial, None, "failed")
            return
        call.state = "transferring"
        caller_id = verb.caller_id or call.from_
        nouns: list[twiml.Number | None] = [None] if verb.number else []
        nouns += [noun for noun in verb.verbs if isinstance(noun, twiml.Number)]
        for number, noun in zip(numbers, nouns, strict=True):
            child_call = self.engine.new_leg(call, caller_id, number, verb.timeout or DIAL_TIMEOUT)
            child = self.legs.add(Leg(child_call, "outbound-dial", parent_sid=leg.sid))
            if noun is not None and noun.status_callback:
                child.status = self._action(session, noun.status_callback, noun.status_callback_method)
                child.events = frozenset((noun.status_callback_event or "completed").split())
            dial.legs.append(child)
            self._dials[child_call.id] = dial
            self.events.status_callback(child, "initiated")
            self.events.status_callback(child, "ringing")

    def _dialled_leg_ended(self, dial: _Dial, child: Leg) -> None:
        if dial.winner is child:
            self._dial_over(dial, child, "completed")
        elif dial.winner is None and all(other.call.ended for other in dial.legs):
            statuses = [other.final_status or "failed" for other in dial.legs]
            status = next((s for s in ("busy", "no-answer", "canceled") if s in statuses), "failed")
            self._dial_over(dial, child, status)

    def _dial_over(self, dial: _Dial, child: Leg | None, status: str) -> None:
        session = dial.session
        parent = session.leg.call
        if not parent.ended and parent.state == "transferring":
            parent.state = "active"
        if session.generation != dial.generation:
            return  # redirected meanwhile: the new document runs
        target = self._action(session, dial.verb.action, dial.verb.method) if dial.verb.action else None
        if target is None:  # no action: the document goes on after the Dial
            self._next(session, dial.generation)
            return
        body = self.payloads.dial(session.leg, child, status)
        if parent.ended:
            self._notify(parent, body, target)
        else:
            self._request(session, body, target, self._run)

    def _leave_dial(self, call: Call) -> None:
        """The parent of a Dial ended or was redirected: its dialled legs hang up."""
        for leg_id, dial in list(self._dials.items()):
            if dial.session.leg.call is call:
                child = self.engine.calls[leg_id]
                self.engine.end(child, "NORMAL_CLEARING" if child.state == "active" else "ORIGINATOR_CANCEL")


def _describe(verb: twiml.Verb) -> str:
    text = getattr(verb, verb._text_field) if verb._text_field else ""
    url = getattr(verb, "action", None)  # a Redirect's URL is its text
    return " ".join(part for part in (str(text or ""), redact_url(url) if url else "") if part)
