"""Callback event bodies, field for field as in docs/platforms/catapult-voice.md#events.

Tag rule (docs/platforms/catapult-voice.md#delivery): the *call's* tag rides on answer (outbound only), hangup, timeout,
dtmf and transferComplete; playback, speak and gather carry the tag of their own request. Optional fields are left out
when unset rather than sent empty, so a GET callback only has ``tag`` when one was set.
"""

from __future__ import annotations

from .models import Call, Gather, Recording, Transcription
from .urls import Urls

__all__ = ["EventBody", "EventFactory"]

EventBody = dict[str, object]


class EventFactory:
    """Builds event bodies; ``time`` is the simulated timestamp the caller passes in."""

    def __init__(self, urls: Urls, application_id: str) -> None:
        self.urls = urls
        self.application_id = application_id

    def _head(self, call: Call, event_type: str, parties: bool) -> EventBody:
        body: EventBody = {"eventType": event_type}
        if parties:
            body["from"] = call.from_
            body["to"] = call.to
        body["callId"] = call.id
        body["callUri"] = self.urls.call(call.base_url, call.id)
        return body

    @staticmethod
    def _tail(body: EventBody, tag: str | None, time: str) -> EventBody:
        if tag is not None:
            body["tag"] = tag
        body["time"] = time
        return body

    def incomingcall(self, call: Call, time: str) -> EventBody:
        """An inbound call arrived; ``callState`` is ``active`` as in the docs' example."""
        body = self._head(call, "incomingcall", parties=True)
        body["callState"] = "active"
        body["applicationId"] = call.application_id or self.application_id
        if call.diversion is not None:
            body["diversion"] = call.diversion
        return self._tail(body, None, time)

    def answer(self, call: Call, time: str) -> EventBody:
        """The call was answered (no tag on inbound calls, docs/platforms/catapult-voice.md#answer)."""
        body = self._head(call, "answer", parties=True)
        body["callState"] = "active"
        if call.diversion is not None:
            body["diversion"] = call.diversion
        return self._tail(body, call.tag if call.direction == "out" else None, time)

    def hangup(self, call: Call, cause: str, time: str) -> EventBody:
        """The call ended (rejects too, with ``cause=CALL_REJECTED``)."""
        body = self._head(call, "hangup", parties=True)
        body["callState"] = "completed"
        body["cause"] = cause
        return self._tail(body, call.tag, time)

    def timeout(self, call: Call, time: str) -> EventBody:
        """Nobody answered within ``callTimeout`` (no ``callState``, as in docs/platforms/catapult-voice.md#timeout)."""
        return self._tail(self._head(call, "timeout", parties=True), call.tag, time)

    def audio(self, call: Call, kind: str, started: bool, tag: str | None, time: str) -> EventBody:
        """``playback`` or ``speak`` started/done; speak also carries ``state``."""
        body = self._head(call, kind, parties=False)
        body["status"] = "started" if started else "done"
        if kind == "speak":
            body["state"] = "PLAYBACK_START" if started else "PLAYBACK_STOP"
        return self._tail(body, tag, time)

    def dtmf(self, call: Call, digit: str, time: str) -> EventBody:
        """One key press from the far end (``dtmfDuration`` as a string, like the SDK fixture)."""
        body = self._head(call, "dtmf", parties=False)
        body["dtmfDigit"] = digit
        body["dtmfDuration"] = "160"
        return self._tail(body, call.tag, time)

    def gather(self, call: Call, gather: Gather, terminating_digit: str | None, time: str) -> EventBody:
        """A gather completed; ``terminatingDigit`` only when that digit ended it."""
        body = self._head(call, "gather", parties=False)
        body["gatherId"] = gather.id
        body["state"] = "completed"
        body["reason"] = gather.reason
        body["digits"] = gather.digits
        if terminating_digit is not None:
            body["terminatingDigit"] = terminating_digit
        return self._tail(body, gather.tag, time)

    def transfer_complete(self, a_leg: Call, b_leg: Call, time: str) -> EventBody:
        """To the A-leg when the bridged B-leg hangs up: ``from``/``to`` are the B-leg's."""
        body: EventBody = {
            "eventType": "transferComplete",
            "from": b_leg.from_,
            "to": b_leg.to,
            "callId": a_leg.id,
            "callUri": self.urls.call(a_leg.base_url, a_leg.id),
            "callState": "active",
        }
        return self._tail(body, a_leg.tag, time)

    def recording(self, call: Call, recording: Recording, start: str, end: str) -> EventBody:
        """A recording was saved; no ``time`` and no ``callUri`` (docs/platforms/catapult-voice.md#recording)."""
        return {
            "eventType": "recording",
            "callId": call.id,
            "recordingId": recording.id,
            "recordingUri": self.urls.recording(call.base_url, recording.id),
            "state": "complete",
            "status": "complete",
            "startTime": start,
            "endTime": end,
        }

    def transcription(self, call: Call, transcription: Transcription) -> EventBody:
        """A transcription finished; no ``callId`` and no ``time``
        (docs/platforms/catapult-voice.md#transcription-beta)."""
        base = call.base_url
        return {
            "eventType": "transcription",
            "transcriptionId": transcription.id,
            "recordingId": transcription.recording_id,
            "transcriptionUri": self.urls.transcription(base, transcription.recording_id, transcription.id),
            "state": "completed",
            "status": "completed",
            "text": transcription.text[:1026],
            "textSize": len(transcription.text),
            "textUrl": self.urls.media(base, transcription.id),
        }
