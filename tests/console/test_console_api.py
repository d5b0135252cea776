"""The console's JSON API and its auth, in-process and through a real uvicorn on 127.0.0.1: credentials,
filters, timelines, export, bounds, and hostile query parameters."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from callhooks import CallbackSigner, CallHooks
from callhooks.console import EXPORT_FORMAT
from callhooks.console.view import MAX_ENTRIES_PER_CALL, CallView
from callhooks.fixtures import load_fixture, not_recorded_here
from callhooks.testing import wait_until
from callhooks.testing.polling import DEFAULT_TIMEOUT
from callhooks.testing.server import serve

from .support import APP, CALLER, CONSOLE, SECRET, connected, make_hooks, path_of, send_call

TRANSPORTS = ["testclient", "uvicorn"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_console_needs_its_own_credentials(transport: str) -> None:
    hooks = make_hooks(basic_auth=("platform", "callback-pw"))
    with connected(hooks, transport) as client:
        token_url = path_of(hooks.callback_url(public_url=str(client.base_url)))
        token = token_url.rstrip("/").rsplit("/", 1)[1]
        for path in ("/_console/", "/_console/api/calls", "/_console/api/calls/c-1/export", "/_console/x"):
            for auth in (None, ("admin", "wrong"), ("wrong", CONSOLE[1]), ("platform", "callback-pw")):
                response = client.get(path, auth=auth)
                assert response.status_code == 401, (path, auth)
                assert response.headers["www-authenticate"].startswith('Basic realm="callhooks console"')
                assert response.json()["error"] == "unauthorized"
        # A malformed Authorization header is a 401 too, not a 500.
        for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x", "Basic  x"):
            assert client.get("/_console/", headers={"authorization": header}).status_code == 401
        # The callback token opens nothing: neither as a path below the console nor with the console's name.
        assert client.get(f"/_console/{token}").status_code == 401
        assert client.get(f"{token_url}/_console/").status_code == 404
        assert client.get(f"/{token}/_console/api/calls", auth=CONSOLE).status_code == 404
        page = client.get("/_console/", auth=CONSOLE)
        assert page.status_code == 200 and "callhooks console" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        for name in ("console.js", "console.css"):
            assert client.get(f"/_console/static/{name}", auth=CONSOLE).status_code == 200
        assert client.get("/_console/static/..%2Fapi.py", auth=CONSOLE).status_code == 404
        moved = client.get("/_console", auth=CONSOLE, follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (308, "_console/")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_console_paths_never_accept_callbacks_and_console_credentials_open_no_callback(transport: str) -> None:
    hooks = make_hooks(basic_auth=("platform", "callback-pw"))
    answer = {"eventType": "answer", "callId": "c-x", "from": CALLER, "to": APP}
    with connected(hooks, transport) as client:
        for path in ("/_console/", "/_console", "/_console/api/calls"):
            refused = client.post(path, json=answer, auth=CONSOLE)
            assert refused.status_code == 405 and refused.json()["error"] == "method-not-allowed"
            assert client.post(path, json=answer).status_code == 401
        url = hooks.callback_url(public_url=str(client.base_url))  # carries platform:callback-pw
        bare = path_of(url)
        # The right token with the console's credentials instead of the callbacks' is a normal refusal.
        assert client.post(bare, json=answer, auth=CONSOLE).status_code == 401
        assert client.post(bare, json=answer, auth=("platform", "callback-pw")).status_code == 200
        assert client.post("/", json=answer, auth=CONSOLE).status_code in (401, 403)
        calls = client.get("/_console/api/calls", auth=CONSOLE).json()["calls"]
        assert [call["callId"] for call in calls] == ["c-x"]
        reasons = [r["reason"] for r in client.get("/_console/api/rejections", auth=CONSOLE).json()["rejections"]]
        assert len(reasons) == 2 and all(reasons)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_calls_timeline_and_filters(transport: str) -> None:
    hooks = make_hooks()
    with connected(hooks, transport) as client:
        send_call(client, hooks, "c-first", tag="sales")
        send_call(client, hooks, "c-second")
        incoming = {"eventType": "incomingcall", "callId": "c-in", "from": "+14045550123", "to": APP}
        url = path_of(hooks.callback_url(public_url=str(client.base_url)))
        assert client.post(url, json=incoming).status_code == 200
        api = "/_console/api/calls"

        def ids(**params: str) -> list[str]:
            response = client.get(api, params=params, auth=CONSOLE)
            assert response.status_code == 200, response.text
            return [call["callId"] for call in response.json()["calls"]]

        assert ids() == ["c-in", "c-second", "c-first"]  # newest first
        assert ids(call="first") == ["c-first"]
        assert ids(number="0123") == ["c-in"]
        assert ids(number="(404) 555-0123") == ["c-in"]  # digits compared
        assert ids(number=CALLER) == ["c-second", "c-first"]
        assert ids(tag="sales") == ["c-first"]
        assert ids(event="incomingcall") == ["c-in"]
        assert ids(event="gather") == ["c-second", "c-first"]
        assert ids(event="INCOMING") == ["c-in"]  # part of the name will do
        assert ids(status="500") == ["c-second", "c-first"]
        assert ids(status="error") == ["c-second", "c-first"]
        assert ids(status="404") == []
        assert ids(q="SALES") == ["c-first"]
        assert ids(q="hung_up") == ["c-second", "c-first"]  # handler names are searched too
        assert ids(limit="1") == ["c-in"]

        summary = client.get(api, params={"call": "c-in"}, auth=CONSOLE).json()["calls"][0]
        assert (summary["direction"], summary["from"], summary["events"], summary["error"]) == (
            "in",
            "+14045550123",
            1,
            False,
        )
        first = client.get(api, params={"call": "c-first"}, auth=CONSOLE).json()["calls"][0]
        assert first["direction"] == "out" and first["tag"] == "sales" and first["state"] == "completed"
        assert (first["events"], first["lastStatus"], first["error"]) == (3, 500, True)

        detail = client.get("/_console/api/calls/c-first", auth=CONSOLE).json()
        answer, gather, hangup = detail["entries"]
        assert answer["method"] == "POST" and json.loads(answer["payload"])["tag"] == "sales"
        assert answer["fields"]["from"] == CALLER and answer["fields"]["callState"] == "active"
        assert answer["context"] == {"order": 7} and answer["handler"].endswith(".answered")
        assert answer["response"]["xml"] is True and answer["response"]["body"].startswith("<?xml")
        assert ">Hello caller</SpeakSentence>" in answer["response"]["body"]
        assert gather["method"] == "GET" and gather["payload"].startswith("eventType=gather&callId=c-first")
        assert gather["fields"]["digits"] == "1" and gather["response"] is None and gather["status"] == 200
        assert hangup["status"] == 500 and hangup["error"]["type"] == "RuntimeError"
        assert "Traceback (most recent call last)" in hangup["error"]["traceback"]
        assert "in hung_up" in hangup["error"]["traceback"]
        assert f"handler bug for {CALLER}" in hangup["error"]["traceback"]
        assert client.get("/_console/api/calls/c-nope", auth=CONSOLE).status_code == 404


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_export_is_a_replayable_fixture_without_the_token(transport: str) -> None:
    hooks = make_hooks()
    with connected(hooks, transport) as client:
        url = send_call(client, hooks, "c-export")
        token = url.rsplit("/", 1)[1]
        response = client.get("/_console/api/calls/c-export/export", auth=CONSOLE)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="call-c-export.json"'
    assert token not in response.text and SECRET not in response.text and CONSOLE[1] not in response.text
    fixture = response.json()
    assert set(fixture) == {"format", "callId", "exported", "events", "receiver"}
    # Sealed as recorded by this receiver (issue 23, finding 12): `callhooks replay` with its secret does not warn.
    assert hooks.signer is not None and not_recorded_here(load_fixture(response.text), hooks.signer) is None
    other = CallbackSigner("another-receiver")
    assert not_recorded_here(load_fixture(response.text), other) == (
        f"it was sealed by another receiver (key {fixture['receiver'][:8]})"
    )
    assert (fixture["format"], fixture["callId"]) == (EXPORT_FORMAT, "c-export")
    assert fixture["exported"].endswith("Z") and fixture["exported"][10] == "T"
    answer, gather, hangup = fixture["events"]
    assert set(answer) == {"at", "method", "contentType", "body", "context", "status"}
    assert answer["at"] == 0.0 and 0 <= gather["at"] <= hangup["at"]
    assert (answer["method"], answer["contentType"], answer["status"]) == ("POST", "application/json", 200)
    assert json.loads(answer["body"]) == {
        "eventType": "answer",
        "callId": "c-export",
        "from": CALLER,
        "to": APP,
        "callState": "active",
    }
    assert set(gather) == {"at", "method", "body", "context", "status"}  # GET: no content type
    assert gather["method"] == "GET" and gather["body"].startswith("eventType=gather&")
    assert hangup["status"] == 500 and answer["context"] == {"order": 7}


# Call ids the platform may send that a path segment cannot hold as they are (issue 23, finding 11).
AWKWARD_IDS = ["a/b", "a/export", "export", "x/y/z", "/lead", "trail/", "ü/☎ 1", "%2F", "it's (x)*!~"]


def encode_uri_component(text: str) -> str:
    """What the page's ``encodeURIComponent`` makes of a call id."""
    return quote(text, safe="!~*'()")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_call_whose_id_holds_a_slash_opens_and_exports(transport: str) -> None:
    hooks = make_hooks()
    with connected(hooks, transport) as client:
        for call_id in AWKWARD_IDS:
            send_call(client, hooks, call_id)
        for call_id in AWKWARD_IDS:
            path = "/_console/api/calls/" + encode_uri_component(call_id)
            timeline = client.get(path, auth=CONSOLE)
            exported = client.get(path + "/export", auth=CONSOLE)
            assert (timeline.status_code, exported.status_code) == (200, 200), call_id  # before: 404 with a "/"
            assert timeline.json()["call"]["callId"] == call_id
            assert [entry["callId"] for entry in timeline.json()["entries"]] == [call_id] * 3
            assert exported.json()["callId"] == call_id
        # An unencoded "/" is not read as part of the id; bad encodings are 400s naming the problem.
        unencoded = client.get("/_console/api/calls/a/b", auth=CONSOLE)
        bad = [client.get(f"/_console/api/calls/{raw}", auth=CONSOLE) for raw in ("%FF", "%00x", "")]
    assert (unencoded.status_code, unencoded.json()["error"]) == (404, "not-found")
    assert [(answer.status_code, answer.json()["error"]) for answer in bad] == [(400, "bad-query")] * 3


HOSTILE = [
    {"status": "abc"},
    {"status": "99"},
    {"status": "5000"},
    {"limit": "0"},
    {"limit": "-1"},
    {"limit": "1e9"},
    {"limit": "100000"},
    {"q": "x" * 201},
    {"q": "a\x00b"},
    {"nope": "1"},
    {"q": "\u2028" * 300},
]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hostile_query_parameters_get_400_json(transport: str) -> None:
    hooks = make_hooks()
    with connected(hooks, transport) as client:
        for params in HOSTILE:
            response = client.get("/_console/api/calls", params=params, auth=CONSOLE)
            assert response.status_code == 400, (params, response.text)
            body = response.json()
            assert body["error"] == "bad-query" and body["detail"]
        twice = client.get("/_console/api/calls?q=a&q=b", auth=CONSOLE)
        assert twice.status_code == 400 and "twice" in twice.json()["detail"]
        assert client.get("/_console/api/calls/c-1?x=1", auth=CONSOLE).status_code == 400
        assert client.get("/_console/api/calls/" + "c" * 300, auth=CONSOLE).status_code == 400
        assert client.get("/_console/api/calls/%00", auth=CONSOLE).status_code == 400
        assert client.get("/_console/api/rejections?limit=x", auth=CONSOLE).status_code == 400
        assert client.get("/_console/api/nothing", auth=CONSOLE).json()["error"] == "not-found"


def test_the_view_keeps_to_its_bounds() -> None:
    hooks = make_hooks(console_size=3)
    assert hooks.console is not None
    view = hooks.console.view
    with connected(hooks, "testclient") as client:
        for number in range(6):
            send_call(client, hooks, f"c-{number}")
        calls = client.get("/_console/api/calls", auth=CONSOLE).json()["calls"]
    assert [call["callId"] for call in calls] == ["c-5", "c-4", "c-3"]
    assert len(view.calls) == 3 and view.entry_count == 9
    # One call sending far more events than an entry limit keeps its latest; sizes are counted exactly.
    small = CallView(calls_kept=2, max_chars=50_000)
    for seq in range(1, MAX_ENTRIES_PER_CALL + 50):
        small.add(seq, {"kind": "event", "callId": "c-busy", "eventType": "dtmf", "at": seq, "payload": "x" * 50})
    busy = small.call("c-busy")
    assert busy is not None and len(busy.entries) <= MAX_ENTRIES_PER_CALL
    assert small.chars == busy.size <= 50_000 or len(small.calls) == 1
    for seq in range(10):
        small.add(1000 + seq, {"kind": "event", "callId": f"c-{seq}", "at": 0, "payload": "y" * 20_000})
    assert len(small.calls) <= 2 and small.chars == sum(call.size for call in small.calls.values())
    assert small.chars <= 50_000
    for seq in range(300):
        small.add(2000 + seq, {"kind": "rejection", "status": 403, "reason": "r", "at": 0})
    assert len(small.rejections) <= 200


def test_console_is_off_by_default_and_configured_from_the_environment() -> None:
    plain = CallHooks(secret=SECRET, store=None)
    assert plain.console is None
    with connected(plain, "testclient") as client:
        assert client.get("/_console/", auth=CONSOLE).status_code == 403  # just a bad callback token
    env = {
        "CALLHOOKS_SECRET": SECRET,
        "CALLHOOKS_CONSOLE": "ops:pa:ss",
        "CALLHOOKS_CONSOLE_MASK_NUMBERS": "1",
        "CALLHOOKS_CONSOLE_SIZE": "7",
    }
    try:
        hooks = CallHooks.from_env(env, store=None)
        assert hooks.console is not None
        assert hooks.console.credentials == ("ops", "pa:ss")
        assert hooks.console.mask_numbers is True and hooks.console.view.calls_kept == 7
    finally:
        from callhooks.console.masking import uninstall_log_masking

        uninstall_log_masking()
    with pytest.raises(ValueError):
        CallHooks.from_env({"CALLHOOKS_SECRET": SECRET, "CALLHOOKS_CONSOLE": "no-colon"})
    for size in ("lots", "0", "-3"):
        with pytest.raises(ValueError, match=r"CALLHOOKS_CONSOLE_SIZE|console_size"):
            CallHooks.from_env({"CALLHOOKS_SECRET": SECRET, "CALLHOOKS_CONSOLE": "a:b", "CALLHOOKS_CONSOLE_SIZE": size})
    for bad in (("a:b", "pw"), ("", "pw"), ("user", "")):
        with pytest.raises(ValueError):
            CallHooks(secret=SECRET, store=None, console=bad)


def test_mounted_console_uses_the_mount_path() -> None:
    hooks = make_hooks()
    host = Starlette(routes=[Mount("/calls", app=hooks)])
    with serve(host) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        url = hooks.callback_url(public_url=f"{server.url}/calls")
        assert client.post(url, json={"eventType": "answer", "callId": "c-m", "from": CALLER}).status_code == 200
        assert client.get("/calls/_console/", auth=CONSOLE).status_code == 200
        calls = client.get("/calls/_console/api/calls", auth=CONSOLE).json()["calls"]
        assert [call["callId"] for call in calls] == ["c-m"]
        moved = client.get(
            "/calls/_console", auth=CONSOLE, follow_redirects=True
        )  # the relative redirect lands on the page
        assert moved.status_code == 200 and str(moved.url).endswith("/calls/_console/")


def test_stream_sends_a_notice_per_entry_and_keep_alives_and_forgets_closed_clients() -> None:
    hooks = make_hooks()
    assert hooks.console is not None
    hub = hooks.console.hub
    hub.keep_alive = 0.2
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        lines: list[str] = []
        seen_notice = threading.Event()

        def listen() -> None:
            with client.stream("GET", "/_console/api/stream", auth=CONSOLE) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                for line in stream.iter_lines():
                    lines.append(line)
                    if line.startswith("data:") and any(k.startswith(": keep-alive") for k in lines):
                        seen_notice.set()
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        _wait(lambda: len(hub.listeners) == 1)
        with httpx.Client(base_url=server.url, timeout=10) as sender:
            _wait(lambda: any(line.startswith(": keep-alive") for line in lines))
            send = {"eventType": "answer", "callId": "c-live", "from": CALLER}
            assert sender.post(hooks.callback_url(public_url=server.url), json=send).status_code == 200
        assert seen_notice.wait(10)
        listener.join(10)
        notice: dict[str, Any] = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        assert notice == {"type": "event", "seq": 1, "callId": "c-live"}
        _wait(lambda: not hub.listeners)  # the closed stream left the hub


def test_a_stream_ends_after_its_lifetime_so_shutdown_is_never_held_open() -> None:
    hooks = make_hooks()
    assert hooks.console is not None
    hub = hooks.console.hub
    hub.lifetime, hub.keep_alive = 0.3, 0.1
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        with client.stream("GET", "/_console/api/stream", auth=CONSOLE) as stream:
            lines = list(stream.iter_lines())  # returns: the server ended the stream by itself
        assert lines[0] == "retry: 1000" and ": keep-alive" in lines
        _wait(lambda: not hub.listeners)


def test_stream_listeners_are_bounded() -> None:
    hooks = make_hooks()
    assert hooks.console is not None
    hub = hooks.console.hub
    hub.max_clients = 0
    with connected(hooks, "testclient") as client:
        response = client.get("/_console/api/stream", auth=CONSOLE)
    assert response.status_code == 503 and response.json()["error"] == "too-many-listeners"
    # A listener that falls behind is told once to reload, instead of queueing without end.
    hub.max_clients = 1
    listener = hub.join()
    assert listener is not None and hub.join() is None
    for seq in range(1000):
        hub.publish({"type": "event", "seq": seq})
    assert listener.queue.qsize() == 1 and listener.queue.get_nowait() == {"type": "reset"}


def _wait(condition: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
    wait_until(condition, timeout=timeout, interval=0.02)


def test_the_page_and_its_files_are_package_data() -> None:
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "callhooks.console" in config["packages"]
    shipped = config["package-data"]["callhooks.console"]
    static = sorted(p.name for p in (root / "callhooks" / "console" / "static").iterdir())
    assert static == ["console.css", "console.html", "console.js"]
    assert all(any(Path("static", name).match(pattern) for pattern in shipped) for name in static)


def test_tracebacks_hide_secrets_passwords_and_tokens() -> None:
    hooks = CallHooks(secret=SECRET, store=None, console=CONSOLE, basic_auth=("platform", "callback-pw"))
    leaked: dict[str, str] = {}

    @hooks.on("answer")
    def answered(event: Any) -> None:
        url = hooks.callback_url()
        leaked["token"] = url.rsplit("/", 1)[1]
        raise ValueError(f"could not call {url} with {SECRET} and callback-pw and {CONSOLE[1]}")

    with connected(hooks, "testclient") as client:
        hooks.public_url = str(client.base_url)
        url = path_of(hooks.callback_url())
        answer = {"eventType": "answer", "callId": "c-leak"}
        assert client.post(url, json=answer, auth=("platform", "callback-pw")).status_code == 500
        shown = client.get("/_console/api/calls/c-leak", auth=CONSOLE)
    error = shown.json()["entries"][0]["error"]
    assert error["type"] == "ValueError" and "could not call" in error["traceback"]
    for secret in (SECRET, "callback-pw", CONSOLE[1], leaked["token"]):
        assert secret not in shown.text
    assert "<token>" in error["traceback"] and "***" in error["message"]


def test_a_rejection_naming_a_known_call_shows_in_its_timeline_marked_unverified() -> None:
    hooks = make_hooks()
    with connected(hooks, "testclient") as client:
        url = send_call(client, hooks, "c-known")
        invalid = {"eventType": "dtmf", "callId": "c-known", "dtmfDuration": "long"}
        assert client.post(url, json=invalid).status_code == 422  # read, then refused: its body is kept
        assert client.post(url + "x", json=invalid).status_code == 403  # refused before its body was read
        assert client.get("/?eventType=dtmf&callId=c-known").status_code == 403
        detail = client.get("/_console/api/calls/c-known", auth=CONSOLE).json()
        listed = client.get("/_console/api/rejections", auth=CONSOLE).json()["rejections"]
    assert len(detail["entries"]) == 3  # the forgeries are not among the call's events
    claimed = detail["unverifiedRejections"]
    assert [(r["method"], r["status"], r["reason"]) for r in claimed] == [
        ("POST", 422, "invalid-field"),
        ("GET", 403, "token-missing"),
    ]
    assert [r["claimedCallId"] for r in listed] == ["c-known", None, "c-known"]  # newest first, all listed


def test_a_streamed_answer_is_recorded_without_its_body() -> None:
    from starlette.responses import StreamingResponse

    hooks = make_hooks()

    @hooks.on("speak")
    def spoken(event: Any) -> StreamingResponse:
        return StreamingResponse(iter([b"streamed"]), media_type="text/plain")

    with connected(hooks, "testclient") as client:
        url = path_of(hooks.callback_url(public_url=str(client.base_url)))
        assert client.post(url, json={"eventType": "speak", "callId": "c-stream"}).text == "streamed"
        entry = client.get("/_console/api/calls/c-stream", auth=CONSOLE).json()["entries"][0]
    assert entry["status"] == 200 and entry["response"]["body"] == ""
    assert entry["response"]["mediaType"].startswith("text/plain")


def test_v2_challenges_are_not_rejections_in_the_console_wrong_credentials_are() -> None:
    # Bandwidth v2 sends every webhook first without credentials: the 401 challenge is its normal flow.
    credentials = ("bw-user", "bw-pass")
    hooks = CallHooks(
        secret=SECRET,
        public_url="http://testserver/hooks",
        platform="bandwidth",
        basic_auth=credentials,
        console=CONSOLE,
    )
    answer = {"eventType": "answer", "callId": "c-v2", "from": CALLER, "to": APP}
    with connected(hooks, "testclient") as client:
        path = path_of(hooks.callback_url())
        assert client.post(path, json=answer).status_code == 401  # the challenge
        assert client.post(path, json=answer, auth=credentials).status_code == 200
        assert client.post(path, json=answer, auth=("bw-user", "wrong")).status_code == 401
        listed = client.get("/hooks/_console/api/rejections", auth=CONSOLE).json()
    assert [r["reason"] for r in listed["rejections"]] == ["basic-auth-failed"]  # the wrong credentials only
    assert listed["refused"] == {"total": 1, "byReason": {"basic-auth-failed": 1}}
