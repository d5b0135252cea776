"""Alarms for callbacks still running after a while, on one loop timer per receiver instead of one per callback.

A callback arms two alarms that almost never ring: "this handler is slow" (at 80 % of ``callback_timeout``) and
"renew this event's lease in the store" (every third of the lease). Arming and cancelling a loop timer for each
costs about 2 µs per callback each on uvloop; here arming is a dict insert and cancelling a dict delete, and
the loop timer is re-armed only when a new alarm is due before the one it is set for (rarely: alarms of one
kind are armed in the order they fall due). When the timer rings it runs the alarms that are due and sets
itself for the earliest of the rest, so it rings about once per alarm interval while callbacks flow, and not at
all when none is running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["Alarm", "Watchdog"]

logger = logging.getLogger("callhooks")

#: Called with its ``args`` when due; returns the seconds until it is due again, or None when it is done.
AlarmFunction = Callable[..., "float | None"]


class Alarm:
    """One armed alarm; ``cancel()`` it when the work it watches is done (safe to call twice)."""

    __slots__ = ("_alarms", "args", "due", "function")

    def __init__(self, alarms: dict[Alarm, None], due: float, function: AlarmFunction, args: tuple[Any, ...]) -> None:
        self._alarms = alarms
        self.due = due
        self.function = function
        self.args = args

    def cancel(self) -> None:
        self._alarms.pop(self, None)


class Watchdog:
    """Alarms on the running event loop. It serves one loop at a time: used on another loop (a test client
    starting a new one), it starts over there, and alarms armed on the old loop stay with the old loop."""

    __slots__ = ("_alarms", "_loop", "_timer", "_timer_due")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._alarms: dict[Alarm, None] = {}  # an ordered set
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0

    def arm(self, after: float, function: AlarmFunction, *args: Any) -> Alarm:
        """Call ``function(*args)`` in ``after`` seconds (a little later under load), unless cancelled first."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._alarms, self._timer = loop, {}, None
        due = loop.time() + after
        alarm = Alarm(self._alarms, due, function, args)
        self._alarms[alarm] = None
        if self._timer is None or due < self._timer_due:
            self._set_timer(loop, due)
        return alarm

    def __len__(self) -> int:
        """How many alarms are armed on the current loop."""
        return len(self._alarms)

    def _set_timer(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(due, self._ring, loop, self._alarms)
        self._timer_due = due

    def _ring(self, loop: asyncio.AbstractEventLoop, alarms: dict[Alarm, None]) -> None:
        if alarms is not self._alarms:  # the watchdog moved to another loop: this one's alarms ring no more
            return
        self._timer = None
        now = loop.time()
        for alarm in [alarm for alarm in alarms if alarm.due <= now]:
            try:
                again = alarm.function(*alarm.args)
            except Exception:
                logger.exception("alarm %r failed", alarm.function)
                again = None
            if again is None:
                alarm.cancel()
            else:
                alarm.due = now + again
        if alarms:
            self._set_timer(loop, min(alarm.due for alarm in alarms))
