"""Running the BXML that GET-mode calls answer with (docs/platforms/catapult-bxml.md: its verbs, execution and choices).

The reply to a call's ``answer`` is its first document; verbs run one at a time in simulated time, each
written to the call's event log as ``bxml-<Verb>``. A document is replaced by the reply to a ``Redirect``, or
to a completed ``Gather`` that was last; a bridged ``Transfer`` ends with leg A hung up; the end of a document
hangs up after ``bxml_idle_hangup`` seconds. A reply that is not a valid document (non-2xx, not XML, wrong root,
unknown verb, bad nesting, over 16 KB, timeout) goes once to the fallback URL when the URL has one, then is an
entry in the errors list and the call is hung up. An empty 200 to ``answer`` means the app controls the call by
REST instead. POST-mode calls never come here: the platform ignores their reply bodies.

Everything runs on the simulator's loop, from a timer or from the delivery worker that got a reply; a reply
that comes back for a document already replaced, or a call already ended, is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import bxml
from .delivery import Deliverer, SentEvent
from .errors import redact_url
from .models import Call, Delivery, Gather, Recording
from .payloads import EventBody, EventFactory

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["BxmlRunner"]

#: Given the document a reply held (``None`` for an empty reply) and the URL that served it.
OnDocument = Callable[["_Session", "bxml.Response | None", str], None]


# Choices where the platform's documents are silent (docs/platforms/catapult-bxml.md#choices): verb URLs without
# requestUrlTimeout wait 30 s (docs/platforms/catapult-bxml.md#missing-requesturltimeout); Gather's defaults are the
# documented ones; a DTMF tone takes a tenth of a second.
DEFAULT_REQUEST_TIMEOUT_MS = 30000
GATHER_MAX_DIGITS = 128
GATHER_TERMINATING_DIGITS = "#"
GATHER_INTER_DIGIT_TIMEOUT = 5
RECORD_MAX_DURATION = 60
RECORD_SILENCE_TIMEOUT = 3
RECORD_IN_TRANSFER_MAX = 3600.0  # maxDuration is ignored inside a Transfer: until a party hangs up, within an hour
TRANSFER_CALL_TIMEOUT = 60
DTMF_TONE_SECONDS = 0.1
_DTMF_PAUSES = {",": 0.5, "w": 0.5, "W": 1.0}
_TIMER = "bxml"


@dataclass
class _Session:
    """The document a call is running: its verbs, the next one's index and the URL that served it."""

    call: Call
    verbs: tuple[bxml.ResponseVerb, ...] = ()
    position: int = 0
    generation: int = 0  #: bumped when the document is replaced, so stale continuations do nothing


@dataclass
class _Transfer:
    """A ``<Transfer>`` in progress: its targets ring at once and the first to answer wins."""

    session: _Session
    generation: int
    verb: bxml.Transfer
    legs: list[Call] = field(default_factory=list)
    winner: Call | None = None


class BxmlRunner:
    """Executes documents verb by verb for the engine; ``deliverer`` sends events and hands back replies."""

    def __init__(self, engine: Engine, deliverer: Deliverer, events: EventFactory) -> None:
        self.engine = engine
        self.events = events
        self.deliverer = deliverer
        self._sessions: dict[str, _Session] = {}
        self._transfers: dict[str, _Transfer] = {}  # by the id of each target's leg

    # -- entry points from the engine ---------------------------------------------------------------------------

    def runs(self, call: Call) -> bool:
        """Whether ``call`` is BXML-controlled: its callbacks come by GET (POST means REST control)."""
        return call.delivery.method == "GET" and not call.quiet

    def controls(self, call: Call) -> bool:
        """Whether a document runs ``call`` (not before its first document, nor after an empty answer left it
        to REST control)."""
        session = self._sessions.get(call.id)
        return session is not None and session.generation > 0

    def start(self, call: Call, answer: EventBody) -> None:
        """Send ``answer`` to the call's URL and run the document it is answered with."""
        session = self._sessions[call.id] = _Session(call)
        self._request(session, answer, call.delivery, self._first_document)

    def leg_answered(self, leg: Call) -> bool:
        """A call was answered; True when it is a transfer target (the engine then leaves it to us)."""
        transfer = self._transfers.get(leg.id)
        if transfer is None:
            return False
        a_leg = transfer.session.call
        if transfer.winner is not None or a_leg.ended:
            self.engine.end(leg, "NORMAL_CLEARING")
            return True
        transfer.winner = leg
        for other in transfer.legs:
            if other is not leg:
                self.engine.end(other, "ORIGINATOR_CANCEL")
        whisper = sum(self._seconds(verb) for verb in transfer.verb.verbs if not isinstance(verb, bxml.PhoneNumber))
        for verb in transfer.verb.verbs:  # the whisper: what the callee hears before the bridge
            if isinstance(verb, bxml.SpeakSentence | bxml.PlayAudio):
                self._heard(leg, verb)
        self.engine.log(a_leg, "bxml-whisper", leg.id)
        self.engine.at(a_leg, _TIMER, whisper, lambda: self._bridge(transfer, leg))
        return True

    def call_ended(self, call: Call, was_answered: bool) -> bool:
        """A call ended; True when it was a transfer target (the engine then leaves its peers to us)."""
        transfer = self._transfers.pop(call.id, None)
        if transfer is not None:
            self._target_ended(transfer, call)
            return True
        if self._sessions.pop(call.id, None) is not None:
            for leg_id, leg_transfer in list(self._transfers.items()):
                if leg_transfer.session.call is call:
                    leg = self.engine.calls[leg_id]
                    self.engine.end(leg, "NORMAL_CLEARING" if leg.state == "active" else "ORIGINATOR_CANCEL")
        return False

    # -- requests and replies -----------------------------------------------------------------------------------

    def _request(
        self,
        session: _Session,
        body: EventBody,
        target: Delivery,
        on_document: OnDocument,
    ) -> None:
        """Send ``body`` and hand the document it is answered with to ``on_document`` (``None``: an empty reply)."""
        call = session.call
        self.engine.log_event(call, body)
        if not target.url:
            self.deliverer.enqueue(call.id, body, target)  # recorded as an event without a URL
            return
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

    def _replied(
        self,
        session: _Session,
        body: EventBody,
        target: Delivery,
        record: SentEvent,
        on_document: OnDocument,
    ) -> None:
        call = session.call
        own = [attempt for attempt in record.attempts if attempt.copy == 0]  # not a duplicate's (a fault)
        last = own[-1] if own else None
        if record.outcome == "failed" or last is None:
            # The deliverer tried the fallback URL and wrote the errors; there is no document to run.
            self._give_up(call, "no valid reply")
            return
        if last.error is None and not last.body.strip():
            on_document(session, None, last.url)
            return
        try:
            if last.error is not None:  # answered, but the answer was lost on the way back (a fault)
                raise bxml.BXMLError(last.error)
            document = bxml.parse(
                last.body, base_url=last.url, on_warning=lambda m: self.engine.log(call, "bxml-warning", m)
            )
        except bxml.BXMLError as exc:
            message = f"The reply to the {body['eventType']} event is not a valid BXML document: {exc}"
            self.engine.log(call, "bxml-invalid", str(exc))
            self.deliverer.report(record, "invalid-bxml", last.url, message)
            if target.fallback_url and last.url != target.fallback_url:
                fallback = Delivery(target.fallback_url, target.method, target.timeout_ms)
                self._request(session, body, fallback, on_document)
            else:
                self._give_up(call, "invalid BXML")
            return
        on_document(session, document, last.url)

    def _give_up(self, call: Call, why: str) -> None:
        self.engine.log(call, "bxml-hangup", why)
        self.engine.end(call, "NORMAL_CLEARING")

    def _first_document(self, session: _Session, document: bxml.Response | None, url: str) -> None:
        if document is None:  # an empty answer: the app controls this call by REST
            self._sessions.pop(session.call.id, None)
            return
        self._run(session, document, url)

    def _next_document(self, session: _Session, document: bxml.Response | None, url: str) -> None:
        if document is None:
            self._end_of_document(session)
            return
        self._run(session, document, url)

    # -- documents and verbs ------------------------------------------------------------------------------------

    def _run(self, session: _Session, document: bxml.Response, url: str) -> None:
        session.generation += 1
        session.verbs = document.verbs
        session.position = 0
        self.engine.log(session.call, "bxml-document", f"{len(document.verbs)} verbs from {_short(url)}")
        self._next(session, session.generation)

    def _next(self, session: _Session, generation: int) -> None:
        call = session.call
        if call.ended or session.generation != generation:
            return
        if session.position >= len(session.verbs):
            self._end_of_document(session)
            return
        verb = session.verbs[session.position]
        session.position += 1
        self.engine.log(call, f"bxml-{type(verb).__name__}", _describe(verb))
        self._heard(call, verb)
        if isinstance(verb, bxml.Hangup):
            self.engine.end(call, "NORMAL_CLEARING")
        elif isinstance(verb, bxml.Redirect):
            self._redirect(session, verb)
        elif isinstance(verb, bxml.Gather):
            self._gather(session, verb)
        elif isinstance(verb, bxml.Record):
            self._record(session, verb)
        elif isinstance(verb, bxml.Transfer):
            self._transfer(session, verb)
        else:  # SpeakSentence, PlayAudio, Pause, SendDtmf: they only take time
            if isinstance(verb, bxml.SendDtmf):
                self.engine.log(call, "dtmf-out", verb.digits)
            self._after(session, self._seconds(verb))

    def _heard(self, call: Call, verb: bxml.Verb) -> None:
        """Tell the far end's record what it hears: sentences, audio URLs, a Gather's prompts, other verbs."""
        if isinstance(verb, bxml.SpeakSentence):
            self.engine.hear(call, "speak", verb.sentence)
        elif isinstance(verb, bxml.PlayAudio):
            self.engine.hear(call, "play", verb.url)
        elif isinstance(verb, bxml.SendDtmf):
            self.engine.hear(call, "tones", verb.digits)
        elif isinstance(verb, bxml.Gather):  # its prompts; the engine notes the gather itself
            for prompt in verb.verbs:
                self._heard(call, prompt)
        else:
            self.engine.hear(call, "verb", f"{type(verb).__name__} {_describe(verb)}".strip())

    def _after(self, session: _Session, seconds: float) -> None:
        generation = session.generation
        if seconds <= 0:
            self._next(session, generation)
        else:
            self.engine.at(session.call, _TIMER, seconds, lambda: self._next(session, generation))

    def _end_of_document(self, session: _Session) -> None:
        call = session.call
        idle = self.engine.options.bxml_idle_hangup
        self.engine.log(call, "bxml-end", f"hang up in {idle:g} s")
        session.generation += 1
        if idle <= 0:
            self.engine.end(call, "NORMAL_CLEARING")
        else:
            self.engine.at(call, _TIMER, idle, lambda: self.engine.end(call, "NORMAL_CLEARING"))

    def _seconds(self, verb: bxml.Verb) -> float:
        """How long a verb that only plays or waits takes, in simulated seconds (outside a Gather)."""
        options = self.engine.options
        if isinstance(verb, bxml.SpeakSentence):
            return max(1.0, len(verb.sentence) / options.speech_chars_per_second)
        if isinstance(verb, bxml.PlayAudio):
            return options.playback_seconds * (verb.repeat_count or 1)
        if isinstance(verb, bxml.Pause):
            return float(1 if verb.length is None else verb.length)
        if isinstance(verb, bxml.SendDtmf):
            return sum(_DTMF_PAUSES.get(key, DTMF_TONE_SECONDS) for key in verb.digits)
        return 0.0

    def _verb_target(self, url: str | None, timeout_ms: int | None, call: Call) -> Delivery:
        return Delivery(url or call.delivery.url, "GET", timeout_ms or DEFAULT_REQUEST_TIMEOUT_MS)

    def _redirect(self, session: _Session, verb: bxml.Redirect) -> None:
        call = session.call
        body: EventBody = {"eventType": "redirect", "callId": call.id, "callState": "active"}
        body["from"], body["to"] = call.from_, call.to
        self._request(
            session, body, self._verb_target(verb.request_url, verb.request_url_timeout, call), self._next_document
        )

    def _gather(self, session: _Session, verb: bxml.Gather) -> None:
        call = session.call
        prompt = 0.0
        for prompt_verb in verb.verbs:
            prompt += self._seconds(prompt_verb)
            if isinstance(prompt_verb, bxml.PlayAudio) and (prompt_verb.repeat_count or 1) > 1:
                prompt += (prompt_verb.delay_before_repeat or 0) * ((prompt_verb.repeat_count or 1) - 1)
        generation = session.generation

        def finished(gather: Gather, terminating_digit: str | None) -> None:
            self._gathered(session, generation, verb, gather, terminating_digit)

        gather = Gather(
            id=self.engine.ids.new("g"),
            created=self.engine.clock.now(),
            max_digits=verb.max_digits or GATHER_MAX_DIGITS,
            inter_digit_timeout=verb.inter_digit_timeout or GATHER_INTER_DIGIT_TIMEOUT,
            terminating_digits=verb.terminating_digits or GATHER_TERMINATING_DIGITS,
            tag=verb.tag,
            prompt=None,
            on_finish=finished,
        )
        self.engine.open_gather(call, gather, prompt)

    def _gathered(
        self, session: _Session, generation: int, verb: bxml.Gather, gather: Gather, terminating_digit: str | None
    ) -> None:
        call = session.call
        body = self.events.gather(call, gather, terminating_digit, self.engine.clock.iso())
        target = self._verb_target(verb.request_url, verb.request_url_timeout, call)
        if gather.reason == "hung-up":  # the call is ending: the event goes, nothing more runs
            self.engine.log_event(call, body)
            self.deliverer.enqueue(call.id, body, target)
            return
        if session.generation != generation:
            return
        if gather.reason == "inter-digit-timeout" and not gather.digits:
            # No digit: no event, the next verb runs (docs/platforms/catapult-bxml.md#gather-with-no-digits).
            self.engine.log(call, "bxml-gather-empty", gather.id)
            self._next(session, generation)
            return
        if session.position >= len(session.verbs):  # the last verb: its reply is the next document
            self._request(session, body, target, self._next_document)
            return
        # Not last: the event goes and the document goes on at once; the reply is discarded
        # (docs/platforms/catapult-bxml.md#reply-to-a-gather-that-is-not-last).
        self.engine.log_event(call, body)
        self.deliverer.enqueue(call.id, body, target)
        self._next(session, generation)

    def _record(self, session: _Session, verb: bxml.Record, *, in_transfer: bool = False) -> None:
        call = session.call
        generation = session.generation
        recording = Recording(self.engine.ids.new("rec"), self.engine.clock.now(), verb.file_format or "wav")
        recording.deliver_to = self._verb_target(verb.request_url, verb.request_url_timeout, call)
        if verb.transcribe and verb.transcribe_callback_url:
            recording.transcribe_to = Delivery(verb.transcribe_callback_url, "POST")
        if in_transfer:  # both sides, until a party hangs up
            self.engine.start_recording(call, recording, RECORD_IN_TRANSFER_MAX)
            return
        recording.on_stop = lambda: self._next(session, generation)
        # The far end talks for speak_seconds (then hangs up, as with REST recording); silence stops it otherwise.
        silence = verb.silence_timeout or RECORD_SILENCE_TIMEOUT
        talk = call.far_end.speak_seconds
        length = silence if talk is None else talk + silence
        self.engine.start_recording(call, recording, min(float(verb.max_duration or RECORD_MAX_DURATION), length))

    def _transfer(self, session: _Session, verb: bxml.Transfer) -> None:
        call = session.call
        transfer = _Transfer(session, session.generation, verb)
        targets = ([verb.transfer_to] if verb.transfer_to else []) + [
            nested.number for nested in verb.verbs if isinstance(nested, bxml.PhoneNumber)
        ]
        call.state = "transferring"
        for number in targets:
            leg = self.engine.new_leg(
                call, verb.transfer_caller_id or call.from_, number, verb.call_timeout or TRANSFER_CALL_TIMEOUT
            )
            transfer.legs.append(leg)
            self._transfers[leg.id] = transfer

    def _bridge(self, transfer: _Transfer, leg: Call) -> None:
        a_leg = transfer.session.call
        if a_leg.ended or leg.ended:
            return
        self.engine.bridge(a_leg, leg)
        for nested in transfer.verb.verbs:
            if isinstance(nested, bxml.Record):
                self._record(transfer.session, nested, in_transfer=True)

    def _target_ended(self, transfer: _Transfer, leg: Call) -> None:
        a_leg = transfer.session.call
        if a_leg.ended:
            return
        if transfer.winner is leg:
            # The callee hung up: transferComplete (its reply is ignored, GA), then leg A is hung up
            # (docs/platforms/catapult-bxml.md#after-a-transfer).
            body = self.events.transfer_complete(a_leg, leg, self.engine.clock.iso())
            body.pop("tag", None)
            if transfer.verb.tag is not None:
                body["tag"] = transfer.verb.tag
            self.engine.log_event(a_leg, body)
            target = self._verb_target(transfer.verb.request_url, transfer.verb.request_url_timeout, a_leg)
            self.deliverer.enqueue(a_leg.id, body, target)
            self.engine.end(a_leg, "NORMAL_CLEARING")
        elif transfer.winner is None and all(other.ended for other in transfer.legs):
            self._nobody_answered(transfer)

    def _nobody_answered(self, transfer: _Transfer) -> None:
        a_leg = transfer.session.call
        if a_leg.ended:
            return
        a_leg.state = "active"
        self.engine.log(a_leg, "bxml-transfer-unanswered")
        self._next(transfer.session, transfer.generation)


def _describe(verb: bxml.Verb) -> str:
    text = getattr(verb, verb._text_field) if verb._text_field else ""
    url = getattr(verb, "request_url", None)
    return " ".join(part for part in (str(text), _short(url) if url else "") if part)


def _short(url: str) -> str:
    """A URL for the event log, without its path's token or credentials."""
    return redact_url(url)
