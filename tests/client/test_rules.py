"""The platform's request rules are written once (``callhooks.rules``): the client and the simulator agree.

For each rule both sides check, the client refuses a value before sending exactly when the simulator answers
it with a 400, and both give the rule's own message. A rule changed in one place changes in both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callhooks import rules
from callhooks.client import params
from callhooks.simulator.errors import ApiError
from callhooks.simulator.params import AudioParams, CallParams, GatherParams, UpdateParams, check_dtmf

CALLER, CALLEE = "+19195550100", "+19195551212"


def client_error(build: Callable[[], object]) -> str | None:
    try:
        build()
    except ValueError as error:
        return str(error)
    return None


def simulator_error(parse: Callable[[], object]) -> str | None:
    try:
        parse()
    except ApiError as error:
        assert error.status == 400
        return error.message
    return None


# rule name -> (client check of a value, simulator check of the same value on the wire)
SIDES: dict[str, tuple[Callable[[Any], object], Callable[[Any], object]]] = {
    "to": (
        lambda v: params.create_call({"from_": CALLER, "to": v}),
        lambda v: CallParams.parse({"from": CALLER, "to": v}),
    ),
    "sip_headers": (
        lambda v: params.create_call({"from_": CALLER, "to": CALLEE, "sip_headers": v}),
        lambda v: CallParams.parse({"from": CALLER, "to": CALLEE, "sipHeaders": v}),
    ),
    "call_timeout": (
        lambda v: params.create_call({"from_": CALLER, "to": CALLEE, "call_timeout": v}),
        lambda v: CallParams.parse({"from": CALLER, "to": CALLEE, "callTimeout": v}),
    ),
    "callback_http_method": (
        lambda v: params.create_call({"from_": CALLER, "to": CALLEE, "callback_http_method": v}),
        lambda v: CallParams.parse({"from": CALLER, "to": CALLEE, "callbackHttpMethod": v}),
    ),
    "recording_file_format": (
        lambda v: params.validate(params.UpdateCallFields, {"recording_file_format": v}),
        lambda v: UpdateParams.parse({"recordingFileFormat": v}),
    ),
    "transfer_caller_id": (
        lambda v: params.transfer({"transfer_to": CALLEE, "transfer_caller_id": v}),
        lambda v: UpdateParams.parse({"state": "transferring", "transferTo": CALLEE, "transferCallerId": v}),
    ),
    "dtmf_out": (params.dtmf, lambda v: check_dtmf({"dtmfOut": v})),
    "volume": (
        lambda v: params.audio({"sentence": "hi", "volume": v}),
        lambda v: AudioParams.parse({"sentence": "hi", "volume": v}),
    ),
    "sentence": (lambda v: params.audio({"sentence": v}), lambda v: AudioParams.parse({"sentence": v})),
    "gender": (
        lambda v: params.audio({"sentence": "hi", "gender": v}),
        lambda v: AudioParams.parse({"sentence": "hi", "gender": v}),
    ),
    "max_digits": (lambda v: params.gather({"max_digits": v}), lambda v: GatherParams.parse({"maxDigits": v})),
    "inter_digit_timeout": (
        lambda v: params.gather({"inter_digit_timeout": v}),
        lambda v: GatherParams.parse({"interDigitTimeout": v}),
    ),
    "terminating_digits": (
        lambda v: params.gather({"terminating_digits": v}),
        lambda v: GatherParams.parse({"terminatingDigits": v}),
    ),
}

CASES: list[tuple[str, Any, bool]] = [
    ("to", "+19195551313", True),
    ("to", "sip:alice@example.com", True),
    ("to", "19195551313", False),
    ("to", "+123456", False),
    ("to", "sip:nobody", False),
    ("sip_headers", {"X-Order": "4411"}, True),
    ("sip_headers", {"x-lower": "ok"}, True),
    ("sip_headers", {f"X-H{i}": "v" for i in range(6)}, False),
    ("sip_headers", {"Order": "4411"}, False),
    ("sip_headers", {"X-Long": "v" * 257}, False),
    ("sip_headers", {"X-" + "n" * 255: "v"}, False),
    ("call_timeout", 300, True),
    ("call_timeout", 301, False),
    ("call_timeout", 0, False),
    ("callback_http_method", "get", True),
    ("callback_http_method", "PUT", False),
    ("recording_file_format", "MP3", True),
    ("recording_file_format", "ogg", False),
    ("transfer_caller_id", "private", True),
    ("transfer_caller_id", "+19195551313", True),
    ("transfer_caller_id", "anonymous", False),
    ("dtmf_out", "12,w#*AD", True),
    ("dtmf_out", "1" * 92, True),
    ("dtmf_out", "1" * 93, False),
    ("dtmf_out", "12x", False),
    ("volume", -4, True),
    ("volume", 5, False),
    ("sentence", "x" * 1000, True),
    ("sentence", "x" * 1001, False),
    ("gender", "Male", True),
    ("gender", "robot", False),
    ("max_digits", 30, True),
    ("max_digits", 31, False),
    ("inter_digit_timeout", 0, False),
    ("terminating_digits", "#*", True),
    ("terminating_digits", "#w", False),
]


@pytest.mark.parametrize(("rule", "value", "valid"), CASES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(CASES)])
def test_client_and_simulator_agree(rule: str, value: Any, valid: bool) -> None:
    check_client, check_simulator = SIDES[rule]
    refused_by_client = client_error(lambda: check_client(value))
    refused_by_simulator = simulator_error(lambda: check_simulator(value))
    assert (refused_by_client is None, refused_by_simulator is None) == (valid, valid)


RULE_MESSAGES: list[tuple[str, Any, Callable[[Any], object]]] = [
    ("to", "nobody", rules.address),
    ("sip_headers", {"Order": "1"}, rules.sip_headers),
    ("dtmf_out", "12x", rules.dtmf_out),
    ("terminating_digits", "#w", rules.gather_digits),
    ("gender", "robot", lambda v: rules.choice(v, rules.GENDERS)),
    ("sentence", "x" * 1001, rules.sentence),
]


@pytest.mark.parametrize(("rule", "value", "check"), RULE_MESSAGES, ids=[row[0] for row in RULE_MESSAGES])
def test_both_sides_give_the_rules_own_message(rule: str, value: Any, check: Callable[[Any], object]) -> None:
    with pytest.raises(ValueError) as caught:
        check(value)
    message = str(caught.value)
    check_client, check_simulator = SIDES[rule]
    assert message in (client_error(lambda: check_client(value)) or "")
    assert message in (simulator_error(lambda: check_simulator(value)) or "")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFwW#*,x ", max_size=100))
def test_dtmf_agreement_on_any_keys(digits: str) -> None:
    client, simulator = SIDES["dtmf_out"]
    assert (client_error(lambda: client(digits)) is None) == (simulator_error(lambda: simulator(digits)) is None)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(alphabet="Xx-ab", max_size=8), st.text(max_size=3), max_size=7))
def test_sip_header_agreement_on_any_headers(headers: Mapping[str, str]) -> None:
    client, simulator = SIDES["sip_headers"]
    agree = (client_error(lambda: client(headers)) is None) == (simulator_error(lambda: simulator(headers)) is None)
    assert agree, headers
