"""Shared pytest configuration for the callhooks test suite (keep it small: fixtures used by several files)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Test helper modules (``catalogue``) live next to the tests and are imported by name.
sys.path.insert(0, str(Path(__file__).parent))

from redis_server import new_redis_server

from callhooks.testing.redis_server import RedisServer


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient warns that it will move from httpx to httpx2; that is not our behaviour under test.
    config.addinivalue_line("filterwarnings", "ignore:Using .httpx. with .starlette.testclient. is deprecated")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session's Redis store tests (each test flushes it first)."""
    server = new_redis_server(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
