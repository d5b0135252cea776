"""The phone (the control API behind ``/_sim/phone``, with the Twilio account's credentials) on Twilio calls: a
person calls the application's Voice URL, hears its TwiML, presses keys into its Gather and hangs up; an outbound
call to a claimed line rings until answered."""

from __future__ import annotations

from typing import Any

import httpx

from callhooks.testing import wait_until
from tests.twilio.sim_support import ACCOUNT_SID, AUTH_TOKEN, FakeApp, running, twiml

APP, PERSON = "+15550100", "+15550142"


def test_a_person_calls_the_voice_url_and_presses_keys() -> None:
    app = FakeApp(
        replies={
            "voice": twiml('<Gather numDigits="1" action="/menu"><Say>Press 2 to hear goodbye</Say></Gather>'),
            "menu": twiml("<Say>Goodbye</Say>", '<Pause length="600"/>'),
        }
    )
    with (
        running(app, voice_path="voice") as sim,
        httpx.Client(base_url=f"{sim.url}/_sim", auth=(ACCOUNT_SID, AUTH_TOKEN)) as control,
    ):

        def view() -> dict[str, Any]:
            return dict(control.get(f"/calls/{call_id}").json())

        assert control.post("/phone/lines", json={"number": PERSON}).status_code in (200, 201)
        call_id = control.post("/phone/dial", json={"from": PERSON, "to": APP}).json()["callId"]
        wait_until(lambda: view()["gather"] is not None, timeout=20, what="the Gather")
        heard = [(entry["kind"], entry["text"]) for entry in view()["heard"]]
        assert ("speak", "Press 2 to hear goodbye") in heard
        control.post(f"/calls/{call_id}/dtmf", json={"digits": "2"})
        wait_until(lambda: any(entry["text"] == "Goodbye" for entry in view()["heard"]), timeout=20, what="goodbye")
        control.post(f"/calls/{call_id}/hangup")
        sid = str(sim.simulator.call(call_id)["sid"])
        assert sim.wait_status(sid).status == "completed"
    assert app.at("menu")[0].params["Digits"] == "2"
    assert app.at("voice")[0].params["Direction"] == "inbound"


def test_an_outbound_call_to_a_claimed_line_rings_until_answered() -> None:
    app = FakeApp(replies={"voice": twiml("<Say>Hello</Say><Hangup/>")})
    with running(app) as sim, httpx.Client(base_url=f"{sim.url}/_sim", auth=(ACCOUNT_SID, AUTH_TOKEN)) as control:
        control.post("/phone/lines", json={"number": PERSON})
        created = sim.twilio.calls.create(to=PERSON, from_=APP, url=f"{app.url}/voice")
        ringing = wait_until(
            lambda: [c for c in control.get("/calls").json() if c["to"] == PERSON and c["state"] == "started"],
            timeout=20,
            what="the call to ring",
        )
        assert sim.twilio.calls(created.sid).fetch().status == "ringing" and app.received == []
        control.post(f"/calls/{ringing[0]['callId']}/answer")
        assert sim.wait_status(created.sid).status == "completed"
    assert [request.path for request in app.received] == ["voice"]
