"""Replay a recorded call (a ``callhooks.call/1`` fixture) into an app in a test: a real call as a regression test.

The app's own signer re-signs every event's context, so the handlers see what they saw during the call. Without
``url`` the requests go through the ASGI app in-process (``httpx.ASGITransport``: no server, no lifespan);
with ``url`` they go over HTTP to a server already running the app (e.g. :func:`callhooks.testing.serve`). A
Twilio app's requests are signed as Twilio signs them, with its auth token, over the URL each goes to (in-process:
its ``public_url``).
:class:`CallRecorder` makes the fixture of a call an app received.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections import deque
from typing import TypedDict
from urllib.parse import urlsplit

import httpx
from typing_extensions import Unpack

from ..app import CallHooks
from ..receiver.monitoring import Dispatched, Monitor
from ..replay_file import (
    MAX_EVENTS,
    CallFixture,
    ReplayRequest,
    Timing,
    build_fixture,
    plan_replay,
    recorded_context,
    twilio_signed,
)
from ..replaying import read_fixture, send_planned

__all__ = ["CallRecorder", "ReplayOptions", "areplay", "replay"]

#: The host in-process requests are addressed to (nothing resolves it: the transport is the app).
IN_PROCESS_URL = "http://callhooks.test"


def _fixture(fixture: CallFixture | str | os.PathLike[str]) -> CallFixture:
    return fixture if isinstance(fixture, CallFixture) else read_fixture(fixture)


class ReplayOptions(TypedDict, total=False):
    """How :func:`replay` and :func:`areplay` send: ``url`` of a running server serving the app (its public URL,
    with any mount path; default: in-process), ``timing`` and ``speed`` as in
    :func:`callhooks.fixtures.plan_replay` (``"compressed"`` by default: tests are quick), ``timeout`` per
    request in seconds (10)."""

    url: str | None
    timing: Timing
    speed: float
    timeout: float


async def areplay(
    hooks: CallHooks, fixture: CallFixture | str | os.PathLike[str], **options: Unpack[ReplayOptions]
) -> list[httpx.Response]:
    """Send ``fixture``'s events (a ``CallFixture`` or a fixture file's path) to ``hooks``; its answers in order."""
    url = options.get("url")
    twilio = hooks.platform.name == "twilio"
    # Twilio signs the public URL it requests: in-process, the requests are planned (and signed) for public_url.
    public = hooks.public_url if twilio and url is None else None
    base = url or public or IN_PROCESS_URL + hooks.urls.path_prefix
    timing, speed = options.get("timing", "compressed"), options.get("speed", 1.0)
    requests = plan_replay(_fixture(fixture), hooks.urls, base, timing=timing, speed=speed)
    if twilio:
        auth_tokens: tuple[str, ...] = getattr(hooks.receiving, "auth_tokens", ())
        requests = _in_process(twilio_signed(requests, auth_tokens[-1]), public)
    transport = httpx.ASGITransport(app=hooks) if url is None else None
    async with httpx.AsyncClient(transport=transport, timeout=options.get("timeout", 10.0)) as client:
        return await send_planned(client, requests)


def _in_process(requests: list[ReplayRequest], public: str | None) -> list[ReplayRequest]:
    """``requests`` planned for ``public`` (a public URL), sent to the in-process host instead; as they are when
    ``public`` is None."""
    if public is None:
        return requests
    parts = urlsplit(public)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [dataclasses.replace(r, url=IN_PROCESS_URL + r.url.removeprefix(origin)) for r in requests]


def replay(
    hooks: CallHooks, fixture: CallFixture | str | os.PathLike[str], **options: Unpack[ReplayOptions]
) -> list[httpx.Response]:
    """Synchronous :func:`areplay`, for plain (non-async) tests. Not for use inside a running event loop."""
    return asyncio.run(areplay(hooks, fixture, **options))


class CallRecorder(Monitor):
    """Records each event a receiver answered, with its wire payload, as the console does: register it with
    ``hooks.add_monitor(recorder)``, run a call (under the simulator, or real traffic in development), and
    ``recorder.fixture(call_id)`` is that call's fixture. Keeps the last ``limit`` events of all calls."""

    def __init__(self, limit: int = MAX_EVENTS) -> None:
        self._records: deque[Dispatched] = deque(maxlen=limit)

    def callback_dispatched(self, record: Dispatched) -> None:
        self._records.append(record)

    def events(self, call_id: str) -> list[Dispatched]:
        """What was recorded of ``call_id``, in arrival order (monitors hear of an event just after its answer)."""
        return [record for record in list(self._records) if record.event.call_id == call_id]

    def fixture(self, call_id: str) -> CallFixture:
        """The recorded events of ``call_id`` as a fixture (``LookupError`` when there are none)."""
        records = self.events(call_id)
        if not records:
            raise LookupError(f"no event of call {call_id!r} was recorded")
        return build_fixture(
            call_id,
            [(r.received, r.method, r.payload, recorded_context(r.event), r.status, r.media_type) for r in records],
        )
