"""What the background-handler tests share: a real uvicorn serving the app on 127.0.0.1 inside the test's own
event loop (so the test can await the app's store and the handlers' events directly), and callback senders."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from callhooks import CallHooks
from callhooks.events import CallEvent, encode_query, wire_fields
from callhooks.testing.server import free_port

SECRET = "background-tests-secret"


@contextlib.asynccontextmanager
async def served(hooks: ASGIApp, timeout: float = 20.0) -> AsyncIterator[httpx.AsyncClient]:
    """Serve ``hooks`` (or an app mounting it) with uvicorn (lifespan on) on a free loopback port; an httpx
    client pointed at it.

    Leaving the block shuts the server down the way SIGTERM does (the app's lifespan shutdown runs)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(hooks, host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + timeout
    while not server.started:
        if task.done():
            raise RuntimeError(f"uvicorn did not start: {task.exception()!r}")
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"uvicorn did not start within {timeout} s")
        await asyncio.sleep(0.005)  # polling for start-up, bounded by the deadline
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as client:
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout)


async def deliver(
    client: httpx.AsyncClient,
    hooks: CallHooks,
    event: CallEvent,
    *,
    method: str = "POST",
    context: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> httpx.Response:
    """Deliver ``event`` as the platform would: on a signed callback URL (below ``prefix`` when the app is
    mounted there), as JSON POST or GET query string."""
    assert hooks.signer is not None
    path = f"{prefix}/" + hooks.signer.sign(context, max_age=hooks.max_age)
    fields = wire_fields(event)
    if method == "GET":
        return await client.get(f"{path}?{encode_query(fields)}")
    return await client.post(path, json=fields)


async def within(awaitable: Any, timeout: float = 20.0) -> Any:
    """Await with a deadline, so a missing wake-up fails the test instead of hanging it."""
    return await asyncio.wait_for(awaitable, timeout)
