"""A stand-in platform for the client tests: records every request, answers scripted responses.

Served by real uvicorn on 127.0.0.1 (``callhooks.testing.server.serve``), so the client's real httpx stack,
connection pool and retries are exercised. Not a test module: ``tests/client/conftest.py`` offers its
``platform`` fixture to every client test, which import its helpers.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhooks.client import RetryPolicy
from callhooks.testing.server import serve

USER = "u-test"
TOKEN = "t-token-123"
SECRET = "s-very-secret-456"
BASIC = "Basic " + base64.b64encode(f"{TOKEN}:{SECRET}".encode()).decode()
# Real retries, tiny waits.
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.001, backoff_max=0.01, max_reset_wait=2.0)


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    client_port: int | None = None
    raw_path: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    """A scripted response; ``delay`` holds it back (to provoke client timeouts)."""

    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    delay: float = 0.0


class Platform:
    """The recording server's state: what it saw, and what it will answer next (FIFO, then ``default``)."""

    def __init__(self) -> None:
        self.url = ""
        self.seen: list[Seen] = []
        self.replies: deque[Reply | Callable[[Seen], Reply]] = deque()
        self.default = Reply(200, json={})
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{rest:path}", self._endpoint, methods=["GET", "POST", "PUT", "DELETE"])])

    @property
    def base(self) -> str:
        """The calls collection URL path of the test user."""
        return f"/v1/users/{USER}/calls"

    def reset(self) -> Platform:
        with self._lock:
            self.seen.clear()
            self.replies.clear()
        return self

    def reply(self, *replies: Reply | Callable[[Seen], Reply]) -> Platform:
        with self._lock:
            self.replies.extend(replies)
        return self

    async def _endpoint(self, request: Request) -> Response:
        seen = Seen(
            request.method,
            request.url.path,
            list(request.query_params.multi_items()),
            {name.lower(): value for name, value in request.headers.items()},
            await request.body(),
            request.client.port if request.client else None,
            request.scope.get("raw_path", b"").decode("latin-1"),
        )
        with self._lock:
            self.seen.append(seen)
            scripted = self.replies.popleft() if self.replies else self.default
        reply = scripted if isinstance(scripted, Reply) else scripted(seen)
        if reply.delay:
            await anyio.sleep(reply.delay)
        if reply.text is not None:
            return Response(reply.text, reply.status, reply.headers)
        body = b"" if reply.json is None else json.dumps(reply.json).encode()
        media = "application/json" if reply.json is not None else None
        return Response(body, reply.status, reply.headers, media_type=media)


@contextmanager
def running_platform() -> Iterator[Platform]:
    """A ``Platform`` served on 127.0.0.1 for the duration of the block."""
    platform = Platform()
    with serve(platform.app) as server:
        platform.url = server.url
        yield platform


@pytest.fixture(scope="module")
def served() -> Iterator[Platform]:
    """One recording server per test module."""
    with running_platform() as platform:
        yield platform


@pytest.fixture
def platform(served: Platform) -> Platform:
    """The module's recording server, with nothing seen and nothing scripted."""
    return served.reset()


def call_json(call_id: str, **fields: Any) -> dict[str, Any]:
    """A call resource as the platform would send it."""
    return {"id": call_id, "direction": "out", "from": "+19195551212", "to": "+19195551313", **fields}


def created(location: str) -> Reply:
    """The platform's answer to a create: 201, empty body, ``Location``."""
    return Reply(201, headers={"Location": location})


def unavailable() -> Reply:
    return Reply(503, json={"category": "unavailable", "code": "call-unavailable", "message": "later"})


def three_pages(platform: Platform) -> None:
    """Pages of calls c-0..c-4 linked by absolute ``rel="next"`` URLs, the last one without."""
    url = f"{platform.url}{platform.base}"

    def links(page: int, last: bool) -> dict[str, str]:
        first = f'<{url}?page=0&size=2&from=%2B19195551212>; rel="first"'
        following = f', <{url}?page={page + 1}&size=2&from=%2B19195551212>; rel="next"'
        return {"Link": first + ("" if last else following)}

    platform.reply(
        Reply(json=[call_json("c-0"), call_json("c-1")], headers=links(0, last=False)),
        Reply(json=[call_json("c-2"), call_json("c-3")], headers=links(1, last=False)),
        Reply(json=[call_json("c-4")], headers=links(2, last=True)),
    )
