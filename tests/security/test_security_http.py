"""Issue 7, findings 4, 5 and 9 over real sockets: slow clients are cut off, deep nesting is a 422, handler
faults are contained."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.responses import Response

from callhooks import CallEvent, CallHooks, Dispatched
from callhooks.commands.server_settings import HEAD_TIMEOUT_ENV, MAX_WAITING_ENV, H11HeadTimeout, HttpToolsHeadTimeout
from callhooks.testing import free_port, polling, serve
from callhooks.testing.polling import DEFAULT_TIMEOUT
from tests.helpers.processes import server_process

SECRET = "security-http-secret"
TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def recv_all(sock: socket.socket, limit: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (bounded by ``limit`` seconds)."""
    sock.settimeout(limit)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"the server kept the connection open for {limit} s; got {b''.join(chunks)!r}")
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


# -- finding 4: slow clients -----------------------------------------------------------------------------------


def test_a_trickled_body_gets_408_and_the_connection_is_closed() -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", body_timeout=0.5)
    ran: list[CallEvent] = []
    hooks.add_handler(ran.append)
    token = hooks.callback_url().rsplit("/", 1)[1]
    with serve(hooks) as server, socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(
            f"POST /{token} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode()
            + b"Content-Length: 100\r\n\r\n"
            + b'{"eventType":'
        )
        reply = recv_all(sock)  # before the fix: held open until our own 10 s limit
    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert b"connection: close" in reply.lower()
    assert b'"body-timeout"' in reply
    assert ran == []


@pytest.mark.parametrize("protocol", [H11HeadTimeout, HttpToolsHeadTimeout])
def test_idle_and_slow_head_connections_are_closed(protocol: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEAD_TIMEOUT_ENV, "0.3")
    hooks = CallHooks(secret=SECRET)
    with serve(hooks, http=protocol) as server:
        address = (server.host, server.port)
        idle = socket.create_connection(address, timeout=10)
        partial = socket.create_connection(address, timeout=10)
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its head
        reused = socket.create_connection(address, timeout=10)
        reused.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reused.settimeout(10)
        first = b""
        while b'{"status": "ok"}' not in first:
            chunk = reused.recv(65536)
            assert chunk, first
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 ")
        reused.sendall(b"GET /healthz HTTP/1.1\r\n")  # keep-alive, then a second head that never finishes
        for sock in (idle, partial, reused):
            with sock:
                assert recv_all(sock) == b""  # closed by the server; before the fix: held forever
        # A client that sends its head on time is not affected.
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


def test_connections_waiting_for_a_head_are_capped_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEAD_TIMEOUT_ENV, "60")  # the cap, not the deadline, must do the closing here
    monkeypatch.setenv(MAX_WAITING_ENV, "5")
    with serve(CallHooks(secret=SECRET), http=HttpToolsHeadTimeout) as server:
        address = (server.host, server.port)
        held = [socket.create_connection(address, timeout=10) for _ in range(20)]
        # The 15 oldest are closed as newer ones arrive; a real request still gets through.
        for sock in held[:15]:
            with sock:
                assert recv_all(sock) == b""
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        for sock in held[15:]:
            sock.close()


def test_callhooks_run_closes_idle_connections(tmp_path: Path) -> None:
    port = free_port()
    command = [str(BIN / "callhooks"), "run", "security_apps:hooks", "--port", str(port), "--head-timeout", "0.5"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    with server_process(command, env, port, cwd=TESTS, quiet=True):
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(50)]
        closed = 0
        for sock in held:
            with sock:
                closed += recv_all(sock) == b""
        assert closed == 50
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200


# -- finding 5: deep nesting -----------------------------------------------------------------------------------


@pytest.fixture
def insecure_server() -> Iterator[str]:
    hooks = CallHooks(secret=None, insecure=True)
    with serve(hooks) as server:
        yield server.url


@pytest.mark.parametrize("nesting", ["[" * 1000, '{"a":' * 5000, "[" * 33 + "]" * 33])
def test_deeply_nested_diversion_is_a_422_naming_the_field(insecure_server: str, nesting: str) -> None:
    query = f"eventType=answer&callId=c-1&diversion={quote(nesting)}"
    responses = [
        httpx.get(f"{insecure_server}/?{query}", timeout=10),
        httpx.post(
            f"{insecure_server}/",
            content=query,
            headers={"content-type": "application/x-www-form-urlencoded"},
            timeout=10,
        ),
        httpx.post(
            f"{insecure_server}/", json={"eventType": "answer", "callId": "c-1", "diversion": nesting}, timeout=10
        ),
    ]
    for response in responses:
        assert response.status_code == 422, response.text  # before the fix: 500 (RecursionError)
        assert [f["name"] for f in response.json()["fields"]] == ["diversion"]
    flat = json.dumps({"reason": "unavailable", "counter": 1})
    assert httpx.get(f"{insecure_server}/?eventType=answer&diversion={quote(flat)}", timeout=10).status_code == 200


# -- finding 9: handler faults ---------------------------------------------------------------------------------


class Watched:
    """A served app whose on_error hook and observer record what they saw."""

    def __init__(self, **options: Any) -> None:
        self.hooks = CallHooks(secret=None, insecure=True, on_error=self.on_error, **options)
        self.errors: list[BaseException] = []
        self.dispatched: list[Dispatched] = []
        self.hooks.add_observer(self.dispatched.append)

    def on_error(self, event: CallEvent, exc: BaseException) -> None:
        self.errors.append(exc)


def wait_until(condition: Any, what: str, limit: float = DEFAULT_TIMEOUT) -> None:
    polling.wait_until(condition, timeout=limit, interval=0.005, what=what)


@pytest.mark.parametrize(
    ("kind", "needle"),
    [("dict", "returned a dict"), ("coroutine", "returned a coroutine"), ("text", "returned a str")],
)
def test_a_bad_return_value_is_a_logged_500(kind: str, needle: str, caplog: pytest.LogCaptureFixture) -> None:
    app = Watched()

    async def later() -> None:
        return None

    @app.hooks.on("answer")
    def bad(event: CallEvent) -> Any:
        if kind == "coroutine":
            return later()  # the fault under test: a sync handler calling async code
        return {"dict": {"ok": True}, "text": "<Response/>"}[kind]

    with serve(app.hooks) as server, caplog.at_level(logging.ERROR, logger="callhooks"):
        response = httpx.post(f"{server.url}/", json={"eventType": "answer", "callId": "c-1"}, timeout=10)
        wait_until(lambda: app.dispatched, "the observer")
    assert response.status_code == 500  # before the fix: 200, silently
    assert response.json() == {"error": "handler-failed", "detail": "the handler for this event failed"}
    assert "bad" not in response.text
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "callhooks"]
    assert any("bad" in r.getMessage() for r in logged)
    assert any(needle in str(r.exc_info[1]) for r in logged if r.exc_info)
    assert app.dispatched[0].status == 500 and len(app.errors) == 1


@pytest.mark.parametrize("kind", ["system-exit", "cancelled"])
def test_system_exit_and_cancelled_error_are_contained(kind: str) -> None:
    app = Watched()

    @app.hooks.on("answer")
    async def stops(event: CallEvent) -> None:
        if kind == "system-exit":
            raise SystemExit(3)
        raise asyncio.CancelledError

    with serve(app.hooks) as server:
        response = httpx.post(f"{server.url}/", json={"eventType": "answer", "callId": "c-1"}, timeout=10)
        wait_until(lambda: app.dispatched, "the observer")
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200  # still serving
    assert response.status_code == 500
    assert [type(e) for e in app.errors] == [SystemExit if kind == "system-exit" else asyncio.CancelledError]
    assert [d.status for d in app.dispatched] == [500]


def test_the_sync_handler_pool_size_is_configurable() -> None:
    app = Watched(handler_threads=2, store=None)  # five identical events on purpose: each runs its handler
    release = threading.Event()
    running: list[int] = []
    lock = threading.Lock()
    most = [0]

    @app.hooks.on("answer")
    def blocking(event: CallEvent) -> None:
        with lock:
            running.append(1)
            most[0] = max(most[0], len(running))
        release.wait(10)
        with lock:
            running.pop()

    with serve(app.hooks) as server:
        results: list[int] = []
        senders = [
            threading.Thread(
                target=lambda: results.append(
                    httpx.post(f"{server.url}/", json={"eventType": "answer"}, timeout=20).status_code
                )
            )
            for _ in range(5)
        ]
        for sender in senders:
            sender.start()
        runner = app.hooks.runner
        wait_until(lambda: runner._limiter is not None, "the first handler")
        # Two threads hold the limiter and enter the handler a moment later: wait for both, never race them.
        statistics = runner._limiter.statistics  # type: ignore[union-attr]
        wait_until(lambda: statistics().tasks_waiting == 3 and len(running) == 2, "2 running and 3 queued")
        release.set()
        for sender in senders:
            sender.join(20)
    assert results == [200] * 5
    assert most[0] == 2  # never more than the pool's two at once
    assert most[0] == 2


def test_an_async_handler_blocking_the_loop_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    app = Watched(slow_handler_warning=0.05)

    @app.hooks.on("answer")
    async def blocks(event: CallEvent) -> None:
        time.sleep(0.2)  # the fault under test: blocking code in an async handler

    @app.hooks.on("hangup")
    async def waits(event: CallEvent) -> Response:
        await asyncio.sleep(0.2)  # not blocking: the loop serves others meanwhile
        return Response(status_code=204)

    with serve(app.hooks) as server, caplog.at_level(logging.WARNING, logger="callhooks"):
        assert httpx.post(f"{server.url}/", json={"eventType": "answer"}, timeout=10).status_code == 200
        assert httpx.post(f"{server.url}/", json={"eventType": "hangup"}, timeout=10).status_code == 204
        wait_until(lambda: len(app.dispatched) == 2, "both events")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "blocked" in r.getMessage()]
    assert len(warnings) == 1
    assert "blocks" in warnings[0] and "waits" not in warnings[0]


@pytest.mark.parametrize("flag", ["--max-waiting", "--limit-concurrency", "--timeout-keep-alive", "--head-timeout"])
def test_callhooks_run_refuses_limits_below_one(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    from callhooks.cli import main

    assert main(["run", "security_apps:hooks", flag, "0"]) == 2
    assert "error" in capsys.readouterr().err
