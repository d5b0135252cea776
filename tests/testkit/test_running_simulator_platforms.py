"""``running_simulator(platform=...)`` and the ``callhooks_platform`` fixture: a session playing Bandwidth v2 or
Twilio, whose ``client`` is that platform's client pointed at it with random credentials, runs a call through a
receiver of that platform to its end; the Catapult default is unchanged."""

from __future__ import annotations

import secrets

import pytest

from callhooks import CallHooks
from callhooks.bandwidth import bxml
from callhooks.bandwidth import events as v2
from callhooks.bandwidth.client import Client as V2Client
from callhooks.client import Client as CatapultClient
from callhooks.simulator import FarEnd
from callhooks.testing import SimulatorSession, running_simulator
from callhooks.twilio import events as tw
from callhooks.twilio import twiml
from callhooks.twilio.client import Client as TwilioClient
from callhooks.twilio.receiving import Reply

pytestmark = pytest.mark.timeout(120)

APP, CUSTOMER = "+19195550100", "+19195551313"


def test_a_v2_session_runs_a_call_through_a_v2_receiver() -> None:
    hooks = CallHooks(platform="bandwidth", secret=secrets.token_urlsafe(16))
    chosen: list[str | None] = []

    @hooks.on("answer")
    def answered(event: v2.AnswerEvent) -> bxml.Response:
        return bxml.Response(bxml.Gather(bxml.SpeakSentence("Press 1."), max_digits=1, tag="main-menu"))

    @hooks.on("gather", tag="main-menu")
    def menu(event: v2.GatherEvent) -> bxml.Response:
        chosen.append(event.digits)
        return bxml.Response(bxml.Hangup())

    with running_simulator(
        platform="bandwidth", numbers={CUSTOMER: FarEnd(answer_after=1, digits="1", press_on="prompt")}
    ) as session:
        assert (
            isinstance(session.client, V2Client) and session.client.settings.client_id == session.account["client_id"]
        )
        assert session.environ["BANDWIDTH_CLIENT_SECRET"] == session.account["client_secret"]
        with session.receiver(hooks):
            url = hooks.callback_url()
            created = session.client.calls.create(APP, CUSTOMER, "app-1", answer_url=url, disconnect_url=url)
            ended = session.wait_until_ended(created.call_id)
        assert ended.state == "disconnected"
        assert session.event_types(created.call_id) == ["answer", "gather", "disconnect"]
    assert chosen == ["1"]


def test_a_twilio_session_runs_a_call_through_a_twilio_receiver() -> None:
    with running_simulator(
        platform="twilio", numbers={CUSTOMER: FarEnd(answer_after=1, digits="1", press_on="prompt")}
    ) as session:
        assert isinstance(session.client, TwilioClient)
        assert session.client.settings.account_sid == session.account["account_sid"]
        # the receiver checks signatures with the auth token of the account the simulator plays
        hooks = CallHooks.from_env(
            {**session.environ, "CALLHOOKS_SECRET": secrets.token_urlsafe(16), "CALLHOOKS_PUBLIC_URL": "http://x"},
            platform="twilio",
        )
        chosen: list[str | None] = []

        @hooks.on("answer")
        def answered(event: tw.CallRequestEvent) -> Reply:
            return Reply(twiml.Response(twiml.Gather(twiml.Say("Press 1."), num_digits=1)), tag="main-menu")

        @hooks.on("gather", tag="main-menu")
        def menu(event: tw.GatherEvent) -> twiml.Response:
            chosen.append(event.digits)
            return twiml.Response(twiml.Hangup())

        with session.receiver(hooks):
            call = session.client.calls.create(
                CUSTOMER, APP, url=hooks.callback_url(kind="answer"), status_callback=hooks.callback_url(kind="status")
            )
            ended = session.wait_until_ended(str(call.sid))
        assert ended.status == "completed"
        assert chosen == ["1"]
        assert session.phone_view(str(call.sid))["state"] == ended.status  # the sid names the call to the phone too
        kinds = session.event_types(str(call.sid))  # the sid the client reads names the call too
        assert kinds[0] == "call" and "gather" in kinds and kinds[-1] == "status", kinds


def test_a_sessions_credentials_are_fresh_and_the_catapult_default_is_unchanged() -> None:
    with running_simulator(platform="twilio") as first, running_simulator(platform="twilio") as second:
        assert first.account["auth_token"] != second.account["auth_token"]
    given = {"account_sid": "AC" + "5" * 32, "auth_token": "my-token"}
    with running_simulator(platform="twilio", account=given) as session:
        assert session.account == given and session.environ["TWILIO_AUTH_TOKEN"] == "my-token"
    with running_simulator() as catapult:
        assert isinstance(catapult.client, CatapultClient) and catapult.platform == "catapult"
        assert catapult.environ["CATAPULT_API_SECRET"] == catapult.api_secret
    with pytest.raises(ValueError, match="unknown platform"), running_simulator(platform="plivo"):
        pass


@pytest.mark.parametrize("callhooks_platform", ["catapult", "bandwidth", "twilio"])
def test_the_fixture_plays_the_platform_asked_for(
    callhooks_simulator: SimulatorSession, callhooks_platform: str
) -> None:
    assert callhooks_simulator.platform == callhooks_platform
    assert callhooks_simulator.simulator.profile.name == callhooks_platform
    clients = {"catapult": CatapultClient, "bandwidth": V2Client, "twilio": TwilioClient}
    assert isinstance(callhooks_simulator.client, clients[callhooks_platform])
    callhooks_simulator.settle()  # the control API takes the account's credentials
