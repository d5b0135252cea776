"""The simulator's default account, shared by ``Simulator()``, ``callhooks simulate`` and docs/guides/simulator.md."""

from __future__ import annotations

__all__ = ["SIMULATOR_API_SECRET", "SIMULATOR_API_TOKEN", "SIMULATOR_PORT", "SIMULATOR_USER_ID"]

SIMULATOR_USER_ID = "u-simulator"
SIMULATOR_API_TOKEN = "t-simulator"
SIMULATOR_API_SECRET = "s-simulator"
#: The port ``callhooks simulate`` listens on.
SIMULATOR_PORT = 8900
