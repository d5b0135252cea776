"""The control API under ``/_sim``: script far ends, place inbound calls, drive and inspect the simulator.

Same Basic auth as the REST API, never rate limited. Endpoints:

* ``GET /_sim/behaviours`` — the far-end script ``{"default": {...}, "numbers": {number: {...}}}``.
* ``POST /_sim/behaviours`` — merge a script of that shape (the scenario-file structure); ``DELETE``
  resets to the built-in default.
* ``POST /_sim/inbound`` ``{"from", "to", "callbackUrl"?, "callbackHttpMethod"?, "fallbackUrl"?,
  "autoAnswer"?, "diversion"?}`` — an inbound call to the configured ``incomingCallUrl`` (or
  ``callbackUrl``); ``diversion`` is echoed on ``incomingcall``/``answer``. 201 ``{"callId"}`` + ``Location``.
* ``GET /_sim/events[?callId=…]`` — every event produced, with its delivery attempts and outcome.
* ``GET /_sim/failures`` — failed deliveries (as ``GET /v1/users/{userId}/errors``, oldest first).
* ``GET /_sim/clock`` — ``{"now", "time", "speed", "manual"}``.
* ``POST /_sim/clock/advance`` ``{"seconds", "settle"?}`` — move simulated time; with ``settle`` the
  callbacks of each fired timer are delivered before the next fires.
* ``POST /_sim/settle`` ``{"timeout"?}`` — wait (real seconds) until every queued callback is delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .behaviours import Behaviours, FarEnd, Scenario
from .errors import validation_error
from .models import Delivery
from .params import Fields
from .web import Handler, json_response, read_json

if TYPE_CHECKING:
    from .simulator import Simulator

__all__ = ["ControlApi"]


class ControlApi:
    """Control handlers bound to one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

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
        ]
        return [Route(path, wrap(handler), methods=[method]) for method, path, handler in table]

    def _behaviours(self) -> Response:
        script = self.sim.behaviours
        numbers = {number: asdict(far_end) for number, far_end in script.numbers.items()}
        return json_response({"default": asdict(script.default), "numbers": numbers})

    async def get_behaviours(self, request: Request) -> Response:
        """The current far-end script."""
        return self._behaviours()

    async def set_behaviours(self, request: Request) -> Response:
        """Merge ``default`` and/or ``numbers`` into the script."""
        body = await read_json(request)
        try:
            scenario = Scenario.from_mapping({k: v for k, v in body.items() if k in ("default", "numbers")})
        except (TypeError, ValueError) as exc:
            raise validation_error("behaviours", "", f"Invalid far-end script: {exc}") from None
        if "default" in body:
            self.sim.behaviours.default = scenario.behaviours.default
        self.sim.behaviours.numbers.update(scenario.behaviours.numbers)
        return self._behaviours()

    async def reset_behaviours(self, request: Request) -> Response:
        """Back to the built-in default far end and no per-number scripts."""
        fresh = Behaviours(FarEnd())
        self.sim.behaviours.default, self.sim.behaviours.numbers = fresh.default, fresh.numbers
        return self._behaviours()

    async def inbound(self, request: Request) -> Response:
        """Place an inbound call."""
        f = Fields(await read_json(request))
        from_ = f.address("from", required=True)
        to = f.address("to", required=True)
        assert from_ is not None and to is not None
        configured = self.sim.engine.options.inbound
        url = f.url("callbackUrl") or configured.url
        if url is None:
            raise validation_error("callbackUrl", "", "No incomingCallUrl is configured; pass 'callbackUrl'")
        method = f.choice("callbackHttpMethod", ("POST", "GET"), configured.method) or "POST"
        delivery = Delivery(url, method, configured.timeout_ms, f.url("fallbackUrl") or configured.fallback_url)
        answer, diversion = f.boolean("autoAnswer"), f.mapping("diversion")
        call = self.sim.engine.place_inbound(from_, to, self.sim.base(request), delivery, answer, diversion)
        location = self.sim.urls.call_path(call.id)
        return json_response({"callId": call.id}, 201, {"Location": location})

    async def events(self, request: Request) -> Response:
        """Every event produced so far, oldest first."""
        call_id = request.query_params.get("callId")
        sent = [s.as_json() for s in self.sim.deliverer.sent if call_id in (None, s.call_id)]
        return json_response(sent)

    async def failures(self, request: Request) -> Response:
        """Failed deliveries, oldest first."""
        return json_response(self.sim.deliverer.failures)

    def _clock(self) -> Response:
        clock = self.sim.clock
        return json_response({"now": clock.now(), "time": clock.iso(), "speed": clock.speed, "manual": clock.manual})

    async def clock(self, request: Request) -> Response:
        """The simulated time."""
        return self._clock()

    async def advance(self, request: Request) -> Response:
        """Move simulated time forward."""
        f = Fields(await read_json(request))
        seconds = f.number("seconds", None, 0)
        if seconds is None:
            raise validation_error("seconds", "", "'seconds' is required")
        await self.sim.advance(seconds, settle=bool(f.boolean("settle", False)))
        return self._clock()

    async def settle(self, request: Request) -> Response:
        """Wait until every queued callback is delivered."""
        timeout = Fields(await read_json(request)).number("timeout", 10.0, 0) or 10.0
        return json_response({"idle": await self.sim.deliverer.wait_idle(timeout)})
