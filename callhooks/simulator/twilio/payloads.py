"""The parameters of each webhook request the Twilio profile sends, named and valued as Twilio sends them.

Every request carries the common parameters (``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus``,
``ApiVersion``, ``Direction``, the legacy ``Called``/``Caller``, ``ParentCallSid`` on a dialled leg and
``ForwardedFrom`` on a diverted inbound call) plus its own: status callbacks ``CallbackSource``,
``StatusCallbackEvent``, ``SequenceNumber`` (from 0, per call), ``Timestamp`` (RFC 2822) and, on the last,
``CallDuration`` and ``Duration``; Gather actions ``Digits``, ``FinishedOnKey`` and ``msg``; Record actions the
recording and ``Digits``; Dial actions ``DialCallStatus``, ``DialCallSid``, ``DialCallDuration``, ``DialBridged``;
recording status callbacks the recording's status, duration, source and start time. Values are strings.

A body also holds two private entries the wire never sees (:mod:`.encoding` drops every ``@`` name): ``@event``,
the request's name in logs and fault rules (``call``, ``status``, ``gather``, ``record``, ``dial``, ``redirect``,
``recording-status``, ``transcription``), and ``@token``, its ``I-Twilio-Idempotency-Token``, minted once so a
duplicate delivery of the request carries the same token.
"""

from __future__ import annotations

import math
from email.utils import format_datetime

from ...twilio.client.auth import API_VERSION
from ..clock import SimClock
from ..ids import IdFactory
from ..models import Call
from ..payloads import EventBody
from .legs import Leg, RecordingInfo

__all__ = ["EVENT", "TOKEN", "TwilioPayloads", "event_name"]

EVENT = "@event"
TOKEN = "@token"


def event_name(body: EventBody) -> str:
    """The name of a request body (``status``, ``gather``...)."""
    return str(body.get(EVENT, "?"))


class TwilioPayloads:
    """Builds request bodies for the account ``account_sid``; times come from ``clock``, tokens from ``ids``."""

    def __init__(self, account_sid: str, clock: SimClock, ids: IdFactory) -> None:
        self.account_sid = account_sid
        self.clock = clock
        self.ids = ids

    def timestamp(self, at: float | None = None) -> str:
        """A simulated instant in RFC 2822 (``Mon, 07 Dec 2026 16:00:00 +0000``)."""
        return format_datetime(self.clock.datetime(at))

    def recording_url(self, call: Call, info: RecordingInfo) -> str:
        """Where the recording's media is (the REST resource's URL without ``.json``, as Twilio sends it)."""
        return f"{call.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{info.sid}"

    def _body(self, name: str, leg: Leg | None, status: str | None) -> EventBody:
        body: EventBody = {EVENT: name, TOKEN: self.ids.new("idem")}
        if leg is None:
            return body
        call = leg.call
        body.update(AccountSid=self.account_sid, ApiVersion=API_VERSION, CallSid=leg.sid)
        if status is not None:
            body["CallStatus"] = status
        body.update(Called=call.to, Caller=call.from_, Direction=leg.direction, From=call.from_, To=call.to)
        if leg.parent_sid is not None:
            body["ParentCallSid"] = leg.parent_sid
        forwarded = (call.diversion or {}).get("origTo")
        if forwarded:
            body["ForwardedFrom"] = str(forwarded)
        return body

    def call(self, leg: Leg, status: str, name: str = "call", answered_by: str | None = None) -> EventBody:
        """A request for TwiML: the Voice URL (``ringing`` inbound, ``in-progress`` outbound), a Redirect..."""
        body = self._body(name, leg, status)
        if answered_by is not None:
            body["AnsweredBy"] = answered_by
        return body

    def status(self, leg: Leg, event: str, status: str) -> EventBody:
        """A status callback for ``event`` (``initiated``, ``ringing``, ``answered``, ``completed``)."""
        body = self._body("status", leg, status)
        body.update(
            CallbackSource="call-progress-events",
            SequenceNumber=str(next(leg.sequence)),
            StatusCallbackEvent=event,
            Timestamp=self.timestamp(),
        )
        call = leg.call
        if event == "completed":
            seconds = call_duration(call)
            body["CallDuration"] = str(seconds)
            body["Duration"] = str(math.ceil(seconds / 60))
        if leg.machine_detection is not None and call.active is not None:
            body["AnsweredBy"] = "human"
        return body

    def gather(self, leg: Leg, digits: str, finished_on_key: str) -> EventBody:
        """A ``<Gather action>``: the digits without the finishing key."""
        body = self._body("gather", leg, "in-progress")
        body.update(Digits=digits, FinishedOnKey=finished_on_key, msg="Gather End")
        return body

    def record(self, leg: Leg, info: RecordingInfo, digits: str) -> EventBody:
        """A ``<Record action>``: the recording, and the key that stopped it (``hangup`` when the caller hung up)."""
        status = "completed" if leg.call.ended else "in-progress"
        body = self._body("record", leg, status)
        body.update(
            Digits=digits,
            RecordingDuration=str(recording_seconds(info)),
            RecordingSid=info.sid,
            RecordingUrl=self.recording_url(leg.call, info),
        )
        return body

    def dial(self, leg: Leg, child: Leg | None, dial_status: str) -> EventBody:
        """A ``<Dial action>`` for the parent ``leg`` when the dialled ``child`` ended (or never rang)."""
        body = self._body("dial", leg, "completed" if leg.call.ended else "in-progress")
        body["DialCallStatus"] = dial_status
        if child is not None:
            body.update(
                DialBridged="true" if child.call.active is not None else "false",
                DialCallDuration=str(call_duration(child.call)),
                DialCallSid=child.sid,
            )
        return body

    def recording_status(self, leg: Leg, info: RecordingInfo) -> EventBody:
        """A ``recordingStatusCallback``: the recording is ready."""
        body = self._body("recording-status", None, None)
        body.update(
            AccountSid=self.account_sid,
            CallSid=leg.sid,
            ErrorCode="0",
            RecordingChannels="1",
            RecordingDuration=str(recording_seconds(info)),
            RecordingSid=info.sid,
            RecordingSource=info.source,
            RecordingStartTime=self.timestamp(info.recording.start),
            RecordingStatus="completed",
            RecordingTrack="both",
            RecordingUrl=self.recording_url(leg.call, info),
        )
        return body


def call_duration(call: Call) -> int:
    """Whole seconds from answer to end (or to now, for a live call); 0 for a call never answered."""
    if call.active is None:
        return 0
    end = call.end if call.end is not None else call.active
    return max(0, round(end - call.active))


def recording_seconds(info: RecordingInfo) -> int:
    """A finished recording's length in whole seconds."""
    recording = info.recording
    return 0 if recording.end is None else max(0, round(recording.end - recording.start))
