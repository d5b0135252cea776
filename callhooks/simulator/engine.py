"""The call engine: each call's state machine, its timers, and the events every step produces.

All methods are synchronous and run on the simulator's event loop, either from a request handler (after
the clock caught up) or from a clock timer, so the engine needs no locks. Events are handed to ``send``
(the delivery queues) in the order they happen.

States (docs/platforms/catapult-voice.md#states-and-transitions): ``started`` → ``active`` → ``completed``; ``started``
→ ``rejected`` (rejected inbound, or a far end that declines); ``active`` → ``transferring`` → ``active`` (bridged, or
back when the B-leg did not answer).

Endings and their ``hangup`` cause:

* either side hangs up an answered call: ``NORMAL_CLEARING``;
* far end busy: ``USER_BUSY``; far end declines, or the app rejects an inbound call: ``CALL_REJECTED``
  (resource state ``rejected``; the event's ``callState`` stays ``completed`` as in the docs' example);
* ``callTimeout`` passes unanswered: a ``timeout`` event, then (our choice, the docs are silent) a
  ``hangup`` with ``NO_ANSWER`` so every call ends with exactly one ``hangup``;
* the app hangs up its outbound call before answer: ``ORIGINATOR_CANCEL``; hanging up an unanswered
  inbound call counts as declining it: ``CALL_REJECTED`` with state ``completed``;
* an inbound caller nobody answers gives up after the call timeout: ``ORIGINATOR_CANCEL``.

On any ending, in this order: running audio gets its ``done`` event, a running gather completes with
reason ``hung-up``, the ``hangup`` event, then the ``recording`` event and (2 s later) ``transcription``
(a profile with ``recording_before_hangup``, Twilio's, stops a recording verb's recording before the ``hangup``).

Transfer model: ``state=transferring`` on an active A-leg creates a B-leg (``direction=out``, from the
``transferCallerId`` or our number, its events to the transfer's ``callbackUrl`` or nowhere), whose far end
follows the script for its number. The A-leg is ``transferring`` while B rings. When B answers, both legs
get one ``bridgeId`` and A is ``active`` again. If B never answers, A simply returns to ``active`` with no
event (``transferComplete`` is only for answered transfers). When the bridged B-leg hangs up, the A-leg
gets ``transferComplete`` and is then hung up too (``NORMAL_CLEARING``); when A ends first, B is hung up
(``ORIGINATOR_CANCEL`` if it was still ringing).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..rules import MAX_DTMF_OUT
from . import errors
from .behaviours import Behaviours
from .bxml_runner import BxmlRunner
from .clock import SimClock
from .delivery import Deliverer
from .ids import IdFactory
from .models import Audio, Call, Delivery, Gather, Heard, LogEntry, Recording, Transcription
from .params import AudioParams, CallParams, GatherParams, UpdateParams
from .payloads import EventBody, EventFactory
from .profile import DocumentRunner, SimulatorEvents, event_type
from .urls import Urls

__all__ = ["Engine", "EngineOptions", "Send"]

Send = Callable[[str, EventBody, Delivery], None]
#: Builds the document runner of a platform for an engine (``SimulatorProfile.runner``).
RunnerFactory = Callable[["Engine", Deliverer], DocumentRunner]
_PAUSES = {",": 0.5, "w": 0.5, "W": 1.0}
_KEYS = frozenset("0123456789*#ABCD")


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class EngineOptions:
    """Timings of things the platform does (simulated seconds) and inbound-call settings."""

    speech_chars_per_second: float = 15.0
    playback_seconds: float = 3.0
    transcription_delay: float = 2.0
    hangup_after_timeout: bool = True
    auto_answer: bool = True
    inbound: Delivery = field(default_factory=lambda: Delivery(None))
    #: Seconds a BXML call stays up after its document ends (docs/platforms/catapult-bxml.md#execution and
    #: #empty-response); 0 hangs up at once.
    bxml_idle_hangup: float = 30.0


class Engine:
    """Owns every call; the API layer calls in, timers call back."""

    def __init__(
        self,
        *,
        urls: Urls,
        clock: SimClock,
        ids: IdFactory,
        behaviours: Behaviours,
        send: Send,
        application_id: str,
        options: EngineOptions | None = None,
        deliverer: Deliverer | None = None,
        events: SimulatorEvents | None = None,
        runner: RunnerFactory | None = None,
        event_name: Callable[[EventBody], str] = event_type,
        target: Callable[[Call, EventBody], Delivery] | None = None,
        recording_before_hangup: bool = False,
    ) -> None:
        self.urls = urls
        self.clock = clock
        self.ids = ids
        self.behaviours = behaviours
        self.send = send
        self.options = options or EngineOptions()
        #: The platform's callback bodies (default: Catapult's); a ``None`` body is not sent.
        catapult_events = EventFactory(urls, application_id)
        self.events: SimulatorEvents = events or catapult_events
        self.event_name = event_name
        #: Where an event the engine produces goes (default: the call's URL).
        self.target_of = target or (lambda call, body: call.delivery)
        #: A call that ends during a document's recording verb: the verb's requests go before the ending event
        #: (``SimulatorProfile.recording_before_hangup``), else after it.
        self.recording_before_hangup = recording_before_hangup
        self.calls: dict[str, Call] = {}
        self._seq = itertools.count()
        #: Runs the BXML that GET-mode calls answer with (the deliverer hands back each reply).
        self.bxml: DocumentRunner | None = None
        if deliverer is not None:
            self.bxml = runner(self, deliverer) if runner else BxmlRunner(self, deliverer, catapult_events)
        #: Called after anything about a call changed (the phone page's live updates listen here).
        self.on_change: Callable[[], None] = _nothing

    # ----------------------------------------------------------------------------------------- helpers

    def get(self, call_id: str) -> Call:
        """The call, or a 404 ``call-not-found``."""
        call = self.calls.get(call_id)
        if call is None:
            raise errors.not_found(call_id)
        return call

    def _emit(self, call: Call, body: EventBody | None) -> None:
        if body is None:  # the platform sends no callback for this
            return
        self.log_event(call, body)
        if not call.quiet:
            self.send(call.id, body, self.target_of(call, body))

    def log_event(self, call: Call, body: EventBody) -> None:
        """Write ``body`` to the call's event log."""
        self._log(call, self.event_name(body), json.dumps(body, separators=(",", ":")))

    def log(self, call: Call, name: str, data: str = "") -> None:
        """Add an entry to the call's event log."""
        self._log(call, name, data)

    def at(self, call: Call, name: str, delay: float, action: Callable[[], None]) -> None:
        """(Re)arm the call's timer ``name`` (cancelled when the call ends)."""
        self._at(call, name, delay, action)

    def _log(self, call: Call, name: str, data: str = "") -> None:
        call.log.append(LogEntry(self.ids.new("ce"), self.clock.now(), name, data))
        self.on_change()

    def hear(self, call: Call, kind: str, text: str) -> None:
        """Note what the far end of ``call`` heard or did (see :class:`~.models.Heard`)."""
        call.heard.append(Heard(self.clock.now(), kind, text))
        self.on_change()

    def _at(self, call: Call, name: str, delay: float, action: Callable[[], None]) -> None:
        """(Re)arm the call's timer ``name``; it is cancelled when the call ends."""
        self._cancel(call, name)
        call.timers[name] = self.clock.schedule(delay, action)

    def cancel(self, call: Call, name: str) -> None:
        """Cancel the call's timer ``name``, if armed."""
        self._cancel(call, name)

    @staticmethod
    def _cancel(call: Call, *names: str) -> None:
        for name in names:
            timer = call.timers.pop(name, None)
            if timer is not None:
                timer.cancel()

    def _new_call(self, direction: str, from_: str, to: str, base_url: str, delivery: Delivery) -> Call:
        far_number = to if direction == "out" else from_
        far_end = self.behaviours.for_number(far_number)
        call = Call(
            id=self.ids.new("c"),
            direction=direction,
            from_=from_,
            to=to,
            base_url=base_url,
            start=self.clock.now(),
            far_end=far_end,
            delivery=delivery,
            seq=next(self._seq),
            scripted_digits=deque(far_end.presses),
        )
        self.calls[call.id] = call
        self._log(call, "create")
        self.hear(call, "state", "ringing" if direction == "out" else f"calling {to}")
        return call

    # ------------------------------------------------------------------------------------ creating calls

    def create(self, params: CallParams, base_url: str) -> Call:
        """An outbound call: it starts ringing the far end at once."""
        delivery = Delivery(params.callback_url, params.callback_method, params.callback_timeout, params.fallback_url)
        call = self._new_call("out", params.from_, params.to, base_url, delivery)
        call.call_timeout = params.call_timeout
        call.bridge_id = params.bridge_id
        call.conference_id = params.conference_id
        call.recording_enabled = params.recording_enabled
        call.recording_max = params.recording_max
        call.recording_format = params.recording_format
        call.transcription_enabled = params.transcription_enabled
        call.tag = params.tag
        call.sip_headers = params.sip_headers
        self._ring(call)
        return call

    def dial(
        self,
        from_: str,
        to: str,
        base_url: str,
        delivery: Delivery,
        call_timeout: int,
        tag: str | None,
        queued_for: float = 0.0,
    ) -> Call:
        """An outbound call a platform's REST API created: it starts ringing the far end after ``queued_for``
        simulated seconds in the platform's queue (its timer ``queue`` meanwhile), at once by default."""
        call = self._new_call("out", from_, to, base_url, delivery)
        call.call_timeout = call_timeout
        call.tag = tag
        if queued_for > 0:
            self._at(call, "queue", queued_for, lambda: self._dequeue(call))
        else:
            self._ring(call)
        return call

    def _dequeue(self, call: Call) -> None:
        call.timers.pop("queue", None)
        call.start = self.clock.now()  # the call starts when it leaves the queue
        self.on_change()
        self._ring(call)

    def _ring(self, call: Call) -> None:
        # the timeout is armed first so that, at equal times, it wins over an answer at that instant
        self._at(call, "ring-timeout", call.call_timeout, lambda: self._timeout(call))
        far_end = call.far_end
        if far_end.outcome == "answer":
            self._at(call, "ring", far_end.answer_after, lambda: self._answer(call))
        elif far_end.outcome == "busy":
            self._at(call, "ring", far_end.answer_after, lambda: self._end(call, "USER_BUSY"))
        elif far_end.outcome == "reject":
            self._at(call, "ring", far_end.answer_after, lambda: self._end(call, "CALL_REJECTED", "rejected"))

    def place_inbound(
        self,
        from_: str,
        to: str,
        base_url: str,
        delivery: Delivery | None = None,
        auto_answer: bool | None = None,
        diversion: dict[str, Any] | None = None,
        application_id: str | None = None,
    ) -> Call:
        """An inbound call from ``from_`` to our number ``to``: ``incomingcall`` (+ ``answer``)."""
        call = self._new_call("in", from_, to, base_url, delivery or self.options.inbound)
        call.diversion = diversion
        call.application_id = application_id
        self._emit(call, self.events.incomingcall(call, self.clock.iso()))
        if self.options.auto_answer if auto_answer is None else auto_answer:
            self._answer(call)
        else:
            # the caller gives up after the ring time
            self._at(call, "ring-timeout", call.call_timeout, lambda: self._end(call, "ORIGINATOR_CANCEL"))
        return call

    # -------------------------------------------------------------------------------- answer and ending

    def _answer(self, call: Call) -> None:
        self._cancel(call, "ring", "ring-timeout")
        call.state = "active"
        call.active = self.clock.now()
        self.hear(call, "state", "answered")
        answer = self.events.answer(call, self.clock.iso())
        if answer is not None and self.bxml is not None and self.bxml.runs(call):
            self.bxml.start(call, answer)  # the reply to this answer is the call's first document
        else:
            self._emit(call, answer)
        if call.far_end.hangup_on == "answer":
            self._arm_far_hangup(call)
        if call.recording_enabled:  # after the far end's hangup is armed: speaking into it may bring that forward
            self._start_recording(call)
        if self.bxml is not None and self.bxml.leg_answered(call):
            return
        parent = self.calls.get(call.parent or "")
        if parent is not None and not parent.ended:
            call.bridge_id = parent.bridge_id = self.ids.new("brg")
            parent.state = "active"
            self._log(parent, "bridge", call.id)
            self.hear(parent, "state", f"connected to {call.to}")

    def _timeout(self, call: Call) -> None:
        self._cancel(call, "ring")
        self._emit(call, self.events.timeout(call, self.clock.iso()))
        self._end(call, "NO_ANSWER", emit_hangup=self.options.hangup_after_timeout)

    def _end(self, call: Call, cause: str, state: str = "completed", *, emit_hangup: bool = True) -> None:
        if call.ended:
            return
        for timer in call.timers.values():
            timer.cancel()
        call.timers.clear()
        call.keys.clear()
        if call.audio is not None:
            self._audio_done(call)
        if call.gather is not None:
            self._finish_gather(call, "hung-up")
        was_answered = call.state in ("active", "transferring")
        call.state = state
        call.end = self.clock.now()
        self.hear(call, "state", f"ended: {cause}")
        if self.recording_before_hangup and call.recording is not None and call.recording.on_stop is not None:
            self._stop_recording(call)  # a verb's recording (Twilio's <Record>): its action before the ending
        if emit_hangup:
            self._emit(call, self.events.hangup(call, cause, self.clock.iso()))
        if call.recording is not None:
            self._stop_recording(call)
        if self.bxml is not None and self.bxml.call_ended(call, was_answered):
            return
        self._end_peers(call, was_answered)

    def end(self, call: Call, cause: str = "NORMAL_CLEARING") -> None:
        """End the call (no-op when it has ended): ``hangup`` with ``cause``."""
        self._end(call, cause)

    def new_leg(self, parent: Call, from_: str, to: str, call_timeout: int) -> Call:
        """A quiet outbound leg to ``to`` for ``parent``'s BXML transfer, ringing at once."""
        leg = self._new_call("out", from_, to, parent.base_url, Delivery(None))
        leg.quiet = True
        leg.call_timeout = call_timeout
        self._log(parent, "transfer", leg.id)
        self._ring(leg)
        return leg

    def bridge(self, a_leg: Call, b_leg: Call) -> None:
        """Join two answered legs (the A-leg is ``active`` again)."""
        a_leg.child, b_leg.parent = b_leg.id, a_leg.id
        b_leg.bridge_id = a_leg.bridge_id = self.ids.new("brg")
        a_leg.state = "active"
        self._log(a_leg, "bridge", b_leg.id)
        self.hear(a_leg, "state", f"connected to {b_leg.to}")

    def _end_peers(self, call: Call, was_answered: bool) -> None:
        parent = self.calls.get(call.parent or "")
        if parent is not None and not parent.ended:
            if was_answered:
                self._emit(parent, self.events.transfer_complete(parent, call, self.clock.iso()))
                self._end(parent, "NORMAL_CLEARING")
            elif parent.state == "transferring":
                parent.state = "active"  # nobody answered: the A-leg carries on
        child = self.calls.get(call.child or "")
        if child is not None and not child.ended:
            self._end(child, "NORMAL_CLEARING" if child.state == "active" else "ORIGINATOR_CANCEL")

    # ---------------------------------------------------------------------------------- app's updates

    def update(self, call: Call, params: UpdateParams) -> Call | None:
        """Apply ``POST /calls/{id}``; returns the new B-leg for a transfer."""
        if call.ended:
            raise errors.invalid_state(call.id, call.state)
        if params.state == "transferring" and call.state != "active":
            raise errors.invalid_state(call.id, call.state, f"Only an active call can be transferred ({call.state})")
        if params.state == "transferring" and call.child is not None and not self.calls[call.child].ended:
            raise errors.invalid_state(call.id, call.state, "The call is already bridged to another leg")
        answering_answered = call.state == "active" and params.state == "active"  # a harmless no-op
        unanswered_inbound = call.direction == "in" and call.state == "started"
        if params.state in ("active", "rejected") and not (answering_answered or unanswered_inbound):
            raise errors.invalid_state(
                call.id, call.state, f"Only an unanswered inbound call can be set to {params.state}"
            )
        self._apply_settings(call, params)
        if params.state == "active" and call.state == "started":
            self._answer(call)
        elif params.state == "rejected":
            self._end(call, "CALL_REJECTED", "rejected")
        elif params.state == "completed":
            self._hang_up(call)
        elif params.state == "transferring":
            return self._transfer(call, params)
        return None

    def _apply_settings(self, call: Call, params: UpdateParams) -> None:
        if params.tag is not None:
            call.tag = params.tag
        if params.has_callback_url and params.state != "transferring":  # on a transfer it is the B-leg's
            call.delivery = Delivery(
                params.callback_url, call.delivery.method, call.delivery.timeout_ms, call.delivery.fallback_url
            )
        if params.recording_format is not None:
            call.recording_format = params.recording_format
        if params.recording_max is not None:
            call.recording_max = params.recording_max
        if params.transcription_enabled is not None:
            call.transcription_enabled = params.transcription_enabled
        if params.recording_enabled is not None:
            call.recording_enabled = params.recording_enabled
            if params.recording_enabled and call.recording is None and call.state == "active":
                self._start_recording(call)
            elif not params.recording_enabled and call.recording is not None:
                self._stop_recording(call)

    def _hang_up(self, call: Call) -> None:
        if call.state == "started":
            self._end(call, "ORIGINATOR_CANCEL" if call.direction == "out" else "CALL_REJECTED")
        else:
            self._end(call, "NORMAL_CLEARING")

    def _transfer(self, call: Call, params: UpdateParams) -> Call:
        assert params.transfer_to is not None
        our_number = call.from_ if call.direction == "out" else call.to
        delivery = Delivery(params.callback_url, call.delivery.method, call.delivery.timeout_ms)
        leg = self._new_call(
            "out", params.transfer_caller_id or our_number, params.transfer_to, call.base_url, delivery
        )
        leg.call_timeout = call.call_timeout
        leg.parent = call.id
        call.child = leg.id
        call.state = "transferring"
        call.transfer_to = params.transfer_to
        call.transfer_caller_id = params.transfer_caller_id
        call.whisper_audio = params.whisper_audio
        self._log(call, "transfer", leg.id)
        self.hear(call, "state", f"transferring to {params.transfer_to}")
        self._ring(leg)
        return leg

    # -------------------------------------------------------------------------------- audio and dtmf

    def _require_active(self, call: Call, what: str) -> None:
        if call.state != "active":
            raise errors.invalid_state(call.id, call.state, f"Cannot {what} a call in state {call.state}")

    def audio(self, call: Call, params: AudioParams) -> None:
        """Speak or play (stopping whatever plays), or stop with an empty sentence/fileUrl."""
        self._require_active(call, "play audio on")
        if call.audio is not None:
            self._audio_done(call)
        if not params.text:
            return
        call.audio = Audio(params.kind, params.tag, params.text)
        self.hear(call, "speak" if params.kind == "speak" else "play", params.text)
        self._emit(call, self.events.audio(call, params.kind, True, params.tag, self.clock.iso()))
        if not params.loop:  # a looping prompt plays until stopped or hung up
            self._at(call, "audio", self._duration(params.kind, params.text), lambda: self._audio_done(call, True))

    def _duration(self, kind: str, text: str) -> float:
        if kind == "speak":
            return max(1.0, len(text) / self.options.speech_chars_per_second)
        return self.options.playback_seconds

    def _audio_done(self, call: Call, finished: bool = False) -> None:
        audio, call.audio = call.audio, None
        self._cancel(call, "audio")
        if audio is None:
            return
        self._emit(call, self.events.audio(call, audio.kind, False, audio.tag, self.clock.iso()))
        if finished and call.far_end.press_on == "prompt":
            self._press_next(call)
        if finished and call.far_end.hangup_on == "prompt" and "far-hangup" not in call.timers:
            self._arm_far_hangup(call)

    def _arm_far_hangup(self, call: Call) -> None:
        if call.far_end.hangup_after is not None and not call.far_end.is_manual:
            self._at(call, "far-hangup", call.far_end.hangup_after, lambda: self._end(call, "NORMAL_CLEARING"))

    def send_dtmf(self, call: Call, digits: str) -> None:
        """DTMF to the far end: only logged (the far end's reactions are scripted)."""
        self._require_active(call, "send DTMF on")
        self._log(call, "dtmf-out", digits)
        self.hear(call, "tones", digits)

    # ------------------------------------------------------------------------- the far end, by hand

    def press(self, call: Call, digits: str) -> None:
        """The far end presses ``digits`` (0-9, *, #, A-D): each key is a ``dtmf`` event and feeds a gather."""
        if not digits or len(digits) > MAX_DTMF_OUT or set(digits) - _KEYS:
            message = f"digits must be 1 to {MAX_DTMF_OUT} of 0-9, *, #, A-D"
            raise errors.validation_error("digits", digits[:MAX_DTMF_OUT], message)
        self._require_active(call, "press keys on")
        call.keys.extend(digits)
        if "keys" not in call.timers:  # the first key goes at once, the rest one digit_interval apart
            self._at(call, "keys", 0, lambda: self._press_key(call))

    def far_end_answers(self, call: Call) -> None:
        """The callee of a ringing outbound call answers."""
        self._require_ringing_outbound(call, "answer")
        self._answer(call)

    def far_end_rejects(self, call: Call) -> None:
        """The callee of a ringing outbound call declines it: ``hangup`` with ``CALL_REJECTED``."""
        self._require_ringing_outbound(call, "reject")
        self._end(call, "CALL_REJECTED", "rejected")

    def far_end_hangs_up(self, call: Call) -> None:
        """The far end hangs up: a ringing outbound call is rejected, a ringing inbound caller gives up
        (``ORIGINATOR_CANCEL``), an answered call ends with ``NORMAL_CLEARING``."""
        if call.ended:
            raise errors.invalid_state(call.id, call.state, f"The call has already ended ({call.state})")
        if call.state == "started" and call.direction == "out":
            self._end(call, "CALL_REJECTED", "rejected")
        else:
            self._end(call, "ORIGINATOR_CANCEL" if call.state == "started" else "NORMAL_CLEARING")

    @staticmethod
    def _require_ringing_outbound(call: Call, what: str) -> None:
        if call.direction != "out" or call.state != "started":
            message = f"Only a ringing outbound call can be told to {what} (this one is {call.direction}, {call.state})"
            raise errors.invalid_state(call.id, call.state, message)

    def _press_next(self, call: Call) -> None:
        # "" is a turn in which nothing is pressed: it is used up, and no key timer starts
        if call.scripted_digits and (keys := call.scripted_digits.popleft()):
            call.keys.extend(keys)
            if "keys" not in call.timers:
                self._at(call, "keys", call.far_end.digit_interval, lambda: self._press_key(call))

    def _press_key(self, call: Call) -> None:
        call.timers.pop("keys", None)
        key = call.keys.popleft()
        if key in _PAUSES:
            delay = _PAUSES[key]
        else:
            delay = call.far_end.digit_interval
            self.hear(call, "key", key)
            if self.bxml is None or not self.bxml.controls(call):  # BXML has no dtmf callback
                self._emit(call, self.events.dtmf(call, key, self.clock.iso()))
            if call.gather is not None:
                self._gather_key(call, call.gather, key)
            elif call.recording is not None and key in call.recording.finish_keys:
                call.recording.finished_on_key = key
                self._stop_recording(call)
        if call.keys:
            self._at(call, "keys", delay, lambda: self._press_key(call))

    # -------------------------------------------------------------------------------------- gathers

    def start_gather(self, call: Call, params: GatherParams) -> Gather:
        """Start collecting digits (409 when one is running)."""
        self._require_active(call, "gather digits on")
        if call.gather is not None:
            raise errors.conflict(call.id, call.gather.id)
        gather = Gather(
            id=self.ids.new("g"),
            created=self.clock.now(),
            max_digits=params.max_digits,
            inter_digit_timeout=params.inter_digit_timeout,
            terminating_digits=params.terminating_digits,
            tag=params.tag,
            prompt=params.prompt,
        )
        if params.prompt and params.prompt.get("sentence"):
            self.hear(call, "speak", str(params.prompt["sentence"]))
        elif params.prompt and params.prompt.get("fileUrl"):
            self.hear(call, "play", str(params.prompt["fileUrl"]))
        self.open_gather(call, gather, self._prompt_seconds(params.prompt))
        return gather

    def open_gather(self, call: Call, gather: Gather, prompt_seconds: float) -> None:
        """Start collecting digits for ``gather`` while a prompt of ``prompt_seconds`` plays."""
        call.gather = gather
        call.gathers[gather.id] = gather
        self._log(call, "gather-start", gather.id)
        most = "any number of digits" if gather.max_digits is None else f"up to {gather.max_digits}"
        if gather.max_digits is not None:
            most += " digit" if gather.max_digits == 1 else " digits"
        ends = f", ended by {gather.terminating_digits}" if gather.terminating_digits else ""
        self.hear(call, "gather", f"waiting for {most}{ends}")
        # A prompt plays silently (no speak/playback events: the docs don't show any for gather prompts);
        # the inter-digit timer starts when it ends. Digits pressed meanwhile barge in.
        self._at(call, "gather", prompt_seconds + gather.inter_digit_timeout, lambda: self._gather_timeout(call))
        if call.far_end.press_on == "gather":
            self._press_next(call)
        elif prompt_seconds:
            self._at(call, "prompt", prompt_seconds, lambda: self._press_next(call))

    def _prompt_seconds(self, prompt: dict[str, Any] | None) -> float:
        if not prompt:
            return 0.0
        if prompt.get("sentence"):
            return self._duration("speak", str(prompt["sentence"]))
        return self._duration("playback", "") if prompt.get("fileUrl") else 0.0

    def _gather_key(self, call: Call, gather: Gather, key: str) -> None:
        self._cancel(call, "prompt")
        if key in gather.terminating_digits:
            self._finish_gather(call, "terminating-digit", key)
            return
        gather.digits += key
        if gather.max_digits is not None and len(gather.digits) >= gather.max_digits:
            self._finish_gather(call, "max-digits")
        else:
            self._at(call, "gather", gather.inter_digit_timeout, lambda: self._gather_timeout(call))

    def _gather_timeout(self, call: Call) -> None:
        call.timers.pop("gather", None)
        self._finish_gather(call, "inter-digit-timeout")

    def stop_gather(self, call: Call, gather: Gather) -> None:
        """``POST …/gather/{id}`` with ``state=completed``: end it with reason ``cancelled``.

        The ``cancelled`` reason is unconfirmed: only the C# SDK's enum knows it
        (docs/platforms/catapult-voice.md#gather).
        """
        if call.gather is gather:
            self._finish_gather(call, "cancelled")

    def _finish_gather(self, call: Call, reason: str, terminating_digit: str | None = None) -> None:
        gather, call.gather = call.gather, None
        self._cancel(call, "gather", "prompt")
        if gather is None:
            return
        gather.state = "completed"
        gather.reason = reason
        gather.completed = self.clock.now()
        self.hear(call, "gathered", f"{gather.digits or 'no digits'} ({reason})")
        if gather.on_finish is not None:
            gather.on_finish(gather, terminating_digit)
            return
        self._emit(call, self.events.gather(call, gather, terminating_digit, self.clock.iso()))

    # ---------------------------------------------------------------------------- recording & speech

    def _start_recording(self, call: Call) -> None:
        self.start_recording(call, Recording(self.ids.new("rec"), self.clock.now(), call.recording_format))

    def start_recording(self, call: Call, recording: Recording, max_seconds: float | None = None) -> None:
        """Record ``call`` until stopped, hung up or ``max_seconds`` (default the call's ``recordingMaxDuration``)."""
        call.recording = recording
        call.recordings.append(recording)
        limit = call.recording_max if max_seconds is None else max_seconds
        self._at(call, "recording-max", limit, lambda: self._stop_recording(call))
        talk = call.far_end.speak_seconds
        if talk is not None:
            # a far end that leaves a message talks for `talk` seconds and then hangs up
            hangup = call.timers.get("far-hangup")
            if hangup is None or hangup.due > self.clock.now() + talk:
                self._at(call, "far-hangup", talk, lambda: self._end(call, "NORMAL_CLEARING"))
        if recording.finish_keys:  # a key can end it: the far end presses its next scripted keys, as in a gather
            self._press_next(call)

    def stop_recording(self, call: Call) -> None:
        """Stop the running recording, if any: ``recording`` (and later ``transcription``) are sent."""
        self._stop_recording(call)

    def _stop_recording(self, call: Call) -> None:
        recording, call.recording = call.recording, None
        self._cancel(call, "recording-max")
        if recording is None:
            return
        recording.end = self.clock.now()
        recording.state = "complete"
        recording.text = self._spoken_text(call, recording.end - recording.start)
        start, end = self.clock.iso(recording.start), self.clock.iso(recording.end)
        body = self.events.recording(call, recording, start, end)
        if body is not None:
            self.log_event(call, body)
        if body is not None and not call.quiet:
            self.send(call.id, body, recording.deliver_to or call.delivery)
        if recording.on_stop is not None:
            recording.on_stop()
        if recording.transcribe_to is not None or (call.transcription_enabled and recording.deliver_to is None):
            # not a call timer: the transcription arrives even though the call has ended
            self.clock.schedule(self.options.transcription_delay, lambda: self._transcribe(call, recording))

    @staticmethod
    def _spoken_text(call: Call, seconds: float) -> str:
        far_end = call.far_end
        if far_end.speak_seconds is None and far_end.says is None:
            return ""
        text = far_end.says or f"This is a simulated message of {far_end.speak_seconds:g} seconds."
        if far_end.speak_seconds:  # cut short when the recording stopped before the speaker did
            words = text.split()
            kept = math.ceil(len(words) * min(1.0, seconds / far_end.speak_seconds))
            text = " ".join(words[:kept])
        return text

    def _transcribe(self, call: Call, recording: Recording) -> None:
        assert recording.end is not None
        transcription = Transcription(
            self.ids.new("tr"), recording.id, recording.text, recording.end - recording.start, self.clock.now()
        )
        call.transcriptions.append(transcription)
        self._log(call, "transcription", transcription.id)
        body = self.events.transcription(call, transcription)
        if body is not None:
            self.send(call.id, body, recording.transcribe_to or call.delivery)
