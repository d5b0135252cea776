"""The real ``redis-server`` the Redis store tests use: outside CI a missing binary skips them (with the install
command); with ``CI=true`` it fails the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callhooks.testing.redis_server import RedisServer, find_redis_server

INSTALL_HINT = "redis-server is not installed: apt-get install redis-server"


def new_redis_server(directory: Path, *, persistent: bool = False) -> RedisServer:
    """A server (not started yet) in ``directory``, with no persistence unless ``persistent``; skips, or fails in
    CI, when the binary is missing."""
    binary = find_redis_server()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    return RedisServer(directory, binary, persistent=persistent)
