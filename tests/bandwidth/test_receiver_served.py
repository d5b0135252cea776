"""``CallHooks(platform="bandwidth")`` over a real uvicorn on 127.0.0.1: every event type by POST and GET, a
synchronous callback answered with BXML, and the same event delivered twice running its handler once on memory,
SQLite and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from callhooks import CallHooks
from callhooks.bandwidth import bxml
from callhooks.events import encode_query
from callhooks.testing.polling import wait_until
from callhooks.testing.server import serve
from tests.bandwidth.payloads import PAYLOADS
from tests.stores.support import BACKENDS, backend_url

PUBLIC = "https://calls.example.com/hooks"
CREDENTIALS = ("bw-user", "bw-pass")


def receiver(store: str | None) -> CallHooks:
    return CallHooks(
        secret="receiver-secret", public_url=PUBLIC, platform="bandwidth", basic_auth=CREDENTIALS, store=store
    )


def test_every_event_type_over_http_by_post_and_get() -> None:
    hooks = receiver(None)
    seen: list[str] = []

    @hooks.on()
    def record(event: Any) -> None:
        seen.append(event.event_route_type)

    @hooks.on("gather")
    def gather(event: Any) -> bxml.Response:
        return bxml.Response(bxml.Redirect())

    path = hooks.callback_url().split("calls.example.com", 1)[1]
    with serve(hooks) as server, httpx.Client(base_url=server.url, auth=CREDENTIALS, timeout=10) as client:
        for event_type, payload in PAYLOADS.items():
            for response in (client.post(path, json=payload), client.get(f"{path}?{encode_query(payload)}")):
                assert response.status_code == 200, (event_type, response.text)
                if event_type == "gather":
                    redirect = bxml.parse(response.text).verbs[0]
                    assert isinstance(redirect, bxml.Redirect) and redirect.redirect_url
                    assert hooks.verify_callback_url(redirect.redirect_url) == {}
        refused = client.post(path, json=PAYLOADS["answer"], auth=None)
    assert refused.status_code == 401 and "www-authenticate" in refused.headers
    assert sorted(seen) == sorted([t for t in PAYLOADS if t != "gather"] * 2)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def test_a_duplicate_runs_its_handler_once_on_every_store(store_url: str) -> None:
    hooks = receiver(store_url)
    ran: list[str] = []

    @hooks.on("disconnect", state="busy")
    def busy(event: Any) -> None:
        ran.append(event.call_id)
        event.session["ended"] = "busy"

    path = hooks.callback_url().split("calls.example.com", 1)[1]
    payload = {**PAYLOADS["disconnect"], "cause": "busy"}
    with serve(hooks) as server, httpx.Client(base_url=server.url, auth=CREDENTIALS, timeout=10) as client:
        statuses = [
            client.post(path, json=payload).status_code,
            client.get(f"{path}?{encode_query(payload)}").status_code,  # the same event in the other form
            client.post(path, json=payload).status_code,
        ]
        other = client.post(path, json={**payload, "eventTime": "2019-06-20T15:56:11.111Z"}).status_code
    assert statuses == [200, 200, 200] and other == 200
    assert ran == [payload["callId"], payload["callId"]]


def test_background_handlers_console_and_metrics_serve_v2_events() -> None:
    hooks = CallHooks(
        secret="receiver-secret",
        public_url=PUBLIC,
        platform="bandwidth",
        console=("admin", "console-pass"),
        metrics=True,
    )
    ran: list[str] = []

    @hooks.on("recordingAvailable", background=True)
    def later(event: Any) -> None:
        ran.append(event.recording_id)

    path = hooks.callback_url().split("calls.example.com", 1)[1]
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post(path, json=PAYLOADS["recordingAvailable"]).status_code == 200
        assert client.post(path, json=PAYLOADS["conferenceCompleted"]).status_code == 200  # no call id at all
        wait_until(lambda: ran, what="the background handler")
        calls = client.get("/hooks/_console/api/calls", auth=("admin", "console-pass")).json()
        metrics = client.get("/hooks/metrics").text
    assert ran == [PAYLOADS["recordingAvailable"]["recordingId"]]
    assert PAYLOADS["recordingAvailable"]["callId"] in str(calls)
    assert 'event="recordingAvailable"' in metrics
