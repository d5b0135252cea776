"""The receiver's HTTP transport: one ASGI ``http`` request in, bytes out.

``HttpTransport`` finds where a request goes below the receiver's path (``/healthz``, an endpoint such as the
console or the metrics, or a callback token), reads the head and the body within their limits, has
``inbound.CallbackReader`` verify and parse them (the order of the checks lives there), and hands the event to
``dispatch.Dispatcher``. A request refused on the way is answered here and told to the observation channel.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from types import CoroutineType
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import logs
from ..signing import CallbackUrls
from ..stores import Store
from .dispatch import Dispatcher, send_json
from .handler_runs import resume
from .inbound import CallbackReader, CallbackRejected, method_not_allowed, too_large
from .monitoring import Rejection
from .settings import Settings
from .unread import CLOSE, body_pending, closing_unread

__all__ = ["HttpTransport"]

logger = logging.getLogger("callhooks")

_METRICS_OFF: Final = "the metrics are off: CallHooks(metrics=True) or CALLHOOKS_METRICS=1 serves them here"
_METRICS_SET_BUT_OFF: Final = (
    "the metrics are off: CALLHOOKS_METRICS is set, but this app was not built by CallHooks.from_env(), which "
    "reads it: build it with CallHooks(metrics=True) or CallHooks.from_env()"
)
_HEAD_NAMES: Final = frozenset({b"authorization", b"content-type", b"content-length"})


class HttpTransport:
    """Serves the receiver's HTTP requests (module docstring). ``endpoints``: pages and APIs served beside the
    callbacks (the console, the metrics), by first path segment; ``store``: the open store, if any;
    ``from_environment``: whether the app was built by ``CallHooks.from_env`` (the metrics' 404 says why)."""

    def __init__(
        self,
        settings: Settings,
        urls: CallbackUrls,
        reader: CallbackReader,
        dispatcher: Dispatcher,
        store: Callable[[], Store | None],
        from_environment: Callable[[], bool],
    ) -> None:
        self.urls = urls
        self.reader = reader
        self.dispatcher = dispatcher
        self._dispatch = dispatcher.dispatch  # bound once: the hot path looks up one name
        self.delivery = dispatcher.delivery
        self.observation = dispatcher.observation
        self.body_timeout = settings.body_timeout
        self.store = store
        self.wants_request = (
            settings.receiving.wants_request
        )  # the platform's verify needs every header and the public URL
        self.endpoints: dict[str, ASGIApp] = {}
        self.from_environment = from_environment

    def add_endpoint(self, name: str, app: ASGIApp) -> None:
        """Serve ``app`` at ``<receiver path>/<name>/`` (``CallHooks.add_endpoint``)."""
        if not name or "/" in name or name == "healthz":
            raise ValueError(f"endpoint name must be one path segment other than healthz, not {name!r}")
        if name in self.endpoints:
            raise ValueError(f"an endpoint named {name!r} is already served")
        self.endpoints[name] = app

    def relative_path(self, scope: Scope) -> str | None:
        """The path below this receiver, or ``None`` when the request is outside it.

        Below the mount or root path when there is one, and below ``public_url``'s path when the request still
        carries it: standalone (``/hooks/<token>``), or behind a proxy that keeps the prefix while uvicorn runs
        with ``--root-path /hooks`` (uvicorn then prepends the root path once more).
        """
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        prefix = self.urls.path_prefix
        if prefix and path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
            return path[len(prefix) :]
        if root or not prefix or path == "/healthz":
            return path
        return None

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI ``http`` request."""
        method: str = scope["method"]
        path = self.relative_path(scope)
        # Outside the callbacks no request body is ever read: a response to one whose body is still coming closes
        # the connection (unread.py), or the server would read and drop whatever the client goes on sending.
        if path is None:
            detail = f"callbacks are served under {self.urls.path_prefix}/ (the path of public_url)"
            await send_json(send, 404, {"error": "not-found", "detail": detail}, _closing(scope, receive))
            return
        segment = path.strip("/")
        if segment == "healthz":
            if method in ("GET", "HEAD"):
                await self._healthz(send, _closing(scope, receive))
            else:
                await self._reject(scope, send, method_not_allowed(method, "GET"), unread=body_pending(scope, receive))
            return
        if self.endpoints:
            endpoint = self.endpoints.get(segment.partition("/")[0])
            if endpoint is not None:
                # Starlette's convention: the endpoint's routes see the path below root_path, so they match
                # "/<name>/..." wherever the receiver is served, and absolute URLs still come out right.
                full: str = scope["path"]
                await closing_unread(endpoint, {**scope, "root_path": full[: len(full) - len(path)]}, receive, send)
                return
        if "/" in segment:
            not_found = {"error": "not-found", "detail": "no such callhooks endpoint"}
            await send_json(send, 404, not_found, _closing(scope, receive))
            return
        if segment == "metrics":  # never a token: say the metrics are off rather than refuse a forged callback
            off = (
                _METRICS_SET_BUT_OFF
                if "CALLHOOKS_METRICS" in os.environ and not self.from_environment()
                else _METRICS_OFF
            )
            await send_json(send, 404, {"error": "not-found", "detail": off}, _closing(scope, receive))
            return
        started = time.perf_counter()
        reader = self.reader
        body = b""
        read: bool | None = None  # the body: None before reading it, False on the way, True read to its end
        try:
            head = reader.judge_head(method, segment, *_head_headers(scope["headers"]))
            if method == "POST":
                read = False
                body = await self._read_body_in_time(receive)
                read = True
            query: bytes = scope.get("query_string", b"")
            if self.wants_request:  # every header and the public URL: a signature covers them
                headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
                url = self.urls.request_url(segment, query)
                event = reader.read_event(head, query, body, headers=headers, url=url)
            else:
                event = reader.read_event(head, query, body)
        except CallbackRejected as rejected:
            # Refused before the body was read to its end: the connection closes, unless the head was refused
            # and the whole body had already arrived with it. A body refused for its size (413), or whose
            # reading failed (408), is not looked at again.
            unread = body_pending(scope, receive) if read is None and rejected.status != 413 else not read
            await self._reject(scope, send, rejected, body, unread=unread)
            return
        await self._dispatch(event, scope, receive, send, started, head.bound_token, body, head.media_type)

    async def _healthz(self, send: Send, headers: Sequence[tuple[bytes, bytes]]) -> None:
        """``200 {"status": "ok"}``, or ``503`` with why the store cannot be used; either names a loss of the
        store's data found since start-up (``StoreStats.data_losses``: the store works again, so not a 503)."""
        health = await self.delivery.health()
        shown: dict[str, Any] = {} if health.ok else {"backend": health.backend, "detail": health.detail}
        store = self.store()
        stats = store.stats() if store is not None else None
        if store is not None and stats is not None and stats.data_losses:
            lost = {"data_losses": stats.data_losses, "last_data_loss": stats.last_data_loss}
            shown = {"backend": store.backend, **shown, **lost}
        body: dict[str, Any] = {"status": "ok" if health.ok else "unavailable"}
        if shown:
            body["store"] = shown
        await send_json(send, 200 if health.ok else 503, body, headers)

    async def _reject(
        self, scope: Scope, send: Send, rejected: CallbackRejected, body: bytes = b"", *, unread: bool = False
    ) -> None:
        """Answer ``rejected``; ``unread``: the request's body was not read to its end, so the connection closes."""
        client = scope.get("client")
        # The host may come from X-Forwarded-For: spaces and quotes in it would forge the rest of a log line.
        peer = logs.client_address(f"{client[0]}:{client[1]}") if client else None
        # Once per rejection, with the reason code and where it came from; never the token or credentials. A
        # challenge to a request without credentials is the platform's normal first try (v2: every webhook).
        level = logging.DEBUG if rejected.challenge_only else logging.WARNING
        logger.log(level, "callback rejected: %d %s from %s", rejected.status, rejected.reason, peer or "unknown")
        if self.observation.watching:
            method: str = scope["method"]
            payload = body if method == "POST" else scope.get("query_string", b"")
            detail = str(rejected.body.get("detail", ""))
            record = Rejection(
                rejected.status, rejected.reason, detail, method, peer, time.time(), payload, rejected.challenge_only
            )
            self.observation.callback_rejected(record)
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in rejected.headers.items()]
        if unread:
            headers.append(CLOSE)
        await send_json(send, rejected.status, rejected.body, headers)

    async def _read_body_in_time(self, receive: Receive) -> bytes:
        # A callback's body almost always arrives with its head, and the server's receive() then returns it
        # without suspending: stepped by hand, it needs no deadline (asyncio.timeout costs about as much as
        # parsing the event). A body still on its way is read under the deadline, from where receive() waited.
        pending = receive()
        if isinstance(pending, CoroutineType):
            try:
                waiting_on = pending.send(None)
            except StopIteration as returned:
                message: Message = returned.value
                if message["type"] == "http.request" and not message.get("more_body", False):
                    return await self._read_body(receive, message)  # all there: nothing to wait for
                return await self._read_body_until_deadline(receive, message)
            return await self._read_body_until_deadline(receive, resume(pending, waiting_on))
        return await self._read_body_until_deadline(receive, pending)

    async def _read_body_until_deadline(self, receive: Receive, first: Message | Awaitable[Message]) -> bytes:
        # A client trickling its body would otherwise hold a connection (and a file descriptor) forever.
        try:
            if sys.version_info >= (3, 11):  # no extra task per request, unlike wait_for before 3.12
                async with asyncio.timeout(self.body_timeout):
                    return await self._read_body(receive, first)
            return await asyncio.wait_for(self._read_body(receive, first), self.body_timeout)
        except asyncio.TimeoutError:
            raise CallbackRejected(
                408, "body-timeout", f"the body did not arrive within {self.body_timeout:g} seconds"
            ) from None

    async def _read_body(self, receive: Receive, first: Message | Awaitable[Message]) -> bytes:
        """The body from its ``first`` message (or the receive() under way for it) on, within the size limit."""
        limit = self.reader.body_limit
        chunks: list[bytes] = []
        size = 0
        pending = first
        while True:
            message = pending if isinstance(pending, MutableMapping) else await pending
            if message["type"] == "http.disconnect":
                raise CallbackRejected(400, "client-disconnected", "the client went away before sending the whole body")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)  # stop reading: the rest of an oversized body is never buffered
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
            pending = receive()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _closing(scope: Scope, receive: Receive) -> Sequence[tuple[bytes, bytes]]:
    """``Connection: close`` for a response to a request whose body is still on its way, else nothing."""
    return (CLOSE,) if body_pending(scope, receive) else ()


def _head_headers(headers: Sequence[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str | None]:
    """``Authorization``, ``Content-Type`` and ``Content-Length`` in one pass over the headers (first wins)."""
    found: dict[bytes, str] = {}
    for key, value in headers:
        if key in _HEAD_NAMES and key not in found:
            found[key] = bytes(value).decode("latin-1")
    return found.get(b"authorization"), found.get(b"content-type"), found.get(b"content-length")
