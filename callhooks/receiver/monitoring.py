"""What the receiver tells its monitors (the console, the metrics, a user's audit) about each request it answers.

A :class:`Monitor` is registered with ``CallHooks.add_monitor``. Its methods run on the event loop, right where
things happen, so they must be quick and must not block; an exception in one is logged and ignored. With no
monitor registered none of the records below is built: watching costs nothing when nobody watches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

# The platform's typed event (a ``CallEvent`` on Catapult): monitors read what that platform's events carry.
Event = Any

__all__ = ["Dispatched", "HandlerRun", "Monitor", "Rejection"]


@dataclass(frozen=True)
class Dispatched:
    """What happened to one accepted event: given to observers (``CallHooks.add_observer``) and monitors."""

    event: Event
    handler: str | None  #: qualified name of the handler that ran, ``None`` when none ran (or a duplicate)
    status: int  #: HTTP status sent back to the platform
    duration: float  #: seconds from the request's arrival to the response
    method: str = "POST"  #: how the event arrived: ``POST`` (JSON body) or ``GET`` (query string)
    #: The wire payload exactly as received: the JSON body (POST) or the query string (GET). Verified by then.
    payload: bytes = b""
    response: Response | None = None  #: what was sent back (``None``: an empty 200)
    error: BaseException | None = None  #: what the handler raised, when it failed
    received: float = 0.0  #: when the request arrived, in seconds since the epoch
    duplicate: bool = False  #: a delivery of an event already handled (the guarantees answered it)
    #: The POST body's media type (``application/json`` or ``application/x-www-form-urlencoded``); ``""`` for GET.
    media_type: str = ""
    handler_seconds: float | None = None  #: how long the handler itself ran (``None`` when none ran here)


@dataclass
class HandlerRun:
    """How one handler run went, filled in by the receiver while it runs (for the ``Dispatched`` record)."""

    seconds: float | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Rejection:
    """A request refused before any handler ran: bad token, bad auth, bad body, and so on.

    Nothing in it was verified: ``payload`` is whatever the client sent (empty when it was refused before its
    body was read), kept so a person can see why it was refused. The token is never part of it.
    """

    status: int  #: HTTP status sent back
    reason: str  #: the machine-readable reason (``bad-signature``, ``invalid-event``, …)
    detail: str  #: the human-readable explanation sent in the body
    method: str
    client: str | None  #: ``host:port`` of the peer, when the server knows it
    received: float  #: seconds since the epoch
    payload: bytes = b""
    #: A Basic-auth challenge to a request that carried no credentials: the platform's usual first try (Bandwidth
    #: v2 sends its credentials only when challenged), not a sign of anything wrong.
    challenge: bool = False


class Monitor:
    """Sees every request the receiver answers. Subclass it and override what you need; each default does
    nothing. Register with ``CallHooks.add_monitor``."""

    def handler_started(self, event: Event, handler: str) -> None:
        """``handler`` (its qualified name) starts on ``event``."""

    def handler_finished(self, event: Event, handler: str, seconds: float, error: BaseException | None) -> None:
        """``handler`` finished ``event`` after ``seconds``; ``error`` is what it raised, if it failed."""

    def callback_dispatched(self, record: Dispatched) -> None:
        """An accepted event was answered (after the response was sent)."""

    def callback_rejected(self, record: Rejection) -> None:
        """A request was refused before a handler ran."""

    def background_retried(self, event: Event, handler: str, error: str) -> None:
        """A background run of ``handler`` on ``event`` failed with ``error``; it runs again after a backoff."""

    def background_failed(self, event: Event, handler: str, error: str) -> None:
        """A background event failed its last run: it is kept as a failed event (``hooks.failed_events``)."""
