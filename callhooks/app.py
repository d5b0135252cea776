"""``CallHooks``: the ASGI application that receives callbacks, verifies them, parses and routes them.

A plain ASGI callable rather than a Starlette app with middleware: the hot path reads the body once,
validates the raw bytes straight into the typed model, does at most eight dict look-ups to find the handler
and awaits it. Paths are relative to wherever the app is served: under ``public_url``'s path when standalone
(``https://calls.example.com/hooks`` → ``/hooks/<token>``), or under the mount/root path:

    GET  /healthz            liveness for deployments
    GET|POST /<token>        a callback, on a URL made by ``callback_url()``
    GET|POST /               a callback without token (only accepted when ``secret=None``)

The order of the checks lives in ``inbound.CallbackReader``; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from functools import partial
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs
from .background import (
    CALLBACK_PAYLOAD_KIND,
    BackgroundSettings,
    BackgroundWorker,
    FailedEvents,
    QueuedEvent,
    queued_event,
)
from .catapult import CATAPULT
from .deadline import answer_by
from .delivery import DEFAULT_LEASE, DEFAULT_SESSION_END, DEFAULT_SHUTDOWN_TIMEOUT, Delivery, DeliveryRefused
from .failed_callbacks import FailedCallbacks, failed_callback, refusal_reason
from .inbound import CallbackReader, CallbackRejected, method_not_allowed, read_callback, too_large
from .monitoring import Dispatched, HandlerRun, Monitor, Rejection
from .pairing import CallBinder, check_binder, check_pairing
from .platform import Event, Platform, event_call_id
from .receiving import Receiving, receiving_class
from .routing import Handler, HandlerKey, Registrar, Router
from .running import (
    DEFAULT_HANDLER_THREADS,
    DEFAULT_SLOW_HANDLER_WARNING,
    HandlerRunner,
    checked_result,
    is_handler_fault,
    resume,
)
from .signing import (
    DEFAULT,
    DEFAULT_MAX_AGE,
    CallbackSigner,
    CallbackUrls,
    check_public_url,
    parse_basic_auth,
    validate_basic_auth,
)
from .signing import _Default as _DefaultType
from .stores import DEFAULT_STORE_URL, Store, StoreUnavailable, check_store_url, open_store
from .unread import CLOSE, body_pending, closing_unread
from .watchdog import Watchdog

if TYPE_CHECKING:
    from .console import Console

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_CALLBACK_TIMEOUT",
    "CallHooks",
    "Dispatched",
    "ErrorHook",
]

logger = logging.getLogger("callhooks")
#: One line per callback at INFO: time, call, event, state, tag, handler, status, duration.
callback_logger = logging.getLogger("callhooks.callbacks")

DEFAULT_BODY_LIMIT: Final = 64 * 1024
#: Seconds a client gets to send a whole body once its headers arrived; then 408 and the connection closes.
DEFAULT_BODY_TIMEOUT: Final = 10.0
#: The platform's default (and maximum) ``callbackTimeout``: 10 s. After it, it delivers again to the fallback.
DEFAULT_CALLBACK_TIMEOUT: Final = CATAPULT.callback_timeout
# A handler still running at this share of callback_timeout gets a warning: the platform is about to give up.
_SLOW_HANDLER_SHARE: Final = 0.8


#: ``on_error(event, exc)`` may return a Response to send instead of the default 500 (sync or async).
ErrorHook = Callable[[Any, BaseException], "Response | Awaitable[Response | None] | None"]


_JSON_HEADERS: Final = [(b"content-type", b"application/json")]
_EMPTY_OK_HEADERS: Final = [(b"content-length", b"0")]
_METRICS_OFF: Final = "the metrics are off: CallHooks(metrics=True) or CALLHOOKS_METRICS=1 serves them here"
_METRICS_SET_BUT_OFF: Final = (
    "the metrics are off: CALLHOOKS_METRICS is set, but this app was not built by CallHooks.from_env(), which "
    "reads it: build it with CallHooks(metrics=True) or CallHooks.from_env()"
)
#: The variables ``CallHooks.from_env`` reads; an app built otherwise ignores them (``callhooks run`` says so). Not
#: TWILIO_AUTH_TOKEN: the Twilio client reads it too, so it is no sign of a misbuilt app.
APP_VARIABLES: Final = (
    "CALLHOOKS_SECRET", "CALLHOOKS_PUBLIC_URL", "CALLHOOKS_BASIC_AUTH", "CALLHOOKS_INSECURE",
    "CALLHOOKS_CALLBACK_METHOD", "CALLHOOKS_STORE", "CALLHOOKS_METRICS", "CALLHOOKS_METRICS_AUTH",
    "CALLHOOKS_CONSOLE", "CALLHOOKS_CONSOLE_MASK_NUMBERS", "CALLHOOKS_CONSOLE_SIZE", "CALLHOOKS_PLATFORM",
)  # fmt: skip
_HANDLER_FAILED: Final = {"error": "handler-failed", "detail": "the handler for this event failed"}


def _show_callback_lines() -> None:
    """Make the per-callback INFO line visible under a plain ``uvicorn app:hooks``, which configures only its
    own loggers: when nothing configured logging for callhooks (no handler on it or on the root logger and no
    level set) when the server starts, give ``callhooks`` a stderr handler at INFO, in the format
    ``CALLHOOKS_LOG_FORMAT`` names (``ValueError`` when unknown). Any logging configuration of the user's wins."""
    formatter = logs.callhooks_formatter()
    if isinstance(formatter, logs.JsonFormatter):
        logs.json_for_uvicorn(formatter)
    root = logging.getLogger()
    if root.handlers or logger.handlers or logger.level != logging.NOTSET:
        return
    logger.addHandler(logs.callhooks_handler(formatter))
    logger.setLevel(logging.INFO)


class CallHooks(Registrar):
    """Receives call callbacks and runs the matching handler. It is itself an ASGI application.

    ``platform``: whose callbacks (``"catapult"``, Bandwidth's Voice API v1, the default; ``"bandwidth"``, its
    Voice API v2; ``"twilio"``, with ``auth_token``: the account's auth token, or the old and the new one while it
    is rotated, which sign its requests; Twilio needs ``public_url``, the URL its signature covers).

    ``secret``: one key, or a list oldest→newest for rotation (newest signs). ``None`` turns verification
    off, and is refused unless ``insecure=True`` says that is meant (a warning is logged). ``public_url``:
    where this app is reachable from the platform, used by ``callback_url``; standalone, callbacks are served
    under its path. ``basic_auth``: ``(user, password)``
    expected in each callback (the platform's own mechanism: the credentials travel inside the callback URL).
    ``max_age``: default lifetime of callback URLs in seconds. ``body_limit``: largest accepted body in bytes.
    ``on_error``: called when a handler raises. ``client``: a ``callhooks.Client``/``AsyncClient`` whose
    ``calls.bind(call_id)`` gives handlers written as ``(event, call)`` their second argument (or attach one
    later with ``attach_client``). ``callback_http_method``: how the platform should deliver (``"POST"`` JSON
    or ``"GET"`` query string), used by the paired client. ``callback_timeout``: seconds the platform waits
    for an answer (its ``callbackTimeout``; default: the platform's, ``Platform.callback_timeout``); a handler still
    running near it is logged as a warning.
    ``clock``: seconds since the epoch, injectable for tests of expiry. ``body_timeout``: seconds to receive a
    body (408 after). ``handler_threads``: how many sync handlers run at once. ``slow_handler_warning``:
    seconds an async handler may hold the event loop before a warning names it (``None``: never).
    ``store``: where the delivery guarantees (see docs/guides/stores.md, Guarantees) and background handlers' queue
    and failed events live: a URL (``memory://``, the default; ``sqlite:///path.db``; ``redis://host:port/0``)
    opened at start-up, or an open ``Store``; ``None``: no guarantees (every delivery runs its handler;
    background handlers then queue in ``memory://``). ``background``: how background handlers are retried and
    run (``BackgroundSettings``). ``session_end``: seconds a call's session is kept after the call completed.
    ``shutdown_timeout``: seconds in-flight handlers get to finish at shutdown. ``lease``: seconds an event's
    claim and its call's turn are held without a heartbeat (renewed every third of it while the handler runs): a
    worker that dies frees its event and its call this long after its last heartbeat. ``busy_margin``: seconds
    before ``callback_timeout`` by which a callback that cannot run (its call's turn did not come, the store
    did not answer) is answered 503, so the platform sees it and delivers to the fallback URL (default: a
    fifth of ``callback_timeout``). ``metrics``: serve Prometheus
    metrics at ``<receiver path>/metrics`` (needs the ``metrics`` extra), behind ``metrics_auth``
    ``(user, password)`` when given.
    ``console``: ``(user, password)`` to serve the console (a live page and JSON API of recent calls) at
    ``<receiver path>/_console/`` behind those credentials; ``console_mask_numbers``: mask phone numbers there
    and in callhooks' log lines; ``console_size``: how many recent calls it keeps.

    Handlers are held by ``self.router`` (a ``Router``); ``on``, ``add_handler``, ``include`` and ``match`` are
    its methods, offered here with the pairing checks added.
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
        client: CallBinder | None = None,
        callback_http_method: Literal["GET", "POST", "get", "post"] = "POST",
        callback_timeout: float | None = None,
        clock: Callable[[], float] = time.time,
        insecure: bool = False,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        handler_threads: int = DEFAULT_HANDLER_THREADS,
        slow_handler_warning: float | None = DEFAULT_SLOW_HANDLER_WARNING,
        store: str | Store | None = DEFAULT_STORE_URL,
        background: BackgroundSettings | None = None,
        session_end: float = DEFAULT_SESSION_END,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        lease: float = DEFAULT_LEASE,
        busy_margin: float | None = None,
        metrics: bool = False,
        metrics_auth: tuple[str, str] | None = None,
        console: tuple[str, str] | None = None,
        console_mask_numbers: bool = False,
        console_size: int = 200,
        platform: str = "catapult",
        auth_token: str | Sequence[str] | None = None,
    ) -> None:
        receiving_cls = receiving_class(platform)
        if receiving_cls.wants_request and not public_url:
            raise ValueError(
                f"platform={platform!r} needs public_url: its requests are signed over the URL they were sent to"
            )
        if secret is None and not insecure:
            raise ValueError(
                "callhooks: no secret, so forged callbacks would be accepted: set CALLHOOKS_SECRET "
                "(CallHooks(secret=...)), or opt in with CALLHOOKS_INSECURE=1 (CallHooks(insecure=True))"
            )
        signer = CallbackSigner(secret, clock=clock) if secret is not None else None
        if basic_auth is not None:
            basic_auth = validate_basic_auth(basic_auth)
        if body_limit <= 0:
            raise ValueError("body_limit must be positive")
        if body_timeout <= 0:
            raise ValueError("body_timeout must be positive")
        if callback_timeout is None:  # the platform's own default wait (Catapult 10 s, Bandwidth v2 and Twilio 15 s)
            callback_timeout = receiving_cls.platform.callback_timeout
        if callback_timeout <= 0:
            raise ValueError("callback_timeout must be positive (seconds)")
        method = callback_http_method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"callback_http_method must be GET or POST, not {callback_http_method!r}")
        self.urls = CallbackUrls(
            signer,
            public_url,
            basic_auth=basic_auth,
            max_age=max_age,
            credentials_in_url=receiving_cls.credentials_in_url,
        )
        #: What differs per platform (receiving.py): its parser, its own checks, the documents handlers return.
        self.receiving: Receiving = receiving_cls(
            self.callback_url, auth_token=auth_token, basic_auth=basic_auth, callback_method=method
        )
        self.reader = CallbackReader(signer, basic_auth, body_limit, self.receiving)
        self.router = Router(self.receiving.platform)
        self.body_timeout = body_timeout
        self.runner = HandlerRunner(handler_threads, slow_handler_warning)
        self._watchdog = Watchdog()  # warns of handlers still running near callback_timeout
        self.on_error = on_error
        self.callback_http_method: Literal["GET", "POST"] = "GET" if method == "GET" else "POST"
        self.callback_timeout = callback_timeout
        self._client: CallBinder | None = None
        self._observers: list[Callable[[Dispatched], None]] = []
        self._monitors: list[Monitor] = []
        # Pages and APIs served beside the callbacks (the console, the metrics): first path segment → ASGI app.
        self._endpoints: dict[str, ASGIApp] = {}
        self.from_environment = False  # built by from_env(), which read APP_VARIABLES
        self._logs_installed = False  # logs.install() runs when this app is first served, not when it is built
        self.startup_callbacks: list[Callable[[], object]] = []
        self.shutdown_callbacks: list[Callable[[], object]] = []
        # The store (a URL is opened at start-up) and the worker running background handlers (background.py).
        guarded = store is not None
        if store is None:
            store = DEFAULT_STORE_URL  # background handlers still need a queue; the guarantees are off
        self.store_url = check_store_url(store) if isinstance(store, str) else None
        self.store: Store | None = None if isinstance(store, str) else store
        self.background = background if background is not None else BackgroundSettings()
        self._worker: BackgroundWorker | None = None
        self._starting_worker: asyncio.Lock | None = None
        # Callbacks answered 5xx after verification, written to the store's failed events (failed_callbacks.py).
        self.failed_callbacks = FailedCallbacks(self.open_store)
        # The delivery guarantees on that store (delivery.py).
        self.delivery = Delivery(
            self.open_store,
            enabled=guarded,
            wait=callback_timeout,
            margin=busy_margin,
            session_end=session_end,
            shutdown_timeout=shutdown_timeout,
            lease=lease,
            platform=self.receiving.platform,
        )
        if signer is None:
            logger.warning(
                "callhooks: secret=None, so callbacks are NOT verified: anyone who can reach this app can "
                "fake call events. Set a secret (CALLHOOKS_SECRET) for anything exposed to the internet."
            )
        if client is not None:
            self.attach_client(client)
        # Keys and passwords never reach a log line, however they got into it (an exception's message, say).
        keys = [secret] if isinstance(secret, str) else list(secret or ())
        keys += [auth_token] if isinstance(auth_token, str) else list(auth_token or ())
        logs.hide_secrets([*keys, *(pair[1] for pair in (basic_auth, metrics_auth, console) if pair is not None)])
        if metrics:  # Prometheus text at <receiver path>/metrics (metrics.py; the `metrics` extra)
            from .metrics import serve_metrics

            serve_metrics(self, metrics_auth)
        elif metrics_auth is not None:
            raise ValueError("metrics_auth is given but metrics is off: pass metrics=True (CALLHOOKS_METRICS=1)")
        # The console (console/): a page and API at <receiver path>/_console/, fed by a monitor.
        self.console: Console | None = None
        if console is not None:
            from .console import Console

            self.console = Console.attach(
                self,
                console,
                mask_numbers=console_mask_numbers,
                calls_kept=console_size,
                secrets=[*keys, *(basic_auth[1:] if basic_auth else ())],
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> CallHooks:
        """Configure from ``CALLHOOKS_SECRET`` (comma-separated, oldest→newest), ``CALLHOOKS_PUBLIC_URL``,
        ``CALLHOOKS_BASIC_AUTH`` (``user:pass``), ``CALLHOOKS_CALLBACK_METHOD``, ``CALLHOOKS_INSECURE``
        (``1`` to run without a secret), ``CALLHOOKS_PLATFORM`` (``catapult``, ``bandwidth``, ``twilio``),
        ``TWILIO_AUTH_TOKEN`` (comma-separated, two while it is rotated), ``CALLHOOKS_STORE`` (the store's URL),
        ``CALLHOOKS_METRICS`` (``1`` serves /metrics), ``CALLHOOKS_METRICS_AUTH`` (``user:pass``),
        ``CALLHOOKS_CONSOLE`` (``user:pass``: serve the console), ``CALLHOOKS_CONSOLE_MASK_NUMBERS`` (``1``) and
        ``CALLHOOKS_CONSOLE_SIZE`` (calls kept); keyword overrides win."""
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
        if env.get("CALLHOOKS_PLATFORM"):
            settings["platform"] = env["CALLHOOKS_PLATFORM"].strip()
        tokens = [t.strip() for t in env.get("TWILIO_AUTH_TOKEN", "").split(",") if t.strip()]
        if tokens and settings.get("platform", overrides.get("platform")) == "twilio":
            settings["auth_token"] = tokens[0] if len(tokens) == 1 else tokens
        if env.get("CALLHOOKS_STORE"):
            settings["store"] = env["CALLHOOKS_STORE"].strip()
        if env.get("CALLHOOKS_METRICS", "").strip().lower() in ("1", "true", "yes"):
            settings["metrics"] = True
        if env.get("CALLHOOKS_METRICS_AUTH"):
            settings["metrics_auth"] = parse_basic_auth(env["CALLHOOKS_METRICS_AUTH"], "CALLHOOKS_METRICS_AUTH")
        if env.get("CALLHOOKS_CONSOLE"):
            settings["console"] = parse_basic_auth(env["CALLHOOKS_CONSOLE"], "CALLHOOKS_CONSOLE")
        if env.get("CALLHOOKS_CONSOLE_MASK_NUMBERS", "").strip().lower() in ("1", "true", "yes"):
            settings["console_mask_numbers"] = True
        if env.get("CALLHOOKS_CONSOLE_SIZE"):
            size = env["CALLHOOKS_CONSOLE_SIZE"].strip()
            if not size.isdigit():
                raise ValueError(f"CALLHOOKS_CONSOLE_SIZE must be a whole number of calls, not {size[:20]!r}")
            settings["console_size"] = int(size)
        settings.update(overrides)
        hooks = cls(**settings)
        hooks.from_environment = True
        return hooks

    # -- configuration read by the paired client and the tests ---------------------------------------------

    @property
    def platform(self) -> Platform[Any]:
        """The platform served (``callhooks.platform.Platform``): its parser, identity rule and known names."""
        return self.receiving.platform

    @property
    def signer(self) -> CallbackSigner | None:
        return self.urls.signer

    @property
    def public_url(self) -> str | None:
        return self.urls.public_url

    @public_url.setter
    def public_url(self, url: str | None) -> None:
        self.urls.public_url = check_public_url(url) if url else None

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        return self.urls.basic_auth

    @property
    def callback_credentials(self) -> tuple[str, str] | None:
        """The Basic credentials a paired client must send beside the callback URLs it fills (Bandwidth v2's
        ``username``/``password``); None when they travel inside the URLs or there are none."""
        return None if self.receiving.credentials_in_url else self.urls.basic_auth

    @property
    def max_age(self) -> float | None:
        return self.urls.max_age

    @property
    def body_limit(self) -> int:
        return self.reader.body_limit

    # -- pairing -------------------------------------------------------------------------------------------

    @property
    def client(self) -> CallBinder | None:
        """The attached client whose call handles ``(event, call)`` handlers receive (``attach_client``)."""
        return self._client

    def attach_client(self, client: C) -> C:
        """Give handlers written as ``(event, call)`` handles from ``client`` (a ``Client`` or ``AsyncClient``).

        The other direction is the client's ``hooks=`` argument, which makes its calls call back here; the two
        are separate so each is visible where it is written. Every registered handler is checked against the
        client now (an async handler needs an ``AsyncClient``, a sync one a ``Client``); a mismatch is a
        ``TypeError`` naming the handler. Returns ``client``.
        """
        binder = check_binder(client)
        for handler in self.router:
            check_pairing(handler, binder, final=False)
        self._client = binder
        return client

    def detach_client(self) -> CallBinder | None:
        """Undo ``attach_client``; returns the client that was attached."""
        client, self._client = self._client, None
        return client

    def check_handlers(self) -> None:
        """Check every handler against the attached client, now that no more can be attached: a handler
        that takes ``(event, call)`` with no client is a ``TypeError``. Run at server start-up."""
        for handler in self.router:
            check_pairing(handler, self._client, final=True)

    # -- handlers (held by self.router) -----------------------------------------------------------------------

    def add(self, handler: Handler) -> None:
        """Register a built handler (``add_handler`` and ``on`` come here), checked against the attached client.
        With ``background=True`` the event is queued in the store before the 200 and run afterwards
        (background.py)."""
        check_pairing(handler, self._client, final=False)
        self.receiving.check_handler(handler)
        self.router.add(handler)

    def include(self, router: Router | CallHooks) -> None:
        """Add every handler of ``router`` (a ``Router``, or another ``CallHooks``'s), all or none."""
        other = router.router if isinstance(router, CallHooks) else router
        for handler in other:
            check_pairing(handler, self._client, final=False)
            self.receiving.check_handler(handler)
        self.router.include(other)

    def match(self, event: Event) -> Handler | None:
        """The handler that would run for ``event``, or ``None``."""
        return self.router.match(event)

    @property
    def handlers(self) -> Mapping[HandlerKey, Handler]:
        return self.router.handlers

    def __iter__(self) -> Iterator[Handler]:
        return iter(self.router)

    def __len__(self) -> int:
        return len(self.router)

    # -- signed URLs (signing.CallbackUrls) ---------------------------------------------------------------------

    def callback_url(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        max_age: float | _DefaultType | None = DEFAULT,
        public_url: str | None = None,
        bind: bool = False,
        kind: str | None = None,
        tag: str | None = None,
    ) -> str:
        """A URL to give the platform as ``callbackUrl``: signed, carrying ``context`` tamper-proof.

        ``max_age=None`` makes a URL that never expires (for an application's static ``incomingCallUrl``);
        revoke it by rotating the secret. Basic-auth credentials, when configured, are put in the URL. The
        context is tamper-proof but readable (base64 JSON): keep secrets out of it. ``bind=True`` (what the
        paired client uses for a call or transfer leg it creates): the URL is for one call, bound to the first
        call id it arrives with; the same URL with another call id gets 403. ``kind`` and ``tag`` are signed in
        too, for platforms whose requests name neither (Twilio: ``kind="gather", tag="main-menu"`` routes to
        ``@hooks.on("gather", tag="main-menu")``); elsewhere the body's type and tag win.
        """
        return self.urls.make(context, max_age=max_age, public_url=public_url, bind=bind, kind=kind, tag=tag)

    def verify_callback_url(self, url: str) -> dict[str, Any]:
        """The context signed into a URL made by ``callback_url``; ``TokenError`` if it does not verify."""
        return self.urls.verify(url)

    def read_callback(
        self,
        method: str,
        token: str = "",
        *,
        query: bytes = b"",
        content_type: str | None = None,
        body: bytes = b"",
        authorization: str | None = None,
        headers: Sequence[tuple[str, str]] | None = None,
    ) -> Event:
        """Verify and parse one callback from its parts, without a server (``inbound.read_callback``).

        ``token`` is the last path segment of the callback URL; ``headers`` every request header (Twilio's
        signature and idempotency token are read there). Raises ``CallbackRejected`` carrying the status, JSON
        body and headers this app would have answered (401, 403, 405, 400, 413, 415 or 422).
        """
        url = self.urls.request_url(token, query) if self.receiving.wants_request else None
        return read_callback(
            self.reader,
            method,
            token,
            query=query,
            content_type=content_type,
            body=body,
            authorization=authorization,
            headers=headers,
            url=url,
        )

    # -- ASGI ----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if not self._logs_installed:  # served, even mounted (no lifespan): keep tokens out of access logs
                self._logs_installed = True
                logs.install()
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self._logs_installed = True
                    logs.install()  # served now: uvicorn's access log shows <token>, not the token
                    _show_callback_lines()
                    self.check_handlers()
                except (TypeError, ValueError) as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                try:
                    await self.delivery.start()  # opens the store: one clear line when it cannot be
                    # Also without background handlers: it runs the failed callbacks that are replayed.
                    await self.start_background()
                except (StoreUnavailable, ValueError) as exc:
                    await send({"type": "lifespan.startup.failed", "message": f"callhooks: {exc}"})
                    return
                for callback in self.startup_callbacks:
                    result = callback()
                    if inspect.isawaitable(result):
                        await result
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.delivery.close()  # in-flight handlers finish first; new callbacks get 503
                await self.stop_background()
                await self.failed_callbacks.close(self.delivery.shutdown_timeout)  # written before the store closes
                for callback in reversed(self.shutdown_callbacks):
                    try:
                        result = callback()
                        if inspect.isawaitable(result):
                            await result
                    except Exception:
                        logger.exception("shutdown callback %r failed", callback)
                if self.store_url is not None and self.store is not None:  # opened here, so closed here
                    await self.store.close()
                    self.store = None
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- background handlers (background.py) ---------------------------------------------------------------

    async def open_store(self) -> Store:
        """The app's store, opened from its URL on first use (``StoreUnavailable``/``ValueError`` when it cannot)."""
        if self.store is None:
            assert self.store_url is not None
            self.store = await open_store(self.store_url)
        return self.store

    async def start_background(self) -> BackgroundWorker:
        """Open the store and start the worker running background handlers (done at start-up; on the first
        background event when the app is mounted, as mounted apps get no lifespan events)."""
        if self._starting_worker is None:
            self._starting_worker = asyncio.Lock()
        async with self._starting_worker:
            if self._worker is None:
                worker = BackgroundWorker(
                    await self.open_store(), self._run_background, self.background, self._tell_monitors
                )
                worker.start()
                self._worker = worker
        return self._worker

    async def stop_background(self) -> None:
        """Let the running background handlers finish (``BackgroundSettings.stop_timeout``) and stop the worker."""
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.stop()

    @property
    def failed_events(self) -> FailedEvents:
        """Background events that failed every run (list, show, replay, drop), once the store is open."""
        if self.store is None:
            raise RuntimeError("the store is not open yet: it opens at start-up (or `await hooks.open_store()`)")
        return FailedEvents(self.store, on_queued=self._worker.wake if self._worker is not None else None)

    async def _queue_background(self, handler: Handler, event: Event, method: str) -> Response | None:
        """Write the event to the durable queue; the answer: ``None`` (an empty 200) once it is stored, a 503
        when it cannot be. Runs under the guarantees like a handler, so a duplicate is not queued twice."""
        payload = queued_event(
            event, method=method, received_at=time.time(), handler=handler.name, platform=self.platform.name
        )
        try:
            worker = self._worker or await self.start_background()
            # In the handler's place, so not under the callback's store deadline: under one of its own.
            deadline = asyncio.get_running_loop().time() + self.delivery.store_deadline
            await answer_by(worker.store.enqueue(payload), deadline, worker.store.backend)
        except (StoreUnavailable, ValueError) as exc:  # ValueError: a bad store URL, found when first opened
            logger.error("could not queue event %s of call %s: %s", event.event_type, event_call_id(event), exc)
            body = json.dumps({"error": "store-unavailable", "detail": str(exc)})
            return Response(body, status_code=503, media_type="application/json")
        worker.wake()
        return None

    async def _run_background(self, queued: QueuedEvent) -> None:
        """Run a queued event's handler (in the worker); an exception makes the worker retry it."""
        if queued.kind == CALLBACK_PAYLOAD_KIND:
            await self._replay_callback(queued)
            return
        event = queued.event
        handler = self.router.match(event)
        if handler is None or not handler.background:
            raise LookupError(f"no background handler matches this {event.event_type} event any more")
        watched = bool(self._monitors)
        if watched:  # background runs count in the handler metrics like answered ones
            self._tell_monitors("handler_started", event, handler.name)
            began = time.perf_counter()
        try:
            returned = await self._run(handler, event)
            documents = self.receiving.documents
            result = returned if isinstance(returned, documents) else checked_result(handler, returned)
        except BaseException as exc:
            if watched:
                self._tell_monitors("handler_finished", event, handler.name, time.perf_counter() - began, exc)
            if not is_handler_fault(exc) or isinstance(exc, Exception):
                raise
            raise RuntimeError(f"handler raised {type(exc).__name__}: {exc}") from exc  # SystemExit must not stop it
        if watched:
            self._tell_monitors("handler_finished", event, handler.name, time.perf_counter() - began, None)
        if result is not None:
            logger.warning("background handler %s returned a response; it is ignored (the 200 was sent)", handler.name)

    def on_startup(self, callback: Callable[[], object]) -> Callable[[], object]:
        """Run ``callback`` (sync or async) when the server running this app starts it, after the store opened.
        Usable as a decorator; as :meth:`on_shutdown`, only for the server's top-level app."""
        self.startup_callbacks.append(callback)
        return callback

    async def _replay_callback(self, queued: QueuedEvent) -> None:
        """Run a replayed failed callback as its delivery would have run (in the worker): through the guarantees,
        so one handled meanwhile is a duplicate. A 5xx again raises, and the worker retries it with backoff."""
        event = queued.event
        handler = self.router.match(event)
        if handler is None:
            logger.warning(
                "replayed callback %s of call %s: no handler matches it now", event.event_type, event_call_id(event)
            )
            return
        run: Callable[[], Awaitable[Response | None]]
        if handler.background:
            run = partial(self._queue_background, handler, event, queued.method)
        else:
            run = partial(self._answer, handler, event, queued.method, None)
        try:
            delivered = await self.delivery.deliver(event, None, run)
        except DeliveryRefused as refused:
            raise RuntimeError(f"answered {refused.status}: {refusal_reason(refused)}") from None
        response = delivered.response
        if response is not None and response.status_code >= 500:
            raise RuntimeError(f"answered {response.status_code}: {refusal_reason(response)}")

    def on_shutdown(self, callback: Callable[[], object]) -> Callable[[], object]:
        """Run ``callback`` (sync or async) when the server running this app shuts down, e.g. to close the
        paired client's connections on the loop that opened them. Usable as a decorator.

        Only when this app is the server's top-level app: Starlette and FastAPI do not pass lifespan events
        to mounted apps, so there use the host application's own lifespan.
        """
        self.shutdown_callbacks.append(callback)
        return callback

    def _relative_path(self, scope: Scope) -> str | None:
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

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path = self._relative_path(scope)
        # Outside the callbacks no request body is ever read: a response to one whose body is still coming closes
        # the connection (unread.py), or the server would read and drop whatever the client goes on sending.
        if path is None:
            detail = f"callbacks are served under {self.urls.path_prefix}/ (the path of public_url)"
            await _send_json(send, 404, {"error": "not-found", "detail": detail}, _closing(scope, receive))
            return
        segment = path.strip("/")
        if segment == "healthz":
            if method in ("GET", "HEAD"):
                await self._healthz(send, _closing(scope, receive))
            else:
                await self._reject(scope, send, method_not_allowed(method, "GET"), unread=body_pending(scope, receive))
            return
        if self._endpoints:
            endpoint = self._endpoints.get(segment.partition("/")[0])
            if endpoint is not None:
                # Starlette's convention: the endpoint's routes see the path below root_path, so they match
                # "/<name>/..." wherever the receiver is served, and absolute URLs still come out right.
                full: str = scope["path"]
                await closing_unread(endpoint, {**scope, "root_path": full[: len(full) - len(path)]}, receive, send)
                return
        if "/" in segment:
            not_found = {"error": "not-found", "detail": "no such callhooks endpoint"}
            await _send_json(send, 404, not_found, _closing(scope, receive))
            return
        if segment == "metrics":  # never a token: say the metrics are off rather than refuse a forged callback
            off = (
                _METRICS_SET_BUT_OFF
                if "CALLHOOKS_METRICS" in os.environ and not self.from_environment
                else _METRICS_OFF
            )
            await _send_json(send, 404, {"error": "not-found", "detail": off}, _closing(scope, receive))
            return
        started = time.perf_counter()
        reader = self.reader
        body = b""
        read: bool | None = None  # the body: None before reading it, False on the way, True read to its end
        try:
            head = reader.judge_head(
                method,
                segment,
                *_head_headers(scope["headers"]),
            )
            if method == "POST":
                read = False
                body = await self._read_body_in_time(receive)
                read = True
            query: bytes = scope.get("query_string", b"")
            if self.receiving.wants_request:  # every header and the public URL: a signature covers them
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
        store = self.store
        stats = store.stats() if store is not None else None
        if store is not None and stats is not None and stats.data_losses:
            lost = {"data_losses": stats.data_losses, "last_data_loss": stats.last_data_loss}
            shown = {"backend": store.backend, **shown, **lost}
        body: dict[str, Any] = {"status": "ok" if health.ok else "unavailable"}
        if shown:
            body["store"] = shown
        await _send_json(send, 200 if health.ok else 503, body, headers)

    async def _reject(
        self, scope: Scope, send: Send, rejected: CallbackRejected, body: bytes = b"", *, unread: bool = False
    ) -> None:
        """Answer ``rejected``; ``unread``: the request's body was not read to its end, so the connection closes."""
        client = scope.get("client")
        # The host may come from X-Forwarded-For: spaces and quotes in it would forge the rest of a log line.
        peer = logs.client_address(f"{client[0]}:{client[1]}") if client else None
        # Once per rejection, with the reason code and where it came from; never the token or credentials.
        logger.warning("callback rejected: %d %s from %s", rejected.status, rejected.reason, peer or "unknown")
        if self._monitors:
            method: str = scope["method"]
            payload = body if method == "POST" else scope.get("query_string", b"")
            detail = str(rejected.body.get("detail", ""))
            record = Rejection(rejected.status, rejected.reason, detail, method, peer, time.time(), payload)
            self._tell_monitors("callback_rejected", record)
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in rejected.headers.items()]
        if unread:
            headers.append(CLOSE)
        await _send_json(send, rejected.status, rejected.body, headers)

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

    async def _dispatch(
        self,
        event: Event,
        scope: Scope,
        receive: Receive,
        send: Send,
        started: float,
        token: str | None = None,
        body: bytes = b"",
        media_type: str = "",
    ) -> None:
        handler = self.router.match(event)
        method: str = scope["method"]
        # Where _answer leaves how the handler ran, for observers and monitors; only when someone watches.
        watched = HandlerRun() if self._observers or self._monitors else None
        run: Callable[[], Awaitable[Response | None]] | None = None
        if handler is not None and handler.background:  # queued durably, run later (background.py)
            run = partial(self._queue_background, handler, event, method)
        elif handler is not None:
            run = partial(self._answer, handler, event, method, watched)
        try:  # the guarantees (delivery.py): token binding, per-call order, exactly once, the call's session
            delivered = await self.delivery.deliver(event, token, run)
        except DeliveryRefused as refused:
            await _send_json(send, refused.status, refused.body)
            reason = refused.body.get("reason") or refused.body["error"]
            self._report(event, None, refused.status, started, scope, body, media_type, refused=reason)
            if refused.status >= 500 and handler is not None:
                self._keep_failed(event, handler, method, started, refused.status, refusal_reason(refused))
            return
        response = delivered.response
        if response is None and self.receiving.answers_nothing:
            response = self.receiving.nothing(event)  # a platform whose empty 200 would be an error (Twilio)
        if response is None:
            await _send_empty_ok(send)
        else:
            await response(scope, receive, send)
        status = 200 if response is None else response.status_code
        self._report(
            event,
            handler if delivered.ran else None,
            status,
            started,
            scope,
            body,
            media_type,
            response,
            watched,
            duplicate=handler is not None and not delivered.ran,
        )
        if status >= 500 and handler is not None:
            self._keep_failed(event, handler, method, started, status, refusal_reason(response))

    def _keep_failed(
        self, event: Event, handler: Handler, method: str, started: float, status: int, reason: str
    ) -> None:
        """Keep a callback answered 5xx as a failed event (written after the response, off this path)."""
        received_at = time.time() - (time.perf_counter() - started)
        payload = failed_callback(
            event,
            method=method,
            received_at=received_at,
            handler=handler.name,
            status=status,
            reason=reason,
            platform=self.platform.name,
        )
        self.failed_callbacks.keep(payload)

    async def _answer(
        self, handler: Handler, event: Event, method: str, watched: HandlerRun | None = None
    ) -> Response | None:
        """Run ``handler`` and return its response (None: an empty 200; a 500 when it failed). With monitors,
        ``watched`` gets how long the handler ran and what it raised, and the monitors hear it start and finish."""
        slow_warning = self._watchdog.arm(
            self.callback_timeout * _SLOW_HANDLER_SHARE, _warn_slow, handler, event, self.callback_timeout
        )
        if watched is not None:
            self._tell_monitors("handler_started", event, handler.name)
            began = time.perf_counter()
        try:
            returned = await self._run(handler, event)
            if isinstance(returned, self.receiving.documents):  # a call-control document (receiving.py)
                result: Response | None = self.receiving.reply(handler, event, method, returned)
            else:
                result = checked_result(handler, returned)
        except BaseException as exc:
            fault = is_handler_fault(exc)
            if watched is not None:  # a cancelled handler (server shutdown) ends too, for the in-flight gauge
                watched.seconds = time.perf_counter() - began
                if fault:
                    watched.error = exc
                self._tell_monitors("handler_finished", event, handler.name, watched.seconds, exc)
            if not fault:
                raise
            custom = await self._handle_error(handler, event, exc)
            # A 500 makes the platform retry the event at the call's fallbackUrl, so it is not lost. The handler's
            # name and the exception stay in the log: the body goes to whoever sent the request.
            failed = Response(json.dumps(_HANDLER_FAILED), status_code=500, media_type="application/json")
            return failed if custom is None else custom
        finally:
            slow_warning.cancel()
        if watched is not None:
            watched.seconds = time.perf_counter() - began
            self._tell_monitors("handler_finished", event, handler.name, watched.seconds, None)
        return result if isinstance(result, Response) else None

    async def _run(self, handler: Handler, event: Event) -> Any:
        args: tuple[Any, ...] = (event, self._bind_call(handler, event)) if handler.wants_call else (event,)
        return await self.runner.run(handler, args)

    def _bind_call(self, handler: Handler, event: Event) -> Any:
        if self._client is None:
            # Found at start-up (check_handlers) when this app is served with lifespan; mounted apps get
            # their host's lifespan, so the check can only happen here.
            check_pairing(handler, None, final=True)
        call_id = event_call_id(event)
        if call_id is None:
            return None  # conference and transcription events belong to no single call
        assert self._client is not None
        return self._client.calls.bind(call_id)

    async def _handle_error(self, handler: Handler, event: Event, exc: BaseException) -> Response | None:
        """Log the failure and ask ``on_error``; the response it chose, or ``None`` for the default 500."""
        logger.error(
            "handler %s failed for call %s event %s",
            handler.name,
            event_call_id(event),
            event.event_type,
            exc_info=exc,
        )
        if self.on_error is not None:
            try:
                custom = self.on_error(event, exc)
                if inspect.isawaitable(custom):
                    custom = await custom
            except Exception as hook_exc:
                logger.error("on_error hook failed for call %s", event_call_id(event), exc_info=hook_exc)
                custom = None
            if isinstance(custom, Response):
                return custom
        return None

    def add_observer(self, observer: Callable[[Dispatched], None]) -> None:
        """Call ``observer`` after every routed event with what happened (for metrics, audit, the demo).

        It runs on the event loop right after the response was sent, so it must be quick and must not block.
        """
        self._observers.append(observer)

    def add_monitor(self, monitor: Monitor) -> None:
        """Tell ``monitor`` (a ``callhooks.monitoring.Monitor``) about every request: handlers starting and
        finishing, events answered with their wire payload and response, and requests rejected. Its methods
        run on the event loop and must be quick; with no monitor registered nothing is recorded."""
        self._monitors.append(monitor)

    def add_endpoint(self, name: str, app: ASGIApp) -> None:
        """Serve ``app`` at ``<receiver path>/<name>/`` beside the callbacks (the console, the metrics use it).

        ``app`` sees ``root_path`` set to the receiver's own path, so a Starlette router in it matches
        ``/<name>/...``. A callback token never contains ``_`` at its start, nor is it ``metrics``-short, so
        the names cannot shadow a callback URL; ``healthz`` is taken."""
        if not name or "/" in name or name == "healthz":
            raise ValueError(f"endpoint name must be one path segment other than healthz, not {name!r}")
        if name in self._endpoints:
            raise ValueError(f"an endpoint named {name!r} is already served")
        self._endpoints[name] = app

    def _tell_monitors(self, method: str, *args: Any) -> None:
        for monitor in self._monitors:
            try:
                getattr(monitor, method)(*args)
            except Exception:
                logger.exception("monitor %r failed in %s", monitor, method)

    def _report(
        self,
        event: Event,
        handler: Handler | None,
        status: int,
        started: float,
        scope: Scope,
        body: bytes,
        media_type: str,
        response: Response | None = None,
        run: HandlerRun | None = None,
        *,
        duplicate: bool = False,
        refused: str | None = None,
    ) -> None:
        """Tell the observers and monitors what happened to ``event`` (one record for all of them, built only
        when there are some) and write its line to the callback log."""
        duration = time.perf_counter() - started
        if self._observers or self._monitors:
            method: str = scope["method"]
            posted = method == "POST"
            record = Dispatched(
                event,
                handler.name if handler else None,
                status,
                duration,
                method=method,
                payload=body if posted else scope.get("query_string", b""),
                response=response,
                error=run.error if run else None,
                handler_seconds=run.seconds if run else None,
                received=time.time() - duration,
                duplicate=duplicate,
                media_type=media_type if posted else "",
            )
            for observer in self._observers:
                try:
                    observer(record)
                except Exception:
                    logger.exception("observer %r failed", observer)
            self._tell_monitors("callback_dispatched", record)
        if not callback_logger.isEnabledFor(logging.INFO):
            return
        name = handler.name if handler is not None else "-"
        duration_ms = round(duration * 1000, 2)
        call_id = event_call_id(event)
        callback_logger.info(
            "call=%s event=%s state=%s tag=%s handler=%s status=%d duration_ms=%.2f",
            call_id,
            event.event_type,
            event.call_state,
            event.tag,
            name,
            status,
            duration_ms,
            extra={  # logs.CALLBACK_FIELDS, as keys of their own in CALLHOOKS_LOG_FORMAT=json
                "call_id": call_id,
                "event": event.event_type,
                "state": event.call_state,
                "tag": event.tag,
                "handler": name,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
        if refused is not None:  # the guarantees answered it: say why, as the console does
            logger.info("event %s of call %s refused: %s", event.event_type, call_id, refused)
        elif duplicate:
            logger.info("event %s of call %s already handled: answered as a duplicate", event.event_type, call_id)
        elif handler is None:
            logger.info("no handler matched event %s of call %s", event.event_type, call_id)


C = TypeVar("C", bound=CallBinder)


def _warn_slow(handler: Handler, event: Event, timeout: float) -> None:  # a watchdog alarm, rung once
    logger.warning(
        "handler %s is still running for call %s event %s after %.1f s: the platform gives up at its "
        "callbackTimeout (%.1f s here) and delivers the event again to the fallback URL",
        handler.name,
        event_call_id(event),
        event.event_type,
        timeout * _SLOW_HANDLER_SHARE,
        timeout,
    )


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


_HEAD_NAMES: Final = frozenset({b"authorization", b"content-type", b"content-length"})


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


async def _send_empty_ok(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": _EMPTY_OK_HEADERS})
    await send({"type": "http.response.body", "body": b""})
