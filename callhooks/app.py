"""``CallHooks``: the ASGI application that receives callbacks, a thin shell wiring the receiver's parts.

Served standalone under ``public_url``'s path, or under a mount/root path: ``GET /healthz`` (liveness),
``GET|POST /<token>`` (a callback, on a URL made by ``callback_url()``). The parts, in ``receiver/``: ``settings``
(the options), ``transport`` (requests in, bytes out), ``inbound`` (the checks), ``dispatch`` (guarantees,
handlers, background runs), ``registration`` (handlers and the paired client), ``observation`` (monitors,
observers, the callback log), ``lifecycle`` (store and lifespan).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import Unpack

from . import logs
from .platform import Event
from .receiver.background import BackgroundSettings, BackgroundWorker, FailedEvents
from .receiver.dispatch import Dispatcher
from .receiver.guarantees import DEFAULT_LEASE, DEFAULT_SESSION_END, DEFAULT_SHUTDOWN_TIMEOUT
from .receiver.handler_runs import DEFAULT_HANDLER_THREADS, DEFAULT_SLOW_HANDLER_WARNING
from .receiver.inbound import CallbackParts, CallbackReader, read_callback
from .receiver.lifecycle import Lifecycle
from .receiver.monitoring import Dispatched, Monitor
from .receiver.observation import Observation
from .receiver.pairing import CallBinder
from .receiver.registration import HandlerRegistration
from .receiver.routing import Router
from .receiver.settings import (
    APP_VARIABLES,
    DEFAULT_BODY_LIMIT,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_CALLBACK_TIMEOUT,
    ErrorHook,
    Settings,
    environment_options,
)
from .receiver.transport import HttpTransport
from .signing import DEFAULT, DEFAULT_MAX_AGE, CallbackSigner, CallbackUrls
from .signing import _Default as _DefaultType
from .stores import DEFAULT_STORE_URL, Store

if TYPE_CHECKING:
    from .console import Console

__all__ = ["APP_VARIABLES", "DEFAULT_BODY_LIMIT", "DEFAULT_BODY_TIMEOUT", "DEFAULT_CALLBACK_TIMEOUT"]
__all__ += ["CallHooks", "Dispatched", "ErrorHook"]

logger = logging.getLogger("callhooks")


class CallHooks(HandlerRegistration):
    """Receives call callbacks and runs the matching handler. It is itself an ASGI application.

    Its keyword arguments are ``settings.Settings``' fields, described there (``platform``, ``secret``,
    ``public_url``, ``basic_auth``, ``store``, ``metrics``, ``console``, …); checked, they are ``self.settings``.
    Handlers are held by ``self.router``; registering one checks it against the attached client (``registration``).
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
        shared_keys: Mapping[str, str] | None = None,
    ) -> None:
        # Exactly the keyword arguments, one Settings field each (CallHooks.from_env comes here too).
        self.settings = settings = Settings(**{name: value for name, value in locals().items() if name != "self"})
        settings.warn_if_unverified()
        signer = CallbackSigner(secret, clock=clock) if secret is not None else None
        receiving = settings.receiving
        basic_auth = settings.basic_auth
        in_url = receiving.credentials_in_url
        public = settings.public_url  # checked: an absolute http(s) URL without its trailing slash
        self.urls = CallbackUrls(signer, public, basic_auth=basic_auth, max_age=max_age, credentials_in_url=in_url)
        #: What differs per platform (receiving.py): its parser, its own checks, the documents handlers return.
        method = settings.callback_http_method
        self.receiving = receiving(
            self.callback_url,
            auth_token=auth_token,
            shared_keys=shared_keys,
            basic_auth=basic_auth,
            callback_method=method,
        )
        self.reader = CallbackReader(signer, basic_auth, body_limit, self.receiving)
        self.router = Router(self.receiving.platform)
        self.callback_http_method: Literal["GET", "POST"] = "GET" if method == "GET" else "POST"
        self.callback_timeout, self.body_timeout, self.on_error = settings.wait, body_timeout, on_error
        # The store (a URL is opened at start-up; None: a queue for background handlers, no guarantees), the lifespan.
        self.lifecycle = Lifecycle(DEFAULT_STORE_URL if store is None else store)
        self.store_url = self.lifecycle.store_url
        self.observation = Observation()  # the monitors and observers
        self.dispatcher = Dispatcher(settings, self.router, self.receiving, self.observation, self.lifecycle.open_store)
        dispatcher = self.dispatcher
        self.runner, self.delivery, self.background = dispatcher.runner, dispatcher.delivery, dispatcher.background
        self.failed_callbacks = dispatcher.failed_callbacks  # callbacks answered 5xx, kept as failed events
        self.from_environment = False  # built by from_env(), which read APP_VARIABLES (else it ignores them)
        self.transport = HttpTransport(
            settings, self.urls, self.reader, dispatcher, lambda: self.lifecycle.store, lambda: self.from_environment
        )
        self._serve_http, self._logs_installed = self.transport.serve, False  # logs.install(): once first served
        if client is not None:
            self.attach_client(client)
        logs.hide_secrets(settings.secrets)  # keys and passwords never reach a log line, however they got there
        if metrics:  # Prometheus text at <receiver path>/metrics (metrics.py; the `metrics` extra)
            from .metrics import serve_metrics

            serve_metrics(self, metrics_auth)
        self.console: Console | None = None  # a page and API at <receiver path>/_console/, fed by a monitor
        if console is not None:
            from .console import Console

            hidden = [*settings.keys, *(basic_auth[1:] if basic_auth else ())]
            self.console = Console.attach(
                self, console, mask_numbers=console_mask_numbers, calls_kept=console_size, secrets=hidden
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> CallHooks:
        """Configured from the ``CALLHOOKS_*`` variables (``settings.environment_options`` lists them) of
        ``environ`` (default ``os.environ``); keyword overrides win."""
        hooks = cls(**environment_options(environ, **overrides))
        hooks.from_environment = True
        return hooks

    # Read-only views of the checked settings: the reader and the URLs hold their own references, so changing
    # one here would change nothing the receiver checks (the request path reads none of these).
    @property
    def signer(self) -> CallbackSigner | None:
        """What signs and verifies callback tokens (``None`` without a ``secret``)."""
        return self.urls.signer

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """The ``(user, password)`` every callback must carry, checked (``settings.basic_auth``)."""
        return self.settings.basic_auth

    @property
    def callback_credentials(self) -> tuple[str, str] | None:
        """The Basic credentials a paired client sends beside the callback URLs it fills (Bandwidth v2's
        ``username``/``password``); None when they travel inside the URLs or there are none."""
        return None if self.receiving.credentials_in_url else self.settings.basic_auth

    @property
    def max_age(self) -> float | None:
        """Default lifetime of callback URLs in seconds (``None``: they never expire)."""
        return self.settings.max_age

    @property
    def body_limit(self) -> int:
        """Largest accepted body in bytes."""
        return self.settings.body_limit

    @property
    def public_url(self) -> str | None:
        """Where the platform reaches this receiver (``settings.public_url``); the one option that may change once
        built, e.g. to a tunnel's or a test server's URL known only at start-up: assigning it is checked as
        ``CallHooks(public_url=...)`` is (``ValueError``; Twilio needs one) and moves the URLs the receiver makes,
        the path it serves standalone and, on Twilio, the URL signatures are checked over."""
        return self.urls.public_url

    @public_url.setter
    def public_url(self, url: str | None) -> None:
        self.settings = replace(self.settings, public_url=url)  # checked again; settings and URLs agree
        self.urls.public_url = self.settings.public_url

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
        """A URL to give the platform as ``callbackUrl``: signed, carrying ``context`` tamper-proof but readable,
        and the Basic credentials when configured. ``max_age=None``: it never expires (revoke by rotating the
        secret). ``bind=True``: bound to the first call id it arrives with (403 for another). ``kind`` and ``tag``
        are signed in for platforms whose requests name neither (Twilio); ``CallbackUrls.make`` says more."""
        return self.urls.make(context, max_age=max_age, public_url=public_url, bind=bind, kind=kind, tag=tag)

    def verify_callback_url(self, url: str) -> dict[str, Any]:
        """The context signed into a URL made by ``callback_url``; ``TokenError`` if it does not verify."""
        return self.urls.verify(url)

    def read_callback(
        self, method: str, token: str = "", *, query: bytes = b"", **parts: Unpack[CallbackParts]
    ) -> Event:
        """Verify and parse one callback from its parts (``inbound.read_callback``), without a server; a refusal is
        ``CallbackRejected``, carrying the status, JSON body and headers this app would have answered."""
        url = self.urls.request_url(token, query) if self.receiving.wants_request else None
        return read_callback(self.reader, method, token, query=query, url=url, **parts)

    def add_observer(self, observer: Callable[[Dispatched], None]) -> None:
        """Call ``observer`` with what happened after every routed event (for metrics, audit, the demo), on the
        event loop right after the response was sent: it must be quick and must not block."""
        self.observation.add_observer(observer)

    def add_monitor(self, monitor: Monitor) -> None:
        """Tell ``monitor`` (a ``callhooks.receiver.monitoring.Monitor``) about every request: handlers starting and
        finishing, events answered and requests rejected. Its methods run on the event loop and must be quick."""
        self.observation.add_monitor(monitor)

    def add_endpoint(self, name: str, app: ASGIApp) -> None:
        """Serve ``app`` at ``<receiver path>/<name>/`` (the console, the metrics), ``root_path`` the receiver's."""
        self.transport.add_endpoint(name, app)

    # -- ASGI, lifespan, store and background handlers (lifecycle.py, dispatch.py) -----------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI: ``http`` requests go to the transport, ``lifespan`` to the lifecycle; websockets are closed."""
        kind = scope["type"]
        if kind == "http":
            if not self._logs_installed:  # served, even mounted (no lifespan): tokens out of access logs
                self._logs_installed = True
                logs.install()
            await self._serve_http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifecycle.run(receive, send, self.dispatcher, self.check_handlers)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    def on_startup(self, callback: Callable[[], object]) -> Callable[[], object]:
        """Run ``callback`` (sync or async) when the server starts this app, after the store opened (decorator)."""
        self.lifecycle.startup_callbacks.append(callback)
        return callback

    def on_shutdown(self, callback: Callable[[], object]) -> Callable[[], object]:
        """Run ``callback`` (sync or async) when the server shuts this app down, e.g. to close the paired client
        (decorator). Only for the server's top-level app: mounted apps get no lifespan events (use the host's)."""
        self.lifecycle.shutdown_callbacks.append(callback)
        return callback

    @property
    def store(self) -> Store | None:  # once open (open_store)
        return self.lifecycle.store

    async def open_store(self) -> Store:
        """The app's store, opened from its URL on first use (``StoreUnavailable``/``ValueError`` when it cannot)."""
        return await self.lifecycle.open_store()

    async def start_background(self) -> BackgroundWorker:
        """Open the store, start the background handlers' worker (at start-up; mounted: at the first event)."""
        return await self.dispatcher.start_background()

    async def stop_background(self) -> None:
        """Let the running background handlers finish (``BackgroundSettings.stop_timeout``) and stop the worker."""
        await self.dispatcher.stop_background()

    @property
    def failed_events(self) -> FailedEvents:
        """Background events that failed every run (list, show, replay, drop), once the store is open."""
        return self.dispatcher.failed_events(self.store)
