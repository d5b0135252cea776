"""The receiver's configuration: one frozen ``Settings``, checked once, whether ``CallHooks(...)`` was given its
options or ``CallHooks.from_env`` read them from the environment (``environment_options``).

The meaning of each option is in ``Settings``' docstring; ``CallHooks`` takes exactly these names as keyword
arguments.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from starlette.responses import Response

from ..catapult import CATAPULT
from ..signing import DEFAULT_MAX_AGE, check_public_url, parse_basic_auth, validate_basic_auth
from ..stores import DEFAULT_STORE_URL, Store
from .background import BackgroundSettings
from .guarantees import DEFAULT_LEASE, DEFAULT_SESSION_END, DEFAULT_SHUTDOWN_TIMEOUT
from .handler_runs import DEFAULT_HANDLER_THREADS, DEFAULT_SLOW_HANDLER_WARNING
from .pairing import CallBinder
from .receiving import Receiving, receiving_class

__all__ = [
    "APP_VARIABLES",
    "DEFAULT_BODY_LIMIT",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_CALLBACK_TIMEOUT",
    "ErrorHook",
    "Settings",
    "environment_options",
]

DEFAULT_BODY_LIMIT: Final = 64 * 1024
#: Seconds a client gets to send a whole body once its headers arrived; then 408 and the connection closes.
DEFAULT_BODY_TIMEOUT: Final = 10.0
#: The platform's default (and maximum) ``callbackTimeout``: 10 s. After it, it delivers again to the fallback.
DEFAULT_CALLBACK_TIMEOUT: Final = CATAPULT.callback_timeout

#: ``on_error(event, exc)`` may return a Response to send instead of the default 500 (sync or async).
ErrorHook = Callable[[Any, BaseException], "Response | Awaitable[Response | None] | None"]

#: The variables ``CallHooks.from_env`` reads; an app built otherwise ignores them (``callhooks run`` says so). Not
#: TWILIO_AUTH_TOKEN: the Twilio client reads it too, so it is no sign of a misbuilt app.
APP_VARIABLES: Final = (
    "CALLHOOKS_SECRET", "CALLHOOKS_PUBLIC_URL", "CALLHOOKS_BASIC_AUTH", "CALLHOOKS_INSECURE",
    "CALLHOOKS_CALLBACK_METHOD", "CALLHOOKS_STORE", "CALLHOOKS_METRICS", "CALLHOOKS_METRICS_AUTH",
    "CALLHOOKS_CONSOLE", "CALLHOOKS_CONSOLE_MASK_NUMBERS", "CALLHOOKS_CONSOLE_SIZE", "CALLHOOKS_PLATFORM",
    "TWILIO_SHARED_KEYS",
)  # fmt: skip
logger = logging.getLogger("callhooks")
_YES: Final = ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    """Everything ``CallHooks`` is configured with, checked when built (``ValueError`` naming the option).

    ``platform``: whose callbacks (``"catapult"``, Bandwidth's Voice API v1, the default; ``"bandwidth"``, its
    Voice API v2; ``"twilio"``, with ``auth_token``: the account's auth token, or the old and the new one while it
    is rotated, which sign its requests; Twilio needs ``public_url``, the URL its signature covers; and
    ``shared_keys``: ``{key id: secret}`` of the SharedKeys a Twilio Webhooks Setting signs with instead, in
    HMAC-SHA256, when its requests carry ``X-Twilio-Webhooks-Signature-Settings``).

    ``secret``: one key, or a list oldest→newest for rotation (newest signs). ``None`` turns verification
    off, and is refused unless ``insecure=True`` says that is meant (``warn_if_unverified`` logs a warning).
    ``public_url``: where this app is reachable from the platform (an absolute http(s) URL, kept without its
    trailing slash), used by ``callback_url``; standalone, callbacks are served under its path. ``basic_auth``:
    ``(user, password)`` expected in each callback (the platform's own mechanism: the credentials travel inside
    the callback URL).
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

    Once built, ``callback_http_method`` is upper case, ``callback_timeout`` a number (the platform's when it
    was ``None``) and ``basic_auth`` checked.
    """

    secret: str | Sequence[str] | None
    public_url: str | None = None
    basic_auth: tuple[str, str] | None = None
    max_age: float | None = DEFAULT_MAX_AGE
    body_limit: int = DEFAULT_BODY_LIMIT
    on_error: ErrorHook | None = None
    client: CallBinder | None = None
    callback_http_method: Literal["GET", "POST", "get", "post"] = "POST"
    callback_timeout: float | None = None
    clock: Callable[[], float] = time.time
    insecure: bool = False
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    handler_threads: int = DEFAULT_HANDLER_THREADS
    slow_handler_warning: float | None = DEFAULT_SLOW_HANDLER_WARNING
    store: str | Store | None = DEFAULT_STORE_URL
    background: BackgroundSettings | None = None
    session_end: float = DEFAULT_SESSION_END
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    lease: float = DEFAULT_LEASE
    busy_margin: float | None = None
    metrics: bool = False
    metrics_auth: tuple[str, str] | None = None
    console: tuple[str, str] | None = None
    console_mask_numbers: bool = False
    console_size: int = 200
    platform: str = "catapult"
    auth_token: str | Sequence[str] | None = None
    shared_keys: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        receiving = self.receiving
        if self.public_url:
            object.__setattr__(self, "public_url", check_public_url(self.public_url))
        if receiving.wants_request and not self.public_url:
            raise ValueError(
                f"platform={self.platform!r} needs public_url: its requests are signed over the URL they were sent to"
            )
        if self.secret is None and not self.insecure:
            raise ValueError(
                "callhooks: no secret, so forged callbacks would be accepted: set CALLHOOKS_SECRET "
                "(CallHooks(secret=...)), or opt in with CALLHOOKS_INSECURE=1 (CallHooks(insecure=True))"
            )
        if self.basic_auth is not None:
            object.__setattr__(self, "basic_auth", validate_basic_auth(self.basic_auth))
        if self.body_limit <= 0:
            raise ValueError("body_limit must be positive")
        if self.body_timeout <= 0:
            raise ValueError("body_timeout must be positive")
        if self.callback_timeout is None:  # the platform's own default wait (Catapult 10 s, v2 and Twilio 15 s)
            object.__setattr__(self, "callback_timeout", receiving.platform.callback_timeout)
        if self.wait <= 0:
            raise ValueError("callback_timeout must be positive (seconds)")
        method = self.callback_http_method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"callback_http_method must be GET or POST, not {self.callback_http_method!r}")
        object.__setattr__(self, "callback_http_method", method)
        if self.metrics_auth is not None and not self.metrics:
            raise ValueError("metrics_auth is given but metrics is off: pass metrics=True (CALLHOOKS_METRICS=1)")

    def warn_if_unverified(self) -> None:
        """Log, loudly, that callbacks go unverified when there is no ``secret`` (once per receiver built, not per
        ``Settings``: changing ``public_url`` makes a new one)."""
        if self.secret is None:
            logger.warning(
                "callhooks: secret=None, so callbacks are NOT verified: anyone who can reach this app can "
                "fake call events. Set a secret (CALLHOOKS_SECRET) for anything exposed to the internet."
            )

    @property
    def receiving(self) -> type[Receiving]:
        """The class serving ``platform`` (``ValueError`` when it names none)."""
        return receiving_class(self.platform)

    @property
    def wait(self) -> float:
        """``callback_timeout`` as a number: seconds the platform waits for an answer."""
        assert self.callback_timeout is not None  # filled in by __post_init__
        return self.callback_timeout

    @property
    def keys(self) -> list[str]:
        """The signing keys: ``secret``'s, ``auth_token``'s and the ``shared_keys``' secrets."""
        keys = [self.secret] if isinstance(self.secret, str) else list(self.secret or ())
        keys += [self.auth_token] if isinstance(self.auth_token, str) else list(self.auth_token or ())
        return keys + list((self.shared_keys or {}).values())

    @property
    def secrets(self) -> list[str]:
        """Every key and password configured: none of them may reach a log line."""
        pairs = (self.basic_auth, self.metrics_auth, self.console)
        return [*self.keys, *(pair[1] for pair in pairs if pair is not None)]

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in ``CallHooks``' order."""
        return tuple(field.name for field in fields(cls))


def environment_options(environ: Mapping[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """The ``CallHooks`` keyword arguments the environment (``os.environ`` by default) sets, ``overrides`` winning:
    ``CALLHOOKS_SECRET`` (comma-separated, oldest→newest), ``CALLHOOKS_PUBLIC_URL``, ``CALLHOOKS_BASIC_AUTH``
    (``user:pass``), ``CALLHOOKS_CALLBACK_METHOD``, ``CALLHOOKS_INSECURE`` (``1`` to run without a secret),
    ``CALLHOOKS_PLATFORM`` (``catapult``, ``bandwidth``, ``twilio``), ``TWILIO_AUTH_TOKEN`` (comma-separated, two
    while it is rotated) and ``TWILIO_SHARED_KEYS`` (``id:secret,id2:secret2``, the ``shared_keys``), both read
    only for ``twilio``, ``CALLHOOKS_STORE`` (the store's URL), ``CALLHOOKS_METRICS`` (``1`` serves /metrics),
    ``CALLHOOKS_METRICS_AUTH`` (``user:pass``), ``CALLHOOKS_CONSOLE`` (``user:pass``: serve the console),
    ``CALLHOOKS_CONSOLE_MASK_NUMBERS`` (``1``) and ``CALLHOOKS_CONSOLE_SIZE`` (calls kept)."""
    env = os.environ if environ is None else environ
    options: dict[str, Any] = {}
    secrets = [s.strip() for s in env.get("CALLHOOKS_SECRET", "").split(",") if s.strip()]
    options["secret"] = (secrets[0] if len(secrets) == 1 else secrets) if secrets else None
    if env.get("CALLHOOKS_PUBLIC_URL"):
        options["public_url"] = env["CALLHOOKS_PUBLIC_URL"]
    if env.get("CALLHOOKS_BASIC_AUTH"):
        options["basic_auth"] = parse_basic_auth(env["CALLHOOKS_BASIC_AUTH"], "CALLHOOKS_BASIC_AUTH")
    if env.get("CALLHOOKS_INSECURE", "").strip().lower() in _YES:
        options["insecure"] = True
    if env.get("CALLHOOKS_CALLBACK_METHOD"):
        options["callback_http_method"] = env["CALLHOOKS_CALLBACK_METHOD"]
    if env.get("CALLHOOKS_PLATFORM"):
        options["platform"] = env["CALLHOOKS_PLATFORM"].strip()
    if options.get("platform", overrides.get("platform")) == "twilio":  # others' apps may share these variables
        tokens = [t.strip() for t in env.get("TWILIO_AUTH_TOKEN", "").split(",") if t.strip()]
        if tokens:
            options["auth_token"] = tokens[0] if len(tokens) == 1 else tokens
        if env.get("TWILIO_SHARED_KEYS", "").strip():
            options["shared_keys"] = _shared_keys(env["TWILIO_SHARED_KEYS"])
    if env.get("CALLHOOKS_STORE"):
        options["store"] = env["CALLHOOKS_STORE"].strip()
    if env.get("CALLHOOKS_METRICS", "").strip().lower() in _YES:
        options["metrics"] = True
    if env.get("CALLHOOKS_METRICS_AUTH"):
        options["metrics_auth"] = parse_basic_auth(env["CALLHOOKS_METRICS_AUTH"], "CALLHOOKS_METRICS_AUTH")
    if env.get("CALLHOOKS_CONSOLE"):
        options["console"] = parse_basic_auth(env["CALLHOOKS_CONSOLE"], "CALLHOOKS_CONSOLE")
    if env.get("CALLHOOKS_CONSOLE_MASK_NUMBERS", "").strip().lower() in _YES:
        options["console_mask_numbers"] = True
    if env.get("CALLHOOKS_CONSOLE_SIZE"):
        size = env["CALLHOOKS_CONSOLE_SIZE"].strip()
        if not size.isdigit():
            raise ValueError(f"CALLHOOKS_CONSOLE_SIZE must be a whole number of calls, not {size[:20]!r}")
        options["console_size"] = int(size)
    options.update(overrides)
    return options


def _shared_keys(text: str) -> dict[str, str]:
    """``TWILIO_SHARED_KEYS`` (``id:secret,id2:secret2``) as ``{id: secret}``; a ``ValueError`` naming the variable
    and the entry's position, never its text (it may be a secret pasted without its id)."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    keys: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        key_id, _, secret = (part.strip() for part in entry.partition(":"))
        if not key_id or not secret:
            raise ValueError(
                f"TWILIO_SHARED_KEYS must be SharedKey id:secret pairs separated by commas "
                f"(e.g. KS0001:secret1,KS0002:secret2); entry {number} of {len(entries)} is not"
            )
        if key_id in keys:
            raise ValueError(
                f"TWILIO_SHARED_KEYS names one SharedKey id twice (entries {[*keys].index(key_id) + 1} and {number})"
            )
        keys[key_id] = secret
    return keys
