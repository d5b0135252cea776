"""Handlers answering with BXML, over a real uvicorn server on 127.0.0.1: the document, its content type, verb
URLs filled with this receiver's signed URL (the pairing rule), and the errors and warnings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from callhooks import CallEvent, CallHooks, bxml
from callhooks.testing.factories import answer_event
from callhooks.testing.server import free_port, serve

SECRET = "bxml-replies-secret"
ANSWER = {"eventType": "answer", "callId": "c-bx1", "from": "+19195550100", "to": "+19195551212"}


@pytest.fixture
def hooks() -> CallHooks:
    return CallHooks(secret=SECRET)


@pytest.fixture
def client(hooks: CallHooks) -> Iterator[httpx.Client]:
    port = free_port()
    hooks.public_url = f"http://127.0.0.1:{port}/hooks"
    with serve(hooks, port=port) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_answer_gets_the_document_and_the_gather_comes_back_with_the_same_context(
    hooks: CallHooks, client: httpx.Client
) -> None:
    seen: list[tuple[str, str | None, dict[str, object]]] = []

    @hooks.on("answer")
    async def menu(event: CallEvent) -> bxml.Response:
        seen.append(("answer", None, event.context))
        return bxml.Response(
            bxml.Gather(bxml.SpeakSentence("Press 1 & wait <now>."), max_digits=1, tag="menu"),
            bxml.Redirect(request_url_timeout=1000),
        )

    @hooks.on("gather", tag="menu")
    def chosen(event: CallEvent) -> bxml.Response:
        seen.append(("gather", event.tag, event.context))
        return bxml.Response(bxml.Hangup())

    answer_url = hooks.callback_url({"order": 7})
    response = client.get(path_of(answer_url), params=ANSWER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    document = bxml.parse(response.content)
    gather, redirect = document.verbs
    assert isinstance(gather, bxml.Gather) and isinstance(redirect, bxml.Redirect)
    assert gather.verbs == (bxml.SpeakSentence("Press 1 & wait <now>."),)
    assert gather.request_url is not None and gather.request_url == redirect.request_url
    assert hooks.verify_callback_url(gather.request_url) == {"order": 7}

    gathered = {"eventType": "gather", "callId": "c-bx1", "state": "completed", "digits": "1", "tag": "menu"}
    response = client.get(path_of(gather.request_url), params=gathered)
    assert response.status_code == 200
    assert bxml.parse(response.text) == bxml.Response(bxml.Hangup())
    assert seen == [("answer", None, {"order": 7}), ("gather", "menu", {"order": 7})]


def test_urls_given_by_the_handler_are_kept(hooks: CallHooks, client: httpx.Client) -> None:
    @hooks.on("answer")
    def fixed(event: CallEvent) -> bxml.Response:
        return bxml.Response(bxml.Gather(request_url="https://app.example/menu"))

    response = client.get(path_of(hooks.callback_url()), params=ANSWER)
    document = bxml.parse(response.text)
    assert document == bxml.Response(bxml.Gather(request_url="https://app.example/menu"))


def test_oversized_document_is_a_logged_500_naming_the_handler(
    hooks: CallHooks, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    @hooks.on("answer")
    def chatty(event: CallEvent) -> bxml.Response:
        return bxml.Response(*(bxml.SpeakSentence("word " * 40) for _ in range(100)))

    response = client.get(path_of(hooks.callback_url()), params=ANSWER)
    assert response.status_code == 500
    assert response.json()["error"] == "handler-failed"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("chatty" in m and "16 KB" in m for m in errors), errors


def test_missing_url_without_public_url_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    hooks = CallHooks(secret=SECRET)

    @hooks.on("answer")
    def no_url(event: CallEvent) -> bxml.Response:
        return bxml.Response(bxml.Gather(bxml.SpeakSentence("Hello")))

    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        url = hooks.callback_url(public_url=server.url)
        response = http.get(path_of(url), params=ANSWER)
        assert response.status_code == 500
        assert "text/xml" not in response.headers["content-type"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("no_url" in m and "requestUrl is required" in m for m in errors), errors


def test_bxml_the_platform_ignores_warns_once_per_handler(
    hooks: CallHooks, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    @hooks.on("answer")
    def rest_mode(event: CallEvent) -> bxml.Response:
        return bxml.Response(bxml.Hangup())

    @hooks.on("hangup")
    async def after_the_end(event: CallEvent) -> bxml.Response:
        return bxml.Response(bxml.Hangup())

    url = path_of(hooks.callback_url())
    for _ in range(2):
        assert client.post(url, json=ANSWER).status_code == 200
        hangup = {"eventType": "hangup", "callId": "c-bx1", "cause": "NORMAL_CLEARING"}
        assert client.get(url, params=hangup).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("rest_mode" in m and "POST" in m for m in warnings) == 1, warnings
    assert sum("after_the_end" in m and "hangup" in m for m in warnings) == 1, warnings
    # The replies the platform does run are not warned about.
    caplog.clear()
    assert client.get(url, params=ANSWER).status_code == 200
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.anyio
async def test_bxml_from_a_background_handler_is_ignored_with_a_warning_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from callhooks.receiver.background import BackgroundSettings
    from callhooks.stores import RetryPolicy
    from tests.background.support import deliver, served, within
    from tests.stores.support import eventually

    settings = BackgroundSettings(retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2), poll_interval=0.02)
    hooks = CallHooks(secret=SECRET, store="memory://", background=settings)
    runs: list[str] = []
    ran = asyncio.Event()

    @hooks.on("answer", background=True)
    async def later(event: CallEvent) -> bxml.Response:
        runs.append(event.call_id or "")
        ran.set()
        return bxml.Response(bxml.Hangup())

    async with served(hooks) as client:
        response = await deliver(client, hooks, answer_event(call_id="c-bg"), method="GET")
        assert response.status_code == 200 and response.content == b""
        await within(ran.wait())
        store = hooks.store
        assert store is not None

        async def acknowledged() -> bool:
            return await store.queue_size() == 0

        assert await eventually(acknowledged)  # the worker took it off the queue: done, not to be retried
        assert await store.list_failed() == []
    assert runs == ["c-bg"]
    assert any("later" in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)
