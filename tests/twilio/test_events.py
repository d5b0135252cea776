"""Twilio voice webhooks (callhooks.twilio.events): every kind's parameters typed, from a form POST and from a GET
query alike; the kind and tag from the URL; the call state from CallStatus; the identity (idempotency token, else
content) and the call key."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import ValidationError

from callhooks.platform import Delivery
from callhooks.receiver.inbound import parse_form
from callhooks.twilio import events as tw

CALL = "CA00000000000000000000000000000002"
PARENT = "CA00000000000000000000000000000009"
CONFERENCE = "CF00000000000000000000000000000003"
RECORDING = "RE00000000000000000000000000000004"

COMMON = {
    "AccountSid": "AC00000000000000000000000000000001",
    "ApiVersion": "2010-04-01",
    "CallSid": CALL,
    "Called": "+15005550006",
    "Caller": "+14155552671",
    "CallerName": "O'Brien & Sons",
    "Direction": "inbound",
    "From": "+14155552671",
    "FromCity": "SAN FRANCISCO",
    "To": "+15005550006",
}

#: A realistic request per kind (the reference sheet's parameters), as strings, as Twilio sends them.
REQUESTS: dict[str, dict[str, str]] = {
    "call": {**COMMON, "CallStatus": "ringing", "CallToken": "eyJ0b2tlbiJ9", "StirVerstat": "TN-Validation-Passed-A"},
    "answer": {**COMMON, "CallStatus": "in-progress", "Direction": "outbound-api", "AnsweredBy": "human"},
    "redirect": {**COMMON, "CallStatus": "in-progress"},
    "connect": {**COMMON, "CallStatus": "in-progress"},
    "refer": {**COMMON, "CallStatus": "in-progress"},
    "pay": {**COMMON, "CallStatus": "in-progress"},
    "pay-status": {**COMMON, "CallStatus": "in-progress"},
    "start": {**COMMON, "CallStatus": "in-progress"},
    "whisper": {**COMMON, "CallStatus": "in-progress", "Direction": "outbound-dial", "ParentCallSid": PARENT},
    "fallback": {**COMMON, "CallStatus": "ringing", "ErrorCode": "11200", "ErrorUrl": "https://voice.example.com/x"},
    "status": {
        **COMMON,
        "CallStatus": "completed",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "3",
        "Timestamp": "Tue, 31 Aug 2010 20:36:28 +0000",
        "CallDuration": "42",
        "Duration": "1",
        "SipResponseCode": "200",
        "StatusCallbackEvent": "completed",
    },
    "gather": {**COMMON, "CallStatus": "in-progress", "Digits": "007", "FinishedOnKey": "#", "msg": "Gather End"},
    "gather-partial": {**COMMON, "SequenceNumber": "1", "UnstableSpeechResult": "main men", "Stability": "0.7"},
    "record": {
        **COMMON,
        "CallStatus": "in-progress",
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{RECORDING}",
        "RecordingSid": RECORDING,
        "RecordingDuration": "12",
        "Digits": "hangup",
    },
    "recording-status": {
        "AccountSid": "AC00000000000000000000000000000001",
        "CallSid": CALL,
        "RecordingSid": RECORDING,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{RECORDING}",
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
        "RecordingChannels": "2",
        "RecordingSource": "RecordVerb",
        "RecordingStartTime": "Tue, 31 Aug 2010 20:36:10 +0000",
        "RecordingTrack": "both",
        "ErrorCode": "0",
    },
    "transcription": {
        **COMMON,
        "CallStatus": "completed",
        "TranscriptionSid": "TR00000000000000000000000000000005",
        "TranscriptionText": "Hello, please call me back.",
        "TranscriptionStatus": "completed",
        "TranscriptionUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Transcriptions/TR5",
        "RecordingSid": RECORDING,
    },
    "dial": {
        **COMMON,
        "CallStatus": "in-progress",
        "DialCallStatus": "completed",
        "DialCallSid": PARENT,
        "DialCallDuration": "30",
        "DialBridged": "true",
        "DialSipResponseCode": "200",
        "DialSipHeader_X-Custom": "abc",
    },
    "amd": {
        "AccountSid": "AC00000000000000000000000000000001",
        "CallSid": CALL,
        "AnsweredBy": "machine_end_beep",
        "MachineDetectionDuration": "4321",
    },
    "conference": {
        "AccountSid": "AC00000000000000000000000000000001",
        "ConferenceSid": CONFERENCE,
        "FriendlyName": "standup",
        "SequenceNumber": "4",
        "Timestamp": "Tue, 31 Aug 2010 20:40:00 +0000",
        "StatusCallbackEvent": "participant-join",
        "CallSid": CALL,
        "Muted": "false",
        "Hold": "false",
        "Coaching": "false",
        "EndConferenceOnExit": "true",
        "StartConferenceOnEnter": "true",
    },
    "enqueue": {**COMMON, "CallStatus": "in-progress", "QueueResult": "bridged", "QueueSid": "QU1", "QueueTime": "8"},
    "queue-wait": {**COMMON, "QueuePosition": "2", "QueueSid": "QU1", "QueueTime": "5", "AvgQueueTime": "30",
                   "CurrentQueueSize": "3", "MaxQueueSize": "100"},
    "dequeue": {**COMMON, "QueueSid": "QU1", "QueueTime": "5", "DequeingCallSid": PARENT},
    "stream": {"AccountSid": "AC1", "CallSid": CALL, "StreamSid": "MZ1", "StreamName": "live",
               "StreamEvent": "stream-started", "Timestamp": "Tue, 31 Aug 2010 20:36:28 +0000"},
}  # fmt: skip


def _from(kind: str, encoded: str, **options: Any) -> tw.TwilioEvent:
    """The event of a form body or GET query string, decoded as the receiver decodes both."""
    return tw.TWILIO.parse(Delivery(tw.TWILIO.form_fields(parse_form(encoded)), kind=kind, **options))


def test_every_kind_has_a_request_and_a_model() -> None:
    assert set(REQUESTS) == set(tw.KINDS)
    for kind, fields in REQUESTS.items():
        event = tw.parse_event(kind, fields)
        assert type(event) is tw.KINDS[kind]
        assert event.event_route_type == event.kind == kind
        assert not (event.model_extra or {}).keys() - {"DialSipHeader_X-Custom"}, kind  # every parameter modelled


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_a_form_post_and_a_get_query_parse_equal(kind: str) -> None:
    body = urlencode(REQUESTS[kind])
    posted, got = _from(kind, body), _from(kind, body.replace("%2B", "+"))  # a GET whose '+' came unencoded
    assert posted == got == tw.parse_event(kind, REQUESTS[kind])
    assert tw.event_identity(posted) == tw.event_identity(got)
    # rule 2 as planned is rule 2 written plainly (identity.py); rule 1, still looked up, differs from it
    assert tw.event_identity(got) == tw._content_identity.reference(got)
    assert tw.TWILIO.legacy_identity is not None
    assert tw.TWILIO.legacy_identity(got) == tw._content_identity.rule1(posted) != tw.event_identity(got)


def test_parameters_are_typed_with_snake_case_names() -> None:
    status = tw.parse_event("status", REQUESTS["status"])
    assert isinstance(status, tw.StatusEvent)
    assert (status.call_sid, status.call_status, status.sequence_number) == (CALL, "completed", 3)
    assert status.timestamp == datetime(2010, 8, 31, 20, 36, 28, tzinfo=timezone.utc)
    assert (status.call_duration, status.duration, status.sip_response_code) == (42, 1, 200)
    assert status.status_callback_event == "completed" and status.callback_source == "call-progress-events"
    assert status.from_ == "+14155552671" and status.caller_name == "O'Brien & Sons"
    gather = tw.parse_event("gather", {**REQUESTS["gather"], "SpeechResult": "sales", "Confidence": "0.93"})
    assert isinstance(gather, tw.GatherEvent)
    assert (gather.digits, gather.finished_on_key, gather.msg) == ("007", "#", "Gather End")  # digits stay text
    assert (gather.speech_result, gather.confidence) == ("sales", 0.93)
    dial = tw.parse_event("dial", REQUESTS["dial"])
    assert isinstance(dial, tw.DialEvent) and dial.dial_bridged is True and dial.dial_call_duration == 30
    assert dial.model_extra == {"DialSipHeader_X-Custom": "abc"}
    amd = tw.parse_event("amd", REQUESTS["amd"])
    assert isinstance(amd, tw.AmdEvent) and (amd.answered_by, amd.machine_detection_duration) == (
        "machine_end_beep",
        4321,
    )
    conference = tw.parse_event("conference", REQUESTS["conference"])
    assert isinstance(conference, tw.ConferenceEvent) and conference.end_conference_on_exit is True
    assert conference.muted is False and conference.status_callback_event == "participant-join"
    recording = tw.parse_event("recording-status", REQUESTS["recording-status"])
    assert isinstance(recording, tw.RecordingStatusEvent) and recording.recording_channels == 2
    assert recording.recording_start_time == datetime(2010, 8, 31, 20, 36, 10, tzinfo=timezone.utc)
    assert recording.error_code == 0


@pytest.mark.parametrize(
    "text",
    ["Tue, 31 Aug 2010 20:36:28 +0000", "31 Aug 2010 20:36:28 +0000", "Tue, 31 Aug 2010 20:36:28 -0000",
     "Tue, 31 Aug 2010 22:36:28 +0200", "2010-08-31T20:36:28Z", "2010-08-31 20:36:28"],
)  # fmt: skip
def test_timestamps_are_read_as_aware_datetimes(text: str) -> None:
    event = tw.parse_event("status", {"Timestamp": text})
    assert isinstance(event, tw.StatusEvent)
    assert event.timestamp == datetime(2010, 8, 31, 20, 36, 28, tzinfo=timezone.utc)


def test_the_wire_names_come_back_without_the_urls_fields() -> None:
    event = tw.parse_event("gather", REQUESTS["gather"], tag="menu", headers={"I-Twilio-Idempotency-Token": "t"})
    assert event.model_dump(by_alias=True, exclude_unset=True) == REQUESTS["gather"]


def test_unknown_kinds_and_parameters_are_kept() -> None:
    event = tw.parse_event("pay", {**COMMON, "PaymentConfirmationCode": "ch_1", "Result": "success"})
    assert type(event) is tw.TwilioEvent
    assert event.event_route_type == "pay"
    assert event.model_extra == {"PaymentConfirmationCode": "ch_1", "Result": "success"}
    assert tw.call_key(event) == f"call:{CALL}"


def test_the_kind_and_tag_come_from_the_url_and_no_parameter_can_pose_as_them() -> None:
    spoof = {**REQUESTS["gather"], "@kind": "status", "@tag": "admin", "Kind": "status", "Tag": "admin", "tag": "x"}
    event = tw.parse_event("gather", spoof, tag="menu")
    assert type(event) is tw.GatherEvent and event.kind == "gather" and event.tag == "menu"
    assert event.model_extra == {"Kind": "status", "Tag": "admin", "tag": "x"}
    assert tw.parse_event("gather", spoof).tag is None


@pytest.mark.parametrize(
    ("fields", "name"),
    [({"SequenceNumber": "third"}, "SequenceNumber"), ({"Timestamp": "last tuesday"}, "Timestamp")],
)
def test_a_parameter_of_the_wrong_type_is_a_validation_error_naming_it(fields: dict[str, str], name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        tw.parse_event("status", {**REQUESTS["status"], **fields})
    assert [error["loc"] for error in caught.value.errors()] == [(name,)]


def test_the_platform_needs_the_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        tw.TWILIO.parse(Delivery(REQUESTS["gather"]))


# ---- call state ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(tw.KNOWN_CALL_STATES))
def test_the_call_state_is_the_call_status(status: str) -> None:
    assert tw.parse_event("status", {**REQUESTS["status"], "CallStatus": status}).call_state == status


def test_without_a_call_status_the_kind_implies_the_state() -> None:
    implied = {kind: tw.parse_event(kind, {"CallSid": CALL}).call_state for kind in tw.KINDS}
    live = {"gather", "gather-partial", "record", "dial", "amd"}
    assert implied == {kind: "in-progress" if kind in live else None for kind in tw.KINDS}
    assert tw.parse_event("status", {"CallSid": CALL, "CallStatus": "a-new-status"}).call_state == "a-new-status"


# ---- identity and call key -----------------------------------------------------------------------------------


def test_the_idempotency_token_is_the_identity_when_present() -> None:
    first = tw.parse_event("gather", REQUESTS["gather"], headers={"I-Twilio-Idempotency-Token": "tok-1"})
    retry = tw.parse_event("gather", REQUESTS["gather"], headers={"i-twilio-idempotency-token": "tok-1"})
    other = tw.parse_event("gather", REQUESTS["gather"], headers={"I-Twilio-Idempotency-Token": "tok-2"})
    assert tw.event_identity(first) == tw.event_identity(retry) != tw.event_identity(other)
    bare = tw.parse_event("gather", REQUESTS["gather"])  # the same press again, told apart only by the token
    assert tw.event_identity(bare) != tw.event_identity(first)
    assert tw.event_identity(bare, {"I-Twilio-Idempotency-Token": "tok-1"}) == tw.event_identity(first)
    assert tw.TWILIO.identity(first) == tw.event_identity(first)


def test_without_a_token_the_content_is_the_identity() -> None:
    status = REQUESTS["status"]
    same = tw.event_identity(tw.parse_event("status", dict(reversed(list(status.items())))))
    assert same == tw.event_identity(tw.parse_event("status", status))
    variants = [
        tw.parse_event("status", status, tag="other"),
        tw.parse_event("status", {**status, "SequenceNumber": "4"}),
        tw.parse_event("status", {**status, "CallSid": PARENT}),
        tw.parse_event("gather", status),
    ]
    assert len({tw.event_identity(event) for event in variants} | {same}) == 5
    moved = tw.parse_event("record", {**REQUESTS["record"], "RecordingUrl": "https://x", "NewParam": "1"})
    assert tw.event_identity(moved) == tw.event_identity(tw.parse_event("record", REQUESTS["record"]))


def test_events_are_keyed_by_call_and_conference_events_by_conference() -> None:
    for kind, fields in REQUESTS.items():
        expected = f"conference:{CONFERENCE}" if kind == "conference" else f"call:{CALL}"
        assert tw.call_key(tw.parse_event(kind, fields)) == expected, kind
    conference_recording = {"ConferenceSid": CONFERENCE, "RecordingSid": RECORDING, "RecordingStatus": "completed"}
    assert tw.call_key(tw.parse_event("recording-status", conference_recording)) == f"conference:{CONFERENCE}"
    assert tw.call_key(tw.parse_event("status", {})) is None
