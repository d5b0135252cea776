"""Bandwidth Voice API v2 callbacks (callhooks.bandwidth.events), with bandwidth-sdk's callback models as the oracle:
every event type parses to the same field values as the SDK's model of it, from POST JSON and from GET queries."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import bandwidth.models as sdk
import pytest
from pydantic import BaseModel, ValidationError

from callhooks.bandwidth import events as v2
from callhooks.events import encode_query
from callhooks.platform import Delivery
from callhooks.receiver.inbound import parse_form
from callhooks.wire import WireModel, parse_time, query_to_fields

from .payloads import CALL, CONFERENCE, PARENT, PAYLOADS, SDK_MODELS


def _from_query(payload: dict[str, Any]) -> v2.BandwidthEvent:
    """The event as it arrives with a GET URL: the fields in the query string, nested objects as JSON text."""
    return v2.parse_event(query_to_fields(parse_form(encode_query(payload))))


def _declared(event: BaseModel) -> dict[str, Any]:
    return {name: getattr(event, name) for name in type(event).model_fields}


def _normal(value: Any, key: str = "") -> Any:
    """A value of either model as plain data: enums by value, models as wire-named dicts, times as datetimes."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, WireModel):
        return _normal(value.model_dump(by_alias=True, exclude_none=True))
    if isinstance(value, BaseModel):  # an SDK model: its to_dict() keeps its additional_properties
        return _normal(value.to_dict())  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: _normal(v, k) for k, v in value.items()}
    if isinstance(value, str) and key.endswith("Time"):
        return parse_time(value)  # the SDK leaves times inside unmodelled objects as text
    return value


def _wire_value(model: BaseModel, wire_name: str) -> Any:
    """The value a model holds for a wire name: a declared field (by alias) or a kept unknown field."""
    for name, info in type(model).model_fields.items():
        if (info.alias or name) == wire_name:
            return getattr(model, name)
    kept = getattr(model, "additional_properties", None) or model.model_extra or {}
    return kept[wire_name]


def _sdk_field_names(model: type[BaseModel]) -> set[str]:
    return {"from_" if name == "var_from" else name for name in model.model_fields} - {"additional_properties"}


def test_there_is_a_payload_and_a_model_for_every_event_type() -> None:
    assert set(PAYLOADS) == v2.KNOWN_EVENT_TYPES
    for event_type, payload in PAYLOADS.items():
        assert v2.parse_event(payload).event_route_type == event_type


def test_the_oracle_covers_every_voice_callback_the_sdk_models() -> None:
    # Everything bandwidth.models calls a *Callback, but the messaging ones and the unreleased <Refer>'s.
    voice = {name for name in dir(sdk) if name.endswith("Callback")} - {
        "Callback",
        "InboundCallback",
        "StatusCallback",
        "ReferCompleteCallback",
    }
    assert voice == set(SDK_MODELS.values())


@pytest.mark.parametrize("event_type", sorted(SDK_MODELS))
def test_every_field_the_sdk_models_is_modelled(event_type: str) -> None:
    ours = type(v2.parse_event(PAYLOADS[event_type]))
    assert _sdk_field_names(getattr(sdk, SDK_MODELS[event_type])) <= set(ours.model_fields)


@pytest.mark.parametrize("event_type", sorted(SDK_MODELS))
def test_callhooks_and_the_sdk_read_the_same_values(event_type: str) -> None:
    payload = PAYLOADS[event_type]
    oracle = getattr(sdk, SDK_MODELS[event_type]).from_dict(payload)
    event = v2.parse_event(payload)
    assert event.event_type == oracle.event_type == event_type
    for wire_name in payload:
        ours, theirs = (
            _normal(_wire_value(event, wire_name), wire_name),
            _normal(_wire_value(oracle, wire_name), wire_name),
        )
        assert ours == theirs, wire_name
        assert ours is not None


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_get_and_post_forms_parse_equal(event_type: str) -> None:
    posted = v2.parse_event_json(json.dumps(PAYLOADS[event_type]))
    got = _from_query(PAYLOADS[event_type])
    assert type(got) is type(posted)
    assert _declared(got) == _declared(posted)
    assert v2.event_identity(got) == v2.event_identity(posted)
    # rule 2 as planned is rule 2 written plainly (identity.py), in both forms; rule 1 agrees on the forms too
    assert v2.event_identity(got) == v2.event_identity.reference(got) == v2.event_identity.reference(posted)
    assert v2.BANDWIDTH_V2.legacy_identity is not None
    assert v2.BANDWIDTH_V2.legacy_identity(got) == v2.BANDWIDTH_V2.legacy_identity(posted) != v2.event_identity(got)
    assert v2.call_key(got) == v2.call_key(posted)
    assert got.call_state == posted.call_state


def test_nested_objects_are_typed_in_both_forms() -> None:
    for event in (v2.parse_event(PAYLOADS["initiate"]), _from_query(PAYLOADS["initiate"])):
        assert isinstance(event, v2.InitiateEvent)
        assert event.diversion is not None and event.diversion.orig_to == "+15558884444"
        assert event.diversion.model_extra == {"unknown": "unknownValue"}
        assert event.stir_shaken is not None and event.stir_shaken.attestation_indicator == "A"
        assert event.sip_headers == {"x-custom-header": "value"}
        assert event.from_ == "+15551112222"  # a '+' the query carried as %2B
    stream = _from_query(PAYLOADS["mediaStreamStarted"])
    assert isinstance(stream, v2.MediaStreamStartedEvent) and stream.media_stream is not None
    assert stream.media_stream.tracks == ["inbound", "outbound"]


def test_a_plus_sent_unencoded_in_a_query_is_restored() -> None:
    event = v2.parse_event(query_to_fields(parse_form("eventType=answer&from=+15551112222&callId=c-1")))
    assert event.from_ == "+15551112222"


def test_record_complete_is_read_under_both_names() -> None:
    documented = v2.parse_event(PAYLOADS["recordComplete"])
    spec_name = v2.parse_event({**PAYLOADS["recordComplete"], "eventType": "recordingComplete"})
    assert type(spec_name) is v2.RecordCompleteEvent
    assert spec_name.event_type == "recordingComplete"  # kept verbatim
    assert spec_name.event_route_type == documented.event_route_type == "recordComplete"
    assert v2.event_identity(spec_name) == v2.event_identity(documented)
    assert v2.canonical_event_type("recordingComplete") == "recordComplete"


def test_the_real_time_transcription_object_is_read_under_both_keys() -> None:
    for event_type in ("realTimeTranscriptionRejected", "realTimeTranscriptionStopped", "realTimeTranscriptionStarted"):
        event = v2.parse_event(PAYLOADS[event_type])
        assert isinstance(event, v2.RealTimeTranscriptionEvent)
        assert event.real_time_transcription is not None and event.real_time_transcription.id is not None
    started = v2.parse_event(PAYLOADS["realTimeTranscriptionStarted"])
    assert isinstance(started, v2.RealTimeTranscriptionEvent) and started.real_time_transcription is not None
    assert started.real_time_transcription.stabilized is True  # sent as the text "true"


def test_unknown_types_and_fields_are_kept() -> None:
    refer = {"eventType": "referComplete", "callId": CALL, "referCallStatus": "success", "referSipResponseCode": 202}
    event = v2.parse_event(refer)
    assert type(event) is v2.UnknownEvent
    assert event.event_route_type == "referComplete"
    assert event.model_extra == {"callId": CALL, "referCallStatus": "success", "referSipResponseCode": 202}
    assert v2.call_key(event) == f"call:{CALL}"
    assert event.call_state is None
    initiate = v2.parse_event(PAYLOADS["initiate"])
    assert initiate.model_extra == {"privacy": False, "callerDisplayName": ""}
    assert initiate.model_dump(by_alias=True, exclude_unset=True) == PAYLOADS["initiate"] | {
        "eventTime": initiate.event_time,
        "startTime": datetime(2019, 6, 20, 15, 54, 22, 234000, tzinfo=timezone.utc),
    }


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"callId": CALL}, "eventType"),
        ({"eventType": 7}, "eventType"),
        ({"eventType": "recordComplete", "channels": "two"}, "channels"),
        ({"eventType": "answer", "eventTime": "yesterday"}, "eventTime"),
        ({"eventType": "initiate", "diversion": "[" * 40}, "diversion"),
    ],
)
def test_bad_fields_are_validation_errors_naming_the_field(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        v2.parse_event(fields)
    assert problem in {str(part) for error in caught.value.errors() for part in error["loc"]}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"answer"'])
def test_a_body_that_is_no_json_object_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationError):
        v2.parse_event_json(body)


def test_timestamps_are_read_leniently() -> None:
    expected = datetime(2019, 9, 13, 16, 48, 27, 198000, tzinfo=timezone.utc)
    for text in ("2019-09-13T16:48:27.198Z", "2019-09-13T16:48:27.198", "2019-09-13-16:48:27.198Z", "1568393307198"):
        assert v2.parse_event({"eventType": "answer", "eventTime": text}).event_time == expected, text


# ---- call state --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "state"),
    [
        ("hangup", "disconnected"),
        ("busy", "busy"),
        ("timeout", "no-answer"),
        ("cancel", "canceled"),
        ("rejected", "rejected"),
        ("callback-error", "failed"),
        ("invalid-bxml", "failed"),
        ("application-error", "failed"),
        ("account-limit", "failed"),
        ("node-capacity-exceeded", "failed"),
        ("error", "failed"),
        ("unknown", "failed"),
        ("a-cause-from-next-year", "disconnected"),
        (None, "disconnected"),
    ],
)
def test_a_disconnect_implies_the_state_its_cause_says(cause: str | None, state: str) -> None:
    for event_type in ("disconnect", "transferDisconnect"):
        fields = {**PAYLOADS[event_type], "cause": cause}
        assert v2.parse_event(fields).call_state == state
        assert state in v2.KNOWN_CALL_STATES


def test_every_event_type_implies_the_documented_state() -> None:
    expected = {
        "initiate": "initiated",
        "disconnect": "busy",  # the payload's cause
        "transferDisconnect": "disconnected",
        "recordingAvailable": None,
        "transcriptionAvailable": None,
    }
    for event_type, payload in PAYLOADS.items():
        event = v2.parse_event(payload)
        if event_type.startswith("conference"):
            assert event.call_state is None, event_type
        else:
            assert event.call_state == expected.get(event_type, "answered"), event_type


# ---- identity and call key ---------------------------------------------------------------------------------


def test_a_retried_delivery_is_the_same_event() -> None:
    for payload in PAYLOADS.values():
        reordered = dict(reversed(list(payload.items())))
        assert v2.event_identity(v2.parse_event(reordered)) == v2.event_identity(v2.parse_event(payload))


def test_two_events_that_differ_in_any_field_are_two_events() -> None:
    first = PAYLOADS["dtmf"]
    same_digit_later = {**first, "eventTime": "2019-06-20T15:56:12.002Z"}  # one millisecond apart
    variants = [same_digit_later, {**first, "digit": "3"}, {**first, "tag": "other-menu"}, {**first, "callId": PARENT}]
    identities = {v2.event_identity(v2.parse_event(fields)) for fields in [first, *variants]}
    assert len(identities) == 5


def test_urls_and_unknown_fields_do_not_count() -> None:
    first = PAYLOADS["recordComplete"]
    moved = {**first, "callUrl": "https://elsewhere.example/calls/x", "mediaUrl": "https://x", "newField": 1}
    assert v2.event_identity(v2.parse_event(moved)) == v2.event_identity(v2.parse_event(first))


def test_events_are_keyed_by_call_and_conference_events_by_conference() -> None:
    for event_type, payload in PAYLOADS.items():
        key = v2.call_key(v2.parse_event(payload))
        assert key == (f"conference:{CONFERENCE}" if event_type.startswith("conference") else f"call:{CALL}")
    assert v2.call_key(v2.parse_event({"eventType": "conferenceCreated"})) is None


def test_the_platform_value_plugs_the_same_functions_in() -> None:
    platform = v2.BANDWIDTH_V2
    event = platform.parse(Delivery(fields=PAYLOADS["gather"], kind="ignored", tag="ignored"))
    assert isinstance(event, v2.GatherEvent) and event.digits == "123"
    assert platform.identity(event) == v2.event_identity(v2.parse_event(PAYLOADS["gather"]))
    assert platform.call_key(event) == f"call:{CALL}"
    assert platform.call_state(event) == "answered"
    assert platform.canonical_event_type("recordingComplete") == "recordComplete"
    assert platform.event_types == v2.KNOWN_EVENT_TYPES and "disconnected" in platform.call_states
    assert platform.form_fields([("from", " 15551112222")]) == {"from": "+15551112222"}
