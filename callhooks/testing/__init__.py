"""Test kit: event factories, in-process delivery to a ``CallHooks`` app, and real loopback servers.

The pytest fixtures (a simulator on a free port with a client pointed at it) live in
``callhooks.testing.plugin`` and are registered automatically when callhooks is installed.
"""

from .factories import *  # noqa: F403
from .factories import __all__ as _factories_all
from .inprocess import asend_event, callback_path, send_event
from .server import RunningServer, free_port, serve

__all__ = [*_factories_all, "RunningServer", "asend_event", "callback_path", "free_port", "send_event", "serve"]
