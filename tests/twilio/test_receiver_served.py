"""``CallHooks(platform="twilio", auth_token=...)`` over a real uvicorn on 127.0.0.1: every kind by signed form POST
and GET, a TwiML answer whose action comes back routed by kind and tag, and a retried request (same idempotency
token) running its handler once on memory, SQLite and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from callhooks import CallHooks
from callhooks.testing.polling import wait_until
from callhooks.testing.server import serve
from callhooks.twilio import twiml
from callhooks.twilio.receiving import Reply
from tests.stores.support import BACKENDS, backend_url
from tests.twilio.test_events import REQUESTS

PUBLIC = "https://calls.example.com/hooks"
TOKEN = "0123456789abcdef0123456789abcdef"
VALIDATOR = RequestValidator(TOKEN)


def receiver(store: str | None) -> CallHooks:
    return CallHooks(secret="receiver-secret", public_url=PUBLIC, platform="twilio", auth_token=TOKEN, store=store)


def path_of(url: str) -> str:
    return url.split("calls.example.com", 1)[1]


def post(client: httpx.Client, url: str, params: dict[str, str], **headers: str) -> httpx.Response:
    signature = VALIDATOR.compute_signature(url, params)
    return client.post(path_of(url), data=params, headers={"X-Twilio-Signature": signature, **headers})


def test_every_kind_over_http_and_a_menu_round_trip() -> None:
    hooks = receiver(None)
    seen: list[str] = []
    hooks.on()(lambda event: seen.append(event.kind))

    @hooks.on("call")
    def call(event: Any) -> Reply:
        return Reply(twiml.Response(twiml.Gather(twiml.Say("Press 1"), num_digits=1)), tag="main-menu")

    @hooks.on("gather", tag="main-menu")
    def menu(event: Any) -> twiml.Response:
        seen.append(f"menu {event.digits}")
        return twiml.Response(twiml.Hangup())

    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for kind, params in REQUESTS.items():
            if kind == "call":
                continue
            url = hooks.callback_url(kind=kind)
            full = f"{url}?{urlencode(params)}"
            got = client.get(path_of(full), headers={"X-Twilio-Signature": VALIDATOR.compute_signature(full, {})})
            assert post(client, url, params).status_code == got.status_code == 200, kind
        answered = post(client, hooks.callback_url(max_age=None), REQUESTS["call"])
        gather = twiml.parse(answered.text).verbs[0]
        assert isinstance(gather, twiml.Gather) and gather.action
        assert post(client, gather.action, {**REQUESTS["gather"], "Digits": "1"}).status_code == 200
        bad = client.post(
            path_of(gather.action), data=REQUESTS["gather"], headers={"X-Twilio-Signature": "x" * 27 + "="}
        )
    assert (bad.status_code, bad.json()["reason"]) == (403, "signature-mismatch")
    assert seen == [kind for kind in REQUESTS if kind != "call" for _ in (0, 1)] + ["menu 1"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def test_a_retried_request_runs_its_handler_once_on_every_store(store_url: str) -> None:
    hooks = receiver(store_url)
    ran: list[str] = []

    @hooks.on("status", state="completed")
    def completed(event: Any) -> None:
        ran.append(event.call_sid)
        event.session["done"] = True

    url = hooks.callback_url(kind="status")
    params = {**REQUESTS["status"], "CallStatus": "completed"}
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        statuses = [
            post(client, url, params, **{"I-Twilio-Idempotency-Token": token}).status_code
            for token in ("retry-1", "retry-1", "retry-2")
        ]
        without_token = [post(client, url, params).status_code for _ in range(2)]  # same content: one event
    assert statuses == [200, 200, 200] and without_token == [200, 200]
    assert ran == [params["CallSid"]] * 3


def test_a_background_handler_gets_the_kind_and_tag_its_url_named() -> None:
    hooks = receiver("memory://")
    ran: list[tuple[str, str | None, str | None]] = []

    @hooks.on("recording-status", tag="voicemail", background=True)
    def later(event: Any) -> None:
        ran.append((event.kind, event.tag, event.recording_sid))

    url = hooks.callback_url({"box": 3}, kind="recording-status", tag="voicemail")
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        assert post(client, url, REQUESTS["recording-status"]).status_code == 200
        wait_until(lambda: ran, what="the background handler")
    assert ran == [("recording-status", "voicemail", REQUESTS["recording-status"]["RecordingSid"])]
