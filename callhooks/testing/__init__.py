"""Test kit: event factories, in-process delivery to a ``CallHooks`` app, and real loopback servers.

The pytest fixtures (a simulator on a free port with a client pointed at it) live in
``callhooks.testing.plugin`` and are registered automatically when callhooks is installed.
"""

from ..events import encode_query, wire_fields
from .factories import *  # noqa: F403
from .factories import __all__ as _factories_all
from .inprocess import asend_event, callback_path, send_event
from .server import RunningServer, free_port, serve
from .simulation import SimulatorSession, running_simulator

__all__ = [
    *_factories_all,
    "RunningServer",
    "SimulatorSession",
    "asend_event",
    "callback_path",
    "encode_query",
    "free_port",
    "running_simulator",
    "send_event",
    "serve",
    "wire_fields",
]
