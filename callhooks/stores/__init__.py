"""Stores behind the delivery guarantees (exactly-once handling, per-call order, call sessions, background
handlers, failed events, token binding) and the console's journal: ``memory://``, ``sqlite:///...`` and
``redis://...`` behind one interface (``Store``), and the guarantees' core logic written once against it."""

from .base import (
    Admission,
    Admitted,
    Claim,
    FailedEvent,
    Limits,
    OnceRecord,
    QueueItem,
    Store,
    StoreHealth,
    StoreStats,
)
from .errors import SessionValueError, StoreUnavailable, TurnTimeout
from .once import Once, run_once
from .opening import DEFAULT_STORE_URL, check_store_url, open_store
from .order import call_turn
from .retry import BackgroundRetry, RetryPolicy, process_due_items

__all__ = [
    "DEFAULT_STORE_URL",
    "Admission",
    "Admitted",
    "BackgroundRetry",
    "Claim",
    "FailedEvent",
    "Limits",
    "Once",
    "OnceRecord",
    "QueueItem",
    "RetryPolicy",
    "SessionValueError",
    "Store",
    "StoreHealth",
    "StoreStats",
    "StoreUnavailable",
    "TurnTimeout",
    "call_turn",
    "check_store_url",
    "open_store",
    "process_due_items",
    "run_once",
]
