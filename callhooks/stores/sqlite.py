"""``sqlite:///path/to/callhooks.db``: one file shared by the workers of one host, surviving restarts.

WAL mode (``synchronous=NORMAL``: a commit is written to the WAL file, which is synced at each checkpoint), one
short ``BEGIN IMMEDIATE`` transaction per operation. The records' transactions (a few rows by key) run on the event
loop's own connection, which never waits for a lock; when another worker holds it they run on the store's
thread, which waits, as do the longer ones (queue, failed events, journal), the checkpoints and the deletion of
expired keys. So the event loop never waits on a lock, a checkpoint's fsync or a large statement. A lock held by
another process longer than the busy timeout (``?timeout=`` seconds, default 5) or a file that cannot be written
raises ``StoreUnavailable``. ``health()`` asks on a connection and thread of its own, waiting at most
``HEALTH_LOCK_WAIT`` for the lock, so ``/healthz`` answers within a second while the file is locked.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import threading
import time
from _json import encode_basestring_ascii, make_encoder  # CPython's C encoder, which json.dumps builds per call
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import records
from .base import Admission, Admitted, FailedEvent, Limits, QueueItem, StoreHealth
from .errors import StoreUnavailable
from .journal import JournalEntry, check_read, decode_entry, encode_entries
from .keys import ONCE
from .kv import KeyValueStore, Update, admit_keys, settle_keys
from .reply import StoredReply, encode_reply
from .sessions import encode_session

__all__ = ["HEALTH_ANSWER_WITHIN", "HEALTH_LOCK_WAIT", "SqliteStore"]

#: Seconds ``health()`` waits for the write lock (another process holding it longer: not healthy), and at most
#: for an answer at all (a disk that does not answer: not healthy either).
HEALTH_LOCK_WAIT = 0.5
HEALTH_ANSWER_WITHIN = 0.8

T = TypeVar("T")
#: (current values, now) -> (a change per key: ``records.KEEP`` or (new value or None, expires at), answer)
UpdateMany = Callable[[list[Any], float], tuple[records.Changes, Any]]

# The records live in a table ordered by their key (WITHOUT ROWID: no second b-tree from rowid to key) and
# without an index on their expiry (which every write moved): a callback's two commits write ~40 % fewer pages
# (admit+settle 471k -> ~410k instructions). Expired keys are deleted by a walk in key order (``_sweep``).
# ``PRAGMA user_version`` 0 is the layout before (kv a rowid table with an index kv_expires): opening such a
# file rebuilds its kv table once (``_upgrade``).
_LAYOUT = 1
_KV = "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS kv {_KV}",
    """CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL, owner TEXT, lease_until REAL NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS failed (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, entry TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS journal_at ON journal (at)",
    # A worker of the version before recreates it when it opens the file: each open drops it again.
    "DROP INDEX IF EXISTS kv_expires",
)


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The records' text, by an encoder and a scanner made once: json.dumps makes a new C encoder on each call and
# json.loads checks its text before scanning it, together ~55k of the ~520k instructions of an admit+settle. The
# scanner is the C one JSONDecoder.raw_decode calls (without raw_decode's Python frame: ~4k more).
_encoder = make_encoder(None, _unencodable, encode_basestring_ascii, None, ":", ",", False, False, True)
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _dumps(value: Any) -> str:
    return "".join(_encoder(value, 0))


def _loads(text: str) -> Any:
    return _scan(text, 0)[0]


_MAINTAIN_EVERY = 256  # key transactions between a checkpoint and a sweep of expired keys
_SWEEP_BATCH = 1000  # keys a sweep looks at


class SqliteStore(KeyValueStore):
    backend = "sqlite"

    def __init__(
        self, path: str, *, timeout: float = 5.0, limits: Limits | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(limits or Limits(), clock)
        self.path = path
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callhooks-sqlite")
        self._db: sqlite3.Connection | None = None  # the store thread's: waits up to ``timeout`` for a lock
        self._loop_db: sqlite3.Cursor | None = None  # the event loop's: never waits (busy timeout 0), one cursor
        # Taken without waiting: a store used from two threads' loops at once sends the second to the thread.
        self._loop_db_free = threading.Lock()
        self._key_trips = 0
        self._swept_to = ""  # the last key the sweep looked at ("": start again from the first)
        self._maintaining = False  # a checkpoint is waiting or running on the thread
        # health() on a thread and connection of its own: never behind callbacks waiting for the lock.
        self._health_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callhooks-sqlite-health")
        self._health_db: sqlite3.Connection | None = None
        self._health_probe: asyncio.Future[None] | None = None  # the probe under way, shared by every caller

    async def open(self) -> None:
        """Open the file, set WAL mode and create the tables: ``StoreUnavailable`` in one line when it cannot."""
        await self._run(self._open)

    def _connect(self, timeout: float) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")  # a setting of the connection, not of the file
        return db

    def _open(self) -> None:
        # Workers opening a new file together: switching it to WAL needs a lock SQLite answers "locked" for at once
        # rather than wait on (its deadlock avoidance), so a worker that lost the race tries again, within timeout.
        give_up = time.monotonic() + self.timeout
        while True:
            try:
                db, loop_db = self._open_once()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= give_up:
                    raise self._cannot_open(exc) from None
                time.sleep(0.05)
            except sqlite3.Error as exc:
                raise self._cannot_open(exc) from None
        self._db, self._loop_db = db, loop_db.cursor()  # reused: a new cursor per statement was ~2 % of a callback

    def _open_once(self) -> tuple[sqlite3.Connection, sqlite3.Connection]:
        db = self._connect(self.timeout)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # Also proves the file can be written now, not at the first callback.
            _transaction(db.cursor(), "BEGIN IMMEDIATE", self._create)
            loop_db = self._connect(0.0)
            loop_db.execute("PRAGMA wal_autocheckpoint=0")  # its commits never checkpoint: _maintain does, here
        except sqlite3.Error:
            db.close()
            raise
        return db, loop_db

    def _cannot_open(self, exc: sqlite3.Error) -> StoreUnavailable:
        return StoreUnavailable(self.backend, f"cannot open {Path(self.path).resolve()} for writing: {exc}")

    def _create(self, db: sqlite3.Cursor) -> None:
        if db.execute("PRAGMA user_version").fetchone()[0] < _LAYOUT:
            self._upgrade(db)
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {_LAYOUT}")

    def _upgrade(self, db: sqlite3.Cursor) -> None:
        """A file of the layout before: its live keys into the kv table of this one (in the transaction that
        creates the tables, so a second worker opening it meanwhile waits, then finds it done)."""
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'").fetchone() is None:
            return  # a new file
        db.execute(f"CREATE TABLE kv_layout_{_LAYOUT} {_KV}")
        db.execute(
            f"INSERT INTO kv_layout_{_LAYOUT} SELECT key, value, expires FROM kv WHERE expires > ?", (self.clock(),)
        )
        db.execute("DROP TABLE kv")  # and its index kv_expires
        db.execute(f"ALTER TABLE kv_layout_{_LAYOUT} RENAME TO kv")

    async def close(self) -> None:
        loop_db, self._loop_db = self._loop_db, None
        if self._db is not None:
            db, self._db = self._db, None
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close, db, loop_db)
        self._executor.shutdown(wait=False)
        self._health_executor.submit(self._close_health)
        self._health_executor.shutdown(wait=False)

    def _close_health(self) -> None:
        health_db, self._health_db = self._health_db, None
        if health_db is not None:
            health_db.close()

    def _close(self, db: sqlite3.Connection, loop_db: sqlite3.Cursor | None) -> None:
        db.close()
        if loop_db is not None:
            with self._loop_db_free:  # another thread's loop may be in a transaction on it
                loop_db.connection.close()

    def _failure(self, exc: sqlite3.Error) -> StoreUnavailable:
        """What a SQLite error raises: ``StoreUnavailable`` naming it, whatever it is. An error that would be a bug
        of ours (``IntegrityError``, ``ProgrammingError``) too: a callback must get a 503 with a JSON reason, never
        the server's plain-text 500, and the platform retries a 503."""
        return StoreUnavailable(self.backend, f"{self.path}: {exc}")

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except sqlite3.Error as exc:
            raise self._failure(exc) from None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreUnavailable(self.backend, f"{self.path} is not open")
        return self._db

    def _write(self, work: Callable[[sqlite3.Cursor], T]) -> T:
        """Run ``work`` in one short write transaction (on the store's thread)."""
        return _transaction(self._conn().cursor(), "BEGIN IMMEDIATE", work)

    async def _short(self, work: Callable[[sqlite3.Cursor], T], begin: str = "BEGIN IMMEDIATE") -> T:
        """Run ``work`` (a few rows by key) in one transaction on the event loop's connection when the lock is
        free, else on the store's thread. The loop's try costs no thread hop (the hops were ~40 % of the CPU an
        SQLite callback took) and never waits: busy timeout 0, no checkpoint, no more than a few pages."""
        db = self._loop_db
        if db is not None and not self._maintaining and self._loop_db_free.acquire(blocking=False):
            try:
                result = _transaction(db, begin, work)
            except sqlite3.Error as exc:
                if not _is_busy(exc):
                    raise self._failure(exc) from None
            else:
                self._count_key_trip()
                return result
            finally:
                self._loop_db_free.release()
        result = await self._run(lambda: _transaction(self._conn().cursor(), begin, work))
        self._count_key_trip()
        return result

    def _count_key_trip(self) -> None:
        self._key_trips += 1
        if self._key_trips % _MAINTAIN_EVERY == 0 and self._db is not None and not self._maintaining:
            # Until it is done, the records' transactions queue up behind it on the thread. Nobody waits for
            # it; should it fail (the file gone), the next operation says so.
            self._maintaining = True
            self._executor.submit(self._maintain)

    def _maintain(self) -> None:
        """On the store's thread: copy the WAL into the file and have it start again from its beginning (what
        commits on the event loop's connection leave to others), then sweep a batch of keys. The
        loop's connection keeps off meanwhile: a checkpoint racing its commits never caught up, and the WAL grew
        without bound (30 MB after 6,000 transactions, against 6 MB at most now)."""
        try:
            db = self._conn()
            db.execute("PRAGMA wal_checkpoint(RESTART)")  # waits (busy timeout) for other processes' writers
            self._sweep(db)
        finally:
            self._maintaining = False

    def _sweep(self, db: sqlite3.Connection) -> None:
        """Delete the expired keys among the next ``_SWEEP_BATCH`` after the last one looked at, in key order,
        starting again from the first after the last: without an index on the expiry, each sweep costs a bounded
        walk, and each key is looked at once every (keys / _SWEEP_BATCH) sweeps. Reads skip expired keys anyway:
        this only gives their room back."""
        after, now = self._swept_to, self.clock()
        last = db.execute("SELECT key FROM kv WHERE key > ? ORDER BY key LIMIT 1 OFFSET ?", (after, _SWEEP_BATCH - 1))
        row = last.fetchone()
        if row is None:
            db.execute("DELETE FROM kv WHERE key > ? AND expires <= ?", (after, now))
            self._swept_to = ""
        else:
            db.execute("DELETE FROM kv WHERE key > ? AND key <= ? AND expires <= ?", (after, row[0], now))
            self._swept_to = row[0]

    async def health(self) -> StoreHealth:
        """Whether a write transaction can begin now, answered within ``HEALTH_ANSWER_WITHIN`` seconds."""
        if self._db is None:
            return StoreHealth(False, self.backend, f"{self.path} is not open")
        probe = self._health_probe
        if probe is None or probe.done():
            probe = asyncio.get_running_loop().run_in_executor(self._health_executor, self._probe_health)
            self._health_probe = probe
        try:
            await asyncio.wait_for(asyncio.shield(probe), HEALTH_ANSWER_WITHIN)
        except (TimeoutError, asyncio.TimeoutError):
            return StoreHealth(False, self.backend, f"{self.path}: no answer within {HEALTH_ANSWER_WITHIN:g} s")
        except sqlite3.Error as exc:
            return StoreHealth(False, self.backend, f"{self.path}: {exc}")
        return StoreHealth(True, self.backend, "ok")

    def _probe_health(self) -> None:
        if self._health_db is None:
            self._health_db = self._connect(HEALTH_LOCK_WAIT)
        _transaction(self._health_db.cursor(), "BEGIN IMMEDIATE", lambda db: db.execute("SELECT 1").fetchone())

    # -- keys ----------------------------------------------------------------------------------------------

    async def _read(self, key: str) -> Any:
        def read(db: sqlite3.Cursor) -> Any:
            found = db.execute("SELECT value FROM kv WHERE key = ? AND expires > ?", (key, self.clock())).fetchone()
            return _loads(found[0]) if found else None

        return await self._short(read, "BEGIN")

    async def _update(self, key: str, update: Update) -> Any:
        def apply(db: sqlite3.Cursor) -> Any:
            now = self.clock()
            found = db.execute("SELECT value FROM kv WHERE key = ? AND expires > ?", (key, now)).fetchone()
            value, expires, answer = update(_loads(found[0]) if found else None, now)
            _put(db, [(key, value, expires)])
            return answer

        return await self._short(apply)

    async def _update_many(self, keys: Sequence[str], update: UpdateMany) -> Any:
        select = _select_keys(len(keys))

        def apply(db: sqlite3.Cursor) -> Any:
            now = self.clock()
            (found,) = db.execute(select, (*keys, now))
            changes, answer = update([None if text is None else _scan(text, 0)[0] for text in found], now)
            _put(db, [(key, *change) for key, change in zip(keys, changes, strict=True) if change is not records.KEEP])
            return answer

        return await self._short(apply)

    # -- a whole callback in two transactions: records.py's transitions over the keys they take ---------------

    async def admit(self, admission: Admission) -> Admitted:
        limits = self.limits

        def update(values: list[Any], now: float) -> tuple[records.Changes, Admitted]:
            token, once, queue, session = values
            return records.admit(token, once, queue, session, now, admission, limits.record_ttl, limits.token_ttl)

        answer: Admitted = await self._update_many(admit_keys(admission), update)
        return answer

    async def settle(
        self,
        admission: Admission,
        ticket: int,
        *,
        ok: bool,
        error: str | None = None,
        session: Mapping[str, Any] | None = None,
        session_ends: float | None = None,
        reply: StoredReply | None = None,
    ) -> None:
        saved = encode_session(session, self.limits.session_max_bytes) if session is not None else None
        kept = encode_reply(reply) if reply is not None else None
        limits = self.limits

        def update(values: list[Any], now: float) -> tuple[records.Changes, None]:
            once, queue, session = values
            changes = records.settle(
                once, queue, session, now, admission, ticket, (ok, error, kept), saved, session_ends, limits.record_ttl,
                limits.session_idle_ttl,
            )  # fmt: skip
            return changes, None

        await self._update_many(settle_keys(admission), update)

    # -- durable queue: a table with leases ----------------------------------------------------------------

    async def enqueue(self, payload: Mapping[str, Any]) -> str:
        text = json.dumps(dict(payload))

        def insert(db: sqlite3.Cursor) -> str:
            (size,) = db.execute("SELECT count(*) FROM queue").fetchone()
            if size >= self.limits.queue_max_items:
                raise StoreUnavailable(self.backend, f"the queue is full ({self.limits.queue_max_items} items)")
            return str(db.execute("INSERT INTO queue (payload, available_at) VALUES (?, 0)", (text,)).lastrowid)

        return await self._run(lambda: self._write(insert))

    async def claim_items(self, consumer: str, *, lease: float, limit: int = 10) -> list[QueueItem]:
        def take(db: sqlite3.Cursor) -> list[QueueItem]:
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
        def change(db: sqlite3.Cursor) -> bool:
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
        def move(db: sqlite3.Cursor) -> str | None:
            row = db.execute(
                "DELETE FROM queue WHERE id = ? AND owner = ? RETURNING payload, attempts", (int(item_id), consumer)
            ).fetchone()
            return None if row is None else self._insert_failed(db, row[0], error, row[1] + 1)

        return await self._run(lambda: self._write(move))

    async def holds_records(self, besides: str) -> bool:
        # The ONCE family's keys sort together: one index probe over "once:" .. "once;" (":" + 1 is ";").
        query = "SELECT 1 FROM kv WHERE key >= ? AND key < ? AND key != ? AND expires > ? LIMIT 1"
        end = ONCE[:-1] + chr(ord(ONCE[-1]) + 1)
        found = await self._run(
            lambda: self._conn().execute(query, (ONCE, end, ONCE + besides, self.clock())).fetchone()
        )
        return found is not None

    async def queue_size(self) -> int:
        return int(await self._run(lambda: self._conn().execute("SELECT count(*) FROM queue").fetchone()[0]))

    # -- failed events -------------------------------------------------------------------------------------

    def _insert_failed(self, db: sqlite3.Cursor, payload: str, error: str, attempts: int) -> str:
        now = self.clock()
        failed_id = db.execute(
            "INSERT INTO failed (payload, error, attempts, failed_at) VALUES (?, ?, ?, ?)",
            (payload, error, attempts, now),
        ).lastrowid
        db.execute("DELETE FROM failed WHERE failed_at < ?", (now - self.limits.failed_ttl,))
        db.execute(
            "DELETE FROM failed WHERE id <= (SELECT id FROM failed ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.limits.failed_max_items,),
        )
        return str(failed_id)

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

        def append(db: sqlite3.Cursor) -> None:
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


def _put(db: sqlite3.Cursor, changes: Sequence[tuple[str, Any, float]]) -> None:
    """Write each ``(key, value, expires)``; a ``None`` value deletes the key. One statement for each kind, of
    all its keys (one step of SQLite's, rather than one per key with ``executemany``)."""
    kept: list[Any] = []
    gone: list[str] = []
    for key, value, expires in changes:
        if value is None:
            gone.append(key)
        else:
            kept += (key, _dumps(value), expires)
    if kept:
        db.execute(_replace_rows(len(kept) // 3), kept)
    if gone:
        db.execute(_delete_keys(len(gone)), gone)


@functools.cache
def _replace_rows(count: int) -> str:
    return "REPLACE INTO kv (key, value, expires) VALUES " + ", ".join(["(?, ?, ?)"] * count)


@functools.cache
def _delete_keys(count: int) -> str:
    return f"DELETE FROM kv WHERE key IN ({', '.join('?' * count)})"


@functools.cache
def _select_keys(count: int) -> str:
    """One row: the value of each of ``count`` keys, NULL when it is absent or expired. One index lookup per key
    (``key IN (...)`` builds a temporary b-tree of the keys first, a third of the statement's cost), and one
    step for all (a row per key was a step each)."""
    now = count + 1  # the parameters: the keys, then the time
    found = (f"(SELECT value FROM kv WHERE key = ?{n} AND expires > ?{now})" for n in range(1, now))
    return f"SELECT {', '.join(found)}"


def _transaction(db: sqlite3.Cursor, begin: str, work: Callable[[sqlite3.Cursor], T]) -> T:
    db.execute(begin)
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        if db.connection.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY: another connection holds the lock (by its message: ``sqlite_errorcode`` is Python 3.11+)."""
    return isinstance(exc, sqlite3.OperationalError) and str(exc).startswith("database is locked")
