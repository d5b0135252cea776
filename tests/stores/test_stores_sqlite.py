"""The SQLite store's two connections: the records' transactions run on the event loop's own connection while the
write lock is free, on the store's thread (which waits for it) when another process holds it; checkpoints on the
thread keep the WAL file bounded and delete expired keys."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callhooks.stores import Admission, Limits
from callhooks.stores import sqlite as sqlite_store
from callhooks.stores.sessions import token_digest
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
    # admit: begin, one select of its 4 keys, one replace of 2, commit; settle: the same with 3 keys, and 1 delete
    assert len(on_loop) == 10 * (4 + 5)
    assert sum(sql.startswith("REPLACE INTO kv") for sql in on_loop) == 20
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


# The file layout before PRAGMA user_version 1, as the store wrote it (kv a rowid table with an index on expires).
LAYOUT_0 = """
PRAGMA journal_mode=WAL;
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX kv_expires ON kv (expires);
CREATE TABLE queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL, owner TEXT, lease_until REAL NOT NULL DEFAULT 0);
CREATE TABLE failed (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL);
CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, entry TEXT NOT NULL);
CREATE INDEX journal_at ON journal (at);
"""


def write_layout_0(path: Path, now: float) -> None:
    done = {"state": "done", "owner": "w1", "lease_until": now - 5, "attempts": 1, "error": None}
    rows = [
        ("once:e-old", json.dumps(done), now + 100),
        ("session:call:c-old", json.dumps(json.dumps({"step": 3})), now + 100),
        (f"token:{token_digest('tok-old')}", json.dumps("c-old"), now + 100),
        (f"token:{token_digest('tok-gone')}", json.dumps("c-gone"), now - 1),  # expired
    ]
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript(LAYOUT_0)
        db.executemany("INSERT INTO kv VALUES (?, ?, ?)", rows)
        db.execute("INSERT INTO queue (payload, available_at) VALUES (?, 0)", (json.dumps({"job": 1}),))
    finally:
        db.close()


def layout(path: Path) -> tuple[int, str, list[str]]:
    """The file's user_version, its kv table's definition and its indexes on kv."""
    with sqlite3.connect(path) as db:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        (kv,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'kv'").fetchone()
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kv'").fetchall()
    return version, kv, [name for (name,) in names]


async def test_a_file_of_the_layout_before_is_upgraded_once_with_its_live_keys(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "callhooks.db"
    write_layout_0(path, clock.now)
    store = SqliteStore(str(path), clock=clock)
    await store.open()
    try:
        assert layout(path) == (1, layout(path)[1], [])
        assert "WITHOUT ROWID" in layout(path)[1]
        assert (await store.record("e-old")).state == "done"  # type: ignore[union-attr]
        assert await store.load_session("call:c-old") == {"step": 3}
        assert not await store.bind_token("tok-old", "c-other")  # still bound to c-old
        assert await store.bind_token("tok-gone", "c-new")  # had expired
        assert [item.payload for item in await store.claim_items("w1", lease=5)] == [{"job": 1}]
        await callback(store, 1)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT count(*) FROM kv WHERE value LIKE '%c-gone%'").fetchone() == (0,)
    finally:
        await store.close()
    # Opened again (by a second worker, or after a restart): nothing to upgrade, everything there.
    again = SqliteStore(str(path), clock=clock)
    await again.open()
    try:
        assert (await again.record("e-old")).state == "done"  # type: ignore[union-attr]
        assert (await again.record("e1")).state == "done"  # type: ignore[union-attr]
        assert await again.load_session("call:c1") == {"n": 1}
    finally:
        await again.close()


async def test_an_index_on_expiry_made_by_a_worker_of_the_version_before_goes_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "callhooks.db"
    store = SqliteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:  # what the version before runs when it opens the file
        db.execute("CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires)")
    assert layout(path)[2] == ["kv_expires"]
    store = SqliteStore(str(path))
    await store.open()
    await store.close()
    assert layout(path)[2] == []


async def test_sweeps_walk_the_keys_a_batch_at_a_time_and_delete_every_expired_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_SWEEP_BATCH", 10)
    clock = Clock()
    store = SqliteStore(str(tmp_path / "callhooks.db"), limits=Limits(token_ttl=10.0), clock=clock)
    await store.open()
    try:
        for n in range(35):
            await store.bind_token(f"gone-{n}", "c1")
        clock.now += 11
        for n in range(15):
            await store.bind_token(f"kept-{n}", "c1")
        with sqlite3.connect(store.path) as db:
            count = "SELECT count(*) FROM kv"
            left = [db.execute(count).fetchone()[0]]
            for _ in range(5):  # 50 keys: 5 batches of 10
                store._sweep(store._conn())
                left.append(db.execute(count).fetchone()[0])
            # Each sweep deletes only the expired keys of its batch; after the last, none is left.
            assert left[0] == 50 and left[-1] == 15
            assert all(0 <= a - b <= 10 for a, b in itertools.pairwise(left))
            assert store._swept_to != ""
            store._sweep(store._conn())  # past the last key: the walk starts again from the first
            assert store._swept_to == ""
            await store.bind_token("gone-0", "c1")
            clock.now += 11  # all 16 expired: a sweep deletes its batch of 10 and leaves the rest for the next
            store._sweep(store._conn())
            assert db.execute(count).fetchone()[0] == 6
    finally:
        await store.close()
