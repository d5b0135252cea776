"""The console's Replay and Edit & replay (POST _console/api/replay): re-signed with the receiver's secret, through
its normal path (exactly-once: a plain replay of a handled event is a duplicate, an edited one is a new event),
refused from other origins and without the console's credentials; and the store the receiver runs on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from callhooks import CallEvent, CallHooks, bxml
from callhooks.testing.server import serve
from tests.bandwidth.payloads import PAYLOADS
from tests.twilio.test_events import REQUESTS

from .support import APP, CALLER, CONSOLE, SECRET, connected, path_of

TRANSPORTS = ["testclient", "uvicorn"]
ANSWER = {"eventType": "answer", "callId": "c-r", "from": CALLER, "to": APP, "callState": "active"}


class Seen:
    """What the handlers were given."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, dict[str, Any]]] = []


def replay_hooks(**kwargs: Any) -> tuple[CallHooks, Seen]:
    settings: dict[str, Any] = {"secret": SECRET, "store": "memory://", "console": CONSOLE, **kwargs}
    hooks = CallHooks(**settings)
    seen = Seen()

    @hooks.on("answer")
    def answered(event: CallEvent) -> bxml.Response:
        seen.events.append(("answer", event.from_, dict(event.context)))
        return bxml.Response(bxml.SpeakSentence(f"Hello {event.from_}"))

    @hooks.on("gather")
    def gathered(event: CallEvent) -> None:
        seen.events.append(("gather", getattr(event, "digits", None), dict(event.context)))

    return hooks, seen


@contextmanager
def recorded(transport: str, **kwargs: Any) -> Iterator[tuple[httpx.Client, CallHooks, Seen]]:
    """A receiver with a console that has handled an answer (POST, context {"order": 7}) and a gather (GET)."""
    hooks, seen = replay_hooks(**kwargs)
    with connected(hooks, transport) as client:
        url = path_of(hooks.callback_url({"order": 7}, public_url=str(client.base_url)))
        auth = hooks.basic_auth
        assert client.post(url, json=ANSWER, auth=auth).status_code == 200
        query = "eventType=gather&callId=c-r&digits=1&state=completed&reason=max-digits&gatherId=g-1"
        assert client.get(f"{url}?{query}", auth=auth).status_code == 200
        yield client, hooks, seen


def entries(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/_console/api/calls/c-r", auth=CONSOLE).json()["entries"]
    return found


def replay(client: httpx.Client, body: object, **headers: str) -> httpx.Response:
    return client.post(
        "/_console/api/replay",
        content=json.dumps(body),
        headers={"content-type": "application/json", **headers},
        auth=CONSOLE,
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_plain_replay_of_a_handled_event_is_answered_as_a_duplicate(transport: str) -> None:
    with recorded(transport) as (client, _, seen):
        first = entries(client)[0]
        answer = replay(client, {"seq": first["seq"]})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["outcome"] == "duplicate" and "already handled" in result["detail"]
        assert result["status"] == 200 and result["edited"] is False and result["replayOf"] == first["seq"]
        assert len(seen.events) == 2  # no handler ran again
        latest = entries(client)[-1]
        assert latest["duplicate"] is True and latest["replay"] == {"of": first["seq"], "edited": False}
        assert latest["payload"] == first["payload"]
        store = client.get("/_console/api/info", auth=CONSOLE).json()["store"]
        assert store == {"backend": "memory", "url": "memory://", "guarantees": True, "journal": "shared"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_edited_replay_is_a_new_event_signed_with_the_recorded_context(transport: str) -> None:
    with recorded(transport) as (client, _, seen):
        first = entries(client)[0]
        edited = json.dumps({**ANSWER, "from": "+19195550123"})
        result = replay(client, {"seq": first["seq"], "payload": edited}).json()
        assert result["outcome"] == "handled" and result["edited"] is True
        assert result["status"] == 200 and "Hello +19195550123" in result["body"]
        assert result["handler"].endswith("answered") and "xml" in result["mediaType"]
        assert seen.events[-1] == ("answer", "+19195550123", {"order": 7})  # the context it arrived with
        latest = entries(client)[-1]
        assert latest["replay"] == {"of": first["seq"], "edited": True} and latest["payload"] == edited
        # The same edit again is that new event's duplicate.
        again = replay(client, {"seq": first["seq"], "payload": edited}).json()
        assert again["outcome"] == "duplicate" and len(seen.events) == 3


def test_a_get_event_replays_as_a_query_string_and_an_edit_changes_its_digits() -> None:
    with recorded("testclient") as (client, _, seen):
        gather = entries(client)[1]
        assert gather["method"] == "GET"
        assert replay(client, {"seq": gather["seq"]}).json()["outcome"] == "duplicate"
        changed = gather["payload"].replace("digits=1", "digits=2")
        assert replay(client, {"seq": gather["seq"], "payload": changed}).json()["outcome"] == "handled"
        assert seen.events[-1] == ("gather", "2", {"order": 7})
        refused = replay(client, {"seq": gather["seq"], "payload": "digits=1 2"})
        assert refused.status_code == 400 and refused.json()["error"] == "bad-payload"


def test_replay_sends_the_receivers_basic_credentials_and_an_edit_the_receiver_refuses_is_shown() -> None:
    with recorded("testclient", basic_auth=("platform", "callback-pw")) as (client, _, seen):
        first = entries(client)[0]
        edited = replay(client, {"seq": first["seq"], "payload": json.dumps({**ANSWER, "tag": "again"})}).json()
        assert edited["outcome"] == "handled" and len(seen.events) == 3
        broken = replay(client, {"seq": first["seq"], "payload": '{"eventType": "answer", "callId": 5}'}).json()
        assert broken["outcome"] == "rejected" and broken["status"] == 422
        assert "refused by the receiver" in broken["detail"] and broken["body"]
        assert len(seen.events) == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_replay_is_refused_to_other_origins_forms_and_strangers(transport: str) -> None:
    with recorded(transport) as (client, _, seen):
        seq = entries(client)[0]["seq"]
        edit = {"seq": seq, "payload": json.dumps({**ANSWER, "tag": "forged"})}
        host = httpx.URL(str(client.base_url)).netloc.decode()
        for headers, status, error in (
            ({"origin": "http://evil.example"}, 403, "cross-origin"),
            ({"origin": "null"}, 403, "cross-origin"),
            ({"origin": f"http://{host}.evil.example"}, 403, "cross-origin"),
            ({"sec-fetch-site": "cross-site"}, 403, "cross-site"),
            ({"sec-fetch-site": "same-site"}, 403, "cross-site"),
        ):
            refused = replay(client, edit, **headers)
            assert (refused.status_code, refused.json()["error"]) == (status, error), headers
        form = client.post("/_console/api/replay", data={"seq": str(seq)}, auth=CONSOLE)
        assert form.status_code == 415 and form.json()["error"] == "unsupported-media-type"
        plain = client.post("/_console/api/replay", content=json.dumps(edit), auth=CONSOLE)
        assert plain.status_code == 415  # text/plain: what a cross-site form or no-cors fetch could send
        stranger = client.post("/_console/api/replay", json=edit)
        assert stranger.status_code == 401
        read = client.get("/_console/api/replay", auth=CONSOLE)
        assert read.status_code == 405 and read.headers["allow"] == "POST"
        assert len(seen.events) == 2  # none of them ran a handler
        # The page's own request: same origin (as a browser sends it) is accepted.
        same = replay(client, edit, origin=f"http://{host}", **{"sec-fetch-site": "same-origin"})
        assert same.status_code == 200 and same.json()["outcome"] == "handled"


def test_bad_replay_requests_get_400_or_404_json() -> None:
    with recorded("testclient") as (client, _, seen):
        seq = entries(client)[0]["seq"]
        for body in ([], {"seq": "1"}, {"seq": 0}, {"seq": True}, {"seq": seq, "payload": 5}, {"seq": seq, "x": 1}):
            refused = replay(client, body)
            assert refused.status_code == 400 and refused.json()["error"] == "bad-query", body
        not_json = client.post(
            "/_console/api/replay", content=b"{", headers={"content-type": "application/json"}, auth=CONSOLE
        )
        assert not_json.status_code == 400
        huge = replay(client, {"seq": seq, "payload": "x" * (7 * 1024 * 1024)})
        assert huge.status_code == 400 and "at most" in huge.json()["detail"]
        unknown = replay(client, {"seq": 999_999})
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown-entry"
        assert len(seen.events) == 2


def test_a_masked_console_does_not_replay_and_says_why() -> None:
    with recorded("testclient", console_mask_numbers=True) as (client, _, seen):
        seq = entries(client)[0]["seq"]
        refused = replay(client, {"seq": seq})
        assert refused.status_code == 409 and "masks numbers" in refused.json()["detail"]
        info = client.get("/_console/api/info", auth=CONSOLE).json()
        assert info["replay"] == {"available": False, "detail": refused.json()["detail"]}
        assert len(seen.events) == 2


@pytest.mark.parametrize(
    ("settings", "backend", "url", "guarantees"),
    [
        ({}, "memory", "memory://", True),
        ({"store": None}, "memory", "memory://", False),
        ({"store": "redis://:hunter2@127.0.0.1:1/0"}, "redis", "redis://:***@127.0.0.1:1/0", True),
    ],
)
def test_info_names_the_store_the_receiver_runs_on(
    settings: dict[str, Any], backend: str, url: str, guarantees: bool
) -> None:
    hooks, _ = replay_hooks(**settings)
    app = hooks.console
    assert app is not None
    # The console alone (no lifespan): the store is never opened, its URL is what the receiver was given.
    info = TestClient(app.app).get("/_console/api/info", auth=CONSOLE)
    assert info.status_code == 200
    store = info.json()["store"]
    assert (store["backend"], store["url"], store["guarantees"]) == (backend, url, guarantees)
    assert "hunter2" not in info.text
    assert info.json()["replay"] == {"available": True, "detail": None}


def test_replay_reaches_a_mounted_receiver_and_one_under_its_public_urls_path() -> None:
    mounted, seen = replay_hooks()
    host = Starlette(routes=[Mount("/calls", app=mounted)])
    with serve(host) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        url = path_of(mounted.callback_url({"order": 7}, public_url=f"{server.url}/calls"))
        assert client.post(url, json=ANSWER).status_code == 200
        seq = client.get("/calls/_console/api/calls/c-r", auth=CONSOLE).json()["entries"][0]["seq"]
        edit = {"seq": seq, "payload": json.dumps({**ANSWER, "tag": "mounted"})}
        answer = client.post("/calls/_console/api/replay", json=edit, auth=CONSOLE)
        assert answer.status_code == 200 and answer.json()["outcome"] == "handled", answer.text
    standalone, seen_too = replay_hooks(public_url="http://127.0.0.1/hooks")
    with connected(standalone, "uvicorn") as client:
        url = path_of(standalone.callback_url({"order": 7}, public_url=f"{client.base_url}/hooks"))
        assert client.post(url, json=ANSWER).status_code == 200
        seq = client.get("/hooks/_console/api/calls/c-r", auth=CONSOLE).json()["entries"][0]["seq"]
        edit = {"seq": seq, "payload": json.dumps({**ANSWER, "tag": "prefixed"})}
        answer = client.post("/hooks/_console/api/replay", json=edit, auth=CONSOLE)
        assert answer.status_code == 200 and answer.json()["outcome"] == "handled", answer.text
    assert len(seen.events) == len(seen_too.events) == 2


TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"


def test_a_twilio_event_is_replayed_signed_with_the_auth_token_and_a_plain_replay_is_a_duplicate() -> None:
    hooks = CallHooks(
        secret=SECRET,
        public_url="http://testserver/hooks",
        platform="twilio",
        auth_token=["old-auth-token-0000000000000000", TWILIO_TOKEN],  # rotating: the newest signs replays
        console=CONSOLE,
        store="memory://",
    )
    seen: list[tuple[str | None, dict[str, Any]]] = []
    hooks.on("gather", tag="menu")(lambda event: seen.append((event.digits, dict(event.context))))
    url = hooks.callback_url({"order": 7}, kind="gather", tag="menu")
    params = REQUESTS["gather"]
    headers = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params)}
    with TestClient(hooks) as client:
        sent = client.post(
            url.split("testserver")[1], data=params, headers={**headers, "I-Twilio-Idempotency-Token": "i-1"}
        )
        assert sent.status_code == 200
        info = client.get("/hooks/_console/api/info", auth=CONSOLE).json()
        assert info["replay"] == {"available": True, "detail": None}
        entry = client.get(f"/hooks/_console/api/calls/{params['CallSid']}", auth=CONSOLE).json()["entries"][0]
        origin = {"origin": "http://testserver", "content-type": "application/json"}
        plain = client.post("/hooks/_console/api/replay", json={"seq": entry["seq"]}, auth=CONSOLE, headers=origin)
        edited_payload = entry["payload"].replace("Digits=007", "Digits=42")
        edited = client.post(
            "/hooks/_console/api/replay",
            json={"seq": entry["seq"], "payload": edited_payload},
            auth=CONSOLE,
            headers=origin,
        )
    assert (plain.status_code, plain.json()["outcome"]) == (200, "duplicate"), plain.text  # signed, same token
    assert (edited.status_code, edited.json()["outcome"]) == (200, "handled"), edited.text
    assert seen == [("007", {"order": 7}), ("42", {"order": 7})]  # the URL's kind, tag and context kept


def test_a_bandwidth_v2_event_is_replayed_with_the_callbacks_basic_credentials() -> None:
    credentials = ("bw-user", "bw-pass")
    hooks = CallHooks(
        secret=SECRET,
        public_url="http://testserver/hooks",
        platform="bandwidth",
        basic_auth=credentials,
        console=CONSOLE,
        store="memory://",
    )
    seen: list[str | None] = []
    hooks.on("gather")(lambda event: seen.append(event.digits))
    with TestClient(hooks) as client:
        path = hooks.callback_url().split("testserver")[1]
        assert client.post(path, json=PAYLOADS["gather"], auth=credentials).status_code == 200
        call = PAYLOADS["gather"]["callId"]
        entry = client.get(f"/hooks/_console/api/calls/{call}", auth=CONSOLE).json()["entries"][0]
        edited_payload = json.dumps({**json.loads(entry["payload"]), "digits": "999"})
        origin = {"origin": "http://testserver", "content-type": "application/json"}
        plain = client.post("/hooks/_console/api/replay", json={"seq": entry["seq"]}, auth=CONSOLE, headers=origin)
        edited = client.post(
            "/hooks/_console/api/replay",
            json={"seq": entry["seq"], "payload": edited_payload},
            auth=CONSOLE,
            headers=origin,
        )
    assert (plain.json()["outcome"], edited.json()["outcome"]) == ("duplicate", "handled")
    assert seen == [PAYLOADS["gather"]["digits"], "999"]
