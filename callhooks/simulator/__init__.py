"""A local stand-in for the Bandwidth Catapult Voice API v1 (``callhooks.simulator``).

It serves the REST API (``/v1/users/{userId}/calls…``), drives each call through the platform's states
on a clock it owns, sends the documented callback events to each call's ``callbackUrl``, and lets tests
script the far end of every call::

    sim = Simulator(speed=100, numbers={"+19195551313": FarEnd.busy()})
    sim.script("+19195550199", FarEnd(answer_after=2, digits="1#", hangup_after=30))
    with serve(sim) as server:          # callhooks.threaded_server.serve
        ...                             # point the client at server.url

It can inject delivery faults on purpose (``Simulator(faults=Faults(duplicate=0.3, reorder_jitter=0.5,
seed=7))``, see :mod:`callhooks.simulator.faults`). It is configured in Python, from a scenario file
(``Simulator.from_scenario("scenario.yaml")``) or over HTTP (``/_sim/…``, see :mod:`callhooks.simulator.control`).
"""

from .behaviours import Behaviours, FarEnd, Scenario, load_scenario
from .clock import SimClock
from .delivery import SentEvent
from .engine import EngineOptions
from .errors import ApiError
from .faults import FaultRule, Faults
from .ratelimit import RateLimit
from .simulator import Simulator

__all__ = [
    "ApiError",
    "Behaviours",
    "EngineOptions",
    "FarEnd",
    "FaultRule",
    "Faults",
    "RateLimit",
    "Scenario",
    "SentEvent",
    "SimClock",
    "Simulator",
    "load_scenario",
]
