"""The simulator's own clock: a simulated timeline with timers, running fast or only when told.

Simulated time is a number of seconds since ``epoch``. Everything the engine does happens inside a timer
callback or a request handler, and both see one consistent ``now()``:

* **Speed mode** (``speed=100``): simulated time follows the real monotonic clock times ``speed``. A driver
  task sleeps until the next timer is due; request handlers call :meth:`SimClock.catch_up` first so that
  timers that are already due fire before the request acts (the timeline never runs backwards).
* **Manual mode** (``speed=None``): time stands still until :meth:`SimClock.advance` moves it; what is
  due at the current instant still happens when a request is handled.
* **Holds** (speed mode): while anything holds the clock (:meth:`SimClock.hold`), simulated time stands still
  and resumes where it stopped when the last hold is released. The test kit holds it while a callback waits
  for the receiver's answer, so a slow (or busy) receiver machine never changes a call's simulated timeline.

Timers fire in order of due time, ties in the order they were scheduled, and while a timer fires ``now()``
is exactly its due time. That makes the events of a call a pure function of the script and the requests.

A timer callback that raises is logged and kept in :attr:`SimClock.errors`; the clock goes on with the next
timer, so one broken call never stops the others (nor the driver task, which would die silently).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

from ..events import format_time

__all__ = ["SimClock", "Timer"]

logger = logging.getLogger("callhooks.simulator")


class Timer:
    """A scheduled callback; :meth:`cancel` stops it from firing."""

    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], object]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Prevent the callback from running (harmless if it already ran)."""
        self.cancelled = True


class SimClock:
    """Simulated time with a speed factor (``speed=None`` for manual mode).

    ``epoch`` is the wall-clock instant of simulated second 0 (default: now, truncated to milliseconds).
    """

    def __init__(self, speed: float | None = 1.0, epoch: datetime | None = None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for a manual clock)")
        self.speed = speed
        start = epoch or datetime.now(timezone.utc)
        self.epoch = start.replace(microsecond=start.microsecond // 1000 * 1000)
        self._now = 0.0
        self._sim_anchor = 0.0
        self._real_anchor = time.monotonic()
        self._holds = 0
        self._held_at = 0.0  # the real instant the first of the current holds began
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._firing = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.errors: list[Exception] = []
        """Exceptions raised by timer callbacks, oldest first (each was logged and the clock went on)."""

    @property
    def manual(self) -> bool:
        """True when time only moves through :meth:`advance`."""
        return self.speed is None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the clock (and so the whole simulator) runs on, once bound."""
        return self._loop

    def now(self) -> float:
        """Current simulated seconds since ``epoch``."""
        return self._now

    def datetime(self, at: float | None = None) -> datetime:
        """The wall-clock instant of simulated second ``at`` (default: now)."""
        return self.epoch + timedelta(seconds=self._now if at is None else at)

    def iso(self, at: float | None = None) -> str:
        """``at`` (default now) as an event timestamp, e.g. ``2019-03-14T15:09:26.535Z``."""
        return format_time(self.datetime(at))

    def epoch_ms(self, at: float | None = None) -> int:
        """``at`` (default now) as epoch milliseconds (the ``X-RateLimit-Reset`` form)."""
        return int(self.datetime(at).timestamp() * 1000)

    def schedule(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` ``delay`` simulated seconds from now."""
        timer = Timer(self._now + max(0.0, delay), callback)
        heapq.heappush(self._heap, (timer.due, next(self._seq), timer))
        if self._wake is not None:
            self._wake.set()  # the driver may be sleeping towards a later timer
        return timer

    def next_due(self) -> float | None:
        """Due time of the earliest pending timer, if any."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def catch_up(self) -> None:
        """Fire every timer that is due: by the real clock (speed mode) or at the current instant (manual
        mode, where this runs what was scheduled with no delay, e.g. an immediate answer)."""
        self._run_until(self._now if self.speed is None else self._real_target())

    async def advance(self, seconds: float, settle: Callable[[], Awaitable[None]] | None = None) -> float:
        """Move time forward ``seconds``, firing the timers on the way; returns the new ``now()``.

        ``settle`` is awaited after each timer fires (the simulator passes "wait until callbacks are
        delivered"), so receivers can react at the simulated instant of each event. Safe to call from
        another thread's event loop: the work is handed to the clock's own loop.
        """
        if seconds < 0:
            raise ValueError("cannot move time backwards")
        owner = self._loop
        if owner is not None and owner is not asyncio.get_running_loop() and owner.is_running():
            future = asyncio.run_coroutine_threadsafe(self._advance(seconds, settle), owner)
            return await asyncio.wrap_future(future)
        return await self._advance(seconds, settle)

    async def _advance(self, seconds: float, settle: Callable[[], Awaitable[None]] | None) -> float:
        if self.speed is not None:
            self._sim_anchor += seconds
            target = self._real_target()
        else:
            target = self._now + seconds
        while settle is not None and (due := self.next_due()) is not None and due <= target:
            self._run_until(due)
            await settle()
        self._run_until(target)
        if settle is not None:
            # Also deliver what was queued before this call or fired at ``target`` itself: "advance and
            # settle" promises that every callback up to the new instant has been delivered.
            await settle()
        return self._now

    def hold(self) -> None:
        """Stop simulated time until :meth:`release` (holds nest: time resumes when the last one ends). A manual
        clock stands still anyway: there this does nothing."""
        if self.speed is None:
            return
        if self._holds == 0:
            self._held_at = time.monotonic()
        self._holds += 1

    def release(self) -> None:
        """End one :meth:`hold`; after the last, time goes on from where it stopped (the held span is skipped)."""
        if self.speed is None:
            return
        if self._holds <= 0:
            raise RuntimeError("release() without a hold")
        self._holds -= 1
        if self._holds == 0:
            self._real_anchor += time.monotonic() - self._held_at
            if self._wake is not None:
                self._wake.set()  # the driver slept without a deadline while time stood still

    @property
    def held(self) -> bool:
        """True while simulated time stands still for a hold."""
        return self._holds > 0

    def _real_target(self) -> float:
        assert self.speed is not None
        real = self._held_at if self._holds else time.monotonic()
        return self._sim_anchor + (real - self._real_anchor) * self.speed

    def _run_until(self, target: float) -> None:
        if self._firing:  # a callback that (indirectly) asks to catch up: the outer loop continues
            return
        self._firing = True
        try:
            while (due := self.next_due()) is not None and due <= target:
                _, _, timer = heapq.heappop(self._heap)
                self._now = max(self._now, due)
                try:
                    timer.callback()
                except Exception as exc:  # a bug in one action must not stop time for every call
                    logger.exception("simulated action at t=%.3f failed; the simulation goes on", due)
                    self.errors.append(exc)
            self._now = max(self._now, target)
        finally:
            self._firing = False

    def bind(self) -> None:
        """Attach to the running event loop (called by the simulator's lifespan)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Speed mode driver: sleep until the next timer is due, fire it, repeat (until cancelled)."""
        if self._wake is None:
            self.bind()
        assert self._wake is not None and self.speed is not None
        while True:
            self._wake.clear()
            self.catch_up()
            due = self.next_due()
            # While held, nothing falls due: sleep until a release (or a new timer) wakes the driver.
            delay = None if due is None or self._holds else max(0.0, (due - self._now) / self.speed)
            # asyncio.TimeoutError: the builtin TimeoutError is only its alias from 3.11 on
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
