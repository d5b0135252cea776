"""Every row of issue 2's HTTP table, each through Starlette's TestClient and through real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callhooks import CallEvent, CallHooks
from callhooks.app import Dispatched
from callhooks.testing.server import RunningServer, serve

SECRET = "http-tests-secret-never-logged"
PASSWORD = "basic-password-never-logged"
ANSWER = {"eventType": "answer", "callId": "c-abc123", "from": "+19195550100", "to": "+19195551212"}
JSON_HEADERS = {"content-type": "application/json"}

Connect = Callable[[ASGIApp], httpx.Client]


class Switch:
    """An ASGI app forwarding to whichever app the current test set, so one uvicorn serves the whole module."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.app is not None, "no app installed for this request"
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def real_server() -> Iterator[tuple[RunningServer, Switch]]:
    switch = Switch()
    with serve(switch) as server:
        yield server, switch


@pytest.fixture(params=["testclient", "uvicorn"])
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """``connect(app)`` gives an httpx client talking to ``app`` through the transport under test.

    ``testclient``: Starlette's in-process TestClient. ``uvicorn``: a real uvicorn server on 127.0.0.1 (shared
    by the module, switched to this test's app) reached over a socket with httpx.
    """
    with ExitStack() as stack:

        def factory(app: ASGIApp) -> httpx.Client:
            if request.param == "testclient":
                return stack.enter_context(TestClient(app))
            server, switch = request.getfixturevalue("real_server")
            switch.app = app
            stack.callback(setattr, switch, "app", None)
            return stack.enter_context(httpx.Client(base_url=server.url, timeout=10))

        yield factory


def settle(client: httpx.Client) -> None:
    """Let the server finish the previous request's after-response work (logging) before we look at logs.

    Under uvicorn the response can reach us a moment before the app logs it; the app logs without yielding
    to the event loop after its last ``send``, so one more request served by the same loop orders after it.
    """
    assert client.get("/healthz").status_code == 200


class App:
    """A CallHooks app plus what its handlers saw."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("secret", None)
        kwargs.setdefault("insecure", kwargs["secret"] is None)
        self.hooks = CallHooks(**kwargs)
        self.events: list[CallEvent] = []

    def record_all(self) -> App:
        @self.hooks.on()
        def record(event: CallEvent) -> None:
            self.events.append(event)

        return self


def signed_url(client: httpx.Client, hooks: CallHooks, **kwargs: Any) -> str:
    return hooks.callback_url(public_url=str(client.base_url), **kwargs)


# -- 200 rows -----------------------------------------------------------------------------------------------------


def test_post_json_200_empty_body(connect: Connect) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    response = client.post("/", content=json.dumps(ANSWER), headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert response.content == b""
    assert [e.call_id for e in app.events] == ["c-abc123"]
    assert app.events[0].to == "+19195551212"


def test_get_200(connect: Connect) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    response = client.get("/", params={"eventType": "dtmf", "callId": "c-9", "dtmfDigit": "#", "dtmfDuration": "160"})
    assert response.status_code == 200
    assert response.content == b""
    event = app.events[0]
    assert (event.event_type, event.call_id, event.call_state) == ("dtmf", "c-9", "active")
    assert getattr(event, "dtmf_duration", None) == 160


def test_form_post_200(connect: Connect) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    response = client.post("/", data={**ANSWER, "tag": "order-1"})
    assert response.status_code == 200
    assert response.content == b""
    assert app.events[0].tag == "order-1"
    assert app.events[0].from_ == "+19195550100"  # %2B-encoded by the client, decoded back


def test_signed_post_and_get_200_with_context(connect: Connect) -> None:
    app = App(secret=SECRET).record_all()
    client = connect(app.hooks)
    url = signed_url(client, app.hooks, context={"order": 4411})
    assert client.post(url, json=ANSWER).status_code == 200
    assert client.get(url, params={"eventType": "hangup", "callId": "c-abc123"}).status_code == 200
    assert client.get(url + "/", params={"eventType": "hangup"}).status_code == 200  # trailing slash
    assert [(e.event_type, e.context) for e in app.events] == [
        ("answer", {"order": 4411}),
        ("hangup", {"order": 4411}),
        ("hangup", {"order": 4411}),
    ]


def test_no_handler_200_and_logged(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.hooks.on("hangup")
    def hangup(event: CallEvent) -> None:
        raise AssertionError("must not run for an answer")

    client = connect(app.hooks)
    with caplog.at_level(logging.INFO, logger="callhooks"):
        response = client.post("/", json=ANSWER)
        settle(client)
    assert response.status_code == 200
    assert response.content == b""
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("callhooks")]
    assert "no handler matched event answer of call c-abc123" in messages
    assert any("handler=- status=200" in m for m in messages)


def test_a_duplicate_and_a_token_bound_elsewhere_are_logged_as_what_they_are(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(secret=SECRET, public_url="http://127.0.0.1").record_all()
    bound = "/" + app.hooks.callback_url(bind=True).rsplit("/", 1)[1]
    client = connect(app.hooks)
    with caplog.at_level(logging.INFO, logger="callhooks"):
        assert client.post(bound, json=ANSWER).status_code == 200
        assert client.post(bound, json=ANSWER).status_code == 200  # the platform's redelivery
        assert client.post(bound, json={**ANSWER, "callId": "c-other"}).status_code == 403
        settle(client)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("callhooks")]
    assert "event answer of call c-abc123 already handled: answered as a duplicate" in messages
    assert "event answer of call c-other refused: token-bound-to-another-call" in messages
    assert not any(m.startswith("no handler matched") for m in messages)  # each had a handler
    assert len(app.events) == 1


def test_handler_response_is_sent_as_is(connect: Connect) -> None:
    app = App()

    @app.hooks.on("answer")
    async def bxml(event: CallEvent) -> Response:
        return PlainTextResponse(
            "<Response><SpeakSentence>hi</SpeakSentence></Response>",
            status_code=201,
            media_type="application/xml",
            headers={"x-call": event.call_id or ""},
        )

    @app.hooks.on("gather")
    def sync_bxml(event: CallEvent) -> Response:
        return Response(b"<Response/>", media_type="application/xml")

    client = connect(app.hooks)
    response = client.post("/", json=ANSWER)
    assert response.status_code == 201
    assert response.text == "<Response><SpeakSentence>hi</SpeakSentence></Response>"
    assert response.headers["content-type"].startswith("application/xml")
    assert response.headers["x-call"] == "c-abc123"
    response = client.get("/", params={"eventType": "gather"})
    assert response.status_code == 200
    assert response.content == b"<Response/>"


# -- 400 / 422 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "invalid-json"),
        (b"", "invalid-json"),
        (b'{"eventType": "answer"', "invalid-json"),
        (b"\xff\xfe", "invalid-json"),
        (b'[{"eventType": "answer"}]', "invalid-event"),
        (b'"answer"', "invalid-event"),
        (b"null", "invalid-event"),
        (b'{"callId": "c-1"}', "invalid-event"),
        (b'{"eventType": 5}', "invalid-event"),
    ],
)
def test_not_an_event_400(connect: Connect, body: bytes, error: str) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    response = client.post("/", content=body, headers=JSON_HEADERS)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert set(payload) == {"error", "detail"}
    assert payload["error"] == error
    assert payload["detail"]
    assert app.events == []


def test_get_or_form_without_event_type_400(connect: Connect) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    for response in (client.get("/", params={"callId": "c-1"}), client.post("/", data={"callId": "c-1"})):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid-event"
    assert app.events == []


def test_wrong_field_type_422_lists_wire_names(connect: Connect) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    body = {
        "eventType": "conference-member",
        "activeMembers": "three",
        "hold": "maybe",
        "callId": "c-1",
    }
    response = client.post("/", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "invalid-field"
    names = sorted(field["name"] for field in payload["fields"])
    assert names == ["activeMembers", "hold"]
    assert all(field["problem"] for field in payload["fields"])
    assert "activeMembers" in payload["detail"]

    response = client.get("/", params={"eventType": "incomingcall", "diversion": '{"counter": "x"}', "time": "soon"})
    assert response.status_code == 422
    assert sorted(f["name"] for f in response.json()["fields"]) == ["diversion.counter", "time"]
    assert app.events == []


def test_unknown_event_type_is_200_not_4xx(connect: Connect) -> None:
    app = App()
    seen: list[str] = []

    @app.hooks.on("sms", allow_unknown=True)
    def sms(event: CallEvent) -> None:
        seen.append(event.event_type)

    client = connect(app.hooks)
    assert client.post("/", json={"eventType": "sms", "whatever": [1]}).status_code == 200
    assert client.post("/", json={"eventType": "never-seen"}).status_code == 200
    assert seen == ["sms"]


# -- 403 --------------------------------------------------------------------------------------------------------


def _altered(url: str) -> str:
    token = urlsplit(url).path.rpartition("/")[2]
    payload, signature = token.rsplit(".", 1)
    return url.replace(token, payload + "." + signature[::-1])


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("missing", "token-missing"),
        ("altered", "token-altered"),
        ("unknown-key", "token-unknown-key"),
        ("expired", "token-expired"),
        ("basic-auth", "basic-auth-failed"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_403_and_no_handler_runs(connect: Connect, which: str, reason: str, method: str) -> None:
    now = [1_700_000_000.0]
    app = App(secret=SECRET, basic_auth=("platform", PASSWORD), clock=lambda: now[0]).record_all()
    client = connect(app.hooks)
    good = signed_url(client, app.hooks, max_age=60)
    url = {
        "missing": str(client.base_url).rstrip("/") + "/",
        "altered": _altered(good),
        "unknown-key": CallHooks(secret="other").callback_url(public_url=str(client.base_url)),
        "expired": good,
        "basic-auth": good,
    }[which]
    auth = ("platform", "wrong" if which == "basic-auth" else PASSWORD)
    if which == "expired":
        now[0] += 61
    if method == "GET":
        response = client.get(url, params={"eventType": "answer", "callId": "c-1"}, auth=auth)
    else:
        response = client.post(url, json=ANSWER, auth=auth)
    if which == "basic-auth":
        # 401 with a challenge: the platform's HTTP client sends a URL's credentials only when challenged.
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic ")
        assert response.json()["error"] == "unauthorized"
    else:
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    body = response.json()
    assert body["reason"] == reason
    assert SECRET not in response.text
    assert PASSWORD not in response.text
    assert app.events == []
    # The same request, done right, is accepted: the 403 was about the credential only.
    now[0] = 1_700_000_000.0
    assert client.post(good, json=ANSWER, auth=("platform", PASSWORD)).status_code == 200
    assert len(app.events) == 1


def test_403_does_not_read_or_parse_the_body(connect: Connect) -> None:
    app = App(secret=SECRET).record_all()
    client = connect(app.hooks)
    response = client.post("/", content=b"{not json", headers=JSON_HEADERS)
    assert response.status_code == 403  # auth is checked before the body is looked at


# -- 413 --------------------------------------------------------------------------------------------------------


def big_json(size: int) -> bytes:
    prefix, suffix = b'{"eventType": "answer", "pad": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


def test_body_over_default_limit_413(connect: Connect) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    at_limit = client.post("/", content=big_json(64 * 1024), headers=JSON_HEADERS)
    assert at_limit.status_code == 200
    response = client.post("/", content=big_json(64 * 1024 + 1), headers=JSON_HEADERS)
    assert response.status_code == 413
    assert response.json()["error"] == "body-too-large"
    form = client.post(
        "/",
        content=b"eventType=answer&pad=" + b"x" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 413
    assert len(app.events) == 1


def test_custom_body_limit(connect: Connect) -> None:
    app = App(body_limit=100).record_all()
    client = connect(app.hooks)
    assert client.post("/", content=big_json(100), headers=JSON_HEADERS).status_code == 200
    response = client.post("/", content=big_json(101), headers=JSON_HEADERS)
    assert response.status_code == 413
    assert "100 bytes" in response.json()["detail"]


def test_chunked_body_without_content_length_over_limit_real_server() -> None:
    app = App(body_limit=1000).record_all()
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        body = big_json(5000)
        for start in range(0, len(body), 500):
            sent.append(start)
            yield body[start : start + 500]

    with serve(app.hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        request = client.build_request("POST", "/", content=chunks(), headers=JSON_HEADERS)
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
        response = client.send(request)
        assert response.status_code == 413
        # A small chunked body is still fine.
        small = client.post("/", content=iter([b'{"eventType": ', b'"answer"}']), headers=JSON_HEADERS)
        assert small.status_code == 200
    assert len(app.events) == 1


async def _run_asgi(app: ASGIApp, scope: dict[str, Any], messages: list[Message]) -> tuple[list[Message], int]:
    """Drive an ASGI app directly; returns what it sent and how many times it called ``receive``."""
    received = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        received += 1
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent, received


def _scope(headers: list[tuple[bytes, bytes]], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
    }


def test_413_stops_reading_the_body() -> None:
    hooks = CallHooks(secret=None, insecure=True, body_limit=1000)
    # Declared too large: refused before a single receive().
    sent, received = asyncio.run(
        _run_asgi(hooks, _scope([(b"content-type", b"application/json"), (b"content-length", b"5000")]), [])
    )
    assert sent[0]["status"] == 413
    assert received == 0
    # Chunked: reading stops at the chunk that crosses the limit; later chunks are never requested.
    chunks: list[Message] = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(10)]
    sent, received = asyncio.run(_run_asgi(hooks, _scope([(b"content-type", b"application/json")]), chunks))
    assert sent[0]["status"] == 413
    assert received == 3


# -- 415 / 405 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x", None])
def test_other_content_types_415(connect: Connect, content_type: str | None) -> None:
    app = App().record_all()
    client = connect(app.hooks)
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/", content=json.dumps(ANSWER).encode(), headers=headers)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported-media-type"
    assert app.events == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_405_with_allow(connect: Connect, method: str) -> None:
    app = App(secret=SECRET).record_all()
    client = connect(app.hooks)
    for url in ("/", signed_url(client, app.hooks)):
        response = client.request(method, url, json=ANSWER)
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
        assert response.json()["error"] == "method-not-allowed"
    assert app.events == []


# -- 500 -------------------------------------------------------------------------------------------------------


def test_handler_raises_500_logged_next_event_served(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    served: list[str] = []

    @app.hooks.on("answer")
    async def explode(event: CallEvent) -> None:
        raise RuntimeError("boom in handler")

    @app.hooks.on("dtmf")
    def sync_explode(event: CallEvent) -> None:
        raise KeyError("sync boom")

    @app.hooks.on("hangup")
    def fine(event: CallEvent) -> None:
        served.append(event.call_id or "")

    client = connect(app.hooks)
    with caplog.at_level(logging.INFO, logger="callhooks"):
        response = client.post("/", json=ANSWER)
        assert response.status_code == 500
        # The platform gets a generic body; the handler's name is in the log (issue 7, finding 9).
        assert response.json() == {"error": "handler-failed", "detail": "the handler for this event failed"}
        assert client.get("/", params={"eventType": "dtmf", "callId": "c-2"}).status_code == 500
        assert client.post("/", json={"eventType": "hangup", "callId": "c-3"}).status_code == 200
        settle(client)
    assert served == ["c-3"]
    errors = [r for r in caplog.records if r.name == "callhooks" and r.levelno == logging.ERROR]
    assert len(errors) == 2
    first = errors[0]
    assert _name(explode) in first.getMessage()
    assert "c-abc123" in first.getMessage()
    assert "answer" in first.getMessage()
    assert first.exc_info is not None
    assert "Traceback" in caplog.text
    assert "boom in handler" in caplog.text
    assert "c-2" in errors[1].getMessage()
    statuses = [r.getMessage() for r in caplog.records if "status=" in r.getMessage()]
    assert any("call=c-abc123 " in m and "status=500" in m for m in statuses)
    assert any("call=c-3 " in m and "status=200" in m for m in statuses)


def _name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


@pytest.mark.parametrize("hook_kind", ["sync", "async"])
def test_on_error_hook_replaces_the_response(connect: Connect, hook_kind: str) -> None:
    seen: list[tuple[str, str]] = []

    def sync_hook(event: CallEvent, exc: BaseException) -> Response:
        seen.append((event.event_type, str(exc)))
        return PlainTextResponse("<Response><Hangup/></Response>", media_type="application/xml")

    async def async_hook(event: CallEvent, exc: BaseException) -> Response:
        return sync_hook(event, exc)

    app = App(on_error=sync_hook if hook_kind == "sync" else async_hook)

    @app.hooks.on("answer")
    def explode(event: CallEvent) -> None:
        raise ValueError("bad state")

    client = connect(app.hooks)
    response = client.post("/", json=ANSWER)
    assert response.status_code == 200
    assert response.text == "<Response><Hangup/></Response>"
    assert seen == [("answer", "bad state")]


@pytest.mark.parametrize("hook_result", ["none", "raises"])
def test_on_error_hook_without_response_keeps_500(
    connect: Connect, caplog: pytest.LogCaptureFixture, hook_result: str
) -> None:
    def hook(event: CallEvent, exc: BaseException) -> None:
        if hook_result == "raises":
            raise RuntimeError("hook broke too")

    app = App(on_error=hook)

    @app.hooks.on()
    def explode(event: CallEvent) -> None:
        raise ValueError("bad")

    client = connect(app.hooks)
    with caplog.at_level(logging.ERROR, logger="callhooks"):
        response = client.post("/", json=ANSWER)
        settle(client)
    assert response.status_code == 500
    assert response.json()["error"] == "handler-failed"
    if hook_result == "raises":
        assert any("on_error hook failed" in r.getMessage() for r in caplog.records)


# -- healthz and logging ---------------------------------------------------------------------------------------


def test_healthz(connect: Connect) -> None:
    app = App(secret=SECRET, basic_auth=("u", "p")).record_all()  # no credentials needed for liveness
    client = connect(app.hooks)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200
    post = client.post("/healthz", json=ANSWER)
    assert post.status_code == 405
    assert post.headers["allow"] == "GET"
    assert app.events == []


def test_unknown_nested_path_404(connect: Connect) -> None:
    client = connect(App().record_all().hooks)
    assert client.get("/a/b", params={"eventType": "answer"}).status_code == 404


def test_every_event_logged(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.hooks.on("gather", tag="menu")
    async def menu(event: CallEvent) -> None: ...

    client = connect(app.hooks)
    with caplog.at_level(logging.INFO, logger="callhooks"):
        client.post("/", json={"eventType": "gather", "callId": "c-77", "tag": "menu"})
        client.get("/", params={"eventType": "dtmf", "callId": "c-78"})
        settle(client)
    lines = [r.getMessage() for r in caplog.records if r.name == "callhooks.callbacks"]
    assert len(lines) == 2
    assert lines[0].startswith("call=c-77 event=gather state=active tag=menu ")
    assert f"handler={_name(menu)} status=200 duration_ms=" in lines[0]
    assert lines[1].startswith("call=c-78 event=dtmf ")
    assert "handler=- status=200" in lines[1]
    assert float(lines[0].rpartition("duration_ms=")[2]) >= 0


def test_logging_off_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = CallHooks(secret=None, insecure=True)
    logger = logging.getLogger("callhooks")
    calls: list[Any] = []
    monkeypatch.setattr(logger, "info", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(logging.getLogger("callhooks.callbacks"), "info", lambda *a, **k: calls.append(a))
    previous = logger.level
    logger.setLevel(logging.WARNING)  # setLevel, not .level=, so the isEnabledFor cache is cleared
    try:
        with TestClient(hooks) as client:
            assert client.post("/", json=ANSWER).status_code == 200
            assert client.post("/", json={"eventType": "hangup"}).status_code == 200
    finally:
        logger.setLevel(previous)
    assert calls == []


def test_token_and_password_never_in_callhooks_logs(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    app = App(secret=SECRET, basic_auth=("platform", PASSWORD))

    @app.hooks.on()
    def explode(event: CallEvent) -> None:
        raise RuntimeError("fail on purpose")

    client = connect(app.hooks)
    url = signed_url(client, app.hooks, context={"order": 1})
    token = urlsplit(url).path.rpartition("/")[2]
    with caplog.at_level(logging.DEBUG):
        client.post(url, json=ANSWER)
        client.get(url, params={"eventType": "answer"})
        client.post(_altered(url), json=ANSWER)
        client.post(url, json=ANSWER, auth=("platform", "wrong"))
        settle(client)
    # The test client's own logs (httpx) show the URL it called; what matters is what the server side logs.
    formatter = logging.Formatter("%(name)s %(message)s")
    server_side = [r for r in caplog.records if r.name.startswith(("callhooks", "uvicorn", "starlette"))]
    text = "\n".join(formatter.format(r) for r in server_side)
    assert "fail on purpose" in text  # the logs, with tracebacks, were captured at all
    for secret in (token, SECRET, PASSWORD):
        assert secret not in text


def test_token_redacted_in_uvicorn_access_log() -> None:
    app = App(secret=SECRET).record_all()
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    collector = Collect()
    access = logging.getLogger("uvicorn.access")
    with serve(app.hooks, log_level="info") as server, httpx.Client(base_url=server.url, timeout=10) as client:
        access.addHandler(collector)  # after uvicorn configured its loggers
        try:
            url = app.hooks.callback_url(public_url=server.url, context={"order": 1})
            token = urlsplit(url).path.rpartition("/")[2]
            assert client.post(url, json=ANSWER).status_code == 200
            assert client.get(url, params={"eventType": "answer"}).status_code == 200
            assert client.post("/" + token[::-1], json=ANSWER).status_code == 403
            settle(client)
        finally:
            access.removeHandler(collector)
    assert len(app.events) == 2
    messages = [r.getMessage() for r in records]
    assert len([m for m in messages if "<token>" in m]) >= 2, messages
    assert any('"POST /<token> HTTP/1.1" 200' in m for m in messages), messages
    assert all(token not in m for m in messages)
    assert all(token[::-1] not in m for m in messages)


def test_sync_handlers_do_not_block_the_event_loop_real_server() -> None:
    # A sync handler waiting on an event does not stop the server answering another request meanwhile.
    app = App()
    entered, release = threading.Event(), threading.Event()

    @app.hooks.on("answer")
    def slow(event: CallEvent) -> None:
        entered.set()
        assert release.wait(10)

    with serve(app.hooks) as server, httpx.Client(base_url=server.url, timeout=10) as c1:
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(c1.post("/", json=ANSWER).status_code))
        thread.start()
        assert entered.wait(10)
        with httpx.Client(base_url=server.url, timeout=10) as c2:
            assert c2.get("/healthz").status_code == 200
        release.set()
        thread.join(10)
    assert result == [200]


def test_observers_see_every_dispatched_event(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    seen: list[Dispatched] = []

    @app.hooks.on("answer")
    def answered(event: CallEvent) -> None: ...

    @app.hooks.on("hangup")
    def explode(event: CallEvent) -> None:
        raise RuntimeError("boom")

    def broken_observer(record: Dispatched) -> None:
        raise ValueError("observer bug")

    app.hooks.add_observer(seen.append)
    app.hooks.add_observer(broken_observer)
    client = connect(app.hooks)
    with caplog.at_level(logging.ERROR, logger="callhooks"):
        assert client.post("/", json=ANSWER).status_code == 200
        assert client.post("/", json={"eventType": "hangup", "callId": "c-2"}).status_code == 500
        assert client.get("/", params={"eventType": "dtmf"}).status_code == 200
        assert client.post("/", content=b"{", headers=JSON_HEADERS).status_code == 400  # not an event: not observed
        settle(client)
    assert [(r.event.event_type, r.handler, r.status) for r in seen] == [
        ("answer", _name(answered), 200),
        ("hangup", _name(explode), 500),
        ("dtmf", None, 200),
    ]
    assert all(r.duration >= 0 for r in seen)
    assert len([r for r in caplog.records if r.getMessage().startswith("observer ")]) == 3
