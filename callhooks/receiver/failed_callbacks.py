"""Callbacks the receiver verified and then answered 5xx, kept as failed events so none is lost for good.

The platform delivers a callback once more (to the fallback URL) after a 5xx or a timeout, then gives up. A
callback answered 5xx (busy, store unavailable, shutting down, the handler failed, its session not JSON, its
background event not queued) is written to the store's failed events, beside the background events that failed
every run: ``callhooks failed list|show|replay|drop`` and ``hooks.failed_events`` manage both. A replay puts it
on the durable queue, and the receiver's background worker runs it through the guarantees again (a callback
handled meanwhile, say by the platform's retry, is a duplicate then and does not run again).

Only callbacks that passed verification get here: requests refused before it (bad token, bad signature, bad
body) are never written to the store. Writes happen after the response was sent, off the callback's path; while
the store is down they wait in memory, at most ``max_pending`` (the oldest go first, each logged), and are
written once it is back. The store keeps at most ``Limits.failed_max_items`` failed events (oldest dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.responses import Response

from ..catapult import CATAPULT
from ..platform import Event
from ..stores import Store
from .background import CALLBACK_PAYLOAD_KIND, queued_event
from .guarantees import DeliveryRefused

__all__ = ["DEFAULT_MAX_PENDING", "FailedCallbacks", "failed_callback", "refusal_reason"]

logger = logging.getLogger("callhooks")

#: Failed callbacks held in memory while the store cannot take them; beyond, the oldest is dropped (logged).
DEFAULT_MAX_PENDING: Final = 1000
#: Seconds between tries to write them while the store is down: doubling from the first, up to the second.
_RETRY_FIRST, _RETRY_MOST = 0.25, 5.0


def failed_callback(
    event: Event,
    *,
    method: str,
    received_at: float,
    handler: str,
    status: int,
    reason: str,
    platform: str = CATAPULT.name,
) -> dict[str, Any]:
    """The failed event's payload: what a background item holds (so a replay reads it back with
    ``background.read_queued``), marked as a callback, with the status and reason it was answered."""
    payload = queued_event(event, method=method, received_at=received_at, handler=handler, platform=platform)
    return {**payload, "kind": CALLBACK_PAYLOAD_KIND, "status": status, "reason": reason}


def refusal_reason(answer: Response | DeliveryRefused | None) -> str:
    """``error: detail`` from a refusal, or from a JSON answer's body (what the receiver's own 5xx bodies hold);
    else the status (an ``on_error`` hook's own answer, say)."""
    found: Any = None
    if isinstance(answer, DeliveryRefused):
        found = answer.body
    elif answer is not None:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            found = json.loads(bytes(answer.body))
    if isinstance(found, dict) and isinstance(found.get("error"), str):
        return f"{found['error']}: {found.get('detail', '')}"[:2000]
    status = answer.status if isinstance(answer, DeliveryRefused) else getattr(answer, "status_code", 200)
    return f"answered {status}"


class FailedCallbacks:
    """Writes failed callbacks to the store (``keep``), in the order they were answered, by one task that waits
    and tries again while the store is down. ``close`` writes what it can before the store closes."""

    def __init__(self, open_store: Callable[[], Awaitable[Store]], max_pending: int = DEFAULT_MAX_PENDING) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._open_store = open_store
        self.max_pending = max_pending
        self._pending: deque[dict[str, Any]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False  # shutting down: a refused write is the last try
        self._wake = asyncio.Event()  # cuts a pause between tries short (at shutdown)
        self.kept = 0  #: written to the store
        self.dropped = 0  #: dropped from memory (too many while the store was down, or left at shutdown)

    @property
    def pending(self) -> int:
        """Failed callbacks waiting to be written."""
        return len(self._pending)

    def keep(self, payload: dict[str, Any]) -> None:
        """Queue ``payload`` (``failed_callback``) to be written; returns at once (runs on the event loop)."""
        if len(self._pending) >= self.max_pending:
            self._lose(self._pending.popleft(), f"more than {self.max_pending} waited for the store")
        self._pending.append(payload)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="callhooks-failed-callbacks")

    def _lose(self, payload: dict[str, Any], why: str) -> None:
        self.dropped += 1
        fields = payload.get("fields") or {}
        logger.error(
            "failed callback not kept (%s): event %s of call %s answered %s (%s); fields %s",
            why,
            fields.get("eventType"),
            fields.get("callId"),
            payload.get("status"),
            payload.get("reason"),
            json.dumps(fields, sort_keys=True)[:2000],
        )

    async def _write(self) -> None:
        pause = _RETRY_FIRST
        waiting_logged = False
        while self._pending:
            payload = self._pending[0]
            try:
                store = await self._open_store()
                failed_id = await store.add_failed(payload, str(payload["reason"]), 1)
            except Exception as exc:  # the store is down (StoreUnavailable) or failing: try again after a pause
                if self._closing:
                    return  # close() logs what is left
                if not waiting_logged:
                    logger.warning("%d failed callbacks wait for the store to be kept: %s", len(self._pending), exc)
                    waiting_logged = True
                self._wake.clear()
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
                pause = min(_RETRY_MOST, pause * 2)
                continue
            pause, waiting_logged = _RETRY_FIRST, False
            if self._pending and self._pending[0] is payload:  # not dropped for room meanwhile
                self._pending.popleft()
            self.kept += 1
            fields = payload.get("fields") or {}
            logger.info(  # the 5xx itself was logged where it was answered
                "callback %s of call %s answered %s (%s): kept as failed event %s (callhooks failed show %s)",
                fields.get("eventType"),
                fields.get("callId"),
                payload.get("status"),
                payload.get("reason"),
                failed_id,
                failed_id,
            )

    async def close(self, timeout: float) -> None:
        """Write what waits (the store still open) within ``timeout`` seconds, stopping at the first write the
        store refuses: what is left is logged as not kept."""
        writer = self._writer
        self._closing = True
        self._wake.set()
        if writer is not None and not writer.done():
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), timeout)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        self._writer = None
        while self._pending:
            self._lose(self._pending.popleft(), "the receiver stopped before the store took it")
        self._closing = False  # the app may be started again
