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
    def sent(self) -> list[SentEvent]: ...
    @property
    def failures(self) -> list[dict[str, object]]: ...

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
        return json_response({"callId": call_id}, 201, {"Location": self.sim.urls.call_path(call_id)})

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
