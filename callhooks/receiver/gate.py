"""Pages served beside the callbacks behind HTTP Basic credentials of their own (the console, the metrics),
checked in constant time before the app behind them sees the request."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from ..signing import check_basic_auth

__all__ = ["BasicAuthGate"]


class BasicAuthGate:
    """Serves ``app`` only to requests carrying ``credentials``; everything else gets 401 with
    ``WWW-Authenticate`` for ``realm`` and a JSON body saying ``detail`` (a callback token or the callbacks'
    Basic credentials open nothing here)."""

    def __init__(self, app: ASGIApp, credentials: tuple[str, str], *, realm: str, detail: str) -> None:
        self.app = app
        self.auth = credentials  #: the (user, password) it lets in
        self.challenge = f'Basic realm="{realm}", charset="UTF-8"'.encode()
        self.refused = json.dumps({"error": "unauthorized", "detail": detail}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = bytes(value).decode("latin-1")
                break
        if check_basic_auth(header, self.auth):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.refused)).encode()),
            (b"www-authenticate", self.challenge),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": self.refused})
