"""The event identity rule (callhooks/identity.py): same event in GET and POST form, same identity; repeats that
differ in what tells them apart, different identities."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qsl

import pytest

from callhooks.events import CallEvent, encode_query, parse_event, parse_event_json, query_to_fields, wire_fields
from callhooks.identity import call_key, event_identity
from callhooks.testing.factories import (
    FACTORIES,
    conference_member_event,
    dtmf_event,
    gather_event,
    hangup_event,
    make_event,
    transfer_complete_event,
)


def as_post(event: CallEvent) -> CallEvent:
    return parse_event_json(json.dumps(wire_fields(event)).encode())


def as_get(event: CallEvent) -> CallEvent:
    query = encode_query(wire_fields(event))
    return parse_event(query_to_fields(parse_qsl(query, keep_blank_values=True)))


@pytest.mark.parametrize("event_type", sorted(FACTORIES))
def test_the_get_and_post_forms_of_an_event_have_one_identity(event_type: str) -> None:
    event = FACTORIES[event_type]()
    post, get = as_post(event), as_get(event)
    assert type(post) is type(get)
    assert event_identity(post) == event_identity(get) == event_identity(event)
    assert len(event_identity(event)) == 32


@pytest.mark.parametrize("event_type", sorted(FACTORIES))
def test_two_events_of_one_type_have_different_identities(event_type: str) -> None:
    first, second = FACTORIES[event_type](), FACTORIES[event_type]()  # fresh ids each
    assert event_identity(first) != event_identity(second)


def test_the_fields_that_tell_repeats_apart_change_the_identity() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    base = dtmf_event("c-1", time=at, dtmf_digit="1")
    assert event_identity(base) == event_identity(dtmf_event("c-1", time=at, dtmf_digit="1"))
    assert event_identity(base) != event_identity(dtmf_event("c-1", time=at, dtmf_digit="2"))
    assert event_identity(base) != event_identity(dtmf_event("c-2", time=at, dtmf_digit="1"))
    later = at.replace(microsecond=679000)
    assert event_identity(base) != event_identity(dtmf_event("c-1", time=later, dtmf_digit="1"))
    assert event_identity(base) != event_identity(dtmf_event("c-1", time=at, dtmf_digit="1", tag="other"))
    gather = gather_event("c-1", time=at, gather_id="g-1", digits="12")
    assert event_identity(gather) != event_identity(gather_event("c-1", time=at, gather_id="g-1", digits="13"))


def test_the_type_counts_and_its_spellings_do_not() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    hangup = hangup_event("c-1", time=at)
    rejected = hangup_event("c-1", time=at, cause="CALL_REJECTED")
    assert event_identity(hangup) != event_identity(rejected)
    complete = transfer_complete_event("c-1", time=at)
    spelled = make_event("transfer-complete", call_id="c-1", time=at, call_state="active")
    assert event_identity(spelled) == event_identity(make_event("transferComplete", call_id="c-1", time=at))
    assert event_identity(complete) != event_identity(hangup)


def test_times_compare_as_instants_and_unknown_fields_are_left_out() -> None:
    iso = parse_event({"eventType": "answer", "callId": "c-1", "time": "2026-01-02T03:04:05.678Z"})
    epoch = parse_event({"eventType": "answer", "callId": "c-1", "time": "1767323045678"})
    offset = parse_event({"eventType": "answer", "callId": "c-1", "time": "2026-01-02T05:04:05.678+02:00"})
    extra = parse_event({"eventType": "answer", "callId": "c-1", "time": "2026-01-02T03:04:05.678Z", "newField": 7})
    assert event_identity(iso) == event_identity(epoch) == event_identity(offset) == event_identity(extra)


def test_a_plus_decoded_as_a_space_in_a_get_gives_the_same_identity() -> None:
    post = parse_event({"eventType": "answer", "callId": "c-1", "from": "+19195551212"})
    get = parse_event(query_to_fields(parse_qsl("eventType=answer&callId=c-1&from=+19195551212")))
    assert event_identity(post) == event_identity(get)


def test_call_key_orders_conference_events_per_conference_and_others_per_call() -> None:
    member = conference_member_event("c-1", conference_id="conf-9")
    assert call_key(member) == "conference:conf-9"
    assert call_key(dtmf_event("c-1")) == "call:c-1"
    assert call_key(FACTORIES["conference"](conference_id="conf-2")) == "conference:conf-2"
    assert call_key(parse_event({"eventType": "somethingNew"})) is None
