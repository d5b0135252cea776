"""What Voice API v2 adds to the engine's call records, and the callback bodies built from them.

The engine's :class:`~callhooks.simulator.models.Call` keeps the state machine; :class:`V2Call` keeps what v2
shows on top of it (the application, the answer and disconnect webhooks, the ``cause`` in v2's words, a
transfer leg's parent). Bodies follow the field matrix of docs/platforms/bandwidth-v2-callbacks.md#event-types:
the common fields, ``tag`` only while one is set, a transfer leg's ``parentCallId``/``transferCallerId``/
``transferTo``, and ``answerTime`` once answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..clock import SimClock
from ..models import Call, Delivery, Gather, Recording, Transcription
from ..payloads import EventBody

__all__ = ["CAUSES", "V2Call", "V2Calls", "V2Events", "V2Recording", "duration", "v2_cause"]

#: The engine's (Catapult's) ending causes in v2's vocabulary; v2 causes the runner gives pass through.
CAUSES = {
    "NORMAL_CLEARING": "hangup",
    "USER_BUSY": "busy",
    "NO_ANSWER": "timeout",
    "ORIGINATOR_CANCEL": "cancel",
    "CALL_REJECTED": "rejected",
}
_V2_CAUSES = frozenset(
    {*CAUSES.values(), "callback-error", "invalid-bxml", "application-error", "account-limit", "error", "unknown"}
)


def v2_cause(cause: str) -> str:
    """``cause`` as v2 spells it (``unknown`` for one it has no word for)."""
    cause = CAUSES.get(cause, cause)
    return cause if cause in _V2_CAUSES else "unknown"


def duration(seconds: float) -> str:
    """An ISO 8601 duration, as v2 writes them: ``PT20.056S``."""
    return f"PT{seconds:.3f}S"


@dataclass
class V2Recording:
    """A recording as v2 lists it: the engine's recording plus its channels and whether it was deleted."""

    recording: Recording
    call_id: str
    channels: int = 1
    deleted: bool = False
    media_deleted: bool = False
    transcription: Transcription | None = None


@dataclass
class V2Call:
    """A call's v2 data: where its answer/initiate and disconnect go, its application, its ending."""

    call: Call
    account_id: str
    application_id: str
    answer: Delivery
    disconnect: Delivery | None
    callback_timeout_ms: int
    priority: int = 5
    enqueued: float | None = None
    last_update: float = 0.0
    cause: str | None = None
    error_message: str | None = None
    parent_call_id: str | None = None
    transfer_caller_id: str | None = None
    transfer_to: str | None = None
    recordings: dict[str, V2Recording] = field(default_factory=dict)
    #: Where ``dtmf`` webhooks go while a ``<StartGather>`` listens.
    dtmf: Delivery | None = None

    @property
    def queued(self) -> bool:
        """Whether the call still waits in the account's outbound queue."""
        return "queue" in self.call.timers

    @property
    def state(self) -> str:
        """``queued``, ``initiated``, ``answered`` or ``disconnected`` (v2's ``CallState.state``)."""
        if self.call.ended:
            return "disconnected"
        if self.queued:
            return "queued"
        return "initiated" if self.call.state == "started" else "answered"


class V2Calls:
    """Every call's v2 record, by call id; calls the engine made for the profile (inbound, transfer legs) get
    one with the account's defaults when first seen."""

    def __init__(self, clock: SimClock, account_id: str, application_id: str, callback_timeout_ms: int) -> None:
        self.clock = clock
        self.account_id = account_id
        self.application_id = application_id
        self.callback_timeout_ms = callback_timeout_ms
        self.by_id: dict[str, V2Call] = {}

    def add(self, record: V2Call) -> V2Call:
        """Keep ``record``."""
        record.last_update = self.clock.now()
        self.by_id[record.call.id] = record
        return record

    def of(self, call: Call) -> V2Call:
        """The record of ``call`` (an inbound call's sends everything to the URL it rang)."""
        record = self.by_id.get(call.id)
        if record is None:
            timeout = call.delivery.timeout_ms or self.callback_timeout_ms
            record = self.add(
                V2Call(
                    call,
                    self.account_id,
                    call.application_id or self.application_id,
                    call.delivery,
                    call.delivery if call.delivery.url else None,
                    timeout,
                )
            )
        return record

    def touch(self, call: Call) -> None:
        """The call changed state (``lastUpdate``)."""
        self.of(call).last_update = self.clock.now()

    def call_url(self, call: Call) -> str:
        """``callUrl``: the call's resource."""
        return f"{call.base_url}/api/v2/accounts/{self.account_id}/calls/{call.id}"


class V2Events:
    """The v2 callback bodies, for the engine (initiate, answer, disconnect) and the BXML runner (the rest).

    The engine's REST-mode events (speak, playback, dtmf, gather, timeout, transferComplete, recording and
    transcription) have no v2 counterpart: ``None``, nothing is sent.
    """

    def __init__(self, calls: V2Calls) -> None:
        self.calls = calls
        self.clock = calls.clock

    def common(self, call: Call, event_type: str) -> EventBody:
        """The fields every call event carries."""
        record = self.calls.of(call)
        body: EventBody = {
            "eventType": event_type,
            "eventTime": self.clock.iso(),
            "accountId": record.account_id,
            "applicationId": record.application_id,
            "from": call.from_,
            "to": call.to,
            "direction": "inbound" if call.direction == "in" else "outbound",
            "callId": call.id,
            "callUrl": self.calls.call_url(call),
        }
        if record.enqueued is not None:
            body["enqueuedTime"] = self.clock.iso(record.enqueued)
        body["startTime"] = self.clock.iso(call.start)
        if call.active is not None and event_type != "initiate":
            body["answerTime"] = self.clock.iso(call.active)
        if call.tag:
            body["tag"] = call.tag
        if record.parent_call_id is not None:
            body["parentCallId"] = record.parent_call_id
            body["transferCallerId"] = record.transfer_caller_id
            body["transferTo"] = record.transfer_to
        return body

    # -- what the engine asks for ------------------------------------------------------------------------------

    def incomingcall(self, call: Call, time: str) -> EventBody | None:
        """Nothing: v2's ``initiate`` is the inbound call's first synchronous webhook (see :meth:`answer`)."""
        return None

    def answer(self, call: Call, time: str) -> EventBody | None:
        """``answer`` for an outbound call, ``initiate`` for an inbound one (the engine answers those at once)."""
        self.calls.touch(call)
        if call.direction == "in":
            body = self.common(call, "initiate")
            if call.diversion is not None:
                body["diversion"] = call.diversion
            return body
        return self.common(call, "answer")

    def hangup(self, call: Call, cause: str, time: str) -> EventBody | None:
        """``disconnect`` with v2's ``cause`` (recorded for ``GET`` too); none without a disconnect URL."""
        record = self.calls.of(call)
        record.cause = record.cause or v2_cause(cause)
        self.calls.touch(call)
        if record.disconnect is None or not record.disconnect.url:
            return None
        return self.disconnect(call)

    def disconnect(self, call: Call, event_type: str = "disconnect") -> EventBody:
        """``disconnect`` (or a transfer leg's ``transferDisconnect``): ``endTime``, ``cause``, ``errorMessage``."""
        record = self.calls.of(call)
        body = self.common(call, event_type)
        body["endTime"] = self.clock.iso(call.end)
        body["cause"] = record.cause or "hangup"
        if record.error_message:
            body["errorMessage"] = record.error_message
        return body

    def timeout(self, call: Call, time: str) -> EventBody | None:
        """Nothing: the ``disconnect`` that follows says ``cause=timeout``."""
        self.calls.of(call).cause = "timeout"
        return None

    def audio(self, call: Call, kind: str, started: bool, tag: str | None, time: str) -> EventBody | None:
        """Nothing (v2 has no speak/playback events)."""
        return None

    def dtmf(self, call: Call, digit: str, time: str) -> EventBody | None:
        """``dtmf`` with the ``digit`` while a ``<StartGather>`` listens (the profile sends it to its ``dtmfUrl``)."""
        if self.calls.of(call).dtmf is None:
            return None
        body = self.common(call, "dtmf")
        body["digit"] = digit
        return body

    def gather(self, call: Call, gather: Gather, terminating_digit: str | None, time: str) -> EventBody | None:
        """Nothing from the engine: the runner sends ``<Gather>``'s webhook (:meth:`gathered`)."""
        return None

    def transfer_complete(self, a_leg: Call, b_leg: Call, time: str) -> EventBody | None:
        """Nothing from the engine: the runner sends ``transferComplete``."""
        return None

    def recording(self, call: Call, recording: Recording, start: str, end: str) -> EventBody | None:
        """Nothing from the engine: the runner sends ``recordComplete`` and ``recordingAvailable``."""
        return None

    def transcription(self, call: Call, transcription: Transcription) -> EventBody | None:
        """Nothing from the engine: the runner sends ``transcriptionAvailable``."""
        return None

    # -- what the runner sends ---------------------------------------------------------------------------------

    def gathered(self, call: Call, gather: Gather, terminating_digit: str | None) -> EventBody:
        """``gather``: ``digits`` and ``terminatingDigit`` (``""`` when none ended it)."""
        body = self.common(call, "gather")
        body["digits"] = gather.digits
        body["terminatingDigit"] = terminating_digit or ""
        return body

    def recorded(self, call: Call, recording: V2Recording, event_type: str) -> EventBody:
        """``recordComplete``, ``recordingAvailable`` or ``transcriptionAvailable``: the recording's fields."""
        rec = recording.recording
        assert rec.end is not None
        body = self.common(call, event_type)
        if event_type != "recordComplete":
            body.pop("answerTime", None)
        body["recordingId"] = rec.id
        body["mediaUrl"] = self.media_url(call, rec.id)
        body["startTime"] = self.clock.iso(rec.start)
        body["endTime"] = self.clock.iso(rec.end)
        body["duration"] = duration(rec.end - rec.start)
        if event_type != "transcriptionAvailable":
            body["channels"] = recording.channels
        body["fileFormat"] = rec.file_format
        if event_type == "recordingAvailable":
            body["status"] = "complete"
        if event_type == "transcriptionAvailable" and recording.transcription is not None:
            body["transcription"] = self.transcription_info(call, recording)
        return body

    def transcription_info(self, call: Call, recording: V2Recording) -> dict[str, object]:
        """The ``transcription`` object of ``transcriptionAvailable`` and of recording metadata."""
        transcription = recording.transcription
        if transcription is None:
            return {"status": "none"}
        return {
            "id": transcription.id,
            "url": self.recording_url(call, recording.recording.id) + "/transcription",
            "status": "available",
            "completedTime": self.clock.iso(transcription.time),
        }

    def recording_url(self, call: Call, recording_id: str) -> str:
        """The recording's resource."""
        return f"{self.calls.call_url(call)}/recordings/{recording_id}"

    def media_url(self, call: Call, recording_id: str) -> str:
        """The recording's media."""
        return self.recording_url(call, recording_id) + "/media"

    def transfer_complete_of(self, a_leg: Call, b_leg: Call) -> EventBody:
        """``transferComplete`` on the A-leg about ``b_leg``: its ``transferCallerId``/``transferTo``, ``cause``."""
        leg = self.calls.of(b_leg)
        body = self.common(a_leg, "transferComplete")
        body["transferCallerId"] = leg.transfer_caller_id
        body["transferTo"] = leg.transfer_to
        body["cause"] = leg.cause or "hangup"
        if leg.error_message:
            body["errorMessage"] = leg.error_message
        return body

    def bridge_event(
        self, call: Call, event_type: str, cause: str | None = None, error: str | None = None
    ) -> EventBody:
        """``bridgeComplete`` / ``bridgeTargetComplete`` (``cause`` and ``errorMessage`` when bridging failed)."""
        body = self.common(call, event_type)
        if cause is not None:
            body["cause"] = cause
            body["errorMessage"] = error
        return body

    def conference_event(
        self, event_type: str, conference_id: str, name: str, tag: str | None, member: Call | None = None
    ) -> EventBody:
        """A ``conference*`` event: minimal, without account or call URL."""
        body: EventBody = {
            "eventType": event_type,
            "eventTime": self.clock.iso(),
            "conferenceId": conference_id,
            "name": name,
        }
        if member is not None:
            body["callId"] = member.id
            body["from"] = member.from_
            body["to"] = member.to
        if tag:
            body["tag"] = tag
        return body
