"""The control API under ``/_sim``: script far ends, place inbound calls, drive and inspect the simulator.

Same Basic auth as the REST API, never rate limited. Each endpoint is one call to the simulator's Python API
(:class:`SimulatorControls`). Endpoints:

* ``GET /_sim/behaviours`` — the far-end script ``{"default": {...}, "numbers": {number: {...}}}``.
* ``POST /_sim/behaviours`` — merge a script of that shape (the scenario-file structure: a new ``default``
  starts from the current one, each number from the ``default``); ``DELETE`` resets to the built-in default.
* ``POST /_sim/inbound`` ``{"from", "to", "callbackUrl"?, "callbackHttpMethod"?, "fallbackUrl"?,
  "autoAnswer"?, "diversion"?}`` — an inbound call to the configured ``incomingCallUrl`` (or
  ``callbackUrl``); ``diversion`` is echoed on ``incomingcall``/``answer``. 201 ``{"callId"}`` + ``Location``.
* ``GET /_sim/events[?callId=…]`` — every event produced, with its delivery attempts and outcome.
* ``GET /_sim/failures`` — failed deliveries (as ``GET /v1/users/{userId}/errors``, oldest first).
* ``GET /_sim/clock`` — ``{"now", "time", "speed", "manual"}``.
* ``POST /_sim/clock/advance`` ``{"seconds", "settle"?}`` — move simulated time; with ``settle`` the
  callbacks of each fired timer are delivered before the next fires.
* ``POST /_sim/settle`` ``{"timeout"?}`` — wait (real seconds) until every queued callback is delivered.
* ``GET /_sim/faults`` — the delivery faults in force and the seed in use (:class:`~.faults.Faults` as JSON).
* ``PUT /_sim/faults`` (or ``POST``) — replace them (the scenario file's ``faults:`` structure; decisions
  restart from its ``seed`` when it gives one); ``DELETE`` turns them all off.

The phone (a person, or a test, as the far end of calls; the page at ``/_sim/phone`` does all of this):

* ``GET /_sim/calls`` — every call, oldest first: ``{"callId", "direction", "from", "to", "state", "phone",
  "startTime", "answerTime", "endTime", "playing", "gather", "heard": [{"time", "kind", "text"}], "heardTotal"}``;
  ``heard`` is what its far end heard and did: ``speak`` (the sentence), ``play`` (the audio URL), ``gather``,
  ``gathered``, ``key``, ``tones``, ``verb`` (another BXML verb), ``state``. ``GET /_sim/calls/{callId}`` — one.
* ``POST /_sim/calls/{callId}/dtmf`` ``{"digits"}`` — the far end presses keys (``dtmf`` events; digits for a
  running gather). 403 ``call-invalid-state`` unless the call is answered.
* ``POST /_sim/calls/{callId}/answer`` / ``…/reject`` — the callee of a ringing outbound call answers / declines
  (``CALL_REJECTED``); 403 for any other call.
* ``POST /_sim/calls/{callId}/hangup`` — the far end hangs up (``NORMAL_CLEARING``; a ringing outbound call is
  rejected, a ringing inbound caller gives up with ``ORIGINATOR_CANCEL``).
* ``GET /_sim/phone/lines`` — the numbers that ring on the phone; ``POST /_sim/phone/lines`` ``{"number"}`` —
  calls to that number ring and wait for ``answer``/``reject`` (or their ``callTimeout``) instead of following a
  script (its far end becomes ``{"outcome": "manual"}``); ``DELETE /_sim/phone/lines/{number}`` — back to the script.
* ``POST /_sim/phone/dial`` ``{"from", "to", "callbackUrl"?}`` — call the application from ``from`` (made a phone
  line) to ``to``, as ``POST /_sim/inbound`` does. 201 ``{"callId"}``.
* ``GET /_sim/phone`` — the page; ``GET /_sim/phone/state`` — what it shows (``lines``, ``numbers``: the
  account's numbers, ``calls``: the newest phone calls); ``GET /_sim/phone/stream`` — that state as a
  server-sent event after every change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .behaviours import Behaviours, FarEnd, Scenario
from .delivery import SentEvent
from .errors import validation_error
from .faults import Faults
from .params import Fields
from .phone import Phone
from .profile import SimulatorProfile
from .urls import Urls
from .web import Handler, json_response, read_json

__all__ = ["ControlApi", "SimulatorControls"]


class SimulatorControls(Protocol):
    """The part of :class:`~callhooks.simulator.Simulator`'s Python API the control endpoints call."""

    @property
    def behaviours(self) -> Behaviours: ...
    @property
    def urls(self) -> Urls: ...
    @property
    def profile(self) -> SimulatorProfile: ...
    @property
    def sent(self) -> list[SentEvent]: ...
    @property
    def failures(self) -> list[dict[str, object]]: ...
    @property
    def phone(self) -> Phone: ...

    def script(self, number: str, far_end: FarEnd) -> None: ...
    def script_default(self, far_end: FarEnd) -> None: ...
    def reset_scripts(self) -> None: ...
    def place_inbound_now(
        self,
        from_: str,
        to: str,
        *,
        callback_url: str | None = None,
        method: str | None = None,
        fallback_url: str | None = None,
        auto_answer: bool | None = None,
        diversion: dict[str, Any] | None = None,
        base_url: str | None = None,
    ) -> str: ...
    def clock_state(self) -> dict[str, object]: ...
    def set_faults(self, faults: Faults | None) -> None: ...
    def faults_state(self) -> dict[str, object]: ...
    async def advance(self, seconds: float, *, settle: bool = False) -> float: ...
    async def settle(self, timeout: float = 10.0) -> bool: ...


class ControlApi:
    """HTTP adapter over a simulator's Python API; ``base_of(request)`` gives scheme and host for URLs."""

    def __init__(self, sim: SimulatorControls, *, base_of: Callable[[Request], str]) -> None:
        self.sim = sim
        self.base_of = base_of

    def routes(self, wrap: Callable[[Handler], Handler]) -> list[Route]:
        """Starlette routes under ``/_sim``; ``wrap`` adds auth."""
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/_sim/behaviours", self.get_behaviours),
            ("POST", "/_sim/behaviours", self.set_behaviours),
            ("PUT", "/_sim/behaviours", self.set_behaviours),
            ("DELETE", "/_sim/behaviours", self.reset_behaviours),
            ("POST", "/_sim/inbound", self.inbound),
            ("GET", "/_sim/events", self.events),
            ("GET", "/_sim/failures", self.failures),
            ("GET", "/_sim/clock", self.clock),
            ("POST", "/_sim/clock/advance", self.advance),
            ("POST", "/_sim/settle", self.settle),
            ("GET", "/_sim/faults", self.get_faults),
            ("PUT", "/_sim/faults", self.set_faults),
            ("POST", "/_sim/faults", self.set_faults),
            ("DELETE", "/_sim/faults", self.clear_faults),
            ("GET", "/_sim/calls", self.calls),
            ("GET", "/_sim/calls/{call_id}", self.call),
            ("POST", "/_sim/calls/{call_id}/dtmf", self.press),
            ("POST", "/_sim/calls/{call_id}/answer", self.answer),
            ("POST", "/_sim/calls/{call_id}/reject", self.reject),
            ("POST", "/_sim/calls/{call_id}/hangup", self.hang_up),
            ("GET", "/_sim/phone/lines", self.lines),
            ("POST", "/_sim/phone/lines", self.claim_line),
            ("DELETE", "/_sim/phone/lines/{number}", self.release_line),
            ("POST", "/_sim/phone/dial", self.dial),
        ]
        return [Route(path, wrap(handler), methods=[method]) for method, path, handler in table]

    async def get_behaviours(self, request: Request) -> Response:
        """The current far-end script."""
        return json_response(self.sim.behaviours.as_json())

    async def set_behaviours(self, request: Request) -> Response:
        """Merge ``default`` and/or ``numbers`` into the script."""
        body = await read_json(request)
        script = {k: v for k, v in body.items() if k in ("default", "numbers")}
        try:
            scenario = Scenario.from_mapping(script, base=self.sim.behaviours.default)
        except (TypeError, ValueError) as exc:
            raise validation_error("behaviours", "", f"Invalid far-end script: {exc}") from None
        if "default" in body:
            self.sim.script_default(scenario.behaviours.default)
        for number, far_end in scenario.behaviours.numbers.items():
            self.sim.script(number, far_end)
        return json_response(self.sim.behaviours.as_json())

    async def reset_behaviours(self, request: Request) -> Response:
        """Back to the built-in default far end and no per-number scripts."""
        self.sim.reset_scripts()
        return json_response(self.sim.behaviours.as_json())

    async def inbound(self, request: Request) -> Response:
        """Place an inbound call."""
        f = Fields(await read_json(request))
        from_ = f.address("from", required=True)
        to = f.address("to", required=True)
        assert from_ is not None and to is not None
        call_id = self.sim.place_inbound_now(
            from_,
            to,
            callback_url=f.url("callbackUrl"),
            method=f.choice("callbackHttpMethod", ("POST", "GET")),
            fallback_url=f.url("fallbackUrl"),
            auto_answer=f.boolean("autoAnswer"),
            diversion=f.mapping("diversion"),
            base_url=self.base_of(request),
        )
        return json_response({"callId": call_id}, 201, {"Location": self.sim.profile.call_path(call_id)})

    async def events(self, request: Request) -> Response:
        """Every event produced so far, oldest first."""
        call_id = request.query_params.get("callId")
        return json_response([s.as_json() for s in self.sim.sent if call_id in (None, s.call_id)])

    async def failures(self, request: Request) -> Response:
        """Failed deliveries, oldest first."""
        return json_response(self.sim.failures)

    async def clock(self, request: Request) -> Response:
        """The simulated time."""
        return json_response(self.sim.clock_state())

    async def advance(self, request: Request) -> Response:
        """Move simulated time forward."""
        f = Fields(await read_json(request))
        seconds = f.number("seconds", None, 0)
        if seconds is None:
            raise validation_error("seconds", "", "'seconds' is required")
        await self.sim.advance(seconds, settle=bool(f.boolean("settle", False)))
        return json_response(self.sim.clock_state())

    async def settle(self, request: Request) -> Response:
        """Wait until every queued callback is delivered."""
        timeout = Fields(await read_json(request)).number("timeout", 10.0, 0) or 10.0
        return json_response({"idle": await self.sim.settle(timeout)})

    async def get_faults(self, request: Request) -> Response:
        """The delivery faults in force."""
        return json_response(self.sim.faults_state())

    async def set_faults(self, request: Request) -> Response:
        """Replace the delivery faults."""
        try:
            faults = Faults.from_mapping(await read_json(request))
        except (TypeError, ValueError) as exc:
            raise validation_error("faults", "", f"Invalid faults: {exc}") from None
        self.sim.set_faults(faults)
        return json_response(self.sim.faults_state())

    async def clear_faults(self, request: Request) -> Response:
        """Turn every delivery fault off."""
        self.sim.set_faults(None)
        return json_response(self.sim.faults_state())

    # -- the phone ------------------------------------------------------------------------------------------------

    async def calls(self, request: Request) -> Response:
        """Every call with what its far end heard."""
        return json_response(self.sim.phone.calls())

    async def call(self, request: Request) -> Response:
        """One call with what its far end heard."""
        return json_response(self.sim.phone.call(request.path_params["call_id"]))

    async def press(self, request: Request) -> Response:
        """The far end presses keys."""
        digits = Fields(await read_json(request)).string("digits", required=True)
        assert digits is not None
        call_id = request.path_params["call_id"]
        self.sim.phone.press(call_id, digits)
        return json_response(self.sim.phone.call(call_id))

    async def answer(self, request: Request) -> Response:
        """The callee of a ringing outbound call answers."""
        return self._act(request, self.sim.phone.answer)

    async def reject(self, request: Request) -> Response:
        """The callee of a ringing outbound call declines it."""
        return self._act(request, self.sim.phone.reject)

    async def hang_up(self, request: Request) -> Response:
        """The far end hangs up."""
        return self._act(request, self.sim.phone.hang_up)

    def _act(self, request: Request, action: Callable[[str], None]) -> Response:
        call_id = request.path_params["call_id"]
        action(call_id)
        return json_response(self.sim.phone.call(call_id))

    async def lines(self, request: Request) -> Response:
        """The numbers that ring on the phone."""
        return json_response({"lines": self.sim.phone.lines})

    async def claim_line(self, request: Request) -> Response:
        """Calls to a number ring on the phone."""
        number = Fields(await read_json(request)).address("number", required=True)
        assert number is not None
        self.sim.phone.claim(number)
        return json_response({"lines": self.sim.phone.lines})

    async def release_line(self, request: Request) -> Response:
        """A number follows its script again."""
        self.sim.phone.release(request.path_params["number"])
        return json_response({"lines": self.sim.phone.lines})

    async def dial(self, request: Request) -> Response:
        """Call the application from the phone."""
        f = Fields(await read_json(request))
        from_ = f.address("from", required=True)
        to = f.address("to", required=True)
        assert from_ is not None and to is not None
        callback_url = f.url("callbackUrl")
        call_id = self.sim.phone.dial(from_, to, callback_url=callback_url, base_url=self.base_of(request))
        return json_response({"callId": call_id}, 201, {"Location": self.sim.profile.call_path(call_id)})
