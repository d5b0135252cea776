"""callhooks.platform: Catapult's thin adapter gives what events.py and identity.py give, and every platform's
events answer what routing asks (event_route_type, call_state, tag), so one Router serves them all."""

from __future__ import annotations

import pytest

from callhooks.bandwidth.events import BANDWIDTH_V2
from callhooks.catapult import CATAPULT
from callhooks.events import KNOWN_CALL_STATES, KNOWN_EVENT_TYPES, encode_query, parse_event
from callhooks.identity import call_key, event_identity
from callhooks.platform import Delivery, Platform, lower_headers
from callhooks.receiver.inbound import parse_form
from callhooks.receiver.routing import Router
from callhooks.twilio.events import TWILIO

HANGUP = {
    "eventType": "hangup",
    "callId": "c-1",
    "cause": "CALL_REJECTED",
    "from": "+15551112222",
    "time": "2026-01-01T00:00:00.000Z",
    "tag": "t",
}


def test_the_catapult_adapter_is_events_and_identity_unchanged() -> None:
    event = CATAPULT.parse(Delivery(CATAPULT.form_fields(parse_form(encode_query(HANGUP))), kind="x", tag="y"))
    direct = parse_event(HANGUP)
    assert event == direct and event.event_route_type == "reject"
    assert CATAPULT.identity(event) == event_identity(direct)
    assert CATAPULT.call_key(event) == call_key(direct) == "call:c-1"
    assert CATAPULT.call_state(event) == "rejected"
    assert (CATAPULT.event_types, CATAPULT.call_states) == (KNOWN_EVENT_TYPES, KNOWN_CALL_STATES)
    assert CATAPULT.canonical_event_type("transfer-complete") == "transferComplete"


@pytest.mark.parametrize(
    ("platform", "delivery", "route", "state"),
    [
        (CATAPULT, Delivery({"eventType": "answer", "callId": "c-1", "tag": "menu"}), "answer", "active"),
        (BANDWIDTH_V2, Delivery({"eventType": "gather", "callId": "c-1", "tag": "menu"}), "gather", "answered"),
        (TWILIO, Delivery({"CallSid": "CA1", "CallStatus": "in-progress"}, kind="gather", tag="menu"), "gather", None),
    ],
)
def test_one_router_routes_every_platforms_events(
    platform: Platform, delivery: Delivery, route: str, state: str | None
) -> None:
    event = platform.parse(delivery)
    assert (event.event_route_type, event.tag) == (route, "menu")
    state = state or event.call_state
    assert state in platform.call_states and route in platform.event_types
    router = Router()

    def by_state(event: object) -> None: ...
    def by_type_and_tag(event: object) -> None: ...

    router.add_handler(by_state, state=state, allow_unknown=True)
    assert router.match(event).func is by_state  # type: ignore[arg-type, union-attr]
    router.add_handler(by_type_and_tag, route, tag="menu", allow_unknown=True)
    assert router.match(event).func is by_type_and_tag  # type: ignore[arg-type, union-attr]


def test_headers_are_looked_up_by_lower_case_name() -> None:
    assert lower_headers({"I-Twilio-Idempotency-Token": "a"}) == {"i-twilio-idempotency-token": "a"}
    assert lower_headers([("X-A", "1"), ("x-a", "2")]) == {"x-a": "2"}
    assert lower_headers(None) == {}
