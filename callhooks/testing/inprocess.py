"""Post an event to a ``CallHooks`` app in-process, by POST or GET, with a valid token: for users' unit tests.

No server and no network: the request goes through the ASGI app directly (httpx's ``ASGITransport``), with the
same path, token, Basic-auth header and encoding the platform would use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from ..app import CallHooks
from ..events import CallEvent, encode_query, wire_fields

__all__ = ["asend_event", "callback_path", "send_event"]


def callback_path(hooks: CallHooks, context: Mapping[str, Any] | None = None) -> str:
    """The path (relative to the app) of a freshly signed callback URL, ``/`` when the app has no secret."""
    return "/" + hooks.signer.sign(context, max_age=hooks.max_age) if hooks.signer is not None else "/"


def _request_parts(
    hooks: CallHooks, event: CallEvent | Mapping[str, Any], method: str, context: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    fields = wire_fields(event) if isinstance(event, CallEvent) else dict(event)
    headers = {"user-agent": "BandwidthAPI/v1 (callhooks.testing)"}
    options: dict[str, Any] = {"headers": headers, "auth": hooks.basic_auth}
    path = callback_path(hooks, context)
    if method == "GET":
        return f"{path}?{encode_query(fields)}", options
    return path, {**options, "json": fields}


async def asend_event(
    hooks: CallHooks,
    event: CallEvent | Mapping[str, Any],
    *,
    method: Literal["GET", "POST"] = "POST",
    context: Mapping[str, Any] | None = None,
) -> httpx.Response:
    """Deliver ``event`` (a typed event or wire fields) to ``hooks`` and return its HTTP response."""
    url, options = _request_parts(hooks, event, method, context)
    transport = httpx.ASGITransport(app=hooks)
    async with httpx.AsyncClient(transport=transport, base_url="http://callhooks.test") as client:
        return await client.request(method, url, **options)


def send_event(
    hooks: CallHooks,
    event: CallEvent | Mapping[str, Any],
    *,
    method: Literal["GET", "POST"] = "POST",
    context: Mapping[str, Any] | None = None,
) -> httpx.Response:
    """Synchronous ``asend_event``, for plain (non-async) tests. Not for use inside a running event loop."""
    return asyncio.run(asend_event(hooks, event, method=method, context=context))
