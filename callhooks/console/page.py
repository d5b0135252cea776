"""The console page and its two static files, shipped in the package (``static/``): no CDN, no build step."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from starlette.responses import JSONResponse, Response

__all__ = ["page_response", "static_response"]

_STATIC_TYPES: Final = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}
# The page runs only its own script and style, and talks only to its own origin.
_SECURITY_HEADERS: Final = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@cache
def _read(name: str) -> bytes:
    return resources.files("callhooks.console").joinpath("static", name).read_bytes()


def page_response() -> Response:
    return Response(_read("console.html"), media_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS)


def static_response(name: str) -> Response:
    media = _STATIC_TYPES.get(name)
    if media is None:
        return JSONResponse({"error": "not-found", "detail": "no such console file"}, status_code=404)
    return Response(_read(name), media_type=media, headers=_SECURITY_HEADERS)
