"""The phone page under ``/_sim/phone``: its files, its state as JSON, and the live stream of that state.

``GET /_sim/phone`` is the page (HTML, CSS and a little JavaScript shipped in this package: no CDN, no build
step); ``GET /_sim/phone/state`` is :meth:`Phone.state`; ``GET /_sim/phone/stream`` sends that state as a
server-sent event whenever a call changes. All behind the simulator's Basic auth, like the rest of ``/_sim``.

A stream lasts at most :data:`STREAM_SECONDS` (the browser's ``EventSource`` reconnects by itself), so a
server that is shutting down never waits long for one; at most :data:`MAX_STREAMS` are open at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..errors import ApiError
from ..web import Handler, json_response
from .lines import Phone

__all__ = ["MAX_STREAMS", "STREAM_SECONDS", "PhonePage"]

STREAM_SECONDS = 30.0
KEEPALIVE_SECONDS = 10.0
MIN_INTERVAL_SECONDS = 0.1
MAX_STREAMS = 16

_FILES = {
    "": ("phone.html", "text/html; charset=utf-8"),
    "/phone.css": ("phone.css", "text/css; charset=utf-8"),
    "/phone.js": ("phone.js", "text/javascript; charset=utf-8"),
    "/sound.js": ("sound.js", "text/javascript; charset=utf-8"),
}
# The page loads only its own files and talks only to its own origin; it plays the audio files calls are given
# (wherever an application keeps them: <PlayAudio> and fileUrl name any http(s) URL).
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; media-src http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


@cache
def _file(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


class PhonePage:
    """HTTP adapter for the page and its live state over a :class:`Phone`."""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.open_streams = 0

    def routes(self, wrap: Callable[[Handler], Handler]) -> list[Route]:
        """Starlette routes under ``/_sim/phone``; ``wrap`` adds auth."""
        files = _FILES.items()
        routes = [Route(f"/_sim/phone{path}", wrap(self._serve(*spec)), methods=["GET"]) for path, spec in files]
        routes.append(Route("/_sim/phone/state", wrap(self.state), methods=["GET"]))
        routes.append(Route("/_sim/phone/stream", wrap(self.stream), methods=["GET"]))
        return routes

    @staticmethod
    def _serve(name: str, media_type: str) -> Handler:
        async def serve_file(request: Request) -> Response:
            return Response(_file(name), media_type=media_type, headers=_HEADERS)

        return serve_file

    async def state(self, request: Request) -> Response:
        """What the page shows, once."""
        return json_response(self.phone.state(), headers={"Cache-Control": "no-store"})

    async def stream(self, request: Request) -> Response:
        """The state now and after every change, as server-sent events."""
        if self.open_streams >= MAX_STREAMS:
            message = f"At most {MAX_STREAMS} phone streams may be open at once"
            raise ApiError(503, "service-unavailable", "too-many-streams", message, headers={"Retry-After": "5"})
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(self._events(), media_type="text/event-stream", headers=headers)

    async def _events(self) -> AsyncIterator[str]:
        changes = self.phone.changes
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        self.open_streams += 1  # counted here, where the finally below is sure to run
        try:
            yield "retry: 1000\n\n"
            seen: int | None = None
            sent = ""
            while (left := deadline - loop.time()) > 0:
                if seen != changes.version:
                    seen = changes.version
                    state = json.dumps(self.phone.state(), separators=(",", ":"))
                    if state != sent:  # calls that are not the phone's changed: nothing to send
                        sent = state
                        yield f"data: {state}\n\n"
                        # A busy simulator changes all the time: at most one state per interval per page.
                        await asyncio.sleep(MIN_INTERVAL_SECONDS)
                elif not await changes.wait(seen, min(KEEPALIVE_SECONDS, left)):
                    yield ": waiting\n\n"  # keeps proxies from closing an idle stream
        finally:
            self.open_streams -= 1
