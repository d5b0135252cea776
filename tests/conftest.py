"""Shared pytest configuration for the callhooks test suite (keep it small: fixtures used by several files)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from callhooks.testing.redis_server import RedisServer
from tests.helpers.redis_server import new_redis_server

if TYPE_CHECKING:
    from selenium import webdriver


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient warns that it will move from httpx to httpx2; that is not our behaviour under test.
    config.addinivalue_line("filterwarnings", "ignore:Using .httpx. with .starlette.testclient. is deprecated")


# Property tests are reproducible: the same examples on every run and machine (a failure in CI replays here with
# the same command), no example database that differs between clones, and no deadline, which would fail a slow
# example on a busy machine. HYPOTHESIS_PROFILE=explore searches afresh with random seeds, for development.
settings.register_profile(
    "repeatable", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile("explore", deadline=None, print_blob=True, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


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


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    """One real headless Chromium for the session (skips outside CI when it is missing, fails in CI)."""
    from tests.helpers.browser import new_browser

    browser = new_browser()
    yield browser
    browser.quit()


@pytest.fixture
def browser(chromium: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The session's Chromium, on a blank page with no credentials or cookies left from an earlier test."""
    from tests.helpers.browser import forget_authorization

    forget_authorization(chromium)
    chromium.delete_all_cookies()
    chromium.get("about:blank")
    yield chromium
    forget_authorization(chromium)
    chromium.get("about:blank")
