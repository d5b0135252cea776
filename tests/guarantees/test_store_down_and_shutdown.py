"""A store that goes down and comes back, and a graceful shutdown, as the platform sees them."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from callhooks.testing import serve
from tests.guarantees.support import Held, dtmf, holds, receiver, token_path
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_redis_down_gives_503s_with_a_reason_and_the_receiver_recovers(tmp_path: Path) -> None:
    redis = new_redis_server(tmp_path)
    redis.start()
    handler = Held()
    hooks = receiver(redis.url, handler)
    path = token_path(hooks)
    try:
        with serve(hooks) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
                assert (await http.post(path, json=dtmf("c-1", 1))).status_code == 200
                redis.stop()
                refused = await http.post(path, json=dtmf("c-1", 2))
                health = await http.get("/healthz")
                redis.start()  # the same port, empty

                async def recovered() -> bool:
                    return (await http.get("/healthz")).status_code == 200

                await eventually(recovered)
                after = await http.post(path, json=dtmf("c-1", 2))
    finally:
        redis.stop()
    assert refused.status_code == 503
    assert refused.json()["error"] == "store-unavailable" and refused.json()["backend"] == "redis"
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable" and health.json()["store"]["backend"] == "redis"
    assert after.status_code == 200
    assert handler.ran == [("c-1", 1), ("c-1", 2)]


async def test_a_paused_redis_gets_its_503_out_before_the_platforms_callback_timeout(tmp_path: Path) -> None:
    # Issue 23, finding 9: a Redis server that stops answering (SIGSTOP: its connections stay open) held each
    # store call for the client's socket timeout and its retry, 4 s here, and up to 11.5 s in all: past the
    # platform's 10 s. Each call now answers by the callback's store deadline (0.8 x callback_timeout).
    redis = new_redis_server(tmp_path)
    redis.start()
    assert redis.process is not None
    handler = Held()
    timeout = 3.0  # the platform's callbackTimeout: 2.4 s for the store (a Redis call waits 2 s, twice)
    hooks = receiver(redis.url, handler, callback_timeout=timeout)
    path = token_path(hooks)
    try:
        with serve(hooks) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
                assert (await http.post(path, json=dtmf("c-1", 1))).status_code == 200
                os.kill(redis.process.pid, signal.SIGSTOP)
                try:
                    sent = time.monotonic()
                    refused = await asyncio.gather(*(http.post(path, json=dtmf(f"c-{n}", n)) for n in range(2, 6)))
                    answered_in = time.monotonic() - sent
                finally:
                    os.kill(redis.process.pid, signal.SIGCONT)
                after = await http.post(path, json=dtmf("c-6", 6))
    finally:
        redis.stop()
    assert [r.status_code for r in refused] == [503] * 4
    assert {r.json()["error"] for r in refused} == {"store-unavailable"}
    assert answered_in < timeout, f"the 503s took {answered_in:.2f} s, the platform waits {timeout} s"
    assert after.status_code == 200
    assert handler.ran == [("c-1", 1), ("c-6", 6)]


async def test_a_handler_slower_than_the_store_deadline_still_gets_its_outcome_saved(tmp_path: Path) -> None:
    # The store deadline bounds the store, not the handler: the calls after a long handler get a second.
    redis = new_redis_server(tmp_path)
    redis.start()
    handler = Held()
    hooks = receiver(redis.url, handler, callback_timeout=0.5)  # the store's deadline: 0.4 s
    path = token_path(hooks)
    try:
        with serve(hooks) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
                handler.hold()
                slow = asyncio.ensure_future(http.post(path, json=dtmf("c-1", 1)))
                await eventually(holds(handler.started.is_set))
                await asyncio.sleep(0.6)  # held past the deadline, measured from before the handler started
                handler.release()
                answered = await slow
                again = await http.post(path, json=dtmf("c-1", 1))
    finally:
        redis.stop()
    assert (answered.status_code, again.status_code) == (200, 200)
    assert handler.ran == [("c-1", 1)]  # its outcome was saved: the redelivery is a duplicate


async def test_a_sqlite_store_that_cannot_be_written_gives_503_then_recovers(tmp_path: Path) -> None:
    db = tmp_path / "hooks.db"
    handler = Held()
    hooks = receiver(f"sqlite:///{db}?timeout=0.2", handler)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            other = sqlite3.connect(db, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
            try:
                refused = await http.post(path, json=dtmf("c-1", 1))
            finally:
                other.execute("ROLLBACK")
                other.close()
            after = await http.post(path, json=dtmf("c-1", 1))
            health = await http.get("/healthz")
    assert refused.status_code == 503 and refused.json()["backend"] == "sqlite"
    assert "locked" in refused.json()["detail"]
    assert after.status_code == 200 and health.json() == {"status": "ok"}
    assert handler.ran == [("c-1", 1)]


class Lifespan:
    """Drives an app's lifespan by hand, so shutdown can begin while a request is in flight."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answered: list[str] = []
        self.task = asyncio.create_task(app({"type": "lifespan"}, self.incoming.get, self._send))

    async def _send(self, message: dict[str, Any]) -> None:
        self.answered.append(message["type"])

    async def tell(self, message: str) -> None:
        await self.incoming.put({"type": message})


async def test_on_shutdown_in_flight_handlers_finish_and_new_callbacks_get_503() -> None:
    handler = Held()
    hooks = receiver("memory://", handler)
    path = token_path(hooks)
    lifespan = Lifespan(hooks)
    await lifespan.tell("lifespan.startup")
    transport = httpx.ASGITransport(app=hooks)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        await eventually(holds(lambda: lifespan.answered == ["lifespan.startup.complete"]))
        handler.hold()
        in_flight = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
        await anyio.to_thread.run_sync(handler.started.wait, 10)
        await lifespan.tell("lifespan.shutdown")
        await eventually(holds(lambda: hooks.delivery.closing))
        late = await http.post(path, json=dtmf("c-2", 1))
        health = await http.get("/healthz")
        assert lifespan.answered == ["lifespan.startup.complete"]  # still waiting for the handler
        handler.release()
        finished = await in_flight
        await asyncio.wait_for(lifespan.task, 10)
    assert late.status_code == 503 and late.json()["error"] == "shutting-down"
    assert health.status_code == 503
    assert finished.status_code == 200
    assert lifespan.answered == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert handler.ran == [("c-1", 1)]


async def test_shutdown_waits_for_handlers_no_longer_than_its_timeout() -> None:
    handler = Held()
    hooks = receiver("memory://", handler, shutdown_timeout=0.05)
    lifespan = Lifespan(hooks)
    await lifespan.tell("lifespan.startup")
    transport = httpx.ASGITransport(app=hooks)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            handler.hold()
            stuck = asyncio.create_task(http.post(token_path(hooks), json=dtmf("c-1", 1)))
            await anyio.to_thread.run_sync(handler.started.wait, 10)
            await lifespan.tell("lifespan.shutdown")
            await asyncio.wait_for(lifespan.task, 10)  # done although the handler still runs
            assert lifespan.answered[-1] == "lifespan.shutdown.complete" and not stuck.done()
            handler.release()
            await stuck
    finally:
        handler.release()
