"""The ceiling: a raw ASGI callable with orjson. No validation, no signature check, dict dispatch."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from .tally import dispatch, tally

__all__ = ["app", "tally"]

_OK: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}
_EMPTY: dict[str, Any] = {"type": "http.response.body", "body": b""}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["method"] == "POST":
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        fields = orjson.loads(body)
    else:
        fields = dict(parse_qsl(scope["query_string"].decode()))
    await dispatch(fields)
    await send(_OK)
    await send(_EMPTY)
