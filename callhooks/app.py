"""``CallHooks``: the ASGI application that receives callbacks, verifies them, parses and routes them.

A plain ASGI callable rather than a Starlette ``Router`` with middleware: the hot path reads the body once,
validates the raw bytes straight into the typed model, does at most eight dict look-ups to find the handler
and awaits it. Paths are relative to wherever the app is mounted:

    GET  /healthz            liveness for deployments
    GET|POST /<token>        a callback, on a URL made by ``callback_url()``
    GET|POST /               a callback without token (only accepted when ``secret=None``)
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import logs
from .events import CallEvent
from .inbound import CallbackRejected, accepted_media_type, authenticate, decode, too_large
from .routing import Handler, Router
from .running import (
    DEFAULT_HANDLER_THREADS,
    DEFAULT_SLOW_HANDLER_WARNING,
    HandlerRunner,
    checked_result,
    is_handler_fault,
)
from .signing import DEFAULT_MAX_AGE, CallbackSigner, parse_basic_auth, validate_basic_auth

__all__ = ["DEFAULT_BODY_LIMIT", "DEFAULT_BODY_TIMEOUT", "CallHooks", "Dispatched", "ErrorHook"]

logger = logging.getLogger("callhooks")

DEFAULT_BODY_LIMIT: Final = 64 * 1024
#: Seconds a client gets to send a whole body once its headers arrived; then 408 and the connection closes.
DEFAULT_BODY_TIMEOUT: Final = 10.0

#: ``on_error(event, exc)`` may return a Response to send instead of the default 500 (sync or async).
ErrorHook = Callable[[CallEvent, BaseException], "Response | Awaitable[Response | None] | None"]


@dataclass(frozen=True)
class Dispatched:
    """What happened to one accepted event: given to observers (``CallHooks.add_observer``)."""

    event: CallEvent
    handler: str | None  #: qualified name of the handler that ran, ``None`` when none matched
    status: int  #: HTTP status sent back to the platform
    duration: float  #: seconds from the request's arrival to the response


class _Default:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Final = _Default()

_JSON_HEADERS: Final = [(b"content-type", b"application/json")]
_EMPTY_OK_HEADERS: Final = [(b"content-length", b"0")]
_ALLOW_CALLBACK: Final = "GET, POST"


class CallHooks(Router):
    """Receives Catapult call callbacks and runs the matching handler. It is itself an ASGI application.

    ``secret``: one key, or a list oldest→newest for rotation (newest signs). ``None`` turns verification
    off, and is refused unless ``insecure=True`` says that is meant (a warning is logged). ``public_url``:
    where this app is reachable from the platform, used by
    ``callback_url``. ``basic_auth``: ``(user, password)`` expected in each callback (the platform's own
    mechanism: the credentials travel inside the callback URL). ``max_age``: default lifetime of callback URLs
    in seconds. ``body_limit``: largest accepted body in bytes. ``on_error``: called when a handler raises.
    ``client``: a ``callhooks.Client``/``AsyncClient`` whose ``calls.bind(call_id)`` gives handlers written as
    ``(event, call)`` their second argument. ``callback_http_method``: how the platform should deliver
    (``"POST"`` JSON or ``"GET"`` query string), used by the paired client. ``clock``: seconds since the epoch,
    injectable for tests of expiry. ``body_timeout``: seconds to receive a body (408 after).
    ``handler_threads``: how many sync handlers run at once. ``slow_handler_warning``: seconds an async
    handler may hold the event loop before a warning names it (``None``: never).
    """

    def __init__(
        self,
        *,
        secret: str | Sequence[str] | None,
        public_url: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        max_age: float | None = DEFAULT_MAX_AGE,
        body_limit: int = DEFAULT_BODY_LIMIT,
        on_error: ErrorHook | None = None,
        client: Any = None,
        callback_http_method: Literal["GET", "POST", "get", "post"] = "POST",
        clock: Callable[[], float] = time.time,
        insecure: bool = False,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        handler_threads: int = DEFAULT_HANDLER_THREADS,
        slow_handler_warning: float | None = DEFAULT_SLOW_HANDLER_WARNING,
    ) -> None:
        super().__init__()
        if secret is None and not insecure:
            raise ValueError(
                "callhooks: no secret, so forged callbacks would be accepted: set CALLHOOKS_SECRET "
                "(CallHooks(secret=...)), or opt in with CALLHOOKS_INSECURE=1 (CallHooks(insecure=True))"
            )
        self.signer: CallbackSigner | None = CallbackSigner(secret, clock=clock) if secret is not None else None
        if self.signer is None:
            logger.warning(
                "callhooks: secret=None, so callbacks are NOT verified: anyone who can reach this app can "
                "fake call events. Set a secret (CALLHOOKS_SECRET) for anything exposed to the internet."
            )
        if basic_auth is not None:
            basic_auth = validate_basic_auth(basic_auth)
        if body_limit <= 0:
            raise ValueError("body_limit must be positive")
        if body_timeout <= 0:
            raise ValueError("body_timeout must be positive")
        method = callback_http_method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"callback_http_method must be GET or POST, not {callback_http_method!r}")
        self.public_url = public_url.rstrip("/") if public_url else None
        self.basic_auth = basic_auth
        self.max_age = max_age
        self.body_limit = body_limit
        self.body_timeout = body_timeout
        self.runner = HandlerRunner(handler_threads, slow_handler_warning)
        self.on_error = on_error
        self.client = client
        self.callback_http_method: Literal["GET", "POST"] = "GET" if method == "GET" else "POST"
        self._observers: list[Callable[[Dispatched], None]] = []
        self.shutdown_callbacks: list[Callable[[], object]] = []
        logs.install()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> CallHooks:
        """Configure from ``CALLHOOKS_SECRET`` (comma-separated, oldest→newest), ``CALLHOOKS_PUBLIC_URL``,
        ``CALLHOOKS_BASIC_AUTH`` (``user:pass``), ``CALLHOOKS_CALLBACK_METHOD`` and ``CALLHOOKS_INSECURE``
        (``1`` to run without a secret); keyword overrides win."""
        env = os.environ if environ is None else environ
        settings: dict[str, Any] = {}
        secrets = [s.strip() for s in env.get("CALLHOOKS_SECRET", "").split(",") if s.strip()]
        settings["secret"] = (secrets[0] if len(secrets) == 1 else secrets) if secrets else None
        if env.get("CALLHOOKS_PUBLIC_URL"):
            settings["public_url"] = env["CALLHOOKS_PUBLIC_URL"]
        if env.get("CALLHOOKS_BASIC_AUTH"):
            settings["basic_auth"] = parse_basic_auth(env["CALLHOOKS_BASIC_AUTH"], "CALLHOOKS_BASIC_AUTH")
        if env.get("CALLHOOKS_INSECURE", "").strip().lower() in ("1", "true", "yes"):
            settings["insecure"] = True
        if env.get("CALLHOOKS_CALLBACK_METHOD"):
            settings["callback_http_method"] = env["CALLHOOKS_CALLBACK_METHOD"]
        settings.update(overrides)
        return cls(**settings)

    # -- signed URLs ---------------------------------------------------------------------------------------

    def callback_url(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        max_age: float | _Default | None = _DEFAULT,
        public_url: str | None = None,
    ) -> str:
        """A URL to give the platform as ``callbackUrl``: signed, carrying ``context`` tamper-proof.

        ``max_age=None`` makes a URL that never expires (for an application's static ``incomingCallUrl``);
        revoke it by rotating the secret. Basic-auth credentials, when configured, are put in the URL.
        """
        base = (public_url or self.public_url or "").rstrip("/")
        if not base:
            raise ValueError("callback_url needs public_url (CallHooks(public_url=...) or CALLHOOKS_PUBLIC_URL)")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"public_url must be an absolute http(s) URL, not {base!r}")
        path = parts.path
        if self.signer is not None:
            lifetime = self.max_age if isinstance(max_age, _Default) else max_age
            path = f"{path}/{self.signer.sign(context, max_age=lifetime)}"
        elif context:
            raise ValueError("context needs a secret: without one it could not be trusted on the way back")
        netloc = parts.netloc.rpartition("@")[2]
        if self.basic_auth is not None:
            user, password = (quote(p, safe="") for p in self.basic_auth)
            netloc = f"{user}:{password}@{netloc}"
        return urlunsplit((parts.scheme, netloc, path or "/", parts.query, ""))

    def verify_callback_url(self, url: str) -> dict[str, Any]:
        """The context signed into a URL made by ``callback_url``; ``TokenError`` if it does not verify."""
        if self.signer is None:
            return {}
        token = urlsplit(url).path.rstrip("/").rpartition("/")[2]
        return self.signer.verify(token)

    # -- ASGI ----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for callback in reversed(self.shutdown_callbacks):
                    try:
                        result = callback()
                        if inspect.isawaitable(result):
                            await result
                    except Exception:
                        logger.exception("shutdown callback %r failed", callback)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def on_shutdown(self, callback: Callable[[], object]) -> Callable[[], object]:
        """Run ``callback`` (sync or async) when the server running this app shuts down, e.g. to close the
        paired client's connections on the loop that opened them. Usable as a decorator.

        Only when this app is the server's top-level app: Starlette and FastAPI do not pass lifespan events
        to mounted apps, so there use the host application's own lifespan.
        """
        self.shutdown_callbacks.append(callback)
        return callback

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        segment = path.strip("/")
        method: str = scope["method"]
        if segment == "healthz":
            if method in ("GET", "HEAD"):
                await _send_json(send, 200, {"status": "ok"})
            else:
                await _send_json(send, 405, _method_body(method, "GET"), [(b"allow", b"GET")])
            return
        if "/" in segment:
            await _send_json(send, 404, {"error": "not-found", "detail": "no such callhooks endpoint"})
            return
        if method not in ("GET", "POST"):
            await _send_json(send, 405, _method_body(method, _ALLOW_CALLBACK), [(b"allow", _ALLOW_CALLBACK.encode())])
            return
        started = time.perf_counter()
        try:
            context = authenticate(segment, _header(scope, b"authorization"), self.signer, self.basic_auth)
            media_type = accepted_media_type(method, _header(scope, b"content-type"))
            body = await self._read_body_in_time(scope, receive) if method == "POST" else b""
            event = decode(method, media_type, scope.get("query_string", b""), body)
        except CallbackRejected as rejected:
            close = [(b"connection", b"close")] if rejected.status == 408 else []
            await _send_json(send, rejected.status, rejected.body, close)
            return
        if context:
            event.with_context(context)
        await self._dispatch(event, scope, receive, send, started)

    def read_callback(
        self,
        method: str,
        token: str = "",
        *,
        query: bytes = b"",
        content_type: str | None = None,
        body: bytes = b"",
        authorization: str | None = None,
    ) -> CallEvent:
        """Verify and parse one callback from its parts, without a server (for hosts other than ASGI).

        ``token`` is the last path segment of the callback URL. Raises ``CallbackRejected`` carrying the
        status and JSON body this app would have answered (403, 400, 413, 415 or 422).
        """
        method = method.upper()
        if method not in ("GET", "POST"):
            raise CallbackRejected(405, **_method_body(method, _ALLOW_CALLBACK))
        context = authenticate(token, authorization, self.signer, self.basic_auth)
        media_type = accepted_media_type(method, content_type)
        if len(body) > self.body_limit:
            raise too_large(self.body_limit)
        event = decode(method, media_type, query, body)
        return event.with_context(context) if context else event

    async def _read_body_in_time(self, scope: Scope, receive: Receive) -> bytes:
        # A client trickling its body would otherwise hold a connection (and a file descriptor) forever.
        try:
            if sys.version_info >= (3, 11):  # no extra task per request, unlike wait_for before 3.12
                async with asyncio.timeout(self.body_timeout):
                    return await self._read_body(scope, receive)
            return await asyncio.wait_for(self._read_body(scope, receive), self.body_timeout)
        except asyncio.TimeoutError:
            raise CallbackRejected(
                408, "body-timeout", f"the body did not arrive within {self.body_timeout:g} seconds"
            ) from None

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.body_limit
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise CallbackRejected(400, "client-disconnected", "the client went away before sending the whole body")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)  # stop reading: the rest of an oversized body is never buffered
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _dispatch(self, event: CallEvent, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        handler = self.match(event)
        if handler is None:
            await send({"type": "http.response.start", "status": 200, "headers": _EMPTY_OK_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            self._log(event, None, 200, started)
            return
        try:
            result = checked_result(handler, await self._run(handler, event))
        except BaseException as exc:
            if not is_handler_fault(exc):
                raise
            response = await self._handle_error(handler, event, exc)
            await response(scope, receive, send)
            self._log(event, handler, response.status_code, started)
            return
        if isinstance(result, Response):
            await result(scope, receive, send)
            status = result.status_code
        else:
            await send({"type": "http.response.start", "status": 200, "headers": _EMPTY_OK_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            status = 200
        self._log(event, handler, status, started)

    async def _run(self, handler: Handler, event: CallEvent) -> Any:
        args: tuple[Any, ...] = (event, self._bind_call(handler, event)) if handler.wants_call else (event,)
        return await self.runner.run(handler, args)

    def _bind_call(self, handler: Handler, event: CallEvent) -> Any:
        if self.client is None:
            raise RuntimeError(
                f"handler {handler.name} takes (event, call) but no client is attached: "
                "pass CallHooks(client=...) or build the client with hooks=..."
            )
        if event.call_id is None:
            return None  # conference and transcription events belong to no single call
        handle = self.client.calls.bind(event.call_id)
        if not handler.is_async and inspect.iscoroutinefunction(self.client.calls.hangup):
            # Its methods would return coroutines that a sync handler never awaits: the call control would
            # silently not happen. Say so instead.
            raise TypeError(
                f"handler {handler.name} is synchronous but the attached client is an AsyncClient: "
                "make the handler async, or attach a Client (CallHooks(client=Client(...)))"
            )
        return handle

    async def _handle_error(self, handler: Handler, event: CallEvent, exc: BaseException) -> Response:
        logger.error(
            "handler %s failed for call %s event %s",
            handler.name,
            event.call_id,
            event.event_type,
            exc_info=exc,
        )
        if self.on_error is not None:
            try:
                custom = self.on_error(event, exc)
                if inspect.isawaitable(custom):
                    custom = await custom
            except Exception as hook_exc:
                logger.error("on_error hook failed for call %s", event.call_id, exc_info=hook_exc)
                custom = None
            if isinstance(custom, Response):
                return custom
        # A 500 makes the platform retry the event at the call's fallbackUrl, so it is not lost. The handler's
        # name and the exception stay in the log: the body goes to whoever sent the request.
        return _json_response(500, {"error": "handler-failed", "detail": "the handler for this event failed"})

    def add_observer(self, observer: Callable[[Dispatched], None]) -> None:
        """Call ``observer`` after every routed event with what happened (for metrics, audit, the demo).

        It runs on the event loop right after the response was sent, so it must be quick and must not block.
        """
        self._observers.append(observer)

    def _log(self, event: CallEvent, handler: Handler | None, status: int, started: float) -> None:
        if self._observers:
            record = Dispatched(event, handler.name if handler else None, status, time.perf_counter() - started)
            for observer in self._observers:
                try:
                    observer(record)
                except Exception:
                    logger.exception("observer %r failed", observer)
        if not logger.isEnabledFor(logging.INFO):
            return
        logger.info(
            "call=%s event=%s state=%s tag=%s handler=%s status=%d duration_ms=%.2f",
            event.call_id,
            event.event_type,
            event.call_state,
            event.tag,
            handler.name if handler is not None else "-",
            status,
            (time.perf_counter() - started) * 1000,
        )
        if handler is None:
            logger.info("no handler matched event %s of call %s", event.event_type, event.call_id)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _method_body(method: str, allow: str) -> dict[str, str]:
    return {"error": "method-not-allowed", "detail": f"{method} is not allowed here; use {allow}"}


def _json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, headers=headers, media_type="application/json")


async def _send_json(
    send: Send, status: int, body: Mapping[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})
