"""Sending callback events the way the platform does (docs/platforms/catapult-voice.md#delivery).

* Each request is written by the platform's :class:`~.profile.CallbackEncoding` (Catapult: ``POST`` with a
  JSON body, or ``GET`` with the fields in the query string, per ``callbackHttpMethod``).
* Each request waits at most ``callbackTimeout`` *real* milliseconds (it is a network timeout, so the
  simulated clock's speed does not apply).
* A timeout, connection error or non-2xx answer counts as failed; the same event then goes to
  ``fallbackUrl`` once. Other retries are the platform's :class:`~.profile.DeliveryRules`: a request that
  could not connect sent again to the same URL, the Basic-auth challenge (none for Catapult).
* A URL whose host the simulator may not send to (:mod:`.callback_hosts`) is refused before any request:
  the attempt fails with the reason, and nothing is sent.
* Every failure is recorded in the shape of ``GET /v1/users/{userId}/errors``; a call without a
  ``callbackUrl`` records ``no-callback-for-call`` for each event instead.
* Events of one call go out one at a time, in the order they happened (a queue and a worker task per
  call); different calls are delivered concurrently.
* Faults on purpose (:mod:`.faults`): a :class:`~.faults.FaultPlan` decided when the event is produced may
  hold it back (reorder), send a copy alongside or after it (duplicates), or spoil its first attempt
  (``fallback_first``, ``drop_after_handler``). Every attempt records the copy it belongs to and the fault
  applied to it.

Each finished delivery is one INFO line on the ``callhooks.simulator.deliveries`` logger (what
``callhooks simulate`` shows): simulated time, call, event, state, tag, answer status and real milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .callback_hosts import CallbackHosts
from .clock import SimClock
from .errors import redact_url, redact_urls_in
from .faults import FaultInjector
from .ids import IdFactory
from .models import Delivery
from .payloads import EventBody
from .profile import CallbackEncoding, DeliveryRules

__all__ = ["Attempt", "Deliverer", "OnDelivered", "SentEvent"]

flow_log = logging.getLogger("callhooks.simulator.deliveries")
logger = logging.getLogger("callhooks.simulator")
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
    copy: int = 0  #: 0 for the event's own delivery, 1, 2 for duplicates
    fault: str | None = None  #: the fault applied to this attempt: ``fallback_first`` or ``drop_after_handler``
    late_status: int | None = None  #: ``fallback_first``: the answer that came after the simulator stopped waiting
    body: bytes = b""  #: the start of a reply that may be a document (REPLY_KEPT_BYTES at most)
    connect_failed: bool = False  #: no connection was made (the platform's rules may send it again)
    challenged: bool = False  #: the answer carried ``WWW-Authenticate`` (a Basic-auth challenge)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer that counted (not one a fault declared lost)."""
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def as_json(self) -> dict[str, object]:
        """The control API's view of this attempt."""
        return {
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "copy": self.copy,
            "fault": self.fault,
            "lateStatus": self.late_status,
        }


@dataclass
class SentEvent:
    """An event the simulator produced, with how its delivery went.

    ``outcome``: ``pending``, ``delivered``, ``fallback`` (delivered to the fallback URL), ``failed`` or
    ``no-callback`` (of the event's own delivery; duplicates' attempts are in ``attempts`` too).
    ``faults``: the faults decided for the event (see :mod:`.faults`); ``hold``: simulated seconds it was held
    back before delivery (reorder).
    """

    seq: int
    call_id: str
    time: str
    method: str
    event: EventBody
    outcome: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    faults: tuple[str, ...] = ()
    hold: float = 0.0

    def as_json(self) -> dict[str, object]:
        """The control API's view of this delivery."""
        return {
            "seq": self.seq,
            "callId": self.call_id,
            "time": self.time,
            "method": self.method,
            "outcome": self.outcome,
            "event": self.event,
            "faults": list(self.faults),
            "hold": self.hold,
            "attempts": [attempt.as_json() for attempt in self.attempts],
        }


#: Told when a delivery is over (delivered or failed), e.g. to run the BXML its reply holds.
OnDelivered = Callable[["SentEvent"], None]
_Queued = tuple["SentEvent", Delivery, "OnDelivered | None"]


class Deliverer:
    """Per-call ordered delivery over a shared ``httpx.AsyncClient`` (set by the simulator's lifespan), to the
    hosts ``hosts`` allows (default: loopback only), each request written by ``encoding`` and sent by ``rules``."""

    def __init__(
        self,
        clock: SimClock,
        ids: IdFactory,
        injector: FaultInjector | None = None,
        hosts: CallbackHosts | None = None,
        *,
        encoding: CallbackEncoding,
        rules: DeliveryRules | None = None,
        hold_clock: bool = False,
    ) -> None:
        self.clock = clock
        self.encoding = encoding
        self.rules = rules or DeliveryRules()
        self.hold_clock = hold_clock  # simulated time stands still while a callback waits for its answer
        self.ids = ids
        self.injector = injector or FaultInjector()
        self.hosts = hosts or CallbackHosts()
        self.client: httpx.AsyncClient | None = None
        self.sent: list[SentEvent] = []
        self.failures: list[dict[str, object]] = []
        self._queues: dict[str, deque[_Queued]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._held = 0  # events held back (reorder) and not yet queued
        self._released = asyncio.Event()
        self._released.set()
        self._late: set[asyncio.Task[Attempt]] = set()  # first attempts the simulator stopped waiting for

    def enqueue(
        self, call_id: str, event: EventBody, target: Delivery, on_delivered: OnDelivered | None = None
    ) -> None:
        """Queue ``event`` for delivery after the call's earlier events (or hold it back first: reorder);
        ``on_delivered(record)`` runs when its delivery is over, before the call's next event goes out (never
        for an event without a URL)."""
        plan = self.injector.plan(call_id, event, self.encoding.event_name(event))
        record = SentEvent(
            len(self.sent), call_id, self.clock.iso(), target.method, event, faults=plan.faults, hold=plan.hold
        )
        self.sent.append(record)
        if not target.url:
            record.outcome = "no-callback"
            self._fail(record, "no-callback-for-call", None, f"The call {call_id} has no callbackUrl")
            return
        if plan.hold > 0:
            self._held += 1
            self._released.clear()
            self.clock.schedule(plan.hold, lambda: self._release(record, target, on_delivered))
        else:
            self._queue(record, target, on_delivered)

    def request(
        self, call_id: str, event: EventBody, target: Delivery, on_reply: OnDelivered, *, wanted: Callable[[], bool]
    ) -> None:
        """Queue ``event`` as a request whose reply a document runner runs: ``on_reply(record)`` once its delivery is
        over and the clock caught up, if ``wanted()`` still (the call is up, its document did not move on). An
        exception in it is logged and kept in the clock's errors: it never stops the call's delivery worker."""

        def replied(record: SentEvent) -> None:
            try:
                self.clock.catch_up()
                if wanted():
                    on_reply(record)
            except Exception as exc:
                logger.exception("running the reply to a request of call %s failed; the simulation goes on", call_id)
                self.clock.errors.append(exc)

        self.enqueue(call_id, event, target, replied)

    def _release(self, record: SentEvent, target: Delivery, on_delivered: OnDelivered | None) -> None:
        self._held -= 1
        if not self._held:
            self._released.set()
        self._queue(record, target, on_delivered)

    def _queue(self, record: SentEvent, target: Delivery, on_delivered: OnDelivered | None = None) -> None:
        call_id = record.call_id
        self._queues.setdefault(call_id, deque()).append((record, target, on_delivered))
        self._idle.clear()
        if call_id not in self._workers:
            self._workers[call_id] = asyncio.get_running_loop().create_task(self._drain(call_id))

    async def wait_idle(self, timeout: float = 10.0, *, held: bool = False) -> bool:
        """Wait until no event is queued or in flight (and, with ``held``, none is held back either); False
        when ``timeout`` (real seconds) passed."""

        async def idle() -> None:
            while not (self._idle.is_set() and (self._released.is_set() or not held)):
                await self._idle.wait()
                if held:
                    await self._released.wait()

        try:
            await asyncio.wait_for(idle(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop the workers (events still queued are dropped)."""
        tasks = [*self._workers.values(), *self._late]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._late.clear()

    async def _drain(self, call_id: str) -> None:
        queue = self._queues[call_id]
        try:
            while queue:
                record, target, on_delivered = queue[0]
                await self._deliver_event(record, target)
                queue.popleft()
                _log_delivery(record, self.encoding.event_name(record.event))
                if on_delivered is not None:
                    on_delivered(record)
        finally:
            del self._workers[call_id]
            if not self._workers:
                self._idle.set()

    async def _deliver_event(self, record: SentEvent, target: Delivery) -> None:
        """The event's own delivery (with a concurrent copy, if planned), then a sequential copy, if planned."""
        late: list[tuple[Attempt, asyncio.Task[Attempt]]] = []
        own = self._deliver(record, target, 0, late)
        copies = 1
        if "concurrent_duplicate" in record.faults:
            record.outcome, _ = await asyncio.gather(own, self._deliver(record, target, copies, late))
            copies += 1
        else:
            record.outcome = await own
        for attempt, request in late:  # bounded by the request's own callbackTimeout
            answer = await request
            attempt.late_status, attempt.ms = answer.status, answer.ms
        if "duplicate" in record.faults:
            await self._deliver(record, target, copies, late)

    async def _deliver(
        self, record: SentEvent, target: Delivery, copy: int, late: list[tuple[Attempt, asyncio.Task[Attempt]]]
    ) -> str:
        """One delivery of the event: the callback URL, then the fallback URL if that failed; its outcome.

        The faults that spoil a first attempt apply to the event's own delivery (``copy`` 0) only.
        """
        assert target.url is not None
        faults = record.faults if copy == 0 else ()
        for index, url in enumerate((target.url, target.fallback_url)):
            if not url:
                break
            if index == 0 and "fallback_first" in faults:
                attempt = await self._stop_waiting(url, record.event, target, late)
            else:
                attempt = await self._attempt(url, record.event, target)
                for _ in range(self.rules.connect_retries):  # the platform sends it again to the same URL
                    if not attempt.connect_failed:
                        break
                    attempt.copy = copy
                    record.attempts.append(attempt)
                    attempt = await self._attempt(url, record.event, target)
                if index == 0 and "drop_after_handler" in faults and attempt.ok:
                    attempt.fault = "drop_after_handler"
                    attempt.error = f"connection dropped after the handler answered {attempt.status} (fault)"
            attempt.copy = copy
            record.attempts.append(attempt)
            if attempt.ok:
                return "delivered" if index == 0 else "fallback"
            reason = attempt.error or f"HTTP {attempt.status}"
            name = self.encoding.event_name(record.event)
            self._fail(record, "callback-failed", url, f"Sending the {name} event failed: {reason}")
        return "failed"

    async def _stop_waiting(
        self, url: str, event: EventBody, target: Delivery, late: list[tuple[Attempt, asyncio.Task[Attempt]]]
    ) -> Attempt:
        """A first attempt that "times out": sent, and given up on as soon as the request has been written.

        The request goes on in the background (its answer becomes ``late_status``) while the event goes to
        the fallback URL, as when a slow handler overruns ``callbackTimeout`` on the platform.
        """
        written = asyncio.Event()

        async def trace(name: str, info: Mapping[str, Any]) -> None:
            if name.endswith("send_request_body.complete"):
                written.set()

        request = asyncio.get_running_loop().create_task(self._attempt(url, event, target, trace))
        self._late.add(request)
        request.add_done_callback(self._late.discard)
        sent = asyncio.get_running_loop().create_task(written.wait())
        await asyncio.wait({request, sent}, return_when=asyncio.FIRST_COMPLETED)
        sent.cancel()
        if not written.is_set():  # it failed before it was even sent (e.g. connection refused)
            failed = request.result()
            failed.fault = "fallback_first"
            return failed
        attempt = Attempt(url, None, f"no response within {target.timeout_ms} ms (fault)", fault="fallback_first")
        late.append((attempt, request))
        return attempt

    async def _attempt(
        self, url: str, event: EventBody, target: Delivery, trace: Callable[[str, Any], Awaitable[None]] | None = None
    ) -> Attempt:
        started = time.perf_counter()
        attempt = await self._request(url, event, target, trace)
        attempt.ms = (time.perf_counter() - started) * 1000
        return attempt

    async def _request(
        self, url: str, event: EventBody, target: Delivery, trace: Callable[[str, Any], Awaitable[None]] | None
    ) -> Attempt:
        assert self.client is not None, "the simulator is not running (no lifespan startup yet)"
        refusal = await self.hosts.delivery_refusal(url)
        if refusal is not None:  # checked here too: BXML verb URLs and Python-configured URLs come this way only
            return Attempt(url, None, f"refused, nothing sent: {refusal}")
        if not self.hold_clock:
            return await self._send(url, event, target, trace)
        self.clock.hold()
        try:
            return await self._send(url, event, target, trace)
        finally:
            self.clock.release()

    async def _send(
        self, url: str, event: EventBody, target: Delivery, trace: Callable[[str, Any], Awaitable[None]] | None
    ) -> Attempt:
        credentials = target.credentials_for(url)
        if credentials is None or not self.rules.basic_challenge:
            return await self._send_once(url, event, target, credentials, trace)
        # the credentials go only in answer to a 401 that challenges for them (a 401 without one is final)
        attempt = await self._send_once(url, event, target, None, trace)
        if attempt.status == 401 and attempt.challenged:
            attempt = await self._send_once(url, event, target, credentials, trace)
        return attempt

    async def _send_once(
        self,
        url: str,
        event: EventBody,
        target: Delivery,
        credentials: tuple[str, str] | None,
        trace: Callable[[str, Any], Awaitable[None]] | None,
    ) -> Attempt:
        assert self.client is not None
        request = self.encoding.encode(url, event, target, credentials)
        extensions = {"trace": trace} if trace is not None else None
        try:
            response = await self.client.request(
                request.method,
                request.url,
                headers=request.headers,
                content=request.content,
                timeout=target.timeout_ms / 1000,
                extensions=extensions,
            )
        except httpx.TimeoutException:
            return Attempt(url, None, f"no response within {target.timeout_ms} ms")
        except httpx.HTTPError as exc:
            connect_failed = isinstance(exc, httpx.ConnectError)
            return Attempt(url, None, f"{type(exc).__name__}: {exc}", connect_failed=connect_failed)
        body = response.content[:REPLY_KEPT_BYTES] if self.encoding.keeps_reply(event, target) else b""
        challenged = "www-authenticate" in response.headers
        return Attempt(url, response.status_code, None, body=body, challenged=challenged)

    def report(self, record: SentEvent, code: str, url: str | None, message: str) -> None:
        """Add an entry about ``record`` to the errors list (e.g. a reply that was not valid BXML)."""
        self._fail(record, code, url, message)

    def _fail(self, record: SentEvent, code: str, url: str | None, message: str) -> None:
        details = [
            {"name": "callId", "value": record.call_id},
            {"name": "eventType", "value": self.encoding.event_name(record.event)},
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


def _log_delivery(record: SentEvent, name: str) -> None:
    if not flow_log.isEnabledFor(logging.INFO):
        return
    last = record.attempts[-1] if record.attempts else None
    answer = str(last.status) if last is not None and last.status is not None else record.outcome
    flow_log.info(
        "%s (simulated)  call=%s event=%s state=%s tag=%s status=%s ms=%.1f%s%s",
        record.time,
        record.call_id,
        name,
        record.event.get("callState", "-"),
        record.event.get("tag", "-"),
        answer,
        sum(attempt.ms for attempt in record.attempts),
        " (fallback)" if record.outcome == "fallback" else "",
        f" faults={','.join(record.faults)}" if record.faults else "",
    )
