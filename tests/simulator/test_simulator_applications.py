"""The simulator's applications and phoneNumbers resources: bad input answered with the documented error body,
and inbound calls to an owned number delivered with the application's URL, method, timeout and fallback."""

from __future__ import annotations

from typing import Any

from callhooks.simulator import FarEnd
from tests.simulator.receiver import CALLEE, CALLER, USER, Env, running

APPS = f"/v1/users/{USER}/applications"


def create(env: Env, **body: Any) -> str:
    response = env.client.post(APPS, json=body)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(APPS + "/")
    return location.rsplit("/", 1)[-1]


def test_bad_application_bodies_are_400_naming_the_field() -> None:
    with running() as env:
        missing = env.client.post(APPS, json={"incomingCallUrl": "http://127.0.0.1/x"})
        assert missing.status_code == 400 and "name" in missing.text
        method = env.client.post(APPS, json={"name": "a", "callbackHttpMethod": "PUT"})
        assert method.status_code == 400 and "callbackHttpMethod" in method.text
        timeout = env.client.post(APPS, json={"name": "a", "incomingCallUrlCallbackTimeout": 20000})
        assert timeout.status_code == 400 and "incomingCallUrlCallbackTimeout" in timeout.text
        url = env.client.post(APPS, json={"name": "a", "incomingCallUrl": "ftp://x"})
        assert url.status_code == 400 and "incomingCallUrl" in url.text
        unknown = env.client.get(f"{APPS}/a-nope")
        assert unknown.status_code == 404 and unknown.json()["code"] == "application-not-found"
        number = env.client.post(f"/v1/users/{USER}/phoneNumbers", json={"number": CALLER, "applicationId": "a-x"})
        assert number.status_code == 404
        assert env.client.get(APPS).json() == []


def test_update_changes_only_the_fields_given() -> None:
    with running() as env:
        app_id = create(env, name="a", incomingCallUrl="http://127.0.0.1/in", callbackHttpMethod="GET")
        assert env.client.post(f"{APPS}/{app_id}", json={"autoAnswer": False}).status_code == 200
        assert env.client.get(f"{APPS}/{app_id}").json() == {
            "id": app_id,
            "name": "a",
            "incomingCallUrl": "http://127.0.0.1/in",
            "incomingCallUrlCallbackTimeout": 10000,
            "callbackHttpMethod": "get",
            "autoAnswer": False,
        }


def test_inbound_calls_to_an_owned_number_use_the_application_and_its_fallback() -> None:
    with running() as env:
        env.receiver.answers["/app"] = (503, 0.0)
        app_id = create(
            env,
            name="main",
            incomingCallUrl=f"{env.receiver_url}/app",
            incomingCallFallbackUrl=f"{env.receiver_url}/fallback",
            incomingCallUrlCallbackTimeout=2000,
            autoAnswer=False,
        )
        assign = env.client.post(f"/v1/users/{USER}/phoneNumbers", json={"number": CALLER, "applicationId": app_id})
        assert assign.status_code == 201
        assert env.client.get(f"/v1/users/{USER}/phoneNumbers").json() == [{"number": CALLER, "applicationId": app_id}]
        env.sim.script(CALLEE, FarEnd(hangup_after=None))
        placed = env.client.post("/_sim/inbound", json={"from": CALLEE, "to": CALLER})
        assert placed.status_code in (200, 201), placed.text
        env.settle()
        (incoming,) = env.receiver.events("/fallback")
        assert (incoming["eventType"], incoming["applicationId"]) == ("incomingcall", app_id)
        call_id = incoming["callId"]
        assert env.get_call(call_id)["state"] == "started"  # autoAnswer false: nobody answered it yet
        (sent,) = env.client.get("/_sim/events").json()
        assert [attempt["status"] for attempt in sent["attempts"]] == [503, 200]  # the app's URL, then its fallback
        assert env.client.delete(f"{APPS}/{app_id}").status_code == 200
        assert env.client.get(f"/v1/users/{USER}/phoneNumbers").json() == []
