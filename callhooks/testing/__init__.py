"""Test kit: event factories, in-process delivery to a ``CallHooks`` app, replay of recorded calls, and real
loopback servers.

The factories here are Catapult's; Bandwidth v2's are in ``callhooks.testing.bandwidth`` and Twilio's in
``callhooks.testing.twilio``. ``send_event`` and ``running_simulator`` serve an app of any of the three.

The pytest fixtures (a simulator on a free port with a client pointed at it) live in
``callhooks.testing.plugin`` and are registered automatically when callhooks is installed.

The servers (uvicorn) and the simulator are imported on first use of their names, not with this package:
the pytest plugin imports it in every pytest run of any project where callhooks is installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..event_factories import *  # noqa: F403
from ..event_factories import __all__ as _factories_all
from ..events import encode_query, wire_fields
from .inprocess import asend_event, callback_path, send_event
from .polling import latest, wait_until, wait_until_async
from .replays import CallRecorder, areplay, replay

if TYPE_CHECKING:
    from .server import RunningServer, free_port, serve
    from .simulation import SimulatorSession, running_simulator

_LAZY = {
    "RunningServer": "server",
    "free_port": "server",
    "serve": "server",
    "SimulatorSession": "simulation",
    "running_simulator": "simulation",
}

__all__ = [
    *_factories_all,
    "CallRecorder",
    "RunningServer",
    "SimulatorSession",
    "areplay",
    "asend_event",
    "callback_path",
    "encode_query",
    "free_port",
    "latest",
    "replay",
    "running_simulator",
    "send_event",
    "serve",
    "wait_until",
    "wait_until_async",
    "wire_fields",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
