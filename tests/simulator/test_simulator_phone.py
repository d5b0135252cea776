"""The phone over loopback: a test is the far end of calls through the control API (``/_sim/calls/…``,
``/_sim/phone/…``) and the test kit's ``SimulatorSession`` methods, against a real app on a real receiver."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from callhooks.commands.demo import create_ivr
from callhooks.simulator import Simulator
from callhooks.simulator.phone import page
from callhooks.testing import free_port, running_simulator
from tests.helpers.processes import server_process
from tests.simulator.phone_support import (
    APP_NUMBER,
    HELLO,
    OTHER_NUMBER,
    PHONE_NUMBER,
    PROMPT,
    PhoneEnv,
    own_number,
    phone_env,
)

pytestmark = pytest.mark.timeout(60)


def control(env: PhoneEnv, method: str, path: str, body: object = None) -> httpx.Response:
    session = env.session
    return httpx.request(
        method, f"{session.url}/_sim{path}", json=body, auth=(session.api_token, session.api_secret), timeout=10
    )


@pytest.fixture
def env() -> Iterator[PhoneEnv]:
    with phone_env() as running:
        yield running


def test_a_call_dialled_from_the_phone_hears_the_prompt_fills_the_gather_and_hangs_up(env: PhoneEnv) -> None:
    sim = env.session
    call_id = sim.dial(PHONE_NUMBER, APP_NUMBER)
    assert sim.wait_until_said(call_id, "Enter two digits") == [PROMPT]
    sim.wait_for(lambda: sim.phone_view(call_id)["gather"], what="the gather to start")
    sim.press(call_id, "42")
    assert sim.wait_until_said(call_id, "You pressed") == [PROMPT, "You pressed 42."]
    assert env.seen.snapshot("gathers") == ["42"]
    assert sim.event_types(call_id)[:4] == ["incomingcall", "answer", "dtmf", "dtmf"]

    view = sim.hang_up(call_id)
    assert view["state"] == "completed" and view["endTime"] is not None and view["phone"] is True
    sim.wait_for(lambda: env.seen.snapshot("hangups").get(call_id), what="the app to see the hangup")
    assert env.seen.snapshot("hangups")[call_id] == "NORMAL_CLEARING"
    kinds = [entry["kind"] for entry in view["heard"]]
    assert kinds == ["state", "state", "speak", "gather", "key", "key", "gathered", "speak", "state"]
    assert view["heard"][-1]["text"] == "ended: NORMAL_CLEARING"
    assert view["heard"][3]["text"] == "waiting for up to 2 digits, ended by #"
    assert [entry["text"] for entry in view["heard"][4:7]] == ["4", "2", "42 (max-digits)"]
    assert view["heardTotal"] == len(kinds)


def test_a_claimed_number_rings_until_answered_and_hears_the_app(env: PhoneEnv) -> None:
    sim = env.session
    sim.claim(OTHER_NUMBER)
    call_id = env.place_call(OTHER_NUMBER)
    assert sim.wait_for_ringing(OTHER_NUMBER) == call_id
    assert sim.phone_view(call_id)["state"] == "started"  # the default script would have answered at once
    assert env.seen.snapshot("answered") == []

    view = sim.answer(call_id)
    assert view["state"] == "active" and view["answerTime"] is not None
    assert sim.wait_until_said(call_id, HELLO) == [HELLO]
    assert env.seen.snapshot("answered") == [call_id]


def test_a_claimed_number_rejects_and_the_app_sees_call_rejected(env: PhoneEnv) -> None:
    sim = env.session
    sim.claim(OTHER_NUMBER)
    call_id = env.place_call(OTHER_NUMBER)
    sim.wait_for_ringing(OTHER_NUMBER)
    assert sim.reject(call_id)["state"] == "rejected"
    sim.wait_for(lambda: env.seen.snapshot("hangups").get(call_id), what="the app to see the hangup")
    assert env.seen.snapshot("hangups")[call_id] == "CALL_REJECTED"
    assert env.seen.snapshot("answered") == []

    # hanging up a ringing outbound call rejects it too
    second = env.place_call(OTHER_NUMBER)
    sim.wait_for_ringing(OTHER_NUMBER)
    assert sim.hang_up(second)["state"] == "rejected"


def test_a_released_number_follows_the_script_again(env: PhoneEnv) -> None:
    sim = env.session
    sim.claim(OTHER_NUMBER)
    assert control(env, "GET", "/phone/lines").json() == {"lines": [OTHER_NUMBER]}
    sim.release(OTHER_NUMBER)
    assert control(env, "GET", "/phone/lines").json() == {"lines": []}
    call_id = env.place_call(OTHER_NUMBER)  # the default far end answers at once
    sim.wait_for(lambda: call_id in env.seen.snapshot("answered"), what="the scripted far end to answer")
    assert sim.phone_view(call_id)["phone"] is False


def test_a_ringing_phone_call_times_out_after_its_call_timeout() -> None:
    with phone_env(speed=None) as env:  # a manual clock: time moves only when the test says
        sim = env.session
        sim.claim(OTHER_NUMBER)
        call_id = env.place_call(OTHER_NUMBER)
        sim.wait_for_ringing(OTHER_NUMBER)
        assert control(env, "POST", "/clock/advance", {"seconds": 119, "settle": True}).status_code == 200
        assert sim.phone_view(call_id)["state"] == "started"
        assert control(env, "POST", "/clock/advance", {"seconds": 1, "settle": True}).status_code == 200
        sim.settle()
        assert sim.event_types(call_id) == ["timeout", "hangup"]
        assert env.seen.snapshot("hangups")[call_id] == "NO_ANSWER"


def test_refused_actions_get_clear_errors(env: PhoneEnv) -> None:
    sim = env.session
    sim.claim(OTHER_NUMBER)
    ringing = env.place_call(OTHER_NUMBER)
    sim.wait_for_ringing(OTHER_NUMBER)
    early = control(env, "POST", f"/calls/{ringing}/dtmf", {"digits": "1"})
    assert early.status_code == 403 and early.json()["code"] == "call-invalid-state"

    inbound = sim.dial(PHONE_NUMBER, APP_NUMBER)
    for action in ("answer", "reject"):  # only a ringing outbound call can be answered or rejected
        refused = control(env, "POST", f"/calls/{inbound}/{action}")
        assert refused.status_code == 403 and "ringing outbound" in refused.json()["message"]
    for digits in ("", "12x", "1" * 93, 7):
        bad = control(env, "POST", f"/calls/{inbound}/dtmf", {"digits": digits})
        assert bad.status_code == 400 and "digits" in bad.text, bad.text
    assert control(env, "POST", f"/calls/{inbound}/dtmf", {}).status_code == 400
    assert control(env, "POST", f"/calls/{inbound}/dtmf", [1]).status_code == 400
    unknown = control(env, "POST", "/calls/c-nope/hangup")
    assert unknown.status_code == 404 and unknown.json()["code"] == "call-not-found"
    assert control(env, "GET", "/calls/c-nope").status_code == 404

    sim.hang_up(inbound)
    again = control(env, "POST", f"/calls/{inbound}/hangup")
    assert again.status_code == 403 and "already ended" in again.json()["message"]
    for body in ({"from": "nobody", "to": APP_NUMBER}, {"to": APP_NUMBER}, {"from": PHONE_NUMBER, "to": 5}):
        dialled = control(env, "POST", "/phone/dial", body)
        assert dialled.status_code == 400, dialled.text
    assert control(env, "POST", "/phone/lines", {"number": "12"}).status_code == 400
    assert sim.simulator.errors == []


def test_dialling_without_anywhere_to_send_the_call_is_a_400() -> None:
    with running_simulator() as session:
        auth = (session.api_token, session.api_secret)
        body = {"from": PHONE_NUMBER, "to": APP_NUMBER}
        refused = httpx.post(f"{session.url}/_sim/phone/dial", json=body, auth=auth, timeout=10)
        assert refused.status_code == 400 and "incomingCallUrl" in refused.json()["message"]


def test_calls_lists_every_call_with_what_its_far_end_heard(env: PhoneEnv) -> None:
    sim = env.session
    first = sim.dial(PHONE_NUMBER, APP_NUMBER)
    sim.wait_until_said(first, "Enter")
    calls = control(env, "GET", "/calls").json()
    assert [call["callId"] for call in calls] == [first]
    assert calls[0]["from"] == PHONE_NUMBER and calls[0]["to"] == APP_NUMBER and calls[0]["direction"] == "in"
    state = control(env, "GET", "/phone/state").json()
    assert state["lines"] == [PHONE_NUMBER] and state["numbers"] == [APP_NUMBER]
    assert [call["callId"] for call in state["calls"]] == [first]


def test_the_page_and_every_phone_endpoint_need_the_simulator_credentials(env: PhoneEnv) -> None:
    url = env.session.url
    paths = ["/_sim/phone", "/_sim/phone/phone.js", "/_sim/phone/sound.js", "/_sim/phone/phone.css"]
    paths += ["/_sim/phone/state"]
    paths += ["/_sim/phone/stream", "/_sim/calls", "/_sim/phone/lines"]
    for path in paths:
        for auth in (None, (env.session.api_token, "wrong")):
            denied = httpx.get(url + path, auth=auth, timeout=10)
            assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Basic"), path
    denied = httpx.post(url + "/_sim/phone/dial", json={"from": PHONE_NUMBER, "to": APP_NUMBER}, timeout=10)
    assert denied.status_code == 401
    assert env.session.simulator.engine.calls == {}


def test_the_page_is_served_from_the_package_with_a_strict_policy(env: PhoneEnv) -> None:
    auth = (env.session.api_token, env.session.api_secret)
    html = httpx.get(env.session.url + "/_sim/phone", auth=auth, timeout=10)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    policy = html.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "media-src http: https:;" in policy  # audio files, from anywhere
    assert 'src="phone/phone.js"' in html.text and "http" not in html.text.replace("http-equiv", "")
    for name, kind in (("phone.js", "text/javascript"), ("sound.js", "text/javascript"), ("phone.css", "text/css")):
        asset = httpx.get(f"{env.session.url}/_sim/phone/{name}", auth=auth, timeout=10)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert asset.headers["x-content-type-options"] == "nosniff"


def _next_state(lines: Iterator[str]) -> dict[str, object]:
    for line in lines:
        if line.startswith("data: "):
            state: dict[str, object] = json.loads(line[len("data: ") :])
            return state
    raise AssertionError("the stream ended without a state")


def test_the_stream_sends_the_state_and_then_every_change(env: PhoneEnv) -> None:
    auth = (env.session.api_token, env.session.api_secret)
    with httpx.stream("GET", env.session.url + "/_sim/phone/stream", auth=auth, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert _next_state(lines)["calls"] == []
        call_id = env.session.dial(PHONE_NUMBER, APP_NUMBER)
        for _ in range(50):  # each change is one more state; the prompt comes within a few
            calls = _next_state(lines)["calls"]
            assert isinstance(calls, list) and calls[0]["callId"] == call_id
            if any(entry["text"] == PROMPT for entry in calls[0]["heard"]):
                break
        else:
            raise AssertionError("the prompt never reached the stream")


def test_streams_are_limited(env: PhoneEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "MAX_STREAMS", 1)
    auth = (env.session.api_token, env.session.api_secret)
    with httpx.stream("GET", env.session.url + "/_sim/phone/stream", auth=auth, timeout=10) as first:
        lines = first.iter_lines()  # kept: a dropped iterator closes the stream
        _next_state(lines)
        second = httpx.get(env.session.url + "/_sim/phone/stream", auth=auth, timeout=10)
        assert second.status_code == 503 and second.json()["code"] == "too-many-streams"


@pytest.mark.parametrize("bxml", [False, True], ids=["rest", "bxml"])
def test_the_example_ivr_is_heard_and_its_transfer_rings_another_phone_line(bxml: bool) -> None:
    sales = "+19195550199"
    with running_simulator(speed=1.0) as session:
        settings = {**session.environ, "CALLHOOKS_SECRET": secrets.token_urlsafe(24), "IVR_SALES_NUMBER": sales}
        settings["CALLHOOKS_PUBLIC_URL"] = "http://127.0.0.1:1"  # replaced by receiver() below
        hooks = create_ivr(settings, bxml=bxml)
        with session.receiver(hooks):
            own_number(session, hooks, APP_NUMBER)
            session.claim(sales)
            call_id = session.dial(PHONE_NUMBER, APP_NUMBER)
            session.wait_until_said(call_id, "Press 1 for sales")
            session.wait_for(lambda: session.phone_view(call_id)["gather"], what="the menu's gather")
            session.press(call_id, "1")
            leg = session.wait_for_ringing(sales)
            heard = [(entry["kind"], entry["text"]) for entry in session.phone_view(call_id)["heard"]]
            if bxml:  # each verb as it ran
                assert session.said(call_id)[-1] == "Connecting you to sales."
                assert any(kind == "verb" and text.startswith("Transfer") for kind, text in heard)
            else:
                assert ("state", f"transferring to {sales}") in heard
            session.answer(leg)
            session.wait_for(lambda: session.phone_view(call_id)["state"] == "active", what="the bridge")
            assert ("state", f"connected to {sales}") in [
                (e["kind"], e["text"]) for e in session.phone_view(call_id)["heard"]
            ]
            assert session.wait_until_said(leg, "customer on the line")
            session.hang_up(leg)
            session.wait_for(lambda: session.phone_view(call_id)["state"] == "completed", what="leg A to end")


def test_simulate_prints_the_phone_page_and_serves_it() -> None:
    port = free_port()
    command = [str(Path(sys.executable).parent / "callhooks"), "simulate", "--port", str(port), "-q"]
    defaults = Simulator()
    auth = (defaults.api_token, defaults.api_secret)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("CATAPULT_USER_ID", "CATAPULT_API_TOKEN", "CATAPULT_API_SECRET"):
        env.pop(name, None)
    with server_process(command, env, port, health="/_sim/clock", auth=auth) as process:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]  # printed before it serves: already there
        (line,) = [line for line in banner if "phone page:" in line]
        url = f"http://127.0.0.1:{port}/_sim/phone"
        assert f"{url} (user {defaults.api_token}, password {defaults.api_secret})" in line
        assert httpx.get(url, auth=auth, timeout=10).status_code == 200
