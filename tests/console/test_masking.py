"""Masked numbers (``console_mask_numbers=True``): in the console's list, timeline, rejections and exports,
and in callhooks' own log lines, uvicorn's access log included."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from callhooks.console import masking
from callhooks.console.masking import MAX_MASKED_CHARS, mask_fields, mask_number, mask_numbers_in

from .support import APP, CALLER, CONSOLE, connected, make_hooks, path_of, send_call

CALLER_MASKED, APP_MASKED = "+*******1212", "+*******0100"


@pytest.fixture
def masked_logs() -> Iterator[None]:
    yield
    masking.uninstall_log_masking()  # CallHooks(console_mask_numbers=True) turned it on for the process


def test_mask_functions() -> None:
    assert mask_number(CALLER) == CALLER_MASKED
    assert mask_number("sip:+19195551212@sip.example.com") == "sip:+*******1212@sip.example.com"
    assert mask_number("123") == "*23" and mask_number("anonymous") == "anonymous"
    assert mask_numbers_in(f"from {CALLER} to %2B19195550100 at 2024-01-01") == (
        f"from {CALLER_MASKED} to %2B*******0100 at 2024-01-01"
    )
    assert mask_numbers_in("+12345") == "+12345"  # too short to be a number: left alone
    fields = {"from": CALLER, "to": "4045550123", "diversion": {"origTo": APP}, "note": f"call {CALLER}", "n": 5}
    assert mask_fields(fields) == {
        "from": CALLER_MASKED,
        "to": "******0123",
        "diversion": {"origTo": APP_MASKED},
        "note": f"call {CALLER_MASKED}",
        "n": 5,
    }
    # Hostile input: the work and the output are bounded, whatever the size.
    huge = "+1" + "9" * (10 * MAX_MASKED_CHARS)
    masked = mask_numbers_in(huge)
    assert len(masked) < MAX_MASKED_CHARS + 40 and masked.endswith("chars)")
    assert len(mask_number(huge)) < MAX_MASKED_CHARS + 40
    assert "9999999" not in mask_numbers_in(("+19195551212 " * 50_000)[:MAX_MASKED_CHARS])


@pytest.mark.parametrize("transport", ["testclient", "uvicorn"])
def test_numbers_are_masked_everywhere_the_console_shows_them(
    transport: str, masked_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hooks = make_hooks(console_mask_numbers=True)
    with connected(hooks, transport) as client:
        url = send_call(client, hooks, "c-mask")
        # A rejected request's (unverified) payload is masked as well.
        bad = json.dumps({"eventType": "answer", "callId": 7, "from": CALLER}).encode()
        assert client.post(url, content=bad, headers={"content-type": "application/json"}).status_code == 422
        served = [
            client.get("/_console/api/calls", auth=CONSOLE).text,
            client.get("/_console/api/calls", params={"number": "1212"}, auth=CONSOLE).text,
            client.get("/_console/api/calls/c-mask", auth=CONSOLE).text,
            client.get("/_console/api/calls/c-mask/export", auth=CONSOLE).text,
            client.get("/_console/api/rejections", auth=CONSOLE).text,
        ]
        logging.getLogger("callhooks").info("calling %s for %s", CALLER, path_of(url))
    for text in served:
        assert "9195551212" not in text and "9195550100" not in text
    calls = json.loads(served[1])["calls"]
    assert [call["callId"] for call in calls] == ["c-mask"] and calls[0]["from"] == CALLER_MASKED
    detail = json.loads(served[2])
    answer, _gather, hangup = detail["entries"]
    assert answer["from"] == CALLER_MASKED and answer["fields"]["to"] == APP_MASKED
    assert CALLER_MASKED in answer["payload"]
    assert f"handler bug for {CALLER_MASKED}" in hangup["error"]["traceback"]
    export = json.loads(served[3])
    assert json.loads(export["events"][0]["body"])["from"] == CALLER_MASKED
    rejection = json.loads(served[4])["rejections"][0]
    assert rejection["status"] == 422 and CALLER_MASKED in rejection["payload"]
    logged = caplog.text
    assert "handler bug for" in logged and "calling +*******1212" in logged
    assert "9195551212" not in logged and "9195550100" not in logged


def test_masking_is_off_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    hooks = make_hooks()
    with connected(hooks, "testclient") as client:
        send_call(client, hooks, "c-plain")
        detail = client.get("/_console/api/calls/c-plain", auth=CONSOLE).json()
    assert detail["call"]["from"] == CALLER
    assert f"handler bug for {CALLER}" in caplog.text
