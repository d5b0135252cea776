"""Helpers for the simulator tests: a recording callback receiver and a running simulator.

Not a test module (it holds no tests); imported by the ``test_simulator_*`` modules. Everything is served
by real uvicorn on 127.0.0.1, and tests wait on a condition with a deadline, never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhooks.simulator import Simulator
from callhooks.testing.server import serve

USER = "u-sim-test"
TOKEN = "t-token"
SECRET = "s-secret"
CALLER = "+19195550100"  # "our" number
CALLEE = "+19195551212"
DEADLINE = 30.0  # real seconds; reached only by a failing test, however busy the machine


@dataclass(frozen=True)
class Callback:
    """One callback request as the receiver got it."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        """The event's fields: the JSON body (POST) or the query, decoded with %-unquoting only (GET)."""
        if self.method == "POST":
            data: dict[str, Any] = json.loads(self.body)
            return data
        pairs = (part.split("=", 1) for part in self.raw_query.split("&") if part)
        return {unquote(name): unquote(value) for name, value in pairs}


@dataclass
class Meeting:
    """Requests on ``paths`` are held until ``size`` of them have arrived (proof that they overlapped); one
    that waits ``patience`` real seconds in vain is answered 504. Later requests pass straight through."""

    paths: frozenset[str]
    size: int = 2
    patience: float = DEADLINE
    arrived: int = 0
    _everyone: asyncio.Event | None = None  # made on the server's event loop

    async def attend(self) -> bool:
        """Wait for the others; False when they did not come in time."""
        if self._everyone is None:
            self._everyone = asyncio.Event()
        self.arrived += 1
        if self.arrived >= self.size:
            self._everyone.set()
        try:
            await asyncio.wait_for(self._everyone.wait(), self.patience)
        except asyncio.TimeoutError:
            return False
        return True


@dataclass
class Receiver:
    """A Starlette app recording every callback; ``answers`` maps a path to ``(status, delay_seconds)``;
    ``bodies`` a path to the body it answers with (e.g. a BXML document; default empty); ``meeting`` holds
    some requests until others arrive."""

    answers: dict[str, tuple[int, float]] = field(default_factory=dict)
    bodies: dict[str, str | bytes] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    meeting: Meeting | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            callback = Callback(
                request.method,
                request.url.path,
                request.scope["query_string"].decode(),
                dict(request.headers),
                await request.body(),
            )
            with self._changed:
                self.callbacks.append(callback)
                self._changed.notify_all()
            if self.meeting is not None and callback.path in self.meeting.paths and not await self.meeting.attend():
                return Response(status_code=504)
            status, delay = self.answers.get(callback.path, (200, 0.0))
            if delay:
                await anyio.sleep(delay)  # a slow receiver, to trip the simulator's callbackTimeout
            return Response(self.bodies.get(callback.path, b""), status_code=status)

        return Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])

    def events(self, path: str | None = None) -> list[dict[str, Any]]:
        """Events received so far (on ``path`` only, if given)."""
        with self._changed:
            return [c.event for c in self.callbacks if path in (None, c.path)]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], path: str | None = None, timeout: float = DEADLINE
    ) -> list[dict[str, Any]]:
        """Block until ``predicate(events)`` holds; fail after ``timeout`` real seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                events = [c.event for c in self.callbacks if path in (None, c.path)]
                if predicate(events):
                    return events
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for callbacks; got {events}")
                self._changed.wait(remaining)

    def wait_types(self, *types: str, path: str | None = None, timeout: float = DEADLINE) -> list[dict[str, Any]]:
        """Wait until the received event types on ``path`` start with ``types`` (then return them all)."""

        def ready(events: list[dict[str, Any]]) -> bool:
            return len(events) >= len(types)

        events = self.wait_for(ready, path, timeout)
        assert [e["eventType"] for e in events][: len(types)] == list(types), events
        return events


@dataclass
class Env:
    """A running simulator, a recording receiver and an authenticated client for the REST API."""

    sim: Simulator
    url: str
    receiver: Receiver
    receiver_url: str
    client: httpx.Client

    @property
    def calls(self) -> str:
        return f"/v1/users/{USER}/calls"

    def create_call(self, path: str = "/cb", **body: Any) -> str:
        """Create a call whose callbacks go to ``path`` on the receiver; returns its id."""
        payload = {"from": CALLER, "to": CALLEE, "callbackUrl": self.receiver_url + path, **body}
        response = self.client.post(self.calls, json=payload)
        assert response.status_code == 201, response.text
        return response.headers["location"].rsplit("/", 1)[-1]

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the simulated clock, delivering each timer's callbacks before the next fires."""
        response = self.client.post("/_sim/clock/advance", json={"seconds": seconds, "settle": True})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def settle(self) -> None:
        """Wait until the simulator has delivered everything queued."""
        assert self.client.post("/_sim/settle", json={}).json() == {"idle": True}

    def get_call(self, call_id: str) -> dict[str, Any]:
        response = self.client.get(f"{self.calls}/{call_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@contextmanager
def running(**options: Any) -> Iterator[Env]:
    """Serve a simulator (manual clock unless ``speed`` is given) and a receiver; yield an :class:`Env`."""
    options.setdefault("manual", "speed" not in options)
    options.setdefault("seed", 7)
    receiver = Receiver()
    with ExitStack() as stack:
        receiver_server = stack.enter_context(serve(receiver.app))
        if "incoming_call_url" in options and options["incoming_call_url"].startswith("/"):
            options["incoming_call_url"] = receiver_server.url + options["incoming_call_url"]
        sim = Simulator(user_id=USER, api_token=TOKEN, api_secret=SECRET, **options)
        sim_server = stack.enter_context(serve(sim))
        client = stack.enter_context(httpx.Client(base_url=sim_server.url, auth=(TOKEN, SECRET), timeout=DEADLINE))
        yield Env(sim, sim_server.url, receiver, receiver_server.url, client)


def keys(event: dict[str, Any]) -> set[str]:
    """The field names of an event."""
    return set(event)
