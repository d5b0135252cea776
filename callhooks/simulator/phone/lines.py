"""The phone: numbers a person answers by hand, and what that person does on a call.

Every method runs on the simulator's event loop (the control API's handlers do; tests use the test kit's
``SimulatorSession`` methods, which go through the control API). Errors are :class:`~..errors.ApiError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...rules import is_address
from ..behaviours import FarEnd
from ..errors import validation_error
from ..models import Call
from .changes import Changes
from .views import call_view

if TYPE_CHECKING:
    from ..simulator import Simulator

__all__ = ["MAX_PHONE_CALLS", "Phone"]

#: The newest calls of the phone the page's state carries.
MAX_PHONE_CALLS = 20


class Phone:
    """The far end by hand: claim numbers (their calls ring and wait), dial in, press keys, answer, hang up."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.changes = Changes()
        sim.engine.on_change = self.changes.bump

    # -- lines ------------------------------------------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        """The numbers a person answers (far end ``outcome: manual``), sorted."""
        return sorted(number for number, far_end in self.sim.behaviours.numbers.items() if far_end.is_manual)

    def claim(self, number: str) -> None:
        """Calls to (and from) ``number`` are driven by hand from now on: they ring until answered or rejected."""
        self._check_number(number)
        if number not in self.lines:
            self.sim.script(number, FarEnd.manual())
            self.changes.bump()

    def release(self, number: str) -> None:
        """``number`` follows the default far-end script again (a no-op when it was not claimed)."""
        if number in self.lines:
            del self.sim.behaviours.numbers[number]
            self.changes.bump()

    # -- calls --------------------------------------------------------------------------------------------------

    def dial(self, from_: str, to: str, *, callback_url: str | None = None, base_url: str | None = None) -> str:
        """Call the application from ``from_`` (claimed first) to our number ``to``; returns the call id.

        The call goes where ``POST /_sim/inbound`` sends it: ``callback_url``, else the owner of ``to``, else
        ``incoming_call_url``.
        """
        self._check_number(to)
        self.claim(from_)
        return self.sim.place_inbound_now(from_, to, callback_url=callback_url, base_url=base_url)

    def press(self, call_id: str, digits: str) -> None:
        """Press keys on an answered call: ``dtmf`` events, digits for a running gather."""
        self._act(call_id, lambda call: self.sim.engine.press(call, digits))

    def answer(self, call_id: str) -> None:
        """Answer a ringing outbound call."""
        self._act(call_id, self.sim.engine.far_end_answers)

    def reject(self, call_id: str) -> None:
        """Decline a ringing outbound call."""
        self._act(call_id, self.sim.engine.far_end_rejects)

    def hang_up(self, call_id: str) -> None:
        """Hang up (a ringing outbound call: reject it)."""
        self._act(call_id, self.sim.engine.far_end_hangs_up)

    def _act(self, call_id: str, action: Callable[[Call], None]) -> None:
        self.sim.clock.catch_up()
        action(self.sim.engine.get(call_id))
        self.sim.clock.catch_up()

    # -- what the page shows ------------------------------------------------------------------------------------

    def call(self, call_id: str) -> dict[str, object]:
        """One call as :func:`~.views.call_view` shows it (404 for an unknown id)."""
        return call_view(self.sim.engine.get(call_id), self.sim.clock)

    def calls(self) -> list[dict[str, object]]:
        """Every call, oldest first, as :func:`~.views.call_view` shows it."""
        return [call_view(call, self.sim.clock) for call in self.sim.engine.calls.values()]

    def state(self) -> dict[str, object]:
        """What the page shows: ``lines``, ``numbers`` (the account's, which the application answers) and the
        newest phone calls (newest first)."""
        ours = [call for call in self.sim.engine.calls.values() if call.far_end.is_manual]
        newest = sorted(ours, key=lambda call: call.seq, reverse=True)[:MAX_PHONE_CALLS]
        return {
            "lines": self.lines,
            "numbers": sorted(self.sim.applications.numbers),
            "calls": [call_view(call, self.sim.clock) for call in newest],
        }

    @staticmethod
    def _check_number(number: str) -> None:
        if not isinstance(number, str) or not is_address(number):
            message = "a phone number must be E.164 ('+' and 7 to 15 digits, e.g. +19195551212) or a 'sip:' URI"
            raise validation_error("number", str(number)[:100], message)
