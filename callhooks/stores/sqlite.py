"""``sqlite:///path/to/callhooks.db``: one file shared by the workers of one host, surviving restarts.

WAL mode, one short ``BEGIN IMMEDIATE`` transaction per operation, and all SQLite calls on one dedicated thread
per store, so the event loop never blocks on the file. A lock held by another process longer than the busy
timeout (``?timeout=`` seconds, default 5) or a file that cannot be written raises ``StoreUnavailable``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import records
from .base import FailedEvent, Limits, QueueItem, StoreHealth
from .errors import StoreUnavailable
from .journal import JournalEntry, check_read, decode_entry, encode_entries
from .kv import KeyValueStore, Update, UpdateMany

__all__ = ["SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL, owner TEXT, lease_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS failed (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_at ON journal (at);
"""
_SWEEP_EVERY = 256  # writes between deletions of expired keys (each deletes at most _SWEEP_BATCH rows)
_SWEEP_BATCH = 1000


class SqliteStore(KeyValueStore):
    backend = "sqlite"

    def __init__(
        self, path: str, *, timeout: float = 5.0, limits: Limits | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(limits or Limits(), clock)
        self.path = path
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callhooks-sqlite")
        self._db: sqlite3.Connection | None = None
        self._writes = 0

    async def open(self) -> None:
        """Open the file, set WAL mode and create the tables: ``StoreUnavailable`` in one line when it cannot."""
        await self._run(self._open)

    def _open(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")  # proves the file can be written now, not at the first callback
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            where = Path(self.path).resolve()
            raise StoreUnavailable(self.backend, f"cannot open {where} for writing: {exc}") from None
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
            self._db = None
        self._executor.shutdown(wait=False)

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # our bugs, not the store's state
        except sqlite3.Error as exc:
            raise StoreUnavailable(self.backend, f"{self.path}: {exc}") from None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreUnavailable(self.backend, f"{self.path} is not open")
        return self._db

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one short write transaction (on the store's thread)."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            now = self.clock()
            db.execute(
                "DELETE FROM kv WHERE rowid IN (SELECT rowid FROM kv WHERE expires <= ? LIMIT ?)", (now, _SWEEP_BATCH)
            )
        return result

    async def health(self) -> StoreHealth:
        try:
            await self._run(lambda: self._write(lambda db: db.execute("SELECT 1").fetchone()))
        except StoreUnavailable as exc:
            return StoreHealth(False, self.backend, exc.reason)
        return StoreHealth(True, self.backend, "ok")

    # -- keys ----------------------------------------------------------------------------------------------

    async def _read(self, key: str) -> Any:
        def read() -> Any:
            row = self._conn().execute("SELECT value FROM kv WHERE key = ? AND expires > ?", (key, self.clock()))
            found = row.fetchone()
            return json.loads(found[0]) if found else None

        return await self._run(read)

    async def _update(self, key: str, update: Update) -> Any:
        def apply(db: sqlite3.Connection) -> Any:
            now = self.clock()
            found = db.execute("SELECT value FROM kv WHERE key = ? AND expires > ?", (key, now)).fetchone()
            value, expires, answer = update(json.loads(found[0]) if found else None, now)
            _put(db, key, value, expires)
            return answer

        return await self._run(lambda: self._write(apply))

    async def _update_many(self, keys: Sequence[str], update: UpdateMany) -> Any:
        def apply(db: sqlite3.Connection) -> Any:
            now = self.clock()
            marks = ", ".join("?" * len(keys))
            rows = db.execute(f"SELECT key, value FROM kv WHERE key IN ({marks}) AND expires > ?", (*keys, now))
            found = {key: json.loads(value) for key, value in rows}
            changes, answer = update([found.get(key) for key in keys], now)
            for key, change in zip(keys, changes, strict=True):
                if change is records.KEEP:
                    continue
                _put(db, key, *change)
            return answer

        return await self._run(lambda: self._write(apply))

    # -- durable queue: a table with leases ----------------------------------------------------------------

    async def enqueue(self, payload: Mapping[str, Any]) -> str:
        text = json.dumps(dict(payload))

        def insert(db: sqlite3.Connection) -> str:
            (size,) = db.execute("SELECT count(*) FROM queue").fetchone()
            if size >= self.limits.queue_max_items:
                raise StoreUnavailable(self.backend, f"the queue is full ({self.limits.queue_max_items} items)")
            cursor = db.execute("INSERT INTO queue (payload, available_at) VALUES (?, 0)", (text,))
            return str(cursor.lastrowid)

        return await self._run(lambda: self._write(insert))

    async def claim_items(self, consumer: str, *, lease: float, limit: int = 10) -> list[QueueItem]:
        def take(db: sqlite3.Connection) -> list[QueueItem]:
            now = self.clock()
            # A row still owned is stale (its holder's lease ran out): that run counts as failed.
            rows = db.execute(
                "SELECT id, payload, attempts + (owner IS NOT NULL) FROM queue "
                "WHERE available_at <= ? AND (owner IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE queue SET owner = ?, lease_until = ?, attempts = ? WHERE id = ?",
                [(consumer, now + lease, r[2], r[0]) for r in rows],
            )
            return [QueueItem(str(r[0]), json.loads(r[1]), r[2]) for r in rows]

        return await self._run(lambda: self._write(take))

    async def _held(self, sql: str, params: tuple[Any, ...]) -> bool:
        def change(db: sqlite3.Connection) -> bool:
            return db.execute(sql, params).rowcount == 1

        return await self._run(lambda: self._write(change))

    async def renew_item(self, item_id: str, consumer: str, lease: float) -> bool:
        sql = "UPDATE queue SET lease_until = ? WHERE id = ? AND owner = ?"
        return await self._held(sql, (self.clock() + lease, int(item_id), consumer))

    async def ack(self, item_id: str, consumer: str) -> bool:
        return await self._held("DELETE FROM queue WHERE id = ? AND owner = ?", (int(item_id), consumer))

    async def retry_later(self, item_id: str, consumer: str, error: str, delay: float) -> bool:
        sql = "UPDATE queue SET attempts = attempts + 1, owner = NULL, available_at = ? WHERE id = ? AND owner = ?"
        return await self._held(sql, (self.clock() + delay, int(item_id), consumer))

    async def fail_item(self, item_id: str, consumer: str, error: str) -> str | None:
        def move(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "DELETE FROM queue WHERE id = ? AND owner = ? RETURNING payload, attempts", (int(item_id), consumer)
            ).fetchone()
            return None if row is None else self._insert_failed(db, row[0], error, row[1] + 1)

        return await self._run(lambda: self._write(move))

    async def queue_size(self) -> int:
        return int(await self._run(lambda: self._conn().execute("SELECT count(*) FROM queue").fetchone()[0]))

    # -- failed events -------------------------------------------------------------------------------------

    def _insert_failed(self, db: sqlite3.Connection, payload: str, error: str, attempts: int) -> str:
        now = self.clock()
        cursor = db.execute(
            "INSERT INTO failed (payload, error, attempts, failed_at) VALUES (?, ?, ?, ?)",
            (payload, error, attempts, now),
        )
        db.execute("DELETE FROM failed WHERE failed_at < ?", (now - self.limits.failed_ttl,))
        db.execute(
            "DELETE FROM failed WHERE id <= (SELECT id FROM failed ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.limits.failed_max_items,),
        )
        return str(cursor.lastrowid)

    async def add_failed(self, payload: Mapping[str, Any], error: str, attempts: int) -> str:
        text = json.dumps(dict(payload))
        return await self._run(lambda: self._write(lambda db: self._insert_failed(db, text, error, attempts)))

    def _failed_rows(self, where: str, params: tuple[Any, ...]) -> list[FailedEvent]:
        rows = self._conn().execute(
            f"SELECT id, payload, error, attempts, failed_at FROM failed WHERE failed_at >= ? {where}",
            (self.clock() - self.limits.failed_ttl, *params),
        )
        return [FailedEvent(str(r[0]), json.loads(r[1]), r[2], r[3], r[4]) for r in rows]

    async def list_failed(self, limit: int = 100) -> list[FailedEvent]:
        return await self._run(lambda: self._failed_rows("ORDER BY id DESC LIMIT ?", (limit,)))

    async def get_failed(self, failed_id: str) -> FailedEvent | None:
        if not failed_id.isdigit():
            return None
        found = await self._run(lambda: self._failed_rows("AND id = ?", (int(failed_id),)))
        return found[0] if found else None

    async def drop_failed(self, failed_id: str) -> bool:
        if not failed_id.isdigit():
            return False
        return await self._held("DELETE FROM failed WHERE id = ?", (int(failed_id),))

    # -- journal: a table whose AUTOINCREMENT key is the sequence number -----------------------------------
    # AUTOINCREMENT never hands out a number twice, even once every row was trimmed (a plain rowid would start
    # again below what readers saw). Appends take the write lock (BEGIN IMMEDIATE), so numbers are committed in
    # order across processes: a reader never sees a number before a smaller one that is still to come.

    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        texts = encode_entries(entries, self.limits.journal_entry_max_bytes)
        if not texts:
            return

        def append(db: sqlite3.Connection) -> None:
            now = self.clock()
            db.executemany("INSERT INTO journal (at, entry) VALUES (?, ?)", [(now, text) for text in texts])
            db.execute("DELETE FROM journal WHERE at < ?", (now - self.limits.journal_ttl,))
            # Keep the numbers above tail - N: at most N rows, the newest (rows only leave from the oldest end),
            # found by an index seek rather than by walking N rows on every append.
            (tail,) = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").fetchone()
            db.execute("DELETE FROM journal WHERE seq <= ?", (tail - self.limits.journal_max_entries,))

        await self._run(lambda: self._write(append))

    async def read_journal(self, after: int, limit: int = 500) -> list[JournalEntry]:
        check_read(after, limit)

        def read() -> list[JournalEntry]:
            rows = self._conn().execute(
                "SELECT seq, entry FROM journal WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?",
                (after, self.clock() - self.limits.journal_ttl, limit),
            )
            return [(seq, decode_entry(text)) for seq, text in rows]

        return await self._run(read)

    async def journal_tail(self) -> int:
        def tail() -> int:
            row = self._conn().execute("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").fetchone()
            return int(row[0]) if row else 0

        return await self._run(tail)


def _put(db: sqlite3.Connection, key: str, value: Any, expires: float) -> None:
    """Write ``value`` under ``key`` until ``expires``; ``None`` deletes the key."""
    if value is None:
        db.execute("DELETE FROM kv WHERE key = ?", (key,))
    else:
        db.execute(
            "INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
            (key, json.dumps(value), expires),
        )
