"""Issue 23, findings 4 and 5 over real sockets: a refused request's body is not read on, and neither idle
keep-alive connections nor refused ones can take the connection slots."""

from __future__ import annotations

import base64
import os
import queue
import select
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from callhooks import CallEvent, CallHooks
from callhooks.commands.server_settings import MAX_WAITING_ENV, H11HeadTimeout, HttpToolsHeadTimeout
from callhooks.testing import free_port, serve
from tests.helpers.processes import server_process
from tests.security.security_apps import hooks as run_hooks

pytestmark = pytest.mark.timeout(120)

SECRET = "security-refusals-secret"
AUTH = ("platform", "pw")
CONSOLE = ("ops", "console-pw")
CHUNK = 64 * 1024  # what the client sends at a time after the refusal
CHUNKS = 64  # at most 4 MiB after the refusal: the server must close long before
FIRST = 70_000  # body sent with the head: over the 64 KiB body limit, so a valid callback is refused too
TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def counting(base: type) -> type:
    """``base`` (a uvicorn HTTP protocol) counting the bytes each connection reads after its response was
    complete; ``read_after`` gets one count per connection, when it is closed; ``made`` one item per connection."""
    read_after: queue.Queue[int] = queue.Queue()
    made: list[int] = []

    class Counting(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: Any) -> None:
            self.after = 0
            made.append(1)
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            if self.cycle is not None and self.cycle.response_complete:
                self.after += len(data)
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            read_after.put(self.after)
            super().connection_lost(exc)

    Counting.read_after = read_after  # type: ignore[attr-defined]
    Counting.made = made  # type: ignore[attr-defined]
    return Counting


def receiver() -> CallHooks:
    return CallHooks(secret=SECRET, public_url="http://127.0.0.1/hooks", basic_auth=AUTH, console=CONSOLE)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def refusals(token: str) -> list[tuple[str, str, str, list[str], int]]:
    """(name, method, path, extra headers, status) of each way the receiver refuses a request with a body."""
    auth = f"Authorization: {basic(*AUTH)}"
    json = "Content-Type: application/json"
    return [
        ("bad token", "POST", "/hooks/" + token[:-3] + "xyz", [auth, json], 403),
        ("bad auth", "POST", f"/hooks/{token}", [json], 401),
        ("too large", "POST", f"/hooks/{token}", [auth, json], 413),
        ("wrong content type", "POST", f"/hooks/{token}", [auth, "Content-Type: text/plain"], 415),
        ("wrong method", "PUT", f"/hooks/{token}", [auth, json], 405),
        ("unknown path under the receiver", "POST", "/hooks/a/b", [json], 404),
        ("metrics off", "POST", "/hooks/metrics", [json], 404),
        ("health check", "POST", "/hooks/healthz", [json], 405),
        ("outside the receiver", "POST", "/elsewhere", [json], 404),
        ("console without credentials", "POST", "/hooks/_console/api/calls", [json], 401),
    ]


def frame(chunked: bool, data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) if chunked else data


def refuse_then_stream(port: int, method: str, path: str, headers: list[str], chunked: bool) -> tuple[bytes, bool]:
    """Send a request with a large body, read the refusal, then go on sending the body. Returns the response
    head and whether the server closed the connection (waiting at most 5 s once ``CHUNKS`` more were sent)."""
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {FIRST + CHUNK * CHUNKS * 4}"
    head = "\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, length]) + "\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + frame(chunked, b"x" * FIRST))
        reply = b""
        while b"\r\n\r\n" not in reply:
            got = sock.recv(65536)
            assert got, f"closed without an answer: {reply!r}"
            reply += got
        chunk = frame(chunked, b"y" * CHUNK)
        try:
            for _ in range(CHUNKS):
                sock.sendall(chunk)
                while select.select([sock], [], [], 0)[0]:  # something to read now: the answer's rest, or the end
                    got = sock.recv(65536)
                    if not got:
                        return reply, True
                    reply += got
            sock.settimeout(5)
            while got := sock.recv(65536):
                reply += got
        except (BrokenPipeError, ConnectionResetError):
            pass
        except TimeoutError:
            return reply, False
        return reply, True


@pytest.fixture(scope="module")
def token() -> str:
    return receiver().callback_url().rsplit("/", 1)[1]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize(
    "protocol",
    [H11Protocol, HttpToolsProtocol, H11HeadTimeout, HttpToolsHeadTimeout],
    ids=["uvicorn-h11", "uvicorn-httptools", "callhooks-run-h11", "callhooks-run-httptools"],
)
def test_a_refused_body_is_not_read_on(protocol: type, chunked: bool, token: str) -> None:
    server_protocol = counting(protocol)
    read_after: queue.Queue[int] = server_protocol.read_after  # type: ignore[attr-defined]
    with serve(receiver(), http=server_protocol) as server:
        for name, method, path, headers, status in refusals(token):
            reply, closed = refuse_then_stream(server.port, method, path, headers, chunked)
            assert reply.startswith(b"HTTP/1.1 %d " % status), (name, reply)
            after = read_after.get(timeout=10)  # the connection is closed at both ends: the count is final
            assert closed and after < CHUNK, f"{name}: {after} body bytes read after the refusal, closed: {closed}"
            assert b"connection: close" in reply.lower(), name


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("protocol", [H11HeadTimeout, HttpToolsHeadTimeout], ids=["h11", "httptools"])
def test_callhooks_run_closes_after_any_app_answers_without_reading_the_body(protocol: type, chunked: bool) -> None:
    # An app that knows nothing of this (uvicorn's own 503 over the concurrency limit is one): the protocol
    # `callhooks run` serves with closes the connection all the same.
    async def refuses(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 403, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})

    server_protocol = counting(protocol)
    with serve(refuses, http=server_protocol) as server:
        reply, closed = refuse_then_stream(server.port, "POST", "/x", [], chunked)
        assert reply.startswith(b"HTTP/1.1 403 ")
        assert closed
        assert server_protocol.read_after.get(timeout=10) < CHUNK  # type: ignore[attr-defined]


@pytest.mark.parametrize("protocol", [H11Protocol, HttpToolsHeadTimeout], ids=["uvicorn-h11", "callhooks-run"])
def test_a_read_body_keeps_the_connection(protocol: type, token: str) -> None:
    # Only refusals with a body left unread close: callbacks (and refusals of bodies read whole) keep it.
    hooks = receiver()
    seen: list[CallEvent] = []
    hooks.add_handler(seen.append)
    server_protocol = counting(protocol)
    with serve(hooks, http=server_protocol) as server, httpx.Client(auth=AUTH, timeout=10) as client:
        url = f"{server.url}/hooks/{token}"
        statuses = [client.post(url, json={"eventType": "answer", "callId": f"c-{n}"}).status_code for n in range(3)]
        statuses.append(client.post(url, content=b"{", headers={"content-type": "application/json"}).status_code)
        statuses.append(client.post(url, json={"eventType": "answer", "callId": "c-4"}).status_code)
        assert len(server_protocol.made) == 1  # type: ignore[attr-defined]  # one connection served all five
    assert statuses == [200, 200, 200, 400, 200]
    assert len(seen) == 4


def answer(sock: socket.socket) -> bytes:
    """One whole response (head and a Content-Length body) from ``sock``."""
    reply = b""
    while b"\r\n\r\n" not in reply:
        got = sock.recv(65536)
        assert got, f"closed: {reply!r}"
        reply += got
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(next(line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))[15:])
    while len(body) < length:
        got = sock.recv(65536)
        assert got, f"closed: {reply!r}"
        body += got
    return head


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("protocol", [H11Protocol, HttpToolsHeadTimeout], ids=["uvicorn-h11", "callhooks-run"])
def test_a_refused_body_that_arrived_whole_keeps_the_connection(protocol: type, chunked: bool, token: str) -> None:
    # A small body comes with its head: nothing more can follow it, so the refusal need not close.
    body = b'{"eventType":"answer","callId":"c-1"}'
    if chunked:
        framing, ending = f"Transfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n", b"\r\n0\r\n\r\n"
    else:
        framing, ending = f"Content-Length: {len(body)}\r\n\r\n", b""
    auth = f"Authorization: {basic(*AUTH)}\r\n"

    def request(method: str, path: str, extra: str = auth) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}{framing}"
        return head.encode() + body + ending

    server_protocol = counting(protocol)
    with serve(receiver(), http=server_protocol) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            heads = []
            for method, path, extra in [
                ("POST", "/hooks/" + token[:-3] + "xyz", auth),
                ("POST", f"/hooks/{token}", ""),
                ("PUT", f"/hooks/{token}", auth),
                ("POST", "/hooks/a/b", auth),
                ("POST", f"/hooks/{token}", auth),
            ]:
                sock.sendall(request(method, path, extra))  # one write: the body arrives with its head
                heads.append(answer(sock))
        assert [head[9:12] for head in heads] == [b"403", b"401", b"405", b"404", b"200"]
        assert not any(b"connection: close" in head.lower() for head in heads)
        assert len(server_protocol.made) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("protocol", [H11Protocol, HttpToolsHeadTimeout], ids=["uvicorn-h11", "callhooks-run"])
def test_a_refusal_never_invites_the_body(protocol: type, token: str) -> None:
    # A client that waits for 100 Continue gets the refusal instead, and the connection closes.
    head = f"POST /hooks/{token[:-3]}xyz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += f"Authorization: {basic(*AUTH)}\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n"
    with (
        serve(receiver(), http=protocol) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock,
    ):
        sock.sendall(head.encode())
        reply = b""
        while got := sock.recv(65536):
            reply += got
    assert reply.startswith(b"HTTP/1.1 403 "), reply
    assert b"connection: close" in reply.lower()


# -- finding 5: connection slots ---------------------------------------------------------------------------------

HELD = 300  # connections one client holds: well past --limit-concurrency below, well within the descriptors


@pytest.fixture
def limited_run() -> Iterator[int]:
    port = free_port()
    command = [str(BIN / "callhooks"), "run", "security_apps:hooks", "--port", str(port)]
    # The cap, not a timer, must do the closing: long deadlines.
    command += ["--limit-concurrency", "100", "--max-waiting", "20", "--timeout-keep-alive", "60"]
    command += ["--head-timeout", "60"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    env.pop(MAX_WAITING_ENV, None)
    with server_process(command, env, port, cwd=TESTS, quiet=True):
        yield port


def hold(port: int, request: bytes) -> socket.socket:
    """A connection that sent ``request``, read its answer's head, and now sits there."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(request)
    reply = b""
    while b"\r\n\r\n" not in reply:
        got = sock.recv(65536)
        if not got:
            break  # already closed by the server: fine
        reply += got
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        while got := sock.recv(65536):
            del got  # the rest of an answer
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    return True


@pytest.mark.parametrize("kind", ["idle keep-alive", "body after a 403"])
def test_one_client_cannot_take_the_connection_slots(limited_run: int, kind: str) -> None:
    port = limited_run
    token = run_hooks.callback_url().rsplit("/", 1)[1]
    if kind == "idle keep-alive":
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    else:
        forged = token[:-3] + "xyz"
        request = (
            f"POST /{forged} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n'
        ).encode()
    held = [hold(port, request) for _ in range(HELD)]
    try:
        statuses = [
            httpx.post(f"http://127.0.0.1:{port}/{token}", json={"eventType": "answer", "callId": f"c-{n}"}, timeout=10)
            for n in range(5)
        ]
        assert [response.status_code for response in statuses] == [200] * 5  # before: 503, the slots were taken
        closed = sum(closed_by_server(sock) for sock in held)
        assert closed >= HELD - 20  # at most --max-waiting kept
    finally:
        for sock in held:
            sock.close()
