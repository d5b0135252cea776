"""What the Twilio profile sends when the engine reports a happening on a call: mostly status callbacks.

Twilio has no callback for most of what the engine reports (a prompt that starts or ends, a single key press,
the engine's own gathers): those give ``None``. The Voice URL request is the ``answer`` (the runner sends it and
runs its TwiML); the ``completed`` status callback is the ``hangup``, with the status the call ended in:

=========================  ==============================================================================
engine ending              ``CallStatus``
=========================  ==============================================================================
``NORMAL_CLEARING``        ``completed``
``USER_BUSY``              ``busy``
``CALL_REJECTED``          ``busy`` (the callee declined; ``<Reject>`` sets its own: ``busy``/``no-answer``)
``NO_ANSWER``              ``no-answer``
``ORIGINATOR_CANCEL``      ``canceled``
=========================  ==============================================================================

A recording that stops is told to its ``recordingStatusCallback`` (the ``<Record>``'s, or the
``RecordingStatusCallback`` of a call created with ``Record=true``).
"""

from __future__ import annotations

from collections.abc import Callable

from ..models import Call, Delivery, Gather, Recording, Transcription
from ..payloads import EventBody
from .legs import Leg, Legs, RecordingInfo
from .payloads import TwilioPayloads

__all__ = ["ENDING_STATUS", "TwilioEvents", "status_of"]

ENDING_STATUS = {
    "NORMAL_CLEARING": "completed",
    "USER_BUSY": "busy",
    "CALL_REJECTED": "busy",
    "NO_ANSWER": "no-answer",
    "ORIGINATOR_CANCEL": "canceled",
}

#: ``send(call_id, body, target)``: queue a request after the call's earlier ones.
Send = Callable[[str, EventBody, Delivery], None]


def status_of(leg: Leg) -> str:
    """The call's ``status`` now, in Twilio's words."""
    call = leg.call
    if call.ended:
        return leg.final_status or "completed"
    return "ringing" if call.state == "started" else "in-progress"


class TwilioEvents:
    """The engine's happenings as Twilio requests (see the module docstring); ``send`` queues the ones that go
    elsewhere than the call's status callback URL."""

    def __init__(self, legs: Legs, payloads: TwilioPayloads, send: Send) -> None:
        self.legs = legs
        self.payloads = payloads
        self.send = send

    def status_callback(self, leg: Leg, event: str) -> None:
        """Send the status callback for ``event`` (``initiated``, ``ringing``, ``answered``) if it was asked for."""
        if leg.status is not None and leg.status.url and event in leg.events:
            status = event if event in ("initiated", "ringing") else status_of(leg)
            self.send(leg.call.id, self.payloads.status(leg, event, status), leg.status)

    def incomingcall(self, call: Call, time: str) -> EventBody | None:
        """An inbound call to the Voice URL (the call's delivery): the request for its TwiML goes on answer."""
        self.legs.add(Leg(call, "inbound", voice=call.delivery, status=None))
        return None

    def answer(self, call: Call, time: str) -> EventBody | None:
        """The request for the call's TwiML (``ringing`` for an inbound call, which Twilio answers after it)."""
        leg = self.legs.of(call)
        if call.quiet:
            return None
        status = "ringing" if leg.direction == "inbound" else "in-progress"
        return self.payloads.call(leg, status, answered_by="human" if leg.machine_detection else None)

    def hangup(self, call: Call, cause: str, time: str) -> EventBody | None:
        """The ``completed`` status callback (when asked for), whatever the call ended as."""
        leg = self.legs.of(call)
        if leg.final_status is None:
            leg.final_status = ENDING_STATUS.get(cause, "failed")
        if leg.status is None or not leg.status.url or "completed" not in leg.events:
            return None
        body = self.payloads.status(leg, "completed", leg.final_status)
        if call.quiet:  # a dialled leg: the engine sends nothing for it, its Number's statusCallback is told here
            self.send(call.id, body, leg.status)
            return None
        return body

    def timeout(self, call: Call, time: str) -> EventBody | None:
        """Nobody answered in ``Timeout`` seconds: the ending is ``no-answer``."""
        self.legs.of(call).final_status = "no-answer"
        return None

    def audio(self, call: Call, kind: str, started: bool, tag: str | None, time: str) -> EventBody | None:
        """No Twilio callback."""
        return None

    def dtmf(self, call: Call, digit: str, time: str) -> EventBody | None:
        """No Twilio callback (keys reach the application through ``<Gather>``)."""
        return None

    def gather(self, call: Call, gather: Gather, terminating_digit: str | None, time: str) -> EventBody | None:
        """No Twilio callback (the runner sends a ``<Gather>``'s action)."""
        return None

    def transfer_complete(self, a_leg: Call, b_leg: Call, time: str) -> EventBody | None:
        """No Twilio callback (the runner sends a ``<Dial>``'s action)."""
        return None

    def recording(self, call: Call, recording: Recording, start: str, end: str) -> EventBody | None:
        """Tell the recording's ``recordingStatusCallback`` (sent here: it is not the call's status URL); a
        ``<Record>``'s is the runner's to send, after the Record action."""
        info = self.legs.recording_of(recording)
        if info is None:  # a call created with Record=true
            leg = self.legs.of(call)
            info = self.legs.add_recording(RecordingInfo(recording, leg.sid, "OutboundAPI", leg.recording_callback))
        if not info.after_action:
            self.recording_status(call, info)
        return None

    def recording_status(self, call: Call, info: RecordingInfo) -> None:
        """Send ``info``'s ``recordingStatusCallback``, when it has one: the recording is stored."""
        if info.status_callback is not None and info.status_callback.url:
            self.send(call.id, self.payloads.recording_status(self.legs.of(call), info), info.status_callback)

    def transcription(self, call: Call, transcription: Transcription) -> EventBody | None:
        """Not simulated for Twilio."""
        return None
