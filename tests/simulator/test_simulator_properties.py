"""Property test: whatever a client sends the simulator, it answers with a documented error, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from callhooks.simulator import Simulator

USER, TOKEN, SECRET = "u-prop", "t-prop", "s-prop"
FIELDS = [
    "from", "to", "callTimeout", "callbackUrl", "callbackTimeout", "callbackHttpMethod", "fallbackUrl", "tag",
    "recordingEnabled", "recordingFileFormat", "recordingMaxDuration", "transcriptionEnabled", "sipHeaders",
    "state", "transferTo", "transferCallerId", "whisperAudio", "sentence", "fileUrl", "gender", "locale",
    "voice", "loopEnabled", "volume", "dtmfOut", "maxDigits", "interDigitTimeout", "terminatingDigits", "prompt",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
    | st.text(max_size=20)
    | st.sampled_from(["+19195551212", "sip:a@b", "active", "completed", "transferring", "rejected", "GET", "wav"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    values,
    st.binary(max_size=40),
)


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[TestClient, str]]:
    simulator = Simulator(user_id=USER, api_token=TOKEN, api_secret=SECRET, manual=True)
    with TestClient(simulator, base_url="http://127.0.0.1") as client:
        client.auth = (TOKEN, SECRET)
        created = client.post(f"/v1/users/{USER}/calls", json={"from": "+19195550100", "to": "+19195551212"})
        assert created.status_code == 201
        yield client, created.headers["location"].rsplit("/", 1)[-1]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    body=bodies,
    endpoint=st.sampled_from(["", "/{id}", "/{id}/audio", "/{id}/dtmf", "/{id}/gather", "/{id}/gather/g-1"]),
)
def test_any_body_gets_a_documented_status(api: tuple[TestClient, str], body: Any, endpoint: str) -> None:
    client, call_id = api
    url = f"/v1/users/{USER}/calls" + endpoint.replace("{id}", call_id)
    if isinstance(body, bytes):
        response = client.post(url, content=body, headers={"content-type": "application/json"})
    else:
        response = client.post(url, json=body)
    assert response.status_code in {200, 201, 400, 403, 404, 409}, (response.status_code, response.text)
    if response.status_code >= 400:
        error = response.json()
        assert {"category", "code", "message"} <= set(error)
