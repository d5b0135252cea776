"""The simulator's REST API: auth, validation, documented error bodies and codes, listing and paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callhooks.simulator import FarEnd, RateLimit
from tests.simulator.receiver import CALLEE, CALLER, SECRET, TOKEN, USER, Env, running


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"category", "code", "message", "details"}, body
    assert all(set(d) == {"name", "value"} for d in body["details"])
    return response.status_code, body["category"], body["code"]


def detail_names(response: httpx.Response) -> list[str]:
    return [d["name"] for d in response.json()["details"]]


@pytest.fixture(scope="module")
def env() -> Any:
    with running(numbers={CALLEE: FarEnd(hangup_after=None), "+19195550001": FarEnd.never_answers()}) as env:
        yield env


def test_wrong_or_missing_credentials_get_401(env: Env) -> None:
    for auth in [None, (TOKEN, "wrong"), ("wrong", SECRET)]:
        response = httpx.get(env.url + env.calls, auth=auth)
        assert error_of(response) == (401, "authentication", "unauthorized")
        assert response.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(env.url + "/_sim/clock").status_code == 401
    garbage = httpx.get(env.url + env.calls, headers={"Authorization": "Basic !!!"})
    assert garbage.status_code == 401


def test_another_users_path_is_404(env: Env) -> None:
    assert error_of(env.client.get("/v1/users/u-other/calls"))[0] == 404


def test_unknown_call_is_404_call_not_found(env: Env) -> None:
    for response in [
        env.client.get(f"{env.calls}/c-nope"),
        env.client.post(f"{env.calls}/c-nope", json={"state": "completed"}),
        env.client.post(f"{env.calls}/c-nope/audio", json={"sentence": "hi"}),
        env.client.get(f"{env.calls}/c-nope/events"),
    ]:
        assert error_of(response) == (404, "not-found", "call-not-found")
        assert response.json()["details"] == [{"name": "callId", "value": "c-nope"}]


def test_unknown_paths_get_json_errors(env: Env) -> None:
    assert error_of(env.client.get("/v1/nothing"))[0] == 404
    assert error_of(env.client.delete(env.calls))[0] == 405


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": "19195550100"}, "from"),
        ({"to": "+1234"}, "to"),
        ({"to": None}, "to"),
        ({"callTimeout": 301}, "callTimeout"),
        ({"callTimeout": "soon"}, "callTimeout"),
        ({"callbackTimeout": 10001}, "callbackTimeout"),
        ({"callbackHttpMethod": "PUT"}, "callbackHttpMethod"),
        ({"recordingFileFormat": "ogg"}, "recordingFileFormat"),
        ({"recordingEnabled": "yes"}, "recordingEnabled"),
        ({"sipHeaders": {f"X-H{i}": "v" for i in range(6)}}, "sipHeaders"),
        ({"sipHeaders": {"Foo": "v"}}, "sipHeaders"),
        ({"tag": 5}, "tag"),
    ],
)
def test_create_call_validation(env: Env, change: dict[str, Any], field: str) -> None:
    body = {"from": CALLER, "to": CALLEE, **change}
    response = env.client.post(env.calls, json={k: v for k, v in body.items() if v is not None})
    assert error_of(response) == (400, "bad-request", "validation-error")
    assert detail_names(response) == [field]


def test_bad_callback_url_is_callback_invalid_url(env: Env) -> None:
    response = env.client.post(env.calls, json={"from": CALLER, "to": CALLEE, "callbackUrl": "ftp://x"})
    assert error_of(response) == (400, "bad-request", "callback-invalid-url")


def test_documented_string_forms_of_numbers_and_booleans_are_accepted(env: Env) -> None:
    body = {
        "from": CALLER,
        "to": "sip:someone@example.com",
        "callTimeout": "30",
        "callbackTimeout": "5000",
        "callbackHttpMethod": "post",
        "recordingEnabled": "false",
        "recordingMaxDuration": "60",
        "sipHeaders": {"X-Account": "42"},
    }
    created = env.client.post(env.calls, json=body)
    assert (created.status_code, created.content) == (201, b"")
    call = env.client.get(created.headers["location"]).json()
    assert (call["callTimeout"], call["callbackTimeout"], call["recordingMaxDuration"]) == (30, 5000, 60)
    assert (call["recordingEnabled"], call["sipHeaders"]) == (False, {"X-Account": "42"})


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_bad_json_is_a_400_never_a_crash(env: Env, raw: bytes) -> None:
    response = env.client.post(env.calls, content=raw, headers={"Content-Type": "application/json"})
    assert error_of(response) == (400, "bad-request", "validation-error")
    assert "JSON" in response.json()["message"]


def answered_call(env: Env) -> str:
    return env.create_call()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/audio", {"sentence": "x" * 1001}, "sentence"),
        ("/audio", {}, "sentence"),
        ("/audio", {"sentence": "hi", "voice": "hal"}, "voice"),
        ("/dtmf", {"dtmfOut": "12x"}, "dtmfOut"),
        ("/dtmf", {"dtmfOut": "1" * 93}, "dtmfOut"),
        ("/dtmf", {}, "dtmfOut"),
        ("/gather", {"maxDigits": 31}, "maxDigits"),
        ("/gather", {"interDigitTimeout": "31"}, "interDigitTimeout"),
        ("/gather", {"terminatingDigits": ""}, "terminatingDigits"),
        ("/gather", {"prompt": {"sentence": "x" * 1001}}, "prompt.sentence"),
        ("/gather", {"prompt": "say hi"}, "prompt"),
        ("", {"state": "transferring", "transferTo": CALLER, "whisperAudio": {"voice": "hal"}}, "whisperAudio.voice"),
        ("", {"state": "ringing"}, "state"),
        ("", {"state": "transferring"}, "transferTo"),
        ("", {"recordingFileFormat": "flac"}, "recordingFileFormat"),
    ],
)
def test_call_operation_validation(env: Env, path: str, body: dict[str, Any], field: str) -> None:
    call_id = answered_call(env)
    response = env.client.post(f"{env.calls}/{call_id}{path}", json=body)
    assert error_of(response) == (400, "bad-request", "validation-error")
    assert detail_names(response) == [field]


def test_valid_dtmf_and_audio_stop_are_accepted(env: Env) -> None:
    call_id = answered_call(env)
    assert env.client.post(f"{env.calls}/{call_id}/dtmf", json={"dtmfOut": "12,w#*AD"}).status_code == 200
    assert env.client.post(f"{env.calls}/{call_id}/audio", json={"fileUrl": ""}).status_code == 200
    assert env.client.post(f"{env.calls}/{call_id}", json={"tag": "new-tag"}).status_code == 200
    assert env.get_call(call_id)["tag"] == "new-tag"


def test_updating_a_completed_call_is_call_invalid_state(env: Env) -> None:
    call_id = answered_call(env)
    assert env.client.post(f"{env.calls}/{call_id}", json={"state": "completed"}).status_code == 200
    for path, body in [
        ("", {"state": "completed"}),
        ("", {"tag": "late"}),
        ("/audio", {"sentence": "hello?"}),
        ("/dtmf", {"dtmfOut": "1"}),
        ("/gather", {}),
    ]:
        response = env.client.post(f"{env.calls}/{call_id}{path}", json=body)
        assert error_of(response) == (403, "forbidden", "call-invalid-state")
    message = env.client.post(f"{env.calls}/{call_id}", json={"state": "active"}).json()["message"]
    assert message == "You can't update the call's state after being set to completed"


def test_transfer_or_audio_on_an_unanswered_call_is_call_invalid_state(env: Env) -> None:
    created = env.client.post(env.calls, json={"from": CALLER, "to": "+19195550001"})
    call = created.headers["location"]
    transfer = env.client.post(call, json={"state": "transferring", "transferTo": "+19195550002"})
    assert error_of(transfer) == (403, "forbidden", "call-invalid-state")
    assert error_of(env.client.post(call + "/audio", json={"sentence": "hi"}))[2] == "call-invalid-state"
    assert error_of(env.client.post(call, json={"state": "active"}))[2] == "call-invalid-state"  # outbound
    env.client.post(call, json={"state": "completed"})


def test_second_gather_is_409_call_duplicate_gather_error(env: Env) -> None:
    call_id = answered_call(env)
    assert env.client.post(f"{env.calls}/{call_id}/gather", json={}).status_code == 201
    response = env.client.post(f"{env.calls}/{call_id}/gather", json={})
    assert error_of(response) == (409, "conflict", "call-duplicate-gather-error")


def test_gather_sub_resource_errors(env: Env) -> None:
    call_id = answered_call(env)
    assert error_of(env.client.get(f"{env.calls}/{call_id}/gather/g-nope"))[0] == 404
    location = env.client.post(f"{env.calls}/{call_id}/gather", json={}).headers["location"]
    assert error_of(env.client.post(location, json={"state": "started"}))[2] == "validation-error"
    assert error_of(env.client.post(location, json={}))[2] == "validation-error"


def links_of(response: httpx.Response) -> dict[str, str]:
    """``{rel: url}`` from a ``Link`` header."""
    pairs = (part.split("; ") for part in response.headers["link"].split(", "))
    return {rel: target.strip("<>") for target, rel in pairs}


def test_list_calls_pages_with_link_headers() -> None:
    with running(numbers={CALLEE: FarEnd.never_answers()}) as env:
        ids = []
        for _ in range(5):
            ids.append(env.create_call())
            env.advance(1)
        first = env.client.get(env.calls, params={"size": 2, "sortOrder": "asc"})
        assert [c["id"] for c in first.json()] == ids[:2]
        base = f"{env.url}/v1/users/{USER}/calls"
        assert first.headers["link"] == (
            f'<{base}?sortOrder=asc&page=0&size=2>; rel="first", <{base}?sortOrder=asc&page=1&size=2>; rel="next"'
        )
        seen = []
        url = links_of(first).get('rel="next"')
        seen += [c["id"] for c in first.json()]
        while url:
            page = env.client.get(url)
            seen += [c["id"] for c in page.json()]
            url = links_of(page).get('rel="next"')
        assert seen == ids
        newest_first = env.client.get(env.calls).json()
        assert [c["id"] for c in newest_first] == list(reversed(ids))
        assert env.client.get(env.calls, params={"to": CALLEE, "page": 1, "size": 4}).json()[0]["id"] == ids[0]
        assert env.client.get(env.calls, params={"from": "+19999999999"}).json() == []
        unencoded_plus = env.client.get(f"{env.calls}?from=+19195550100&size=1000").json()
        assert len(unencoded_plus) == 5
        assert error_of(env.client.get(env.calls, params={"size": 1001}))[2] == "validation-error"
        assert error_of(env.client.get(env.calls, params={"sortOrder": "up"}))[2] == "validation-error"


def test_call_resource_has_the_documented_fields() -> None:
    with running(numbers={CALLEE: FarEnd.never_answers()}) as env:
        call_id = env.create_call(
            fallbackUrl=env.receiver_url + "/fb", conferenceId="conf-1", tag="t", transcriptionEnabled=True
        )
        call = env.get_call(call_id)
        uri = f"{env.url}/v1/users/{USER}/calls/{call_id}"
        assert call == {
            "id": call_id,
            "direction": "out",
            "from": CALLER,
            "to": CALLEE,
            "state": "started",
            "startTime": call["startTime"],
            "callTimeout": 60,
            "callbackUrl": env.receiver_url + "/cb",
            "callbackHttpMethod": "post",
            "callbackTimeout": 10000,
            "fallbackUrl": env.receiver_url + "/fb",
            "chargeableDuration": 0,
            "conferenceId": "conf-1",
            "conference": f"{env.url}/v1/users/{USER}/conferences/conf-1",
            "events": uri + "/events",
            "recordings": uri + "/recordings",
            "transcriptions": uri + "/transcriptions",
            "recordingEnabled": False,
            "recordingFileFormat": "wav",
            "recordingMaxDuration": 3600,
            "transcriptionEnabled": True,
            "tag": "t",
        }


def test_base_url_option_is_used_in_uris() -> None:
    with running(base_url="https://api.example.test/") as env:
        call_id = env.create_call()
        (answer,) = env.receiver.wait_types("answer")
        assert answer["callUri"] == f"https://api.example.test/v1/users/{USER}/calls/{call_id}"


def test_rate_limits_use_the_platforms_codes() -> None:
    limit = RateLimit(calls_per_second=0.2, requests_per_second=0.3, window=10)
    with running(rate_limit=limit) as env:
        body = {"from": CALLER, "to": CALLEE}
        assert env.client.post(env.calls, json=body).status_code == 201
        assert env.client.post(env.calls, json=body).status_code == 201
        throttled = env.client.post(env.calls, json=body)
        assert error_of(throttled) == (403, "limit", "call-rate-limit")
        for _ in range(3):
            assert env.client.get(env.calls).status_code == 200
        limited = env.client.get(env.calls)
        assert error_of(limited) == (429, "too-many-requests", "rate-limit-reached")
        reset = int(limited.headers["x-ratelimit-reset"])
        assert {"name": "rateLimitResetTime", "value": str(reset)} in limited.json()["details"]
        now_ms = int(env.sim.clock.datetime().timestamp() * 1000)
        assert now_ms < reset <= now_ms + 10_000
        assert env.client.get("/_sim/clock").status_code == 200  # the control API is never limited
        env.advance(10)
        assert env.client.get(env.calls).status_code == 200
        assert env.client.post(env.calls, json=body).status_code == 201


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
field_names = st.sampled_from(
    ["from", "to", "state", "callTimeout", "callbackUrl", "sipHeaders", "tag", "sentence", "fileUrl", "maxDigits",
     "prompt", "dtmfOut", "transferTo", "whisperAudio", "recordingEnabled", "terminatingDigits", "loopEnabled"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(["", "/{call}", "/{call}/audio", "/{call}/dtmf", "/{call}/gather"]),
    body=st.dictionaries(field_names, json_values, max_size=5),
)
def test_arbitrary_bodies_never_crash_the_simulator(env: Env, path: str, body: dict[str, Any]) -> None:
    call_id = getattr(env, "fuzz_call", None) or env.create_call()
    env.fuzz_call = call_id  # type: ignore[attr-defined]  # one call for all examples
    response = env.client.post(env.calls + path.format(call=call_id), json=body)
    assert response.status_code in (200, 201, 400, 403, 409), response.text
    if response.status_code >= 400:
        error_of(response)
