"""The event identity rule (callhooks/identity.py): same event in GET and POST form, same identity; repeats that
differ in what tells them apart, different identities."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import Field

from callhooks.events import (
    CallEvent,
    encode_query,
    format_time,
    parse_event,
    parse_event_json,
    query_to_fields,
    wire_fields,
)
from callhooks.identity import _catapult_identity, call_key, event_identity, legacy_event_identity
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


# -- rule 1 (what earlier versions stored, still looked up during an upgrade) is the one of the dict given to
# json.dumps, to the byte; rule 2 as planned is rule 2 written plainly --------------------------------------


def _reference_time(moment: datetime) -> str:
    # events.format_time as it was written first (strftime), kept as the reference
    utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _reference_identity(event: CallEvent) -> str:
    # identity.event_identity as it was written first (a dict, json.dumps(sort_keys=True)), kept as the reference
    fields: dict[str, Any] = {"@type": event.event_route_type}
    for name, info in type(event).model_fields.items():
        value = getattr(event, name)
        if value is None or name == "event_type" or name.endswith("_uri"):
            continue
        if isinstance(value, datetime):
            value = _reference_time(value)
        elif hasattr(value, "model_dump"):
            value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
        fields[info.alias or name] = value
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_TIMES = [
    datetime(2026, 1, 2, 3, 4, 5, 678999),  # naive: UTC
    datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=timezone.utc),
    datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-3))),  # the next year in UTC
    datetime(2026, 1, 1, 0, 30, 0, 999, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    datetime(1000, 1, 1, 0, 0, 0, 1000),
    datetime(999, 12, 31, 23, 59, 59, 999999),  # strftime writes years below 1000 unpadded (glibc)
    datetime(5, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-1))),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
]
_TEXTS = ['é "quoted" \\ back/slash', "tab\t new\nline \x00 \x1f \x7f \u2028 \ud7ff 😀", ""]


def _variants(event_type: str) -> list[CallEvent]:
    event = FACTORIES[event_type]()
    wire = wire_fields(event)
    found = [event, as_post(event), as_get(event)]
    found.append(parse_event({**wire, "unknownField": {"b": [1, 2.5]}, "other": "x"}))  # left out
    times = [name for name, value in event if isinstance(value, datetime)]
    for at in _TIMES:
        found.append(event.model_copy(update={name: at for name in ["time", *times]}))
    for text in _TEXTS:
        found.append(event.model_copy(update={"tag": text, "to": text}))
        tagged = {**wire, "tag": text}
        found += [as_post(parse_event(tagged)), as_get(parse_event(tagged))]
    if "diversion" in type(event).model_fields:
        diversion = {"origTo": "+19195550000", "reason": "unconditional", "counter": 2, "limit": 3, "privacy": "é"}
        for extra in ({}, {"zExtra": {"b": [1, 2.5, None, True], "a": 'q"é'}, "aExtra": 1.5}):
            diverted = parse_event({**wire, "diversion": {**diversion, **extra}})
            found += [diverted, as_post(diverted), as_get(diverted)]
    found.append(event.model_copy(update={"call_id": None, "from_": None}))
    return found


@pytest.mark.parametrize("event_type", sorted(FACTORIES))
def test_rule_1_is_the_one_of_the_sorted_dict_and_rule_2_its_plain_writing_for_every_event_type(
    event_type: str,
) -> None:
    variants = _variants(event_type)
    for event in variants:
        assert legacy_event_identity(event) == _reference_identity(event), event
        assert event_identity(event) == _catapult_identity.reference(event), event
        assert event_identity(event) != legacy_event_identity(event)
    assert len({event_identity(event) for event in variants}) > len(_TIMES)  # the variants do differ
    # rule 2 tells apart exactly the variants rule 1 tells apart
    assert len({event_identity(e) for e in variants}) == len({legacy_event_identity(e) for e in variants})


def test_the_identity_is_the_one_of_the_sorted_dict_for_numbers_unknown_types_and_odd_classes() -> None:
    member = conference_member_event("c-1", hold="true", mute=False, active_members="3")
    dtmf = dtmf_event("c-1", dtmf_duration=0)
    unknown = parse_event({"eventType": "somethingNew", "callId": "c-1", "time": "2026-01-02T03:04:05Z"})

    class Renamed(CallEvent):  # two fields on one wire name: the dict keeps the last one's value
        again: str | None = Field(default=None, alias="callId")
        first: str | None = Field(default=None, alias="0first")  # sorts before "@type"

    renamed = Renamed.model_validate({"eventType": "renamed", "callId": "c-1", "0first": "x"})
    for event in (member, dtmf, unknown, renamed, renamed.model_copy(update={"again": None})):
        assert legacy_event_identity(event) == _reference_identity(event), event
        assert event_identity(event) == _catapult_identity.reference(event), event


@pytest.mark.parametrize("moment", _TIMES)
def test_format_time_writes_what_strftime_writes(moment: datetime) -> None:
    assert format_time(moment) == _reference_time(moment)
