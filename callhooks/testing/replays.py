"""Replay a recorded call (a ``callhooks.call/1`` fixture) into an app in a test: a real call as a regression test.

The app's own signer re-signs every event's context, so the handlers see what they saw during the call. Without
``url`` the requests go through the ASGI app in-process (``httpx.ASGITransport``: no server, no lifespan);
with ``url`` they go over HTTP to a server already running the app (e.g. :func:`callhooks.testing.serve`).
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import httpx
from typing_extensions import Unpack

from ..app import CallHooks
from ..events import encode_query
from ..fixtures import CallFixture, RecordedCallback, Timing, build_fixture, load_fixture, plan_replay
from ..replaying import send_planned

if TYPE_CHECKING:
    from .simulation import SimulatorSession

__all__ = ["ReplayOptions", "areplay", "replay", "simulated_call_fixture"]

#: The host in-process requests are addressed to (nothing resolves it: the transport is the app).
IN_PROCESS_URL = "http://callhooks.test"


def _fixture(fixture: CallFixture | str | os.PathLike[str]) -> CallFixture:
    return fixture if isinstance(fixture, CallFixture) else load_fixture(Path(fixture).read_bytes())


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
    base = url or IN_PROCESS_URL + hooks.urls.path_prefix
    timing, speed = options.get("timing", "compressed"), options.get("speed", 1.0)
    requests = plan_replay(_fixture(fixture), hooks.urls, base, timing=timing, speed=speed)
    transport = httpx.ASGITransport(app=hooks) if url is None else None
    async with httpx.AsyncClient(transport=transport, timeout=options.get("timeout", 10.0)) as client:
        return await send_planned(client, requests)


def replay(
    hooks: CallHooks, fixture: CallFixture | str | os.PathLike[str], **options: Unpack[ReplayOptions]
) -> list[httpx.Response]:
    """Synchronous :func:`areplay`, for plain (non-async) tests. Not for use inside a running event loop."""
    return asyncio.run(areplay(hooks, fixture, **options))


def simulated_call_fixture(session: SimulatorSession, call_id: str, hooks: CallHooks) -> CallFixture:
    """The fixture of a call the simulator of ``session`` placed against ``hooks``: each event it delivered
    (once, without the copies of duplicate faults), with the body exactly as sent, the context its callback URL
    carried (verified by ``hooks``), the answer status, and the simulated seconds between events. What the
    console exports, without the console."""
    callbacks: list[RecordedCallback] = []
    for sent in session.sent(call_id):
        delivered = next((attempt for attempt in sent.attempts if attempt.copy == 0), None)
        if delivered is None:
            continue  # never sent (no callback URL): nothing arrived to replay
        body = encode_query(sent.event) if sent.method == "GET" else json.dumps(sent.event)
        at = datetime.fromisoformat(sent.time.replace("Z", "+00:00")).timestamp()
        context = hooks.verify_callback_url(delivered.url) or None
        callbacks.append(RecordedCallback(at, sent.method, body, context, delivered.status))
    return build_fixture(call_id, callbacks)
