"""Shared pieces of the console's tests: an app with a console and a few handlers, and signed requests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from callhooks import CallEvent, CallHooks, bxml
from tests.receiver.test_monitoring import connected, path_of

__all__ = ["APP", "CALLER", "CONSOLE", "SECRET", "connected", "make_hooks", "path_of", "send_call"]

SECRET = "console-tests-secret-key"
CONSOLE = ("admin", "console-pw-1")
CALLER, APP = "+19195551212", "+19195550100"


def make_hooks(**kwargs: Any) -> CallHooks:
    settings: dict[str, Any] = {"secret": SECRET, "store": None, "console": CONSOLE, **kwargs}
    hooks = CallHooks(**settings)

    @hooks.on("answer")
    def answered(event: CallEvent) -> bxml.Response:
        return bxml.Response(bxml.SpeakSentence("Hello caller"))

    @hooks.on("hangup")
    async def hung_up(event: CallEvent) -> None:
        raise RuntimeError(f"handler bug for {event.from_}")

    @hooks.on("gather")
    def gathered(event: CallEvent) -> None:
        return None

    return hooks


def send_call(client: httpx.Client, hooks: CallHooks, call_id: str, tag: str | None = None) -> str:
    """answer (POST), gather (GET) and a failing hangup for ``call_id``; returns the callback path used."""
    url = path_of(hooks.callback_url({"order": 7}, public_url=str(client.base_url)))
    answer = {"eventType": "answer", "callId": call_id, "from": CALLER, "to": APP, "callState": "active"}
    if tag:
        answer["tag"] = tag
    body = json.dumps(answer).encode()
    assert client.post(url, content=body, headers={"content-type": "application/json"}).status_code == 200
    query = f"eventType=gather&callId={quote(call_id, safe='')}&digits=1&state=completed&reason=max-digits"
    assert client.get(f"{url}?{query}").status_code == 200
    hangup = {"eventType": "hangup", "callId": call_id, "from": CALLER, "to": APP, "cause": "NORMAL_CLEARING"}
    assert client.post(url, json=hangup).status_code == 500
    return url
