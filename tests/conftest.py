"""Shared pytest configuration for the callhooks test suite (keep it small: fixtures used by several files)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callhooks.testing.redis_server import RedisServer
from tests.helpers.redis_server import new_redis_server


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
