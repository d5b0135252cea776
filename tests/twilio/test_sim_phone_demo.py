"""``callhooks demo --platform twilio --phone``: a person (this test, through the phone's control API) calls the
Twilio IVR from the phone page, picks sales, answers the sales line and hangs up; the IVR's rows show each request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from callhooks.commands.demo import APP_NUMBER, CUSTOMER_NUMBER, SALES_NUMBER
from callhooks.testing import wait_until
from tests.simulator.phone_support import phone_demo


def test_a_person_calls_the_twilio_ivr_from_the_phone_page() -> None:
    with phone_demo("--platform", "twilio", duration=120) as demo:
        parts = urlsplit(demo.phone_url)
        assert parts.username and parts.username.startswith("AC") and parts.password
        base = f"{parts.scheme}://{parts.hostname}:{parts.port}/_sim"
        with httpx.Client(base_url=base, auth=(parts.username, parts.password), timeout=10) as control:
            assert control.get("/phone").status_code == 200

            def call_to(number: str, state: str) -> Any:
                found = [c for c in control.get("/calls").json() if c["to"] == number and c["state"] == state]
                return found[0] if found else None

            customer = control.post("/phone/dial", json={"from": CUSTOMER_NUMBER, "to": APP_NUMBER}).json()["callId"]
            wait_until(lambda: control.get(f"/calls/{customer}").json()["gather"], timeout=30, what="the menu")
            control.post(f"/calls/{customer}/dtmf", json={"digits": "1"})
            sales = wait_until(lambda: call_to(SALES_NUMBER, "started"), timeout=30, what="the sales line to ring")
            control.post(f"/calls/{sales['callId']}/answer")
            wait_until(lambda: call_to(SALES_NUMBER, "active"), timeout=30, what="sales to answer")
            control.post(f"/calls/{customer}/hangup")
            wait_until(lambda: any("dialled" in line for line in demo.output), timeout=30, what="the dial request")
        console = urlsplit(demo.console_url)
        assert console.username and console.password
        console_api = f"http://{console.hostname}:{console.port}/_console/api/calls"

        def shown() -> list[str] | None:  # the console's timeline of the customer's call, once the dial is in
            auth = (console.username or "", console.password or "")
            calls = httpx.get(console_api, auth=auth, timeout=10).json()["calls"]
            for summary in calls:
                entries = httpx.get(f"{console_api}/{summary['callId']}", auth=auth, timeout=10).json()["entries"]
                kinds = [entry["eventType"] for entry in entries if entry.get("kind") == "event"]
                if "dial" in kinds:
                    return kinds
            return None

        assert wait_until(shown, timeout=30, what="the console's timeline")[:2] == ["call", "gather"]
        assert demo.stop() == 0
    rows = "".join(demo.output)
    assert "answered" in rows and "menu_choice" in rows and "main-menu" in rows
