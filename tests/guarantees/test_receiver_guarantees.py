"""The receiver with a store, through a real uvicorn server: store life cycle, exactly-once handling and
per-call order, on memory://, sqlite:/// and redis://."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from callhooks import CallHooks
from callhooks.testing import serve
from tests.guarantees.support import Held, dtmf, holds, receiver, token_path
from tests.stores.support import BACKENDS, backend_url, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


async def _lifespan(hooks: CallHooks, *messages: str) -> list[dict[str, Any]]:
    """Drive ``hooks``'s lifespan through ``messages`` and return what it answered."""
    incoming = [{"type": m} for m in messages]
    answered: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        answered.append(message)

    await hooks({"type": "lifespan"}, receive, send)
    return answered


async def test_the_store_opens_at_start_up_and_closes_at_shutdown(tmp_path: Path) -> None:
    hooks = receiver(f"sqlite:///{tmp_path / 'hooks.db'}", Held())
    assert hooks.store is None
    answered = await _lifespan(hooks, "lifespan.startup", "lifespan.shutdown")
    assert [m["type"] for m in answered] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert (tmp_path / "hooks.db").exists()
    assert hooks.store is None  # closed at shutdown


async def test_a_sqlite_path_that_cannot_be_opened_fails_start_up_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    hooks = receiver(f"sqlite:///{tmp_path / 'file' / 'hooks.db'}", Held())
    answered = await _lifespan(hooks, "lifespan.startup")
    assert [m["type"] for m in answered] == ["lifespan.startup.failed"]
    message = answered[0]["message"]
    assert message.startswith("callhooks: sqlite store unavailable: ") and "\n" not in message


def test_the_store_url_comes_from_the_environment_and_is_checked_at_once(tmp_path: Path) -> None:
    hooks = CallHooks.from_env({"CALLHOOKS_STORE": f"sqlite:///{tmp_path}/a.db", "CALLHOOKS_INSECURE": "1"})
    assert hooks.store_url == f"sqlite:///{tmp_path}/a.db"
    assert CallHooks(secret="s").store_url == "memory://"  # the default
    with pytest.raises(ValueError, match="unknown store URL 'postgres://x'"):
        CallHooks(secret="s", store="postgres://x")


def test_mounted_without_lifespan_the_store_opens_on_the_first_callback(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    handler = Held()
    hooks = receiver(f"sqlite:///{tmp_path / 'hooks.db'}", handler)
    client = TestClient(hooks)  # no ``with``: no lifespan events
    assert client.post(token_path(hooks), json=dtmf("c-1", 1)).status_code == 200
    assert client.post(token_path(hooks), json=dtmf("c-1", 1)).status_code == 200
    assert hooks.store is not None and hooks.store.backend == "sqlite"
    assert handler.ran == [("c-1", 1)]


async def test_a_duplicate_of_a_handled_event_is_answered_without_running_it(url: str) -> None:
    handler = Held()
    hooks = receiver(url, handler)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            first = await http.post(path, json=dtmf("c-1", 1))
            again = await http.post(path, json=dtmf("c-1", 1))
            by_get = await http.get(path, params=dtmf("c-1", 1))  # the GET form of the same event
            other = await http.post(path, json=dtmf("c-1", 2))
    assert [r.status_code for r in (first, again, by_get, other)] == [200, 200, 200, 200]
    assert handler.ran == [("c-1", 1), ("c-1", 2)]


async def test_a_duplicate_arriving_while_the_first_runs_waits_for_its_outcome(url: str) -> None:
    handler = Held()
    hooks = receiver(url, handler)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            handler.hold()
            first = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
            await anyio.to_thread.run_sync(handler.started.wait, 10)
            second = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
            await eventually(holds(lambda: hooks.delivery.in_flight == 2))  # both inside, the first held
            assert not second.done()
            handler.release()
            answers = await asyncio.gather(first, second)
    assert [r.status_code for r in answers] == [200, 200]
    assert handler.ran == [("c-1", 1)]


async def test_a_delivery_whose_first_run_failed_runs_again(url: str) -> None:
    handler = Held()
    handler.fail_next = 1
    hooks = receiver(url, handler)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            failed = await http.post(path, json=dtmf("c-1", 1))
            fallback = await http.post(path, json=dtmf("c-1", 1))  # the platform's delivery to fallbackUrl
            duplicate = await http.post(path, json=dtmf("c-1", 1))
    assert [failed.status_code, fallback.status_code, duplicate.status_code] == [500, 200, 200]
    assert handler.ran == [("c-1", 1), ("c-1", 1)]


async def test_a_calls_events_run_one_at_a_time_in_arrival_order_other_calls_meanwhile(url: str) -> None:
    handler = Held()
    hooks = receiver(url, handler)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            handler.hold()
            first = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
            await anyio.to_thread.run_sync(handler.started.wait, 10)
            second = asyncio.create_task(http.post(path, json=dtmf("c-1", 2)))
            await eventually(holds(lambda: hooks.delivery.in_flight == 2))
            # Another call is not held up by c-1: its event reaches the handler while c-1's first is still in it.
            other = asyncio.create_task(http.post(path, json=dtmf("c-2", 1)))
            await eventually(holds(lambda: ("c-2", 1) in handler.entered))
            assert ("c-1", 2) not in handler.entered  # c-1's second waits for its turn
            handler.release()
            answers = await asyncio.gather(first, second, other)
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert [seq for call, seq in handler.ran if call == "c-1"] == [1, 2]
