"""Post an event to a ``CallHooks`` app in-process, by POST or GET, as its platform would: for users' unit tests.

No server and no network: the request goes through the ASGI app directly (httpx's ``ASGITransport``), with the
path, token, credentials and encoding the app's platform uses:

- Catapult v1 and Bandwidth Voice API v2: the event's JSON body (GET: its fields as the query), the receiver's
  Basic credentials in an ``Authorization`` header;
- Twilio: the event's parameters as a form (GET: as the query), to a signed URL naming the request's kind and
  tag, with the ``X-Twilio-Signature`` Twilio computes over the app's ``public_url``, the path and the query
  (and a POST's parameters) with the app's auth token, and the event's ``I-Twilio-Idempotency-Token``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from ..app import CallHooks
from ..events import encode_query
from ..signing import route_context

__all__ = ["asend_event", "callback_path", "send_event"]

#: The host in-process requests are addressed to (nothing resolves it: the transport is the app).
IN_PROCESS_URL = "http://callhooks.test"
_USER_AGENTS = {
    "catapult": "BandwidthAPI/v1 (callhooks.testing)",
    "bandwidth-v2": "BandwidthAPI/v2 (callhooks.testing)",
    "twilio": "TwilioProxy/1.1 (callhooks.testing)",
}


def callback_path(
    hooks: CallHooks,
    context: Mapping[str, Any] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
) -> str:
    """The path of a freshly signed callback URL (below ``public_url``'s path, if it has one), ``/`` when the app
    has no secret. ``kind`` and ``tag`` are signed in as ``callback_url`` signs them (Twilio's requests name
    neither)."""
    prefix = hooks.urls.path_prefix
    if hooks.signer is None:
        if kind is not None or tag is not None:
            raise ValueError("a callback URL's kind and tag travel in its signed token: they need a secret")
        return prefix + "/"
    return f"{prefix}/{hooks.signer.sign(route_context(context, kind, tag), max_age=hooks.max_age)}"


def _json_fields(event: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(event, BaseModel):  # wire names, JSON types, only the fields it had (events.wire_fields)
        fields: dict[str, Any] = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return fields
    return dict(event)


def _json_request(
    hooks: CallHooks, event: BaseModel | Mapping[str, Any], method: str, context: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    fields = _json_fields(event)
    headers = {"user-agent": _USER_AGENTS.get(hooks.platform.name, _USER_AGENTS["catapult"])}
    options: dict[str, Any] = {"headers": headers, "auth": hooks.basic_auth}
    path = callback_path(hooks, context)
    if method == "GET":
        return f"{path}?{encode_query(fields)}", options
    return path, {**options, "json": fields}


def _twilio_request(
    hooks: CallHooks,
    event: BaseModel | Mapping[str, Any],
    method: str,
    context: Mapping[str, Any] | None,
    kind: str | None,
    tag: str | None,
) -> tuple[str, dict[str, Any]]:
    from ..twilio.events import TwilioEvent, wire_params
    from ..twilio.signature import SIGNATURE_HEADER, compute_signature

    if isinstance(event, TwilioEvent):
        params, kind, tag = wire_params(event), kind or event.kind, tag if tag is not None else event.tag
        token = event.idempotency_token
    elif isinstance(event, BaseModel):
        raise TypeError(f"a Twilio app is sent Twilio events or request parameters, not a {type(event).__name__}")
    else:
        params, token = {name: str(value) for name, value in event.items()}, None
    if hooks.public_url is None:
        raise ValueError("Twilio signs the public URL it requests: give the app a public_url to send it events")
    path = callback_path(hooks, context, kind=kind, tag=tag)
    url = hooks.public_url + path.removeprefix(hooks.urls.path_prefix)  # the URL Twilio requests, and signs
    auth_tokens: tuple[str, ...] = getattr(hooks.receiving, "auth_tokens", ())
    headers = {
        "user-agent": _USER_AGENTS["twilio"],
        "i-twilio-idempotency-token": token or secrets.token_hex(16),
    }
    options: dict[str, Any] = {"headers": headers, "auth": hooks.basic_auth}
    if method == "GET":
        query = f"?{urlencode(params)}" if params else ""
        headers[SIGNATURE_HEADER] = compute_signature(url + query, None, auth_tokens[-1])
        return path + query, options
    headers[SIGNATURE_HEADER] = compute_signature(url, params, auth_tokens[-1])
    headers["content-type"] = "application/x-www-form-urlencoded"
    return path, {**options, "content": urlencode(params)}


async def asend_event(
    hooks: CallHooks,
    event: BaseModel | Mapping[str, Any],
    *,
    method: Literal["GET", "POST"] = "POST",
    context: Mapping[str, Any] | None = None,
    kind: str | None = None,
    tag: str | None = None,
) -> httpx.Response:
    """Deliver ``event`` (a typed event of the app's platform, or its wire fields) to ``hooks`` as the platform
    would, and return the HTTP response. ``kind`` and ``tag`` are the URL's, for Twilio: a typed event's own by
    default, ``call`` (the Voice URL) for wire fields without a kind."""
    if hooks.platform.name == "twilio":
        url, options = _twilio_request(hooks, event, method, context, kind, tag)
    elif kind is not None or tag is not None:
        raise ValueError(f"{hooks.platform.name} events name their type and tag in the body, not the URL")
    else:
        url, options = _json_request(hooks, event, method, context)
    transport = httpx.ASGITransport(app=hooks)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL) as client:
        return await client.request(method, url, **options)


def send_event(
    hooks: CallHooks,
    event: BaseModel | Mapping[str, Any],
    *,
    method: Literal["GET", "POST"] = "POST",
    context: Mapping[str, Any] | None = None,
    kind: str | None = None,
    tag: str | None = None,
) -> httpx.Response:
    """Synchronous ``asend_event``, for plain (non-async) tests. Not for use inside a running event loop."""
    return asyncio.run(asend_event(hooks, event, method=method, context=context, kind=kind, tag=tag))
