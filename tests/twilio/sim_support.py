"""A simulator playing Twilio, and a plain web app standing in for a Twilio application: it records every request
exactly as it arrived and answers each path with the TwiML a test gives it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.rest import Client as TwilioClient

from callhooks.simulator import Simulator
from callhooks.testing import serve, wait_until

ACCOUNT_SID = "AC" + "3" * 32
AUTH_TOKEN = "sim-test-auth-token-0123456789"


@dataclass
class Received:
    """One request the application got."""

    method: str
    url: str
    form: list[tuple[str, str]]
    headers: dict[str, str]

    @property
    def path(self) -> str:
        """The path, without the query."""
        return self.url.split("//", 1)[1].partition("/")[2].partition("?")[0]

    @property
    def params(self) -> dict[str, str]:
        """The form parameters (POST) or the query's (GET)."""
        if self.method == "GET":
            return dict(parse_qsl(self.url.partition("?")[2], keep_blank_values=True))
        return dict(self.form)


@dataclass
class FakeApp:
    """Answers ``/<path>`` with ``replies[path]`` (TwiML text, or ``(status, body)``); records every request."""

    replies: dict[str, str | tuple[int, str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def at(self, path: str) -> list[Received]:
        """The requests to ``path``."""
        return [request for request in self.received if request.path == path]

    def asgi(self) -> Starlette:
        async def handle(request: Request) -> Response:
            body = (await request.body()).decode()
            self.received.append(
                Received(
                    request.method, str(request.url), parse_qsl(body, keep_blank_values=True), dict(request.headers)
                )
            )
            reply = self.replies.get(request.path_params["path"], "")
            status, text = reply if isinstance(reply, tuple) else (200, reply)
            return Response(text, status_code=status, media_type="text/xml")

        return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])


@dataclass
class Running:
    """A simulator and an app on loopback, and twilio-python's ``Client`` pointed at the simulator."""

    simulator: Simulator
    app: FakeApp
    url: str
    twilio: TwilioClient

    def settle(self) -> None:
        """Wait until every queued webhook was delivered."""
        loop = self.simulator.clock.loop
        assert loop is not None
        assert asyncio.run_coroutine_threadsafe(self.simulator.settle(20), loop).result(30)

    def wait_status(self, sid: str, *statuses: str) -> Any:
        """The call once its status is one of ``statuses`` (default: any that ends a call)."""
        wanted = statuses or ("completed", "busy", "no-answer", "canceled", "failed")

        def fetched() -> Any:
            call = self.twilio.calls(sid).fetch()
            return call if call.status in wanted else None

        return wait_until(fetched, timeout=30, interval=0.02, what=f"call {sid} to be {'/'.join(wanted)}")

    def place_inbound(self, from_: str, to: str) -> str:
        """An inbound call to the Voice URL; its ``CallSid``."""
        loop = self.simulator.clock.loop
        assert loop is not None
        call_id = asyncio.run_coroutine_threadsafe(self.simulator.place_inbound(from_, to), loop).result(10)
        return str(self.simulator.call(call_id)["sid"])

    def log(self, sid: str) -> list[str]:
        """The names in the call's event log (``twiml-Gather``, ``status``...)."""
        leg = self.simulator.profile.legs.by_sid(sid)  # type: ignore[attr-defined]
        assert leg is not None
        return [entry.name for entry in leg.call.log]


@contextmanager
def running(
    app: FakeApp | None = None, account: dict[str, str] | None = None, voice_path: str | None = None, **options: Any
) -> Iterator[Running]:
    """Serve a Twilio simulator (speed 100 unless given; ``account`` settings on top of the test account; inbound
    calls to ``app``'s ``voice_path``) and ``app`` on free loopback ports."""
    app = app or FakeApp()
    options.setdefault("speed", 100)
    options.setdefault("hold_clock", True)
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, **(account or {})}
    with serve(app.asgi()) as served_app:
        app.url = served_app.url
        if voice_path is not None:  # the number's Voice URL: where inbound calls ask for TwiML
            options["incoming_call_url"] = f"{app.url}/{voice_path}"
        simulator = Simulator(platform="twilio", account=settings, **options)
        with serve(simulator) as served:
            client = TwilioClient(ACCOUNT_SID, AUTH_TOKEN)
            client.api.base_url = served.url
            yield Running(simulator, app, served.url, client)
            assert not simulator.errors


def twiml(*verbs: str) -> str:
    """A ``<Response>`` of ``verbs``."""
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"
