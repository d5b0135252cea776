"""CallHooks mounted under a prefix in Starlette and in FastAPI, next to other routes, over real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from callhooks import CallEvent, CallHooks, events
from callhooks.testing.server import free_port, serve

SECRET = "mounting-secret"
ANSWER = {"eventType": "answer", "callId": "c-abc123", "from": "+19195550100", "to": "+19195551212"}


@dataclass
class Deployment:
    framework: str
    hooks: CallHooks
    events: list[CallEvent]
    base: str  # the server's root URL
    client: httpx.Client


def make_hooks(public_url: str, **kwargs: object) -> tuple[CallHooks, list[CallEvent]]:
    hooks = CallHooks(secret=SECRET, public_url=public_url, **kwargs)  # type: ignore[arg-type]
    seen: list[CallEvent] = []

    @hooks.on()
    def record(event: CallEvent) -> None:
        seen.append(event)

    @hooks.on("gather", tag="menu")
    async def menu(event: events.GatherEvent) -> Response:
        return PlainTextResponse(f"<Response><!-- {event.digits} --></Response>", media_type="application/xml")

    return hooks, seen


def starlette_app(hooks: ASGIApp, prefix: str) -> Starlette:
    async def other(request: Request) -> Response:
        return JSONResponse({"other": True, "path": request.url.path})

    async def root(request: Request) -> Response:
        return PlainTextResponse("home")

    return Starlette(routes=[Route("/", root), Route("/other", other), Mount(prefix, app=hooks)])


def fastapi_app(hooks: ASGIApp, prefix: str) -> FastAPI:
    api = FastAPI()

    @api.get("/orders/{order_id}")
    def order(order_id: int) -> dict[str, int]:
        return {"order": order_id}

    @api.get("/other")
    def other() -> dict[str, bool]:
        return {"other": True}

    api.mount(prefix, hooks)
    return api


def nested_app(hooks: ASGIApp, prefix: str) -> Starlette:
    assert prefix == "/api/v1/hooks"
    inner = Starlette(routes=[Mount("/hooks", app=hooks)])
    return Starlette(routes=[Route("/other", lambda r: JSONResponse({"other": True})), Mount("/api/v1", app=inner)])


FRAMEWORKS = {
    "starlette": (starlette_app, "/hooks"),
    "fastapi": (fastapi_app, "/hooks"),
    "nested": (nested_app, "/api/v1/hooks"),
}


@pytest.fixture(scope="module", params=list(FRAMEWORKS))
def running(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    framework = request.param
    build, prefix = FRAMEWORKS[framework]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Configured the way a user would: public_url is where the hooks are mounted.
    hooks, seen = make_hooks(base + prefix, basic_auth=("platform", "pw"))
    with serve(build(hooks, prefix), port=port), httpx.Client(timeout=10) as client:
        yield Deployment(framework, hooks, seen, base, client)


@pytest.fixture
def deployment(running: Deployment) -> Deployment:
    running.events.clear()
    return running


def test_callbacks_work_at_the_callback_url(deployment: Deployment) -> None:
    d = deployment
    url = d.hooks.callback_url(context={"order": 4411})
    assert url.startswith(d.base.replace("http://", "http://platform:pw@") + "/")
    post = d.client.post(url, json=ANSWER)
    assert post.status_code == 200
    assert post.content == b""
    get = d.client.get(url, params={"eventType": "hangup", "callId": "c-abc123", "cause": "NORMAL_CLEARING"})
    assert get.status_code == 200
    form = d.client.post(url, data={"eventType": "dtmf", "callId": "c-abc123", "dtmfDigit": "5"})
    assert form.status_code == 200
    assert [(e.event_type, e.context) for e in d.events] == [
        ("answer", {"order": 4411}),
        ("hangup", {"order": 4411}),
        ("dtmf", {"order": 4411}),
    ]
    bxml = d.client.post(url, json={"eventType": "gather", "tag": "menu", "digits": "42"})
    assert bxml.status_code == 200
    assert bxml.text == "<Response><!-- 42 --></Response>"


def test_verification_still_applies_when_mounted(deployment: Deployment) -> None:
    d = deployment
    url = d.hooks.callback_url()
    prefix_url = url.rpartition("/")[0]
    missing = d.client.post(prefix_url + "/", json=ANSWER)
    assert missing.status_code == 403
    assert missing.json()["reason"] == "token-missing"
    bad_auth = d.client.post(url.replace("platform:pw@", "platform:nope@"), json=ANSWER)
    assert bad_auth.status_code == 401
    assert bad_auth.json()["reason"] == "basic-auth-failed"
    put = d.client.put(url, json=ANSWER)
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, POST"
    assert d.events == []


def test_healthz_relative_to_the_mount(deployment: Deployment) -> None:
    d = deployment
    prefix = urlsplit(d.hooks.callback_url()).path.rpartition("/")[0]
    response = d.client.get(d.base + prefix + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert d.client.get(d.base + "/healthz").status_code == 404  # not at the outer app's root


def test_other_routes_still_work(deployment: Deployment) -> None:
    d = deployment
    response = d.client.get(d.base + "/other")
    assert response.status_code == 200
    assert response.json()["other"] is True
    orders = d.client.get(d.base + "/orders/7")
    if d.framework == "fastapi":
        assert orders.status_code == 200
        assert orders.json() == {"order": 7}
        assert d.client.get(d.base + "/orders/x").status_code == 422  # FastAPI's own validation, untouched
    else:
        assert orders.status_code == 404


def test_token_outside_the_mount_is_not_routed_to_hooks(deployment: Deployment) -> None:
    d = deployment
    url = d.hooks.callback_url()
    token = urlsplit(url).path.rpartition("/")[2]
    response = d.client.post(d.base + "/" + token, json=ANSWER, auth=("platform", "pw"))
    assert response.status_code in (404, 405)
    assert d.events == []


def test_public_url_without_the_prefix_does_not_work() -> None:
    # The URL only works when public_url names the mount point: a URL built for the root misses the mount.
    port = free_port()
    hooks, seen = make_hooks(f"http://127.0.0.1:{port}")
    with serve(starlette_app(hooks, "/hooks"), port=port), httpx.Client(timeout=10) as client:
        assert client.post(hooks.callback_url(), json=ANSWER).status_code == 404
        good = hooks.callback_url(public_url=f"http://127.0.0.1:{port}/hooks")
        assert client.post(good, json=ANSWER).status_code == 200
    assert len(seen) == 1


def test_standalone_behind_a_prefix_stripping_proxy_with_root_path() -> None:
    # `uvicorn --root-path /hooks app:hooks` behind a proxy that strips /hooks: the URL handed out names the
    # prefix, the request reaching uvicorn does not.
    port = free_port()
    hooks, seen = make_hooks("https://calls.example.com/hooks")
    with serve(hooks, port=port, root_path="/hooks"), httpx.Client(timeout=10) as client:
        token = urlsplit(hooks.callback_url(context={"n": 1})).path.rpartition("/")[2]
        response = client.post(f"http://127.0.0.1:{port}/{token}", json=ANSWER)
        assert response.status_code == 200
        assert client.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
    assert [e.context for e in seen] == [{"n": 1}]
