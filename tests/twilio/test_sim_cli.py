"""``callhooks simulate --platform twilio --account-sid … --auth-token …``: the Calls API with those credentials,
the fault flags in force, and one-line errors for flags that do not fit."""

from __future__ import annotations

import os
import sys

import httpx
import pytest
from twilio.rest import Client as TwilioClient

from callhooks.cli import main
from callhooks.testing import free_port, wait_until
from tests.helpers.processes import running

ACCOUNT_SID, AUTH_TOKEN = "AC" + "4" * 32, "cli-auth-token"


def test_simulate_plays_twilio_with_the_given_account() -> None:
    port = free_port()
    command = [sys.executable, "-m", "callhooks", "simulate", "--port", str(port), "-q", "--platform", "twilio"]
    command += ["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--duplicate", "1", "--speed", "50"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("TWILIO_")}
    with running(command, env, port, "/_sim/clock", (ACCOUNT_SID, AUTH_TOKEN)) as url:
        assert httpx.get(url + "/_sim/faults", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30).json()["duplicate"] == 1.0
        assert httpx.get(url + "/_sim/clock", auth=("u-simulator", "t-simulator"), timeout=30).status_code == 401
        client = TwilioClient(ACCOUNT_SID, AUTH_TOKEN)
        client.api.base_url = url
        call = client.calls.create(to="+15550001", from_="+15550002", twiml='<Response><Pause length="2"/></Response>')
        ended = wait_until(lambda: client.calls(call.sid).fetch().status == "completed", timeout=30, what="the call")
        assert ended and client.calls.list()[0].sid == call.sid


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--account-sid", ACCOUNT_SID], "--account-sid is a --platform twilio option (this is --platform catapult)"),
        (["--platform", "twillio"], "invalid choice: 'twillio'"),
    ],
)
def test_flags_that_do_not_fit_are_one_line_errors(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    assert main(["simulate", *argv]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("callhooks: error:") and problem in line
