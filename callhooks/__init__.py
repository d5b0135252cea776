"""callhooks: receive, verify, route and answer Catapult (Bandwidth Voice API v1) call callbacks."""

from importlib.metadata import PackageNotFoundError, version

from . import events
from .app import CallHooks, Dispatched
from .client import (
    AsyncCallHandle,
    AsyncClient,
    AuthenticationError,
    Call,
    CallHandle,
    Client,
    ConflictError,
    NotFoundError,
    PlatformError,
    RateLimitError,
    RetryPolicy,
)
from .events import CallEvent, parse_event, parse_event_json
from .receiver.inbound import CallbackRejected
from .receiver.monitoring import Monitor, Rejection
from .receiver.routing import Handler, HandlerKey, Router
from .signing import DEFAULT_MAX_AGE, CallbackSigner, TokenError, TokenProblem

try:
    __version__ = version("callhooks")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_MAX_AGE",
    "AsyncCallHandle",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "CallEvent",
    "CallHandle",
    "CallHooks",
    "CallbackRejected",
    "CallbackSigner",
    "Client",
    "ConflictError",
    "Dispatched",
    "Handler",
    "HandlerKey",
    "Monitor",
    "NotFoundError",
    "PlatformError",
    "RateLimitError",
    "Rejection",
    "RetryPolicy",
    "Router",
    "TokenError",
    "TokenProblem",
    "__version__",
    "events",
    "parse_event",
    "parse_event_json",
]
