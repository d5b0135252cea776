"""The store stops for 3.5 s while callbacks keep arriving and handlers run: every event is either handled (2xx)
or answered 5xx and kept as a failed event once the store is back; none is lost. SQLite: another process holds
the file's lock; Redis: the server stops and starts again (empty). Real uvicorn, SQLite file and redis-server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from callhooks import CallEvent, CallHooks
from callhooks.events import parse_event
from callhooks.identity import event_identity
from tests.background.support import served
from tests.guarantees.support import SECRET, dtmf, seq_of, sqlite_locked, token_path
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.processes, pytest.mark.timeout(120)]

OUTAGE = 3.5  # seconds the store is stopped
CALLS = 3  # calls sending events one after the other, at the same time
PACE = 0.05  # seconds between a call's events


def identity(fields: dict[str, Any]) -> str:
    return event_identity(parse_event(fields))


class Platform:
    """Delivers each call's events one after the other (the next once the last was answered), keeping what each
    was answered, until told to stop."""

    def __init__(self, http: httpx.AsyncClient, path: str) -> None:
        self.http = http
        self.path = path
        self.answered: list[tuple[dict[str, Any], int]] = []
        self.stopping = False

    async def call(self, call_id: str) -> None:
        seq = 0
        while not self.stopping:
            seq += 1
            fields = dtmf(call_id, seq)
            response = await self.http.post(self.path, json=fields)  # a transport error fails the test
            self.answered.append((fields, response.status_code))
            # A call's pace (a few events a second), not a flood: refused as fast as they come, callbacks would
            # outrun the failed callbacks held while the store is down (1,000; those beyond are logged).
            await asyncio.sleep(PACE)

    def answers(self, status: int) -> int:
        return sum(1 for _, answered in self.answered if answered == status)


@contextlib.asynccontextmanager
async def store_of(kind: str, tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    """The store's URL, and a function that stops it for ``OUTAGE`` seconds."""
    if kind == "sqlite":
        db = tmp_path / "hooks.db"

        async def lock() -> None:
            async with sqlite_locked(db, OUTAGE):
                pass

        yield f"sqlite:///{db}?timeout=1", lock
        return
    redis = new_redis_server(tmp_path)
    redis.start()

    async def stop() -> None:
        redis.stop()
        await asyncio.sleep(OUTAGE)  # how long the store stays down: the outage the test is about
        redis.start()

    try:
        yield redis.url, stop
    finally:
        redis.stop()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_store_outage_loses_no_event(kind: str, tmp_path: Path) -> None:
    handled: list[str] = []

    async def handle(event: CallEvent) -> None:
        await asyncio.sleep(0.02)  # the handler's own work: some runs are under way when the store stops
        handled.append(event_identity(event))
        assert seq_of(event) > 0

    async with store_of(kind, tmp_path) as (url, outage):
        hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=url, callback_timeout=4.0)
        hooks.add_handler(handle, "dtmf")
        async with served(hooks) as http:
            platform = Platform(http, token_path(hooks))
            calls = [asyncio.ensure_future(platform.call(f"c-{n}")) for n in range(CALLS)]

            async def answered(status: int, count: int) -> Any:
                async def enough() -> bool:
                    return platform.answers(status) >= count

                await eventually(enough, timeout=60)

            await answered(200, 10)
            await outage()
            await answered(503, 1)
            ok_before = platform.answers(200)
            await answered(200, ok_before + 10)  # the store is back
            platform.stopping = True
            await asyncio.gather(*calls)

            async def all_written() -> bool:
                return hooks.failed_callbacks.pending == 0

            await eventually(all_written, timeout=60)
            assert hooks.store is not None
            kept = {identity(failed.payload["fields"]) for failed in await hooks.store.list_failed(10_000)}
    failed = [(fields, status) for fields, status in platform.answered if status >= 500]
    lost_ok = [fields for fields, status in platform.answered if status < 300 and identity(fields) not in handled]
    lost_failed = [fields for fields, _ in failed if identity(fields) not in kept]
    assert {status for _, status in platform.answered} <= {200, 500, 503}
    assert failed, "the outage refused no callback"
    assert (lost_ok, lost_failed) == ([], [])
    assert hooks.failed_callbacks.dropped == 0
