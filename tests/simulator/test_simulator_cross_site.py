"""Issue 23, finding 6: a web page on another site must not be able to drive the simulator, and the simulator must
not be a way into the machine's network.

The attacks, over real sockets: a cross-origin form POST (``text/plain``, urlencoded, multipart) that creates a
call, a foreign ``Host`` (DNS rebinding), and callback URLs at 169.254.169.254, 10.0.0.1 or a public name. Each
is refused before anything is sent there: every test also checks that no request left the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from callhooks.simulator import Simulator
from callhooks.simulator.callback_hosts import CallbackHosts
from tests.simulator.receiver import CALLEE, CALLER, USER, Env, running

EVIL = "http://evil.example"
CALL = {"from": CALLER, "to": CALLEE}


@contextmanager
def watched(**options: Any) -> Iterator[tuple[Env, list[httpx.Request]]]:
    """A running simulator whose callback client reports every request it sends."""
    with running(**options) as env:
        client = env.sim.deliverer.client
        assert client is not None
        requests: list[httpx.Request] = []

        async def sent(request: httpx.Request) -> None:
            requests.append(request)

        client.event_hooks = {"request": [sent], "response": []}
        yield env, requests


def calls_created(env: Env) -> list[Any]:
    listed: list[Any] = env.client.get(env.calls).json()
    return listed


# ---------------------------------------------------------------------------------- bodies a form can send


@pytest.mark.parametrize(
    "send",
    [
        {"content": '{"from": "+19195550100", "to": "+19195551212"}', "headers": {"Content-Type": "text/plain"}},
        {"data": {"from": CALLER, "to": CALLEE}},  # application/x-www-form-urlencoded
        {"files": {"from": (None, CALLER)}, "data": {"to": CALLEE}},  # multipart/form-data
        {"content": '{"from": "+19195550100", "to": "+19195551212"}'},  # no Content-Type at all
    ],
    ids=["text-plain", "urlencoded", "multipart", "no-content-type"],
)
def test_a_body_that_is_not_declared_json_is_415_and_creates_nothing(send: dict[str, Any]) -> None:
    with watched() as (env, sent):
        answer = env.client.post(env.calls, **send)
        assert answer.status_code == 415, answer.text
        assert answer.json()["code"] == "unsupported-media-type" and "application/json" in answer.json()["message"]
        assert calls_created(env) == [] and sent == []


def test_a_form_with_no_fields_is_refused_too() -> None:
    with watched() as (env, _):
        env.client.post(env.calls, json={**CALL, "callbackUrl": env.receiver_url + "/cb"})
        call_id = calls_created(env)[0]["id"]
        answer = env.client.post(f"/_sim/calls/{call_id}/hangup", headers={"Content-Type": "text/plain"})
        assert answer.status_code == 415


@pytest.mark.parametrize(
    "send",
    [
        {"content": "from=%2B19195550100&to=%2B19195551212", "ctype": "application/x-www-form-urlencoded"},
        {"content": '{"from": "+19195550100", "to": "+19195551212"}', "ctype": "text/plain"},
        {"content": '{"from": "+19195550100", "to": "+19195551212"}', "ctype": "application/json"},
        {
            "content": '--b\r\nContent-Disposition: form-data; name="from"\r\n\r\n+19195550100\r\n--b--\r\n',
            "ctype": "multipart/form-data; boundary=b",
        },
    ],
    ids=["urlencoded", "text-plain", "json", "multipart"],
)
def test_a_cross_origin_post_is_403_whatever_its_body(send: dict[str, str]) -> None:
    """What a form on evil.example sends, with the credentials the browser cached for the phone page."""
    with watched() as (env, sent):
        headers = {"Origin": EVIL, "Content-Type": send["ctype"]}
        answer = env.client.post(env.calls, content=send["content"], headers=headers)
        assert answer.status_code == 403
        assert answer.json()["code"] == "origin-not-allowed" and "evil.example" in answer.json()["message"]
        inbound = env.client.post("/_sim/inbound", json={**CALL}, headers={"Origin": "null"})
        assert inbound.status_code == 403  # a sandboxed frame or a file: page
        assert calls_created(env) == [] and sent == []


def test_the_phone_page_own_origin_and_allowed_origins_may_call() -> None:
    with watched(allow_origins=["https://tools.example"]) as (env, _):
        own = env.client.post(
            env.calls, json={**CALL, "callbackUrl": env.receiver_url + "/cb"}, headers={"Origin": env.url}
        )
        assert own.status_code == 201, own.text
        allowed = env.client.post(env.calls, json=CALL, headers={"Origin": "https://tools.example"})
        assert allowed.status_code == 201, allowed.text
        other_port = env.client.post(env.calls, json=CALL, headers={"Origin": "http://127.0.0.1:1"})
        assert other_port.status_code == 403
        assert env.client.get("/_sim/phone").status_code == 200


# ---------------------------------------------------------------------------------- DNS rebinding


def test_a_foreign_host_header_is_403_for_reads_and_writes() -> None:
    """A page at rebind.example whose name now points at 127.0.0.1 is "same origin" for the browser."""
    with watched(allow_hosts=["sim.internal"]) as (env, sent):
        rebound = {"Host": "rebind.example:8900"}
        read = env.client.get("/_sim/events", headers=rebound)
        assert read.status_code == 403 and read.json()["code"] == "host-not-allowed"
        write = env.client.post(env.calls, json=CALL, headers={**rebound, "Origin": "http://rebind.example:8900"})
        assert write.status_code == 403
        assert env.client.get("/_sim/phone", headers=rebound).status_code == 403
        for host in ("localhost:8900", "127.0.0.1", "[::1]:8900", "sim.internal:8900"):
            assert env.client.get("/_sim/clock", headers={"Host": host}).status_code == 200, host
        assert calls_created(env) == [] and sent == []


# ---------------------------------------------------------------------------------- where callbacks may go


REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://10.0.0.1/cb",
    "https://calls.example.com/cb",
]


@pytest.mark.parametrize("url", REFUSED)
def test_callback_urls_off_loopback_are_400_and_never_sent_to(url: str) -> None:
    with watched() as (env, sent):
        create = env.client.post(env.calls, json={**CALL, "callbackUrl": url})
        assert create.status_code == 400, create.text
        body = create.json()
        assert body["code"] == "callback-host-not-allowed" and body["details"][0]["name"] == "callbackUrl"
        fallback = env.client.post(env.calls, json={**CALL, "callbackUrl": env.receiver_url, "fallbackUrl": url})
        assert fallback.status_code == 400 and "fallbackUrl" in fallback.text
        app = env.client.post(f"/v1/users/{USER}/applications", json={"name": "a", "incomingCallUrl": url})
        assert app.status_code == 400 and "incomingCallUrl" in app.text
        inbound = env.client.post("/_sim/inbound", json={**CALL, "callbackUrl": url})
        assert inbound.status_code == 400 and inbound.json()["code"] == "callback-host-not-allowed"
        dial = env.client.post("/_sim/phone/dial", json={**CALL, "callbackUrl": url})
        assert dial.status_code == 400
        assert calls_created(env) == [] and env.sim.sent == [] and sent == []


def test_a_transfer_leg_callback_url_is_checked_too() -> None:
    with watched() as (env, sent):
        call_id = env.create_call()
        env.advance(1)
        moved = env.client.post(f"{env.calls}/{call_id}", json={"callbackUrl": "http://10.0.0.1/cb"})
        assert moved.status_code == 400
        assert all(request.url.host == "127.0.0.1" for request in sent)


def test_allowed_hosts_are_accepted_but_metadata_addresses_never() -> None:
    hosts = CallbackHosts(["10.0.0.0/8", "calls.example.com"])
    assert hosts.refusal("http://10.0.0.1/cb") is None and hosts.refusal("https://calls.example.com/x") is None
    assert hosts.refusal("http://10.0.0.1.nip.io/cb") is not None  # names are never resolved to decide
    anything = CallbackHosts(["*"])
    assert anything.refusal("https://any.example/x") is None
    for url in ("http://169.254.169.254/", "http://[fe80::1]/", "http://[fd00:ec2::254]/", "http://100.100.100.200/"):
        assert "metadata" in str(anything.refusal(url)), url
    loopback_only = CallbackHosts()
    for tricky in ("http://127.0.0.1\\@169.254.169.254/", "http://169.254.169.254#@127.0.0.1/", "http://[::1/"):
        assert loopback_only.refusal(tricky) is not None, tricky


def test_an_allowed_name_that_resolves_to_a_metadata_address_is_refused_before_sending() -> None:
    """``2852039166`` is 169.254.169.254 written as one number: a name to the policy, an address to the resolver."""
    with watched(allow_callback_hosts=["*"]) as (env, sent):
        call_id = env.create_call(callbackUrl="http://2852039166/latest/meta-data/", path="")
        env.settle()
        (event,) = env.sim.sent
        assert event.call_id == call_id and event.outcome == "failed"
        assert "refused, nothing sent" in str(event.attempts[0].error) and "169.254.169.254" in str(
            event.attempts[0].error
        )
        assert sent == []


def test_a_bxml_verb_url_off_loopback_is_refused_when_it_would_be_sent() -> None:
    with watched() as (env, sent):
        redirect = '<Redirect requestUrl="http://10.0.0.1/next" requestUrlTimeout="1000"/>'
        env.receiver.bodies["/cb"] = f"<Response>{redirect}</Response>"
        env.create_call(callbackHttpMethod="GET")
        env.settle()
        env.advance(1)
        refused = [a for event in env.sim.sent for a in event.attempts if a.url.startswith("http://10.0.0.1")]
        assert refused and all("refused, nothing sent" in str(a.error) for a in refused)
        assert [request.url.host for request in sent] == ["127.0.0.1"] * len(sent)


def test_a_python_configured_incoming_call_url_off_loopback_is_refused() -> None:
    with pytest.raises(ValueError, match=r"incoming_call_url is refused: 10\.0\.0\.1 is not a loopback address"):
        Simulator(incoming_call_url="http://10.0.0.1/in")
    assert (
        Simulator(incoming_call_url="http://10.0.0.1/in", allow_callback_hosts=["10.0.0.1"]).callback_hosts.refusal(
            "http://10.0.0.1/in"
        )
        is None
    )
