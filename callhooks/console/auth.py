"""The console's own HTTP Basic credentials, checked (in constant time) before any of its paths is served."""

from __future__ import annotations

import json
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from ..signing import check_basic_auth

__all__ = ["ConsoleAuth"]

_REALM: Final = b'Basic realm="callhooks console", charset="UTF-8"'
_REFUSED: Final = json.dumps(
    {"error": "unauthorized", "detail": "the console needs its own user and password (HTTP Basic)"}
).encode()


class ConsoleAuth:
    """Serves ``app`` only to requests carrying ``credentials``; everything else gets 401 with
    ``WWW-Authenticate`` (a callback token or the callbacks' Basic credentials open nothing here)."""

    def __init__(self, app: ASGIApp, credentials: tuple[str, str]) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = bytes(value).decode("latin-1")
                break
        if check_basic_auth(header, self.credentials):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_REFUSED)).encode()),
            (b"www-authenticate", _REALM),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": _REFUSED})
