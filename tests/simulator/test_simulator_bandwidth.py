"""The simulator playing Bandwidth Voice API v2: OAuth2 and Basic auth, the REST API's statuses and error bodies,
BXML v2 runs, and webhook delivery (fallback, one retry on a connection error, the Basic-auth challenge).

Manual clock: a test moves simulated time with ``advance`` and waits for deliveries with ``settle``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhooks.simulator import FarEnd, FaultRule, Faults, Simulator
from callhooks.testing import free_port
from callhooks.testing.server import serve
from tests.simulator.bandwidth_support import (
    ACCOUNT,
    AGENT,
    CALLEE,
    CLIENT_ID,
    CLIENT_SECRET,
    OURS,
    V2Env,
    response,
    running_v2,
)

TOKEN_PATH = "/api/v1/oauth2/token"


@pytest.fixture
def env() -> Iterator[V2Env]:
    with running_v2() as running:
        yield running


def _types(env: V2Env, path: str | None = None) -> list[str]:
    return [event["eventType"] for event in env.receiver.events(path)]


def _token(env: V2Env, secret: str = CLIENT_SECRET) -> httpx.Response:
    return _token_request(env, b"grant_type=client_credentials", secret)


def _token_request(env: V2Env, body: bytes, secret: str = CLIENT_SECRET) -> httpx.Response:
    return httpx.post(
        env.url + TOKEN_PATH,
        auth=(CLIENT_ID, secret),
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


# -- OAuth2 and Basic -------------------------------------------------------------------------------------------


def test_a_client_credentials_token_opens_the_api(env: V2Env) -> None:
    granted = _token(env)
    assert granted.status_code == 200
    body = granted.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    listed = httpx.get(env.url + env.calls, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listed.status_code == 200 and listed.json() == []


def test_a_bad_client_secret_gets_no_token(env: V2Env) -> None:
    refused = _token(env, secret="wrong")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_an_expired_token_is_refused_with_v2_error_body() -> None:
    with running_v2(token_lifetime=60.0) as env:
        token = _token(env).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(env.url + env.calls, headers=headers).status_code == 200
        env.advance(61)
        expired = httpx.get(env.url + env.calls, headers=headers)
        assert expired.status_code == 401
        assert expired.json() == {
            "type": "authentication-error",
            "description": "The access token has expired",
            "id": "",
        }


def test_requests_without_credentials_or_for_another_account_are_refused(env: V2Env) -> None:
    anonymous = httpx.get(env.url + env.calls)
    assert anonymous.status_code == 401 and anonymous.json()["type"] == "authentication-error"
    assert "WWW-Authenticate" in anonymous.headers
    wrong_user = httpx.get(env.url + env.calls, auth=("api-user", "nope"))
    assert wrong_user.status_code == 401
    other = env.client.get("/api/v2/accounts/1111111/calls")
    assert other.status_code == 403 and other.json()["type"] == "authorization-error"


# -- REST statuses and errors ---------------------------------------------------------------------------------


def test_create_call_answers_201_with_the_call_and_its_location(env: V2Env) -> None:
    env.sim.script(CALLEE, FarEnd(answer_after=5))
    reply = env.client.post(
        env.calls,
        json={
            "from": "+19195550100",
            "to": CALLEE,
            "applicationId": "app-1",
            "answerUrl": env.receiver_url + "/answer",
            "tag": "order-7",
        },
    )
    assert reply.status_code == 201
    created = reply.json()
    assert reply.headers["location"] == created["callUrl"]
    assert created["callUrl"].endswith(f"/api/v2/accounts/{ACCOUNT}/calls/{created['callId']}")
    assert (created["callTimeout"], created["callbackTimeout"], created["tag"]) == (30, 15, "order-7")
    queued = env.get_call(created["callId"])
    assert (queued["state"], queued["startTime"]) == ("queued", None)  # dequeued at 5 calls a second
    env.advance(0.2)
    assert env.get_call(created["callId"])["state"] == "initiated"


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"answerUrl": None}, "Invalid answerUrl: it is required"),
        ({"applicationId": None}, "Invalid applicationId: it is required"),
        ({"callTimeout": 301}, "Invalid callTimeout: must be a number from 1 to 300"),
        ({"callbackTimeout": 0.5}, "Invalid callbackTimeout: must be a number from 1 to 25"),
        ({"answerMethod": "PUT"}, "Invalid answerMethod: must be GET or POST"),
        ({"answerUrl": "ftp://x"}, "Invalid answerUrl: must be an absolute http or https URL"),
    ],
)
def test_a_bad_create_call_is_a_400_naming_the_field(env: V2Env, change: dict[str, Any], description: str) -> None:
    body = {"from": "+19195550100", "to": CALLEE, "applicationId": "app-1", "answerUrl": env.receiver_url + "/a"}
    body.update(change)
    reply = env.client.post(env.calls, json={k: v for k, v in body.items() if v is not None})
    assert reply.status_code == 400
    assert reply.json() == {"type": "validation", "description": description, "id": ""}


def test_unknown_calls_non_json_bodies_and_ended_calls(env: V2Env) -> None:
    missing = env.client.get(env.calls + "/c-nope")
    assert missing.status_code == 404 and missing.json()["description"] == "Call [c-nope] not found"
    nowhere = env.client.get("/api/v2/nowhere")
    assert nowhere.status_code == 404 and set(nowhere.json()) == {"type", "description", "id"}
    not_json = env.client.post(env.calls, content=b"from=1", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 415 and not_json.json()["type"] == "validation"
    env.sim.script(CALLEE, FarEnd.busy())
    call_id = env.create_call()
    ringing = env.client.post(f"{env.calls}/{call_id}", json={"redirectUrl": env.receiver_url + "/r"})
    assert ringing.status_code == 409  # not answered yet
    env.advance(5)
    ended = env.client.post(f"{env.calls}/{call_id}", json={"state": "completed"})
    assert ended.status_code == 409
    assert ended.json()["description"] == f"Call [{call_id}] cannot be modified in its current state"
    assert env.get_call(call_id)["disconnectCause"] == "busy"


# -- BXML v2 runs -----------------------------------------------------------------------------------------------


def test_gather_then_record_then_hangup_sends_the_v2_webhooks(env: V2Env) -> None:
    url = env.receiver_url
    env.receiver.bodies["/answer"] = response(
        '<SpeakSentence>Hello</SpeakSentence><Gather gatherUrl="/gather" maxDigits="1" tag="menu">'
        "<SpeakSentence>Press 1</SpeakSentence></Gather><SpeakSentence>never</SpeakSentence>"
    )
    env.receiver.bodies["/gather"] = response(
        '<Record recordCompleteUrl="/recorded" recordingAvailableUrl="/available" maxDuration="30"/>'
    )
    env.receiver.bodies["/recorded"] = response("<Hangup/>")
    env.sim.script(CALLEE, FarEnd(answer_after=1, digits="1"))
    call_id = env.create_call(disconnectUrl=url + "/disconnect")
    env.advance(60)
    env.settle()
    assert _types(env) == ["answer", "gather", "recordComplete", "disconnect", "recordingAvailable"]
    gather = env.receiver.events("/gather")[0]
    assert (gather["digits"], gather["terminatingDigit"], gather["tag"]) == ("1", "", "menu")
    recorded = env.receiver.events("/recorded")[0]
    assert recorded["duration"] == "PT3.000S" and recorded["fileFormat"] == "wav" and recorded["channels"] == 1
    assert env.receiver.events("/disconnect")[0]["cause"] == "hangup"
    state = env.get_call(call_id)
    assert (state["state"], state["disconnectCause"]) == ("disconnected", "hangup")
    recordings = env.client.get(f"{env.calls}/{call_id}/recordings").json()
    assert [r["recordingId"] for r in recordings] == [recorded["recordingId"]]
    media = env.client.get(f"{env.calls}/{call_id}/recordings/{recorded['recordingId']}/media")
    assert media.status_code == 200 and media.content.startswith(b"RIFF")
    assert "never" not in str(env.sim.engine.calls[call_id].heard)  # the gather's reply replaced the rest


def test_transfer_sends_answer_disconnect_and_complete_then_continues_the_a_leg(env: V2Env) -> None:
    env.receiver.bodies["/answer"] = response(
        '<Transfer transferCompleteUrl="/complete" transferCallerId="+19195550100">'
        f'<PhoneNumber transferAnswerUrl="/whisper" transferDisconnectUrl="/leg-gone">{AGENT}</PhoneNumber>'
        "</Transfer>"
    )
    env.receiver.bodies["/complete"] = response("<SpeakSentence>Goodbye</SpeakSentence>")
    env.receiver.bodies["/whisper"] = response("<SpeakSentence>A customer is on the line</SpeakSentence>")
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    env.sim.script(AGENT, FarEnd(answer_after=2, hangup_after=10))
    call_id = env.create_call(disconnectUrl=env.receiver_url + "/disconnect")
    env.advance(60)
    env.settle()
    assert _types(env) == ["answer", "transferAnswer", "transferDisconnect", "transferComplete", "disconnect"]
    whisper, gone = env.receiver.events("/whisper")[0], env.receiver.events("/leg-gone")[0]
    assert whisper["parentCallId"] == call_id and whisper["transferTo"] == AGENT
    assert gone["callId"] == whisper["callId"] and gone["cause"] == "hangup"
    leg = env.sim.engine.calls[whisper["callId"]]
    assert "A customer is on the line" in [heard.text for heard in leg.heard]  # the whisper ran on the leg
    assert leg.bridge_id is not None and leg.bridge_id == env.sim.engine.calls[call_id].bridge_id
    complete = env.receiver.events("/complete")[0]
    assert (complete["callId"], complete["transferTo"], complete["cause"]) == (call_id, AGENT, "hangup")
    assert "Goodbye" in [heard.text for heard in env.sim.engine.calls[call_id].heard]


def test_an_unsupported_verb_ends_the_call_with_application_error(env: V2Env) -> None:
    env.receiver.bodies["/answer"] = response('<StartStream destination="wss://media.example/s"/>')
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    call_id = env.create_call(disconnectUrl=env.receiver_url + "/disconnect")
    env.advance(5)
    env.settle()
    disconnect = env.receiver.events("/disconnect")[0]
    assert disconnect["cause"] == "application-error"
    assert disconnect["errorMessage"] == "The simulator does not run <StartStream>"
    assert env.get_call(call_id)["errorMessage"] == "The simulator does not run <StartStream>"


def test_invalid_bxml_ends_the_call_with_invalid_bxml(env: V2Env) -> None:
    env.receiver.bodies["/answer"] = response("<Dance/>")
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    call_id = env.create_call(disconnectUrl=env.receiver_url + "/disconnect")
    env.advance(5)
    env.settle()
    assert env.receiver.events("/disconnect")[0]["cause"] == "invalid-bxml"
    assert env.get_call(call_id)["disconnectCause"] == "invalid-bxml"


def test_redirect_and_replaced_bxml_interrupt_the_running_document(env: V2Env) -> None:
    env.receiver.bodies["/answer"] = response('<Pause duration="100"/>')
    env.receiver.bodies["/redirected"] = response('<Pause duration="100"/>')
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    call_id = env.create_call(disconnectUrl=env.receiver_url + "/disconnect")
    env.advance(2)
    env.settle()
    redirected = env.client.post(
        f"{env.calls}/{call_id}", json={"redirectUrl": env.receiver_url + "/redirected", "tag": "moved"}
    )
    assert redirected.status_code == 200
    env.settle()
    assert env.receiver.events("/redirected")[0]["tag"] == "moved"
    document = '<?xml version="1.0"?><Bxml><SpeakSentence>Replaced</SpeakSentence></Bxml>'
    not_bxml = env.client.put(
        f"{env.calls}/{call_id}/bxml", content=response("<Hangup/>"), headers={"Content-Type": "application/xml"}
    )
    assert not_bxml.status_code == 400
    replaced = env.client.put(
        f"{env.calls}/{call_id}/bxml", content=document, headers={"Content-Type": "application/xml"}
    )
    assert replaced.status_code == 204
    env.advance(5)
    env.settle()
    assert _types(env) == ["answer", "redirect", "disconnect"]
    assert "Replaced" in [heard.text for heard in env.sim.engine.calls[call_id].heard]


def test_an_inbound_call_sends_initiate_to_the_application_url() -> None:
    with running_v2(incoming_call_url="/inbound") as env:
        env.receiver.bodies["/inbound"] = response("<SpeakSentence>Welcome</SpeakSentence>")
        placed = env.client.post("/_sim/inbound", json={"from": "+19195557777", "to": "+19195550100"})
        assert placed.status_code == 201, placed.text
        assert placed.headers["location"] == f"/api/v2/accounts/{ACCOUNT}/calls/{placed.json()['callId']}"
        call_id = placed.json()["callId"]
        env.settle()
        env.advance(10)
        env.settle()
        initiate, disconnect = env.receiver.events("/inbound")
        assert initiate["eventType"] == "initiate" and initiate["direction"] == "inbound"
        assert "answerTime" not in initiate and initiate["callId"] == call_id
        assert disconnect["eventType"] == "disconnect" and disconnect["cause"] == "hangup"


# -- delivery rules ---------------------------------------------------------------------------------------------


def test_a_failing_answer_url_falls_back_and_a_failing_fallback_ends_with_callback_error(env: V2Env) -> None:
    env.receiver.answers["/broken"] = (500, 0.0)
    env.receiver.bodies["/fallback"] = response("<Hangup/>")
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    saved = env.create_call("/broken", answerFallbackUrl=env.receiver_url + "/fallback")
    env.advance(5)
    env.settle()
    assert env.get_call(saved)["disconnectCause"] == "hangup"
    assert [e["eventType"] for e in env.receiver.events("/fallback")] == ["answer"]
    env.receiver.answers["/broken-too"] = (503, 0.0)
    lost = env.create_call("/broken", answerFallbackUrl=env.receiver_url + "/broken-too")
    env.advance(5)
    env.settle()
    assert env.get_call(lost)["disconnectCause"] == "callback-error"


def test_a_connection_error_is_retried_once_before_the_fallback(env: V2Env) -> None:
    closed = f"http://127.0.0.1:{free_port()}/answer"
    env.receiver.bodies["/fallback"] = response("<Hangup/>")
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    env.client.post(
        env.calls,
        json={
            "from": "+19195550100",
            "to": CALLEE,
            "applicationId": "app-1",
            "answerUrl": closed,
            "answerFallbackUrl": env.receiver_url + "/fallback",
        },
    )
    env.advance(5)
    env.settle()
    answer = next(sent for sent in env.sim.sent if sent.event["eventType"] == "answer")
    assert [attempt.url for attempt in answer.attempts] == [closed, closed, env.receiver_url + "/fallback"]
    assert answer.outcome == "fallback"


class _Guarded:
    """A receiver that wants Basic ``user:pass`` and challenges (or, with ``challenge=False``, does not)."""

    def __init__(self, challenge: bool) -> None:
        self.challenge = challenge
        self.seen: list[str | None] = []

    @property
    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            authorization = request.headers.get("authorization")
            self.seen.append(authorization)
            if authorization != "Basic dXNlcjpwYXNz":  # user:pass
                headers = {"WWW-Authenticate": 'Basic realm=""'} if self.challenge else None
                return Response(status_code=401, headers=headers)
            return Response(response("<Hangup/>"), media_type="application/xml")

        return Starlette(routes=[Route("/answer", hook, methods=["POST"])])


@pytest.mark.parametrize("challenge", [True, False])
def test_credentials_are_sent_only_after_a_challenge(env: V2Env, challenge: bool) -> None:
    guarded = _Guarded(challenge)
    with serve(guarded.app) as server:
        env.sim.script(CALLEE, FarEnd(answer_after=1))
        call_id = env.create_call("", answerUrl=server.url + "/answer", username="user", password="pass")
        env.advance(5)
        env.settle()
    if challenge:
        assert guarded.seen == [None, "Basic dXNlcjpwYXNz"]
        assert env.get_call(call_id)["disconnectCause"] == "hangup"
    else:  # a 401 without a challenge is final: the answer is lost
        assert guarded.seen == [None]
        assert env.get_call(call_id)["disconnectCause"] == "callback-error"


def test_the_platform_is_chosen_by_name() -> None:
    sim = Simulator(platform="bandwidth", manual=True)
    assert sim.profile.name == "bandwidth"
    assert sim.profile.call_path("c-1") == "/api/v2/accounts/9900000/calls/c-1"


def test_oversized_documents_and_token_forms_are_refused_unread(env: V2Env) -> None:
    huge = _token_request(env, b"grant_type=client_credentials&pad=" + b"x" * 10_000)
    assert huge.status_code == 400 and huge.json()["error"] == "unsupported_grant_type"
    env.receiver.bodies["/answer"] = response('<Pause duration="100"/>')
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    call_id = env.create_call()
    env.advance(2)
    env.settle()
    document = "<Bxml>" + "<Pause/>" * 9000 + "</Bxml>"  # over 64 KB
    refused = env.client.put(f"{env.calls}/{call_id}/bxml", content=document, headers={"Content-Type": "text/xml"})
    assert refused.status_code == 400 and "larger than 65536 bytes" in refused.json()["description"]


def test_a_first_attempt_that_times_out_goes_to_the_fallback_url() -> None:
    faults = Faults(rules=(FaultRule("fallback_first", event_type="answer"),))
    with running_v2(faults=faults) as env:
        env.receiver.bodies["/answer"] = response("<SpeakSentence>primary</SpeakSentence>")
        env.receiver.bodies["/fallback"] = response("<SpeakSentence>fallback</SpeakSentence>")
        env.sim.script(CALLEE, FarEnd(answer_after=1))
        call_id = env.create_call(answerFallbackUrl=env.receiver_url + "/fallback")
        env.advance(10)
        env.settle()
        answer = next(sent for sent in env.sim.sent if sent.event["eventType"] == "answer")
        assert answer.outcome == "fallback" and answer.attempts[0].fault == "fallback_first"
        assert answer.attempts[0].late_status == 200  # the primary did answer, too late
        spoken = [heard.text for heard in env.sim.engine.calls[call_id].heard if heard.kind == "speak"]
        assert spoken == ["fallback"]


def test_conference_members_are_listed_and_a_redirected_member_leaves() -> None:
    with running_v2(incoming_call_url="/inbound") as env:
        env.receiver.bodies["/inbound"] = response(
            '<Conference conferenceEventUrl="/room" tag="r1">room-1</Conference>'
        )
        env.receiver.bodies["/out"] = response("<SpeakSentence>Bye</SpeakSentence>")
        members = []
        for caller in ("+19195557001", "+19195557002"):
            members.append(env.client.post("/_sim/inbound", json={"from": caller, "to": OURS}).json()["callId"])
            env.settle()
        listed = env.client.get(f"/api/v2/accounts/{ACCOUNT}/conferences").json()
        assert [c["name"] for c in listed] == ["room-1"] and "activeMembers" not in listed[0]
        room = env.client.get(f"/api/v2/accounts/{ACCOUNT}/conferences/{listed[0]['id']}").json()
        assert [m["callId"] for m in room["activeMembers"]] == members
        for member in members:
            moved = env.client.post(f"{env.calls}/{member}", json={"redirectUrl": env.receiver_url + "/out"})
            assert moved.status_code == 200
            env.settle()
        assert [e["eventType"] for e in env.receiver.events("/room")] == [
            "conferenceCreated",
            "conferenceMemberJoin",
            "conferenceMemberJoin",
            "conferenceMemberExit",
            "conferenceMemberExit",
            "conferenceCompleted",
        ]
        assert {e.get("tag") for e in env.receiver.events("/room")} == {"r1"}
        assert env.client.get(f"/api/v2/accounts/{ACCOUNT}/conferences").json() == []


def test_start_gather_sends_each_key_as_a_dtmf_webhook_until_stop_gather(env: V2Env) -> None:
    env.receiver.bodies["/answer"] = response(
        '<StartGather dtmfUrl="/dtmf" tag="keys"/><Pause duration="5"/><StopGather/><Pause duration="30"/>'
    )
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    call_id = env.create_call()
    env.advance(2)
    env.settle()
    assert env.client.post(f"/_sim/calls/{call_id}/dtmf", json={"digits": "12"}).status_code == 200
    env.advance(2)
    env.settle()
    assert [(e["eventType"], e["digit"], e["tag"]) for e in env.receiver.events("/dtmf")] == [
        ("dtmf", "1", "keys"),
        ("dtmf", "2", "keys"),
    ]
    env.advance(5)  # past <StopGather/>
    assert env.client.post(f"/_sim/calls/{call_id}/dtmf", json={"digits": "3"}).status_code == 200
    env.advance(2)
    env.settle()
    assert len(env.receiver.events("/dtmf")) == 2
