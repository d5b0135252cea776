"""``serve`` and ``free_port`` for tests: the app under a real uvicorn on a free loopback port, in a thread.

They live in ``callhooks.threaded_server`` (the demo runs its servers with them too); importable from here as
before.
"""

from ..threaded_server import RunningServer, free_port, serve

__all__ = ["RunningServer", "free_port", "serve"]
