"""Shared pytest configuration for the callhooks test suite (keep it small: fixtures used by several files)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
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
    for name, what in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {what} (not in the fast tier; pytest --all runs it)")


# Property tests are reproducible: the same examples on every run and machine (a failure in CI replays here with
# the same command), no example database that differs between clones, and no deadline, which would fail a slow
# example on a busy machine. HYPOTHESIS_PROFILE=explore searches afresh with random seeds, for development.
settings.register_profile(
    "repeatable", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile("explore", deadline=None, print_blob=True, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


# -- test tiers ------------------------------------------------------------------------------------------------
# Plain `pytest` runs the fast tier, for development (about a minute on a 2-core machine); `pytest --all` runs
# every tier, and is what the README's test command and CI run. A test's tier follows from what it uses, so a
# new test lands in the right one without anybody remembering to mark it.
TIERS = {
    "processes": "starts other processes (callhooks run, uvicorn workers, the CLI, mypy)",
    "browser": "drives a real headless Chromium",
    "redis": "talks to a real redis-server",
    "benchmark": "runs the benchmarks' tools (wrk, callgrind)",
    "slow": "takes seconds: whole calls through the simulator, long property searches",
}
_ROOT = Path(__file__).resolve().parent
_USES_PROCESSES = ("subprocess", "tests.helpers.processes", "multiprocessing")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Plain `pytest` (the fast tier, no paths given) runs on both cores with pytest-xdist; `--all`, `-m`, given
    paths or an explicit `-n` run as asked. Before xdist's own hook, which reads the number of workers."""
    explicit_paths = config.args_source != pytest.Config.ArgsSource.TESTPATHS
    if (
        config.pluginmanager.hasplugin("xdist")
        and getattr(config.option, "numprocesses", 0) is None
        and not (config.getoption("--all") or config.option.markexpr or explicit_paths)
        and not (config.option.collectonly or os.environ.get("PYTEST_XDIST_WORKER"))
    ):
        config.option.numprocesses = 2


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--all", action="store_true", help="run every tier (" + ", ".join(TIERS) + "), as CI does")


@functools.cache
def _module_uses_processes(path: Path) -> bool:
    text = path.read_text(errors="replace")
    return any(sign in text for sign in _USES_PROCESSES)


def _tiers_of(item: pytest.Item) -> set[str]:
    tiers = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
    fixtures = set(getattr(item, "fixturenames", ()))
    if "chromium" in fixtures or item.path.parent.name == "browser":
        tiers.add("browser")
    callspec = getattr(item, "callspec", None)
    if "redis_server" in fixtures or (callspec is not None and "redis" in callspec.id.split("-")):
        tiers.add("redis")
    if "benchmark" in item.path.name:
        tiers.add("benchmark")
    if _module_uses_processes(item.path):
        tiers.add("processes")
    return tiers


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    fast, other = [], []
    for item in items:
        tiers = _tiers_of(item)
        for tier in tiers:
            item.add_marker(tier)
        (other if tiers else fast).append(item)
    # An explicit -m chooses for itself (pytest -m redis runs the Redis tests alone).
    if other and not config.getoption("--all") and not config.option.markexpr:
        config.hook.pytest_deselected(items=other)
        items[:] = fast


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
