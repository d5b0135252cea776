"""Sending callback events the way the platform does (catapult-voice.md §1).

* ``POST`` with a JSON body, or ``GET`` with the fields in the query string, per ``callbackHttpMethod``.
* Each request waits at most ``callbackTimeout`` *real* milliseconds (it is a network timeout, so the
  simulated clock's speed does not apply).
* A timeout, connection error or non-2xx answer counts as failed; the same event then goes to
  ``fallbackUrl`` once. There are no other retries (none are documented).
* Every failure is recorded in the shape of ``GET /v1/users/{userId}/errors``; a call without a
  ``callbackUrl`` records ``no-callback-for-call`` for each event instead.
* Events of one call go out one at a time, in the order they happened (a queue and a worker task per
  call); different calls are delivered concurrently.

Each finished delivery is one INFO line on the ``callhooks.simulator.deliveries`` logger (what
``callhooks simulate`` shows): simulated time, call, event, state, tag, answer status and real milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..events import encode_query
from .clock import SimClock
from .errors import redact_url, redact_urls_in
from .ids import IdFactory
from .models import Delivery
from .payloads import EventBody

__all__ = ["USER_AGENT", "Attempt", "Deliverer", "OnDelivered", "SentEvent"]

USER_AGENT = "BandwidthAPI/v1 (callhooks-simulator)"
flow_log = logging.getLogger("callhooks.simulator.deliveries")
# The reply body of a GET callback is kept (it may be BXML to run) up to this many bytes: one past the
# platform's 16 KB document limit, so an oversized reply is still recognised as such.
REPLY_KEPT_BYTES = 16 * 1024 + 1


@dataclass
class Attempt:
    """One HTTP request of a delivery."""

    url: str
    status: int | None
    error: str | None
    ms: float = 0.0  #: real milliseconds until the answer (or the failure)
    body: bytes = b""  #: the start of the reply of a GET callback (REPLY_KEPT_BYTES at most)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class SentEvent:
    """An event the simulator produced, with how its delivery went.

    ``outcome``: ``pending``, ``delivered``, ``fallback`` (delivered to the fallback URL), ``failed`` or
    ``no-callback``.
    """

    seq: int
    call_id: str
    time: str
    method: str
    event: EventBody
    outcome: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The control API's view of this delivery."""
        return {
            "seq": self.seq,
            "callId": self.call_id,
            "time": self.time,
            "method": self.method,
            "outcome": self.outcome,
            "event": self.event,
            "attempts": [{"url": a.url, "status": a.status, "error": a.error} for a in self.attempts],
        }


#: Told when a delivery is over (delivered or failed), e.g. to run the BXML its reply holds.
OnDelivered = Callable[["SentEvent"], None]


class Deliverer:
    """Per-call ordered delivery over a shared ``httpx.AsyncClient`` (set by the simulator's lifespan)."""

    def __init__(self, clock: SimClock, ids: IdFactory) -> None:
        self.clock = clock
        self.ids = ids
        self.client: httpx.AsyncClient | None = None
        self.sent: list[SentEvent] = []
        self.failures: list[dict[str, object]] = []
        self._queues: dict[str, deque[tuple[SentEvent, Delivery, OnDelivered | None]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def enqueue(
        self, call_id: str, event: EventBody, target: Delivery, on_delivered: OnDelivered | None = None
    ) -> None:
        """Queue ``event`` for delivery after the call's earlier events; ``on_delivered(record)`` runs when
        its delivery is over, before the call's next event goes out (never for an event without a URL)."""
        record = SentEvent(len(self.sent), call_id, self.clock.iso(), target.method, event)
        self.sent.append(record)
        if not target.url:
            record.outcome = "no-callback"
            self._fail(record, "no-callback-for-call", None, f"The call {call_id} has no callbackUrl")
            return
        self._queues.setdefault(call_id, deque()).append((record, target, on_delivered))
        self._idle.clear()
        if call_id not in self._workers:
            self._workers[call_id] = asyncio.get_running_loop().create_task(self._drain(call_id))

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no event is queued or in flight; False when ``timeout`` (real seconds) passed."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop the workers (events still queued are dropped)."""
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    async def _drain(self, call_id: str) -> None:
        queue = self._queues[call_id]
        try:
            while queue:
                record, target, on_delivered = queue[0]
                await self._deliver(record, target)
                queue.popleft()
                _log_delivery(record)
                if on_delivered is not None:
                    on_delivered(record)
        finally:
            del self._workers[call_id]
            if not self._workers:
                self._idle.set()

    async def _deliver(self, record: SentEvent, target: Delivery) -> None:
        assert target.url is not None
        for url in (target.url, target.fallback_url):
            if not url:
                break
            attempt = await self._attempt(url, record.event, target)
            record.attempts.append(attempt)
            if attempt.ok:
                record.outcome = "delivered" if url == target.url else "fallback"
                return
            reason = attempt.error or f"HTTP {attempt.status}"
            self._fail(
                record, "callback-failed", url, f"Sending the {record.event['eventType']} event failed: {reason}"
            )
        record.outcome = "failed"

    async def _attempt(self, url: str, event: EventBody, target: Delivery) -> Attempt:
        started = time.perf_counter()
        attempt = await self._request(url, event, target)
        attempt.ms = (time.perf_counter() - started) * 1000
        return attempt

    async def _request(self, url: str, event: EventBody, target: Delivery) -> Attempt:
        assert self.client is not None, "the simulator is not running (no lifespan startup yet)"
        timeout = target.timeout_ms / 1000
        try:
            if target.method == "GET":
                joiner = "&" if "?" in url else "?"
                response = await self.client.get(
                    url + joiner + encode_query(event), headers={"User-Agent": USER_AGENT}, timeout=timeout
                )
            else:
                response = await self.client.post(
                    url,
                    content=json.dumps(event).encode(),
                    headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
                    timeout=timeout,
                )
        except httpx.TimeoutException:
            return Attempt(url, None, f"no response within {target.timeout_ms} ms")
        except httpx.HTTPError as exc:
            return Attempt(url, None, f"{type(exc).__name__}: {exc}")
        body = response.content[:REPLY_KEPT_BYTES] if target.method == "GET" else b""
        return Attempt(url, response.status_code, None, body=body)

    def report(self, record: SentEvent, code: str, url: str | None, message: str) -> None:
        """Add an entry about ``record`` to the errors list (e.g. a reply that was not valid BXML)."""
        self._fail(record, code, url, message)

    def _fail(self, record: SentEvent, code: str, url: str | None, message: str) -> None:
        details = [
            {"name": "callId", "value": record.call_id},
            {"name": "eventType", "value": str(record.event["eventType"])},
        ]
        if url is not None:  # the callback URL carries a token and maybe a password: never shown whole
            details.append({"name": "url", "value": redact_url(url)})
        self.failures.append(
            {
                "id": self.ids.new("ue"),
                "time": self.clock.iso(),
                "category": "not-found" if code == "no-callback-for-call" else "unavailable",
                "code": code,
                "message": redact_urls_in(message),
                "details": details,
            }
        )


def _log_delivery(record: SentEvent) -> None:
    if not flow_log.isEnabledFor(logging.INFO):
        return
    last = record.attempts[-1] if record.attempts else None
    answer = str(last.status) if last is not None and last.status is not None else record.outcome
    flow_log.info(
        "%s (simulated)  call=%s event=%s state=%s tag=%s status=%s ms=%.1f%s",
        record.time,
        record.call_id,
        record.event.get("eventType"),
        record.event.get("callState", "-"),
        record.event.get("tag", "-"),
        answer,
        sum(attempt.ms for attempt in record.attempts),
        " (fallback)" if record.outcome == "fallback" else "",
    )
