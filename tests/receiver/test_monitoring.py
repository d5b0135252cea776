"""Monitors (``CallHooks.add_monitor``) and endpoints served beside the callbacks (``CallHooks.add_endpoint``),
in-process and through a real uvicorn on 127.0.0.1, standalone under a public_url path and mounted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, Router
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from callhooks import CallEvent, CallHooks, Monitor, Rejection
from callhooks.receiver.monitoring import Dispatched
from callhooks.testing.server import serve

SECRET = "monitoring-tests-secret"
ANSWER = {"eventType": "answer", "callId": "c-mon-1", "from": "+19195550100", "to": "+19195551212"}


class Recorder(Monitor):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def handler_started(self, event: CallEvent, handler: str) -> None:
        self.seen.append(("started", (event.event_type, handler)))

    def handler_finished(self, event: CallEvent, handler: str, seconds: float, error: BaseException | None) -> None:
        assert seconds >= 0
        self.seen.append(("finished", (event.event_type, handler, type(error).__name__ if error else None)))

    def callback_dispatched(self, record: Dispatched) -> None:
        self.seen.append(("dispatched", record))

    def callback_rejected(self, record: Rejection) -> None:
        self.seen.append(("rejected", record))

    def of(self, kind: str) -> list[Any]:
        return [what for seen_kind, what in self.seen if seen_kind == kind]


def make_hooks(**kwargs: Any) -> tuple[CallHooks, Recorder]:
    hooks = CallHooks(secret=SECRET, store=None, **kwargs)

    @hooks.on("answer")
    def answered(event: CallEvent) -> JSONResponse:
        return JSONResponse({"ok": event.call_id})

    @hooks.on("hangup")
    async def hung_up(event: CallEvent) -> None:
        raise RuntimeError("handler bug")

    recorder = Recorder()
    hooks.add_monitor(recorder)
    return hooks, recorder


@contextmanager
def connected(app: ASGIApp, transport: str) -> Iterator[httpx.Client]:
    if transport == "testclient":
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield client
    else:
        with serve(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
            yield client


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


@pytest.mark.parametrize("transport", ["testclient", "uvicorn"])
def test_monitor_hears_handlers_answers_and_rejections(transport: str) -> None:
    hooks, recorder = make_hooks()
    with connected(hooks, transport) as client:
        url = hooks.callback_url({"leg": "a"}, public_url=str(client.base_url))
        body = json.dumps(ANSWER).encode()
        assert client.post(path_of(url), content=body, headers={"content-type": "application/json"}).json() == {
            "ok": "c-mon-1"
        }
        query = "eventType=hangup&callId=c-mon-1&cause=NORMAL_CLEARING"
        assert client.get(path_of(url) + "?" + query).status_code == 500
        assert client.post("/not-a-token", json=ANSWER).status_code == 403
        bad = b'{"eventType": "answer", "callId": 5}'
        assert client.post(path_of(url), content=bad, headers={"content-type": "application/json"}).status_code == 422
        client.get("/healthz")  # the last request's after-response work is done once this one is served

    assert recorder.of("started") == [("answer", _name("answered")), ("hangup", _name("hung_up"))]
    assert recorder.of("finished") == [
        ("answer", _name("answered"), None),
        ("hangup", _name("hung_up"), "RuntimeError"),
    ]
    answered, hung_up = recorder.of("dispatched")
    assert (answered.method, answered.payload, answered.status, answered.error) == ("POST", body, 200, None)
    assert answered.response is not None and answered.response.body == b'{"ok":"c-mon-1"}'
    assert answered.event.context == {"leg": "a"} and answered.received > 1e9 and not answered.duplicate
    assert answered.handler_seconds is not None and 0 <= answered.handler_seconds <= answered.duration
    assert (hung_up.method, hung_up.payload, hung_up.status) == ("GET", query.encode(), 500)
    assert isinstance(hung_up.error, RuntimeError) and str(hung_up.error) == "handler bug"
    forged, invalid = recorder.of("rejected")
    assert (forged.status, forged.reason, forged.method, forged.payload) == (403, "token-altered", "POST", b"")
    assert (invalid.status, invalid.reason, invalid.payload) == (422, "invalid-field", bad)
    assert "callId" in invalid.detail


def test_duplicates_are_marked_and_a_failing_monitor_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    hooks = CallHooks(secret=SECRET)  # the default memory:// store: exactly once per event
    ran: list[str] = []

    @hooks.on("answer")
    def answered(event: CallEvent) -> None:
        ran.append(event.call_id or "")

    class Broken(Monitor):
        def callback_dispatched(self, record: Dispatched) -> None:
            raise ValueError("monitor bug")

    recorder = Recorder()
    hooks.add_monitor(Broken())
    hooks.add_monitor(recorder)
    with TestClient(hooks, base_url="http://127.0.0.1") as client:
        url = path_of(hooks.callback_url(public_url=str(client.base_url)))
        assert client.post(url, json=ANSWER).status_code == 200
        assert client.post(url, json=ANSWER).status_code == 200
    assert ran == ["c-mon-1"]
    first, again = recorder.of("dispatched")
    assert first.duplicate is False and (first.handler or "").endswith(".answered")
    assert (again.duplicate, again.handler, again.handler_seconds) == (True, None, None)
    assert len([r for r in caplog.records if "monitor" in r.getMessage() and "failed" in r.getMessage()]) == 2


def test_nothing_is_recorded_without_monitors() -> None:
    hooks = CallHooks(secret=SECRET, store=None)
    hooks.on("answer")(lambda event: None)
    # The per-request holder for handler errors exists only when someone watches.
    assert hooks.observation.monitors == []
    with TestClient(hooks, base_url="http://127.0.0.1") as client:
        url = path_of(hooks.callback_url(public_url=str(client.base_url)))
        assert client.post(url, json=ANSWER).status_code == 200


def _name(function: str) -> str:
    return f"{__name__}.make_hooks.<locals>.{function}"


# -- endpoints ------------------------------------------------------------------------------------------------


def echo_router() -> Router:
    async def where(request: Request) -> JSONResponse:
        return JSONResponse(
            {"route": request.scope["path"][len(request.scope["root_path"]) :], "url": str(request.url)}
        )

    return Router([Route("/_thing/{rest:path}", where), Route("/_thing", where)])


@pytest.mark.parametrize("transport", ["testclient", "uvicorn"])
def test_endpoint_standalone_under_public_url_path(transport: str) -> None:
    hooks = CallHooks(secret=SECRET, store=None, public_url="http://127.0.0.1/hooks")
    hooks.add_endpoint("_thing", echo_router())
    with connected(hooks, transport) as client:
        seen = client.get("/hooks/_thing/api/calls?x=1").json()
        assert seen["route"] == "/_thing/api/calls"
        assert seen["url"].endswith("/hooks/_thing/api/calls?x=1")
        assert client.get("/hooks/_thing").json()["route"] == "/_thing"
        assert client.get("/hooks/_other/x").status_code == 404
        assert client.get("/hooks/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("transport", ["testclient", "uvicorn"])
def test_endpoint_mounted_in_starlette(transport: str) -> None:
    hooks = CallHooks(secret=SECRET, store=None)
    hooks.add_endpoint("_thing", echo_router())
    host = Starlette(routes=[Mount("/calls", app=hooks)])
    with connected(host, transport) as client:
        seen = client.get("/calls/_thing/x").json()
        assert seen["route"] == "/_thing/x" and seen["url"].endswith("/calls/_thing/x")


def test_endpoint_names_are_checked() -> None:
    hooks = CallHooks(secret=SECRET, store=None)
    hooks.add_endpoint("_thing", echo_router())
    for bad in ("", "a/b", "healthz", "_thing"):
        with pytest.raises(ValueError):
            hooks.add_endpoint(bad, echo_router())


def test_a_handler_cancelled_with_its_request_is_heard_finishing() -> None:
    """Server shutdown cancels the request: the monitors still hear the handler end (so in-flight gauges drop)."""
    hooks = CallHooks(secret=None, insecure=True, store=None)
    started = asyncio.Event()

    @hooks.on("answer")
    async def waits(event: CallEvent) -> None:
        started.set()
        await asyncio.Event().wait()

    recorder = Recorder()
    hooks.add_monitor(recorder)

    async def scenario() -> None:
        body = json.dumps(ANSWER).encode()
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
        messages = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def receive() -> dict[str, Any]:
            return next(messages)

        async def send(message: Any) -> None: ...

        request = asyncio.create_task(hooks(scope, receive, send))
        await asyncio.wait_for(started.wait(), 10)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request

    asyncio.run(scenario())
    assert recorder.of("started") == [("answer", f"{__name__}.{waits.__qualname__}")]
    assert recorder.of("finished") == [("answer", f"{__name__}.{waits.__qualname__}", "CancelledError")]
