"""pytest fixtures, registered automatically when callhooks is installed (entry point ``pytest11``).

- ``callhooks_simulator``: a ``SimulatorSession``: the simulator on a free loopback port, with ``.client``
  pointed at it, ``.receiver(hooks)`` to serve your app, and deadline-bounded waits.
- ``callhooks_simulator_options``: override it in your ``conftest.py`` to pass ``Simulator`` options
  (``speed``, ``numbers``, ``far_end``, ``incoming_call_url``, ...).
- ``callhooks_platform``: the platform the simulator plays, ``catapult`` by default; override it (in a
  ``conftest.py``, a test module, or with ``@pytest.mark.parametrize("callhooks_platform", ["bandwidth"])``) for
  ``bandwidth`` or ``twilio``: ``.client`` is then that platform's client.

pytest loads this module in every run wherever callhooks is installed, so it imports neither the simulator
nor uvicorn: the fixture does, when a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .simulation import SimulatorSession

__all__ = ["callhooks_platform", "callhooks_simulator", "callhooks_simulator_options"]


@pytest.fixture
def callhooks_simulator_options() -> dict[str, Any]:
    """Keyword options for the ``Simulator`` behind ``callhooks_simulator`` (none by default)."""
    return {}


@pytest.fixture
def callhooks_platform() -> str:
    """The platform ``callhooks_simulator`` plays: ``catapult`` (override it for ``bandwidth`` or ``twilio``)."""
    return "catapult"


@pytest.fixture
def callhooks_simulator(
    callhooks_simulator_options: dict[str, Any], callhooks_platform: str
) -> Iterator[SimulatorSession]:
    """A platform simulator on 127.0.0.1 with a client of its platform pointed at it, stopped after the test."""
    from .simulation import running_simulator

    options = {"platform": callhooks_platform, **callhooks_simulator_options}
    with running_simulator(**options) as session:
        yield session
