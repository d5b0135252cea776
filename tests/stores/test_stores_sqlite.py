"""The SQLite store's two connections: the records' transactions run on the event loop's own connection while the
write lock is free, on the store's thread (which waits for it) when another process holds it; checkpoints on the
thread keep the WAL file bounded and delete expired keys."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callhooks.stores import Admission, Limits
from callhooks.stores.sqlite import SqliteStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "callhooks.db"), timeout=30.0)
    await opened.open()
    yield opened
    await opened.close()


async def callback(store: SqliteStore, n: int) -> None:
    """What the receiver asks of the store for a usual callback: admit, then settle with the session."""
    admission = Admission(f"e{n}", "w1", 30.0, f"call:c{n % 7}")
    admitted = await store.admit(admission)
    assert admitted.verdict == "run"
    await store.settle(admission, admitted.ticket, ok=True, session={"n": n})


async def test_a_callback_is_two_transactions_on_the_loops_connection_and_nothing_on_the_thread(
    store: SqliteStore,
) -> None:
    on_thread: list[str] = []
    on_loop: list[str] = []
    store._conn().set_trace_callback(on_thread.append)
    assert store._loop_db is not None
    store._loop_db.connection.set_trace_callback(on_loop.append)
    for n in range(10):
        await callback(store, n)
    assert on_thread == []
    assert on_loop.count("BEGIN IMMEDIATE") == 20 and on_loop.count("COMMIT") == 20
    # admit: begin, one select of its 4 keys, 2 upserts, commit; settle: the same with 3 keys, 2 upserts, 1 delete
    assert len(on_loop) == 10 * (5 + 6)
    assert (await store.record("e9")).state == "done"  # type: ignore[union-attr]
    assert await store.load_session("call:c2") == {"n": 9}


async def test_a_transaction_finding_the_lock_held_waits_for_it_on_the_thread_not_on_the_loop(
    store: SqliteStore,
) -> None:
    waiting = threading.Event()
    store._conn().set_trace_callback(lambda sql: waiting.set() if sql == "BEGIN IMMEDIATE" else None)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        claiming = asyncio.ensure_future(store.claim("e1", "w1", lease=5))
        # The claim went to the thread, and the loop goes on meanwhile (it answers this await):
        assert await asyncio.to_thread(waiting.wait, 20)
        assert not claiming.done()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await claiming).status == "acquired"
    assert (await store.claim("e1", "w2", lease=5)).status == "running"  # back on the loop's connection


async def test_checkpoints_keep_the_wal_file_bounded_and_delete_expired_keys(tmp_path: Path) -> None:
    clock = Clock()
    store = SqliteStore(str(tmp_path / "callhooks.db"), limits=Limits(token_ttl=10.0), clock=clock)
    await store.open()
    try:
        for n in range(50):
            await store.bind_token(f"token-{n}", "c1")
        clock.now += 11  # the bindings expired
        for n in range(1000):
            await callback(store, n)
        assert (await store.health()).ok  # on the thread, after the checkpoints queued there
        # Without checkpoints the WAL would hold all 2,000 transactions' pages (about 45 MB).
        assert Path(f"{store.path}-wal").stat().st_size < 12 * 1024 * 1024
        with sqlite3.connect(store.path) as db:
            assert db.execute("SELECT count(*) FROM kv WHERE key LIKE 'token:%'").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM kv WHERE key LIKE 'once:%'").fetchone() == (1000,)
    finally:
        await store.close()
