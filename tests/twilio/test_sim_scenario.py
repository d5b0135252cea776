"""A scenario file chooses the platform (``platform: twilio``), its account and the far ends of Twilio calls."""

from __future__ import annotations

from pathlib import Path

from twilio.rest import Client as TwilioClient

from callhooks.simulator import Simulator
from callhooks.testing import serve, wait_until
from tests.twilio.sim_support import FakeApp, twiml

ACCOUNT_SID, AUTH_TOKEN = "AC" + "4" * 32, "scenario-auth-token"


def test_a_scenario_file_sets_the_platform_the_account_and_the_far_ends(tmp_path: Path) -> None:
    scenario = tmp_path / "twilio.yaml"
    scenario.write_text(
        f"platform: twilio\naccount: {{account_sid: {ACCOUNT_SID}, auth_token: {AUTH_TOKEN}}}\nspeed: 100\n"
        'numbers:\n  "+15550007": {digits: ["7"], hangup_after: 30}\n'
    )
    app = FakeApp(replies={"voice": twiml('<Gather numDigits="1" action="/got"/>'), "got": twiml("<Hangup/>")})
    with serve(app.asgi()) as served_app, serve(Simulator.from_scenario(scenario)) as served:
        app.url = served_app.url
        client = TwilioClient(ACCOUNT_SID, AUTH_TOKEN)
        client.api.base_url = served.url
        call = client.calls.create(to="+15550007", from_="+15550002", url=f"{app.url}/voice")
        wait_until(lambda: client.calls(call.sid).fetch().status == "completed", timeout=30, what="the call")
    assert app.at("got")[0].params["Digits"] == "7"
