"""A reject (a ``hangup`` with cause ``CALL_REJECTED``) is parsed once on the fast path: the same typed event as
the reference parser (``events.event_adapter``) builds, for every way its state may arrive (absent, null, text)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callhooks import events
from callhooks.events import CallEvent, parse_event, parse_event_json, query_to_fields
from callhooks.receiver.inbound import parse_form

_ABSENT = object()


def _same(event: CallEvent, reference: CallEvent) -> None:
    assert type(event) is type(reference)
    assert list(event.__dict__.items()) == list(reference.__dict__.items())  # values, and their order
    assert event.model_fields_set == reference.model_fields_set
    assert event.__pydantic_extra__ == reference.__pydantic_extra__
    assert event.model_dump_json(by_alias=True, exclude_unset=True) == reference.model_dump_json(
        by_alias=True, exclude_unset=True
    )
    assert (event.call_state, event.event_route_type) == (reference.call_state, reference.event_route_type)


_states = st.sampled_from([_ABSENT, None, "completed", "rejected", "active", "", "weird"])
_causes = st.sampled_from([_ABSENT, "CALL_REJECTED", "NORMAL_CLEARING", None])
_extras = st.dictionaries(
    st.sampled_from(["foo", "bar", "note"]), st.one_of(st.none(), st.integers(), st.text(max_size=8)), max_size=2
)


@given(
    state=_states,
    cause=_causes,
    extra=_extras,
    tag=st.one_of(st.just(_ABSENT), st.none(), st.text(max_size=6)),
    spaced=st.booleans(),
    event_key=st.sampled_from(["eventType", "event_type"]),
)
def test_a_hangup_parses_as_the_reference_parser_does(
    state: Any, cause: Any, extra: dict[str, Any], tag: Any, spaced: bool, event_key: str
) -> None:
    fields: dict[str, Any] = {event_key: "hangup", "callId": "c-1", "time": "2026-01-01T00:00:00Z", **extra}
    for name, value in (("callState", state), ("cause", cause), ("tag", tag)):
        if value is not _ABSENT:
            fields[name] = value
    body = json.dumps(fields, separators=(", ", ": ") if spaced else (",", ":")).encode()
    _same(parse_event_json(body), events.event_adapter.validate_json(body))
    _same(parse_event_json(body.decode()), events.event_adapter.validate_json(body.decode()))
    _same(parse_event(fields), events.event_adapter.validate_python(dict(fields)))
    # GET: every value text (a null cannot arrive so)
    text = {name: value for name, value in fields.items() if isinstance(value, str)}
    query = "&".join(f"{name}={value}" for name, value in text.items() if "&" not in value and "=" not in value)
    got = query_to_fields(parse_form(query))
    _same(parse_event(got), events.event_adapter.validate_python(dict(got)))


@pytest.mark.parametrize(
    ("state", "expected"), [(_ABSENT, "rejected"), ("completed", "completed"), ("rejected", "rejected")]
)
def test_a_reject_is_parsed_once(monkeypatch: pytest.MonkeyPatch, state: Any, expected: str) -> None:
    # The reference parser, which the fast path falls back to, is not run for a reject without a null in it.
    fallbacks: list[object] = []
    reference = events.event_adapter

    class Counting:
        def validate_json(self, data: Any) -> CallEvent:
            fallbacks.append(data)
            return reference.validate_json(data)

        def validate_python(self, data: Any) -> CallEvent:
            fallbacks.append(data)
            return reference.validate_python(data)

    monkeypatch.setattr(events, "event_adapter", Counting())
    fields: dict[str, Any] = {"eventType": "hangup", "callId": "c-1", "cause": "CALL_REJECTED"}
    if state is not _ABSENT:
        fields["callState"] = state
    for event in (parse_event_json(json.dumps(fields).encode()), parse_event(fields)):
        assert type(event) is events.RejectEvent and event.call_state == expected
    assert fallbacks == []
    # A null state is told from "completed" by the reference parser (the fast path cannot): it runs then.
    nulled = parse_event_json(b'{"eventType": "hangup", "cause": "CALL_REJECTED", "callState": null}')
    assert type(nulled) is events.RejectEvent and nulled.call_state == "rejected" and len(fallbacks) == 1
