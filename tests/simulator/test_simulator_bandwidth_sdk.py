"""``bandwidth-sdk`` (Bandwidth's own v2 client and callback models) as the oracle of the v2 simulator: the SDK,
authenticated by OAuth2 client credentials, creates a call, reads its state, redirects it, replaces its BXML and
lists its recordings; its callback models read every webhook the simulator sends, field for field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bandwidth import ApiClient, Configuration
from bandwidth.api.calls_api import CallsApi
from bandwidth.api.recordings_api import RecordingsApi
from bandwidth.models import (
    AnswerCallback,
    BridgeCompleteCallback,
    BridgeTargetCompleteCallback,
    ConferenceCompletedCallback,
    ConferenceCreatedCallback,
    ConferenceMemberExitCallback,
    ConferenceMemberJoinCallback,
    CreateCall,
    DisconnectCallback,
    DtmfCallback,
    GatherCallback,
    InitiateCallback,
    RecordingAvailableCallback,
    RecordingCompleteCallback,
    RedirectCallback,
    TranscriptionAvailableCallback,
    TransferAnswerCallback,
    TransferCompleteCallback,
    TransferDisconnectCallback,
    UpdateCall,
)

from callhooks.simulator import FarEnd
from tests.helpers.sdk_fields import assert_read_alike
from tests.simulator.bandwidth_support import (
    ACCOUNT,
    AGENT,
    APPLICATION,
    CALLEE,
    CLIENT_ID,
    CLIENT_SECRET,
    OURS,
    V2Env,
    response,
    running_v2,
)

MODELS: dict[str, Any] = {
    "answer": AnswerCallback,
    "initiate": InitiateCallback,
    "disconnect": DisconnectCallback,
    "redirect": RedirectCallback,
    "gather": GatherCallback,
    "dtmf": DtmfCallback,
    "recordComplete": RecordingCompleteCallback,
    "recordingAvailable": RecordingAvailableCallback,
    "transcriptionAvailable": TranscriptionAvailableCallback,
    "transferAnswer": TransferAnswerCallback,
    "transferComplete": TransferCompleteCallback,
    "transferDisconnect": TransferDisconnectCallback,
    "bridgeComplete": BridgeCompleteCallback,
    "bridgeTargetComplete": BridgeTargetCompleteCallback,
    "conferenceCreated": ConferenceCreatedCallback,
    "conferenceMemberJoin": ConferenceMemberJoinCallback,
    "conferenceMemberExit": ConferenceMemberExitCallback,
    "conferenceCompleted": ConferenceCompletedCallback,
}


@pytest.fixture
def env() -> Iterator[V2Env]:
    with running_v2() as running:
        yield running


def _sdk(env: V2Env) -> ApiClient:
    config = Configuration(
        host=env.url + "/api/v2",
        ignore_operation_servers=True,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token_url=env.url + "/api/v1/oauth2/token",
    )
    return ApiClient(config)


def test_the_sdk_drives_a_call_with_oauth2(env: V2Env) -> None:
    url = env.receiver_url
    env.receiver.bodies["/answer"] = response('<Pause duration="100"/>')
    env.receiver.bodies["/moved"] = response('<Record maxDuration="10"/><Pause duration="100"/>')
    env.sim.script(CALLEE, FarEnd(answer_after=1))
    with _sdk(env) as api:
        calls = CallsApi(api)
        create = CreateCall(to=CALLEE, var_from=OURS, application_id=APPLICATION, answer_url=url + "/answer")
        created = calls.create_call(ACCOUNT, create)
        assert created.call_url.endswith(f"/calls/{created.call_id}") and created.callback_timeout == 15
        assert calls.get_call_state(ACCOUNT, created.call_id).state == "queued"
        env.advance(2)
        env.settle()
        assert calls.get_call_state(ACCOUNT, created.call_id).state == "answered"
        calls.update_call(ACCOUNT, created.call_id, UpdateCall(redirect_url=url + "/moved"))
        env.settle()
        env.advance(5)  # the <Record> of the redirect's document runs out of silence
        calls.update_call_bxml(
            ACCOUNT, created.call_id, '<?xml version="1.0"?><Bxml><SpeakSentence>Bye</SpeakSentence></Bxml>'
        )
        env.advance(5)
        env.settle()
        state = calls.get_call_state(ACCOUNT, created.call_id)
        assert (state.state, state.disconnect_cause) == ("disconnected", "hangup")
        recordings = RecordingsApi(api).list_call_recordings(ACCOUNT, created.call_id)
        assert len(recordings) == 1 and recordings[0].call_id == created.call_id
        assert recordings[0].file_format == "wav" and recordings[0].status == "complete"
    assert [e["eventType"] for e in env.receiver.events()] == ["answer", "redirect"]
    assert any(heard.text == "Bye" for heard in env.sim.engine.calls[created.call_id].heard)


def _every_event(env: V2Env) -> list[dict[str, Any]]:
    """Run calls that make the simulator send every v2 webhook it knows, and return them all."""
    url = env.receiver_url
    bodies = env.receiver.bodies
    bodies["/answer"] = response('<Redirect redirectUrl="/redirect"/>')
    bodies["/redirect"] = response('<Gather gatherUrl="/gather" maxDigits="1"/>')
    bodies["/gather"] = response(
        '<Record recordCompleteUrl="/recorded" recordingAvailableUrl="/available" transcribe="true"'
        ' transcriptionAvailableUrl="/transcribed"/>'
    )
    bodies["/recorded"] = response(
        '<Transfer transferCompleteUrl="/transferred">'
        f'<PhoneNumber transferAnswerUrl="/leg" transferDisconnectUrl="/leg-gone">{AGENT}</PhoneNumber></Transfer>'
    )
    bodies["/transferred"] = response("<Hangup/>")
    bodies["/inbound"] = response('<Conference conferenceEventUrl="/conference">room-1</Conference>')
    env.sim.script(CALLEE, FarEnd(answer_after=1, digits="1"))
    env.sim.script(AGENT, FarEnd(answer_after=1, hangup_after=5))
    env.create_call(disconnectUrl=url + "/disconnect", tag="every")
    env.advance(60)
    env.settle()
    # a conference of two inbound callers who hang up one after the other
    env.sim.script("+19195557001", FarEnd(hangup_after=5))
    env.sim.script("+19195557002", FarEnd(hangup_after=8))
    for caller in ("+19195557001", "+19195557002"):
        placed = env.client.post("/_sim/inbound", json={"from": caller, "to": OURS, "callbackUrl": url + "/inbound"})
        assert placed.status_code == 201, placed.text
        env.settle()
    env.advance(20)
    env.settle()
    # bridges: the target leaves first (bridgeComplete), then the caller of <Bridge> does (bridgeTargetComplete)
    for target_hangs_up in (True, False):
        bodies["/parked"] = response('<StartGather dtmfUrl="/dtmf"/><Pause duration="100"/>')
        env.sim.script("+19195557003", FarEnd(hangup_after=5 if target_hangs_up else None))
        parked = env.client.post(
            "/_sim/inbound", json={"from": "+19195557003", "to": OURS, "callbackUrl": url + "/parked"}
        ).json()["callId"]
        env.settle()
        env.client.post(f"/_sim/calls/{parked}/dtmf", json={"digits": "5"})  # a key while parked: dtmf
        env.advance(0.5)
        env.settle()
        bodies["/bridging"] = response(
            f'<Bridge bridgeCompleteUrl="/bridge-complete" bridgeTargetCompleteUrl="/target-complete">{parked}</Bridge>'
        )
        bodies["/bridge-complete"] = response("<Hangup/>")
        bodies["/target-complete"] = response("<Hangup/>")
        env.sim.script("+19195557004", FarEnd(hangup_after=None if target_hangs_up else 3))
        env.client.post("/_sim/inbound", json={"from": "+19195557004", "to": OURS, "callbackUrl": url + "/bridging"})
        env.settle()  # the <Bridge> runs before time moves on
        env.advance(20)
        env.settle()
    return env.receiver.events()


def test_the_sdk_models_read_every_webhook_the_simulator_sends(env: V2Env) -> None:
    events = _every_event(env)
    sent_types = {event["eventType"] for event in events}
    assert sent_types == set(MODELS), sorted(sent_types ^ set(MODELS))
    for event in events:
        assert_read_alike(MODELS[event["eventType"]], event)
