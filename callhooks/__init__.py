"""callhooks: receive, verify, route and answer Catapult (Bandwidth Voice API v1) call callbacks."""

from . import events
from .app import CallHooks
from .events import CallEvent, parse_event, parse_event_json
from .routing import Handler, HandlerKey, Router
from .signing import DEFAULT_MAX_AGE, CallbackSigner, TokenError, TokenProblem

__all__ = [
    "DEFAULT_MAX_AGE",
    "CallEvent",
    "CallHooks",
    "CallbackSigner",
    "Handler",
    "HandlerKey",
    "Router",
    "TokenError",
    "TokenProblem",
    "events",
    "parse_event",
    "parse_event_json",
]
