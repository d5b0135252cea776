"""Typed events: every catalogue example parsed from POST JSON and from GET, lenient times, coercion, quirks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from callhooks import CallEvent, CallHooks, events, parse_event, parse_event_json
from callhooks.events import query_to_fields
from tests.receiver.catalogue import GET_SAMPLES, JSON_SAMPLES, SAMPLES, Sample


def from_get(query: str) -> CallEvent:
    return parse_event(query_to_fields(parse_qsl(query, keep_blank_values=True)))


def assert_expected(event: CallEvent, sample: Sample) -> None:
    assert type(event) is sample.cls
    assert event.event_type == sample.event_type
    for attr, value in sample.expected.items():
        assert getattr(event, attr) == value, attr


def test_catalogue_covers_every_documented_event_class() -> None:
    documented = {s.cls for s in SAMPLES}
    assert documented == set(events._EVENT_CLASSES)
    # Every class has a JSON example; every type except the reject variant also has a GET example.
    assert {s.cls for s in JSON_SAMPLES} == documented
    assert {s.cls for s in GET_SAMPLES} == documented - {events.RejectEvent}


@pytest.mark.parametrize("sample", JSON_SAMPLES, ids=lambda s: s.name)
def test_catalogue_json_parses_to_class_and_values(sample: Sample) -> None:
    assert sample.json is not None
    event = parse_event_json(sample.json)
    assert_expected(event, sample)
    # The bytes form (what the receiver reads) and the dict form agree.
    assert parse_event_json(sample.json.encode()) == event
    assert parse_event(json.loads(sample.json)) == event


@pytest.mark.parametrize("sample", GET_SAMPLES, ids=lambda s: s.name)
def test_catalogue_get_parses_to_class_and_values(sample: Sample) -> None:
    event = from_get(sample.query)
    assert_expected(event, sample)


@pytest.mark.parametrize("sample", [s for s in GET_SAMPLES if s.json is not None], ids=lambda s: s.name)
def test_get_and_json_forms_give_the_same_event(sample: Sample) -> None:
    assert sample.json is not None
    assert from_get(sample.query) == parse_event_json(sample.json)


@pytest.mark.parametrize("sample", GET_SAMPLES, ids=lambda s: s.name)
def test_catalogue_get_through_the_app(sample: Sample) -> None:
    hooks = CallHooks(secret=None, insecure=True)
    seen: list[CallEvent] = []

    @hooks.on()
    def record(event: CallEvent) -> None:
        seen.append(event)

    with TestClient(hooks) as client:
        response = client.get("/?" + sample.query)
    assert response.status_code == 200
    assert response.content == b""
    assert len(seen) == 1
    assert_expected(seen[0], sample)


@pytest.mark.parametrize("sample", JSON_SAMPLES, ids=lambda s: s.name)
def test_catalogue_json_through_the_app(sample: Sample) -> None:
    hooks = CallHooks(secret=None, insecure=True)
    seen: list[CallEvent] = []

    @hooks.on()
    def record(event: CallEvent) -> None:
        seen.append(event)

    assert sample.json is not None
    with TestClient(hooks) as client:
        response = client.post("/", content=sample.json, headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert len(seen) == 1
    assert_expected(seen[0], sample)


# -- rejects and aliases ---------------------------------------------------------------------------------------


def test_hangup_with_call_rejected_is_a_reject_event() -> None:
    event = parse_event({"eventType": "hangup", "callId": "c-1", "cause": "CALL_REJECTED"})
    assert isinstance(event, events.RejectEvent)
    assert isinstance(event, events.HangupEvent)  # still a hangup for code that checks that
    assert event.event_type == "hangup"
    assert event.event_route_type == "reject"
    assert event.call_state == "rejected"


def test_hangup_with_another_cause_is_not_a_reject() -> None:
    event = parse_event({"eventType": "hangup", "cause": "USER_BUSY"})
    assert type(event) is events.HangupEvent
    assert event.event_route_type == "hangup"


def test_event_type_reject_is_a_reject_event() -> None:
    event = parse_event_json(b'{"eventType": "reject", "callId": "c-1"}')
    assert type(event) is events.RejectEvent
    assert event.event_type == "reject"
    assert event.event_route_type == "reject"


@pytest.mark.parametrize("wire", ["transferComplete", "transfer-complete"])
def test_transfer_complete_alias(wire: str) -> None:
    event = parse_event({"eventType": wire, "callId": "c-1"})
    assert type(event) is events.TransferCompleteEvent
    assert event.event_type == wire  # kept verbatim
    assert event.event_route_type == "transferComplete"
    assert event.call_state == "active"


# -- unknown types and extra fields ------------------------------------------------------------------------------


@pytest.mark.parametrize("wire", ["sms", "mms", "brand-new-event", "Answer"])
def test_unknown_event_type_becomes_unknown_event(wire: str) -> None:
    event = parse_event_json(json.dumps({"eventType": wire, "callId": "c-1", "surprise": {"a": [1, 2]}}))
    assert type(event) is events.UnknownEvent
    assert event.event_type == wire
    assert event.event_route_type == wire
    assert event.call_id == "c-1"
    assert event.model_extra == {"surprise": {"a": [1, 2]}}
    assert event.call_state is None


def test_extra_fields_survive_on_known_events_json_and_get() -> None:
    event = parse_event_json(b'{"eventType": "answer", "callId": "c-1", "newField": 7, "nested": {"x": true}}')
    assert type(event) is events.AnswerEvent
    assert event.model_extra == {"newField": 7, "nested": {"x": True}}
    assert event.model_dump(by_alias=True, exclude_unset=True)["newField"] == 7

    # BXML GET examples carry withholdCallerNumber / withholdCallerName / displayName: kept, as strings.
    event = from_get("eventType=incomingcall&callId=c-1&withholdCallerNumber=true&displayName=Jane%20Doe")
    assert type(event) is events.IncomingCallEvent
    assert event.model_extra == {"withholdCallerNumber": "true", "displayName": "Jane Doe"}


def test_speak_fixture_type_field_is_kept() -> None:
    event = parse_event({"eventType": "speak", "type": "speak", "status": "done"})
    assert type(event) is events.SpeakEvent
    assert event.model_extra == {"type": "speak"}


# -- serialising back to the wire -------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", JSON_SAMPLES, ids=lambda s: s.name)
def test_model_dump_round_trips_wire_names(sample: Sample) -> None:
    assert sample.json is not None
    wire = json.loads(sample.json)
    event = parse_event_json(sample.json)
    dumped = event.model_dump(by_alias=True, exclude_unset=True)
    assert set(dumped) == set(wire)  # wire names exactly; no implied fields (callState) added
    assert "from_" not in dumped
    # Serialising to JSON and parsing again gives the same event.
    again = parse_event_json(event.model_dump_json(by_alias=True, exclude_unset=True))
    assert again == event
    assert type(again) is type(event)


def test_implied_call_state_is_not_serialised_as_wire_data() -> None:
    event = parse_event({"eventType": "dtmf", "dtmfDigit": "1"})
    assert event.call_state == "active"
    assert "callState" not in event.model_dump(by_alias=True, exclude_unset=True)


@pytest.mark.parametrize(("event_type", "implied"), [("dtmf", "active"), ("hangup", "completed"), ("sms", None)])
def test_an_explicit_null_call_state_counts_as_absent(event_type: str, implied: str | None) -> None:
    assert parse_event({"eventType": event_type, "callState": None}).call_state == implied
    assert parse_event_json(f'{{"eventType": "{event_type}", "callState": null}}').call_state == implied


def test_from_is_populated_by_wire_name_and_attribute_name() -> None:
    assert parse_event({"eventType": "answer", "from": "+1"}).from_ == "+1"
    assert parse_event({"eventType": "answer", "from_": "+1"}).from_ == "+1"
    assert parse_event({"eventType": "answer", "from": "+1"}).model_dump(by_alias=True)["from"] == "+1"


# -- lenient times --------------------------------------------------------------------------------------------


UTC = timezone.utc


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2014-07-31T01:01:27Z", datetime(2014, 7, 31, 1, 1, 27, tzinfo=UTC)),
        ("2014-07-31T01:01:27.5Z", datetime(2014, 7, 31, 1, 1, 27, 500000, tzinfo=UTC)),
        ("2019-03-14T15:09:26.535Z", datetime(2019, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)),
        (
            "2013-07-12T16:26:55.685-02:00",
            datetime(2013, 7, 12, 16, 26, 55, 685000, tzinfo=timezone(timedelta(hours=-2))),
        ),
        (
            "2013-07-12T16:26:55+05:30",
            datetime(2013, 7, 12, 16, 26, 55, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2014-04-23T11:53:43-03", datetime(2014, 4, 23, 11, 53, 43, tzinfo=timezone(timedelta(hours=-3)))),
        ("2014-07-31T01:01:27", datetime(2014, 7, 31, 1, 1, 27, tzinfo=UTC)),  # no offset: UTC
        (1394809766535, datetime(2014, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)),  # epoch ms number
        ("1394809766535", datetime(2014, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)),  # epoch ms string
    ],
)
def test_lenient_times(wire: Any, expected: datetime) -> None:
    for event in (
        parse_event({"eventType": "answer", "time": wire}),
        parse_event_json(json.dumps({"eventType": "answer", "time": wire})),
    ):
        assert event.time == expected
        assert event.time is not None
        assert event.time.tzinfo is not None
        assert event.time.utcoffset() == expected.utcoffset()


def test_times_in_get_form_and_other_time_fields() -> None:
    event = from_get("eventType=recording&startTime=2014-04-23T11%3A53%3A43-03&endTime=1394809766535")
    assert isinstance(event, events.RecordingEvent)
    assert event.start_time == datetime(2014, 4, 23, 14, 53, 43, tzinfo=UTC)
    assert event.end_time == datetime(2014, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["yesterday", "2014-13-45T00:00:00Z", True, [1], 10**30])
def test_bad_times_are_validation_errors(bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event({"eventType": "answer", "time": bad})
    assert [e["loc"][-1] for e in info.value.errors()] == ["time"]


# -- GET coercion ---------------------------------------------------------------------------------------------


def test_get_strings_coerced_to_numbers_and_booleans() -> None:
    event = from_get("eventType=conference-member&hold=true&mute=false&activeMembers=12")
    assert isinstance(event, events.ConferenceMemberEvent)
    assert event.hold is True
    assert event.mute is False
    assert event.active_members == 12

    dtmf = from_get("eventType=dtmf&dtmfDigit=%23&dtmfDuration=160")
    assert isinstance(dtmf, events.DtmfEvent)
    assert dtmf.dtmf_digit == "#"
    assert dtmf.dtmf_duration == 160

    transcription = from_get("eventType=transcription&textSize=39")
    assert isinstance(transcription, events.TranscriptionEvent)
    assert transcription.text_size == 39


def test_get_number_that_is_not_a_number_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        from_get("eventType=conference-member&activeMembers=lots&hold=maybe")
    assert sorted(e["loc"][-1] for e in info.value.errors()) == ["activeMembers", "hold"]


# -- diversion ------------------------------------------------------------------------------------------------

DIVERSION = {"origTo": "+19195550142", "reason": "no-answer", "screen": "no", "privacy": "off", "counter": "1"}


def test_diversion_as_object() -> None:
    event = parse_event_json(
        json.dumps({"eventType": "answer", "diversion": {**DIVERSION, "limit": 5, "x-custom": "y"}})
    )
    assert isinstance(event, events.AnswerEvent)
    assert event.diversion is not None
    assert event.diversion.orig_to == "+19195550142"
    assert event.diversion.counter == 1  # sent as a string in examples
    assert event.diversion.limit == 5
    assert event.diversion.model_extra == {"x-custom": "y"}  # arbitrary extra name/value pairs kept
    assert event.model_dump(by_alias=True, exclude_unset=True)["diversion"]["origTo"] == "+19195550142"


def test_diversion_as_json_string() -> None:
    for event in (
        parse_event({"eventType": "incomingcall", "diversion": json.dumps(DIVERSION)}),
        parse_event_json(json.dumps({"eventType": "incomingcall", "diversion": json.dumps(DIVERSION)})),
    ):
        assert isinstance(event, events.IncomingCallEvent)
        assert event.diversion == events.Diversion(
            orig_to="+19195550142", reason="no-answer", screen="no", privacy="off", counter=1
        )


def test_diversion_that_is_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        parse_event({"eventType": "incomingcall", "diversion": "not json"})


# -- the unencoded "+" ------------------------------------------------------------------------------------------


def test_unencoded_plus_in_get_is_restored() -> None:
    # The docs show `to=+19192223333` unencoded; a form decoder turns that + into a space.
    query = "eventType=answer&from=+19195550100&to=+19192223333&callId=c-abc123"
    assert dict(parse_qsl(query))["to"] == " 19192223333"  # what the decoder alone yields
    event = from_get(query)
    assert event.to == "+19192223333"
    assert event.from_ == "+19195550100"


def test_unencoded_plus_through_the_app() -> None:
    hooks = CallHooks(secret=None, insecure=True)
    seen: list[CallEvent] = []
    hooks.add_handler(seen.append)
    with TestClient(hooks) as client:
        # Build the raw URL by hand so the client does not encode the "+".
        response = client.get("/?eventType=answer&to=+19192223333&from=sip:+19195550100@sip.example.com")
    assert response.status_code == 200
    assert seen[0].to == "+19192223333"
    assert seen[0].from_ == "sip:+19195550100@sip.example.com"


@pytest.mark.parametrize(
    ("decoded", "expected"),
    [
        (" 19192223333", "+19192223333"),
        ("sip: 19195550100@sip.example.com", "sip:+19195550100@sip.example.com"),
        (" hello", " hello"),  # not a number: left alone
        ("Hi, please call me", "Hi, please call me"),  # spaces inside text untouched
        (" 12", " 12"),  # too short for E.164
    ],
)
def test_plus_repair_only_touches_e164_numbers(decoded: str, expected: str) -> None:
    assert query_to_fields([("to", decoded)]) == {"to": expected}


# -- implied call state -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "state"),
    [
        ({"eventType": "incomingcall"}, "active"),
        ({"eventType": "answer"}, "active"),
        ({"eventType": "playback"}, "active"),
        ({"eventType": "speak"}, "active"),
        ({"eventType": "dtmf"}, "active"),
        ({"eventType": "gather"}, "active"),
        ({"eventType": "redirect"}, "active"),
        ({"eventType": "transferComplete"}, "active"),
        ({"eventType": "hangup"}, "completed"),
        ({"eventType": "timeout"}, "completed"),
        ({"eventType": "hangup", "cause": "CALL_REJECTED"}, "rejected"),
        ({"eventType": "reject"}, "rejected"),
        ({"eventType": "error"}, "error"),
        ({"eventType": "recording"}, None),
        ({"eventType": "transcription"}, None),
        ({"eventType": "conference"}, None),
        ({"eventType": "conference-member", "state": "active"}, None),  # member state is not the call state
        ({"eventType": "something-new"}, None),
    ],
)
def test_implied_call_state(wire: dict[str, str], state: str | None) -> None:
    assert parse_event(wire).call_state == state
    assert parse_event_json(json.dumps(wire)).call_state == state


@pytest.mark.parametrize("event_type", ["dtmf", "hangup", "answer", "recording", "unknown-thing"])
def test_wire_call_state_wins_over_implied(event_type: str) -> None:
    event = parse_event({"eventType": event_type, "callState": "transferring"})
    assert event.call_state == "transferring"
    assert event.model_dump(by_alias=True, exclude_unset=True)["callState"] == "transferring"


def test_implied_state_table_matches_documented_events() -> None:
    assert events.IMPLIED_CALL_STATE["dtmf"] == "active"
    assert events.IMPLIED_CALL_STATE["hangup"] == "completed"
    assert events.IMPLIED_CALL_STATE["reject"] == "rejected"
    # Every key of the table is a routing name of a known class (a typo would silently never apply).
    assert set(events.IMPLIED_CALL_STATE) <= {cls.route_type for cls in events._EVENT_CLASSES}


# -- missing / malformed ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [{}, {"callId": "c-1"}, {"eventType": 5}, {"eventType": None}])
def test_missing_event_type_is_a_validation_error(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event(data)
    assert {e["type"] for e in info.value.errors()} == {"missing_event_type"}


def test_wrong_field_type_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        parse_event_json(b'{"eventType": "conference-member", "activeMembers": "three", "callId": 5}')
    assert sorted(e["loc"][-1] for e in info.value.errors()) == ["activeMembers", "callId"]


def test_context_defaults_to_empty_and_can_be_attached() -> None:
    event = parse_event({"eventType": "answer"})
    assert event.context == {}
    assert event.with_context({"order": 4411}) is event
    assert event.context == {"order": 4411}
    assert "context" not in event.model_dump(by_alias=True)
