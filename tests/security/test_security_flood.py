"""Issue 23, finding 2: requests refused before verification never reach the store. They used to be written to
the console's shared journal, one entry each, so an anonymous flood grew the SQLite file by megabytes, slowed
every callback behind it and pushed real calls out of the journal. Now they are counted, and a sample of them
is kept in this process's memory."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from callhooks import CallEvent, CallHooks
from callhooks.console.monitor import RejectionSampler
from callhooks.stores import Limits, Store
from callhooks.stores.redis import RedisStore
from callhooks.stores.sqlite import SqliteStore
from callhooks.testing import serve
from tests.helpers.redis_server import new_redis_server

pytestmark = pytest.mark.timeout(120)

SECRET = "flood-tests-secret"
CONSOLE = ("admin", "flood-console-pw")
FORGED = 1_500
QUERY = "eventType=answer&callId=c-forged&x=" + "A" * 8 * 1024  # 8 KB, as in the report
#: A journal small enough that the flood would push the real call out of it, were refusals written there.
JOURNAL_KEPT = 1_000


def hooks_on(store: Store) -> CallHooks:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=store, console=CONSOLE)

    @hooks.on("answer")
    def answered(event: CallEvent) -> None:
        return None

    return hooks


class Backend:
    """A store for the app (``store``), a way to read its journal from the test's side, and its size."""

    def __init__(self, store: Store, reader: Callable[[], Store], size: Callable[[], int]) -> None:
        self.store, self.reader, self.size = store, reader, size

    def journal_calls(self) -> list[str]:
        async def read() -> list[str]:
            reader = self.reader()
            try:
                entries = await reader.read_journal(0, 10_000)
            finally:
                if reader is not self.store:
                    await reader.close()
            return [str(entry.get("callId")) for _, entry in entries if entry.get("kind") == "event"]

        return asyncio.run(read())


@contextmanager
def on_sqlite(directory: Path) -> Iterator[Backend]:
    path = directory / "hooks.db"
    store = SqliteStore(str(path), limits=Limits(journal_max_entries=JOURNAL_KEPT))
    asyncio.run(store.open())  # a SQLite store is not tied to an event loop: the test reads through it too

    def size() -> int:  # the file and its write-ahead log: both grow with what is written
        return sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if p.exists())

    try:
        yield Backend(store, lambda: store, size)
    finally:
        asyncio.run(store.close())


@contextmanager
def on_redis(directory: Path) -> Iterator[Backend]:
    server = new_redis_server(directory)
    server.start()
    limits = Limits(journal_max_entries=JOURNAL_KEPT)
    raw = redis.Redis.from_url(server.url)

    def size() -> int:  # what the server holds for callhooks: every key's memory
        return sum(int(raw.memory_usage(key) or 0) for key in raw.scan_iter("callhooks:*"))

    try:
        # Redis clients belong to the loop they connect on: the app's is used by the server's loop only.
        yield Backend(RedisStore(server.url, limits=limits), lambda: RedisStore(server.url, limits=limits), size)
    finally:
        raw.close()
        server.stop()


@pytest.mark.parametrize("backend", [on_sqlite, on_redis], ids=["sqlite", "redis"])
def test_a_flood_of_forged_requests_leaves_the_store_alone_and_the_calls_history_intact(
    tmp_path: Path, backend: Callable[[Path], Any]
) -> None:
    with backend(tmp_path) as store:
        hooks = hooks_on(store.store)
        real = hooks.callback_url()
        forged = real.rsplit("/", 1)[0] + "/" + "x" * 40 + "." + "y" * 27
        with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            token_path = "/" + real.rsplit("/", 1)[1]
            answer = {"eventType": "answer", "callId": "c-real", "to": "+19195551313"}
            assert client.post(token_path, json=answer).status_code == 200
            assert _eventually(lambda: "c-real" in store.journal_calls())
            before = store.size()
            forged_path = "/" + forged.rsplit("/", 1)[1]
            statuses = {client.get(f"{forged_path}?{QUERY}").status_code for _ in range(FORGED)}
            # A callback after the flood: once it is in the journal, everything sent before it was written.
            later = {"eventType": "answer", "callId": "c-later", "to": "+19195551313"}
            assert client.post(token_path, json=later).status_code == 200
            assert _eventually(lambda: "c-later" in store.journal_calls())
            grown = store.size() - before
            refused = client.get("/_console/api/rejections", auth=CONSOLE).json()
        kept = store.journal_calls()
    assert statuses == {403}
    assert grown < 1_000_000, f"the store grew by {grown} bytes under {FORGED} forged requests"
    assert kept == ["c-real", "c-later"]  # the real call's history survived the flood
    assert refused["refused"]["total"] == FORGED
    assert 0 < len(refused["rejections"]) < 200  # a sample of them, in this process's memory


def test_the_sampler_keeps_a_burst_then_a_few_a_second() -> None:
    now = [0.0]
    sampler = RejectionSampler(rate=5.0, burst=20, clock=lambda: now[0])
    assert sum(sampler.take() for _ in range(1_000)) == 20
    now[0] += 1.0
    assert sum(sampler.take() for _ in range(1_000)) == 5
    now[0] += 3600.0  # a quiet hour refills the burst, no more
    assert sum(sampler.take() for _ in range(1_000)) == 20


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
