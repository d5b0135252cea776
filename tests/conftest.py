"""Shared pytest configuration for the callhooks test suite (keep it small: fixtures used by several files)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test helper modules (``catalogue``) live next to the tests and are imported by name.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient warns that it will move from httpx to httpx2; that is not our behaviour under test.
    config.addinivalue_line("filterwarnings", "ignore:Using .httpx. with .starlette.testclient. is deprecated")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
