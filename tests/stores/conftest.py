"""The store fixtures shared by the contract tests: a URL and an open store of each kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callhooks.stores import Store
from tests.stores.support import BACKENDS, SHARED_BACKENDS, backend_url, opened


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL, once per backend (a module may override it with fewer)."""
    return backend_url(request, tmp_path)


@pytest.fixture(params=SHARED_BACKENDS)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL, once per backend several processes or connections can share."""
    return backend_url(request, tmp_path)


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    opened_store = await opened(url)
    yield opened_store
    await opened_store.close()
