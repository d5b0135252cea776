"""The journal, the same on memory://, sqlite:/// (real files) and redis:// (a real server): numbered entries
that any writer appends and a reader pages through, bounded by count and by age."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callhooks.stores import Limits, Store
from callhooks.stores.memory import MemoryStore
from callhooks.stores.sqlite import SqliteStore
from callhooks.testing.redis_server import RedisServer
from tests.stores.support import eventually, follow_journal, opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def read_all(store: Store, after: int = 0, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
    """Every kept entry above ``after``, page by page."""
    found: list[tuple[int, dict[str, Any]]] = []
    while page := await store.read_journal(after, limit):
        found.extend(page)
        after = page[-1][0]
    return found


async def test_entries_come_back_in_order_under_increasing_numbers_page_by_page(store: Store) -> None:
    assert await store.journal_tail() == 0 and await store.read_journal(0) == []
    await store.append_journal([{"n": 1}, {"n": 2, "call": {"id": "c-1", "to": "+1919"}}, {"n": 3}])
    await store.append_journal([{"n": 4}, {"n": 5, "text": "caf\u00e9 \u260e"}])
    assert await store.journal_tail() == 5
    assert await store.read_journal(0) == [
        (1, {"n": 1}),
        (2, {"n": 2, "call": {"id": "c-1", "to": "+1919"}}),
        (3, {"n": 3}),
        (4, {"n": 4}),
        (5, {"n": 5, "text": "caf\u00e9 \u260e"}),
    ]
    first = await store.read_journal(0, limit=2)
    second = await store.read_journal(first[-1][0], limit=2)
    third = await store.read_journal(second[-1][0], limit=2)
    assert [seq for seq, _ in first + second + third] == [1, 2, 3, 4, 5]
    assert await store.read_journal(5) == [] and await store.read_journal(99) == []
    assert [seq for seq, _ in await store.read_journal(3)] == [4, 5]
    first[0][1]["n"] = "changed by the reader"
    assert (await store.read_journal(0, limit=1))[0][1] == {"n": 1}


async def test_an_empty_batch_writes_nothing(store: Store) -> None:
    await store.append_journal([])
    assert await store.journal_tail() == 0 and await store.read_journal(0) == []
    await store.append_journal([{"n": 1}])
    await store.append_journal([])
    assert await store.read_journal(0) == [(1, {"n": 1})] and await store.journal_tail() == 1


async def test_the_journal_keeps_the_newest_entries_up_to_its_count(url: str) -> None:
    small = await opened(url, Limits(journal_max_entries=5))
    try:
        for batch in range(3):
            await small.append_journal([{"n": batch * 4 + i} for i in range(1, 5)])
        kept = await small.read_journal(0)
        assert [seq for seq, _ in kept] == [8, 9, 10, 11, 12]
        assert [entry["n"] for _, entry in kept] == [8, 9, 10, 11, 12]
        # A reader that fell behind reads on from the oldest entry still kept.
        assert [seq for seq, _ in await small.read_journal(2)] == [8, 9, 10, 11, 12]
        await small.append_journal([{"n": n} for n in range(13, 20)])  # one batch larger than the journal
        assert [seq for seq, _ in await read_all(small, limit=2)] == [15, 16, 17, 18, 19]
        assert await small.journal_tail() == 19
    finally:
        await small.close()


async def test_entries_older_than_the_journals_age_go_and_numbers_keep_increasing(url: str) -> None:
    short = await opened(url, Limits(journal_ttl=0.3))
    try:
        await short.append_journal([{"n": 1}, {"n": 2}])
        assert len(await short.read_journal(0)) == 2

        async def expired() -> bool:
            return await short.read_journal(0) == []

        await eventually(expired)
        await short.append_journal([{"n": 3}])
        assert await short.read_journal(0) == [(3, {"n": 3})]  # never a number a reader has seen before
        assert await short.journal_tail() == 3
    finally:
        await short.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
async def clocked(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Store, Clock]]:
    """A store of the kinds whose clock a test can set, keeping entries for 30 s."""
    clock = Clock()
    limits = Limits(journal_ttl=30.0)
    if request.param == "memory":
        yield MemoryStore(limits, clock), clock
        return
    sqlite_store = SqliteStore(str(tmp_path / "callhooks.db"), limits=limits, clock=clock)
    await sqlite_store.open()
    yield sqlite_store, clock
    await sqlite_store.close()


async def test_age_counts_from_the_append_on_the_stores_clock(clocked: tuple[Store, Clock]) -> None:
    store, clock = clocked
    await store.append_journal([{"n": 1}])
    clock.now += 10
    await store.append_journal([{"n": 2}, {"n": 3}])
    clock.now += 20  # entry 1 is exactly 30 s old: still kept
    assert [seq for seq, _ in await store.read_journal(0)] == [1, 2, 3]
    clock.now += 0.5
    assert [seq for seq, _ in await store.read_journal(0)] == [2, 3]
    clock.now += 10
    assert await store.read_journal(0) == []
    await store.append_journal([{"n": 4}])
    assert await store.read_journal(0) == [(4, {"n": 4})]


async def test_sqlite_drops_old_rows_in_the_appending_transaction(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "callhooks.db"
    store = SqliteStore(str(path), limits=Limits(journal_ttl=30.0, journal_max_entries=3), clock=clock)
    await store.open()
    try:
        await store.append_journal([{"n": n} for n in range(5)])
        clock.now += 31
        await store.append_journal([{"n": 5}])
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT seq FROM journal ORDER BY seq").fetchall() == [(6,)]
    finally:
        await store.close()


async def test_an_entry_that_is_too_large_or_not_json_refuses_its_whole_batch(url: str) -> None:
    small = await opened(url, Limits(journal_entry_max_bytes=100))
    try:
        exact = {"text": "x" * 89}  # {"text":"x...x"} is exactly 100 bytes
        with pytest.raises(ValueError, match=r"journal entry 1 is 101 bytes of JSON, more than the 100 allowed"):
            await small.append_journal([{"n": 1}, {"text": "x" * 88 + "\u00e9"}, {"n": 3}])  # \u00e9: 2 bytes
        with pytest.raises(ValueError, match=r"journal entry 0 is not JSON"):
            await small.append_journal([{"when": {1, 2}}])
        with pytest.raises(ValueError, match=r"journal entry 1 is not JSON"):
            await small.append_journal([{"n": 1}, {"ratio": float("nan")}])
        with pytest.raises(ValueError, match=r"journal entry 0 is a list, not a mapping"):
            await small.append_journal([["n", 1]])  # type: ignore[list-item]
        assert await small.journal_tail() == 0 and await small.read_journal(0) == []
        await small.append_journal([exact])
        assert await small.read_journal(0) == [(1, exact)]
    finally:
        await small.close()


async def test_a_read_with_a_bad_position_or_limit_is_a_clear_error(store: Store) -> None:
    with pytest.raises(ValueError, match="after must be a sequence number"):
        await store.read_journal(-1)
    with pytest.raises(ValueError, match="after must be a sequence number"):
        await store.read_journal("5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after must be a sequence number"):
        await store.read_journal(2**63)
    assert await store.read_journal(2**63 - 2) == []
    with pytest.raises(ValueError, match="limit must be a positive int"):
        await store.read_journal(0, limit=0)


async def test_two_connections_appending_at_once_are_read_once_each_in_order(shared_url: str) -> None:
    writers = [await opened(shared_url), await opened(shared_url)]
    reader = await opened(shared_url)

    async def write(store: Store, name: str) -> None:
        for batch in range(40):
            await store.append_journal([{"writer": name, "n": batch * 3 + i} for i in range(3)])

    try:
        writing = asyncio.gather(write(writers[0], "a"), write(writers[1], "b"))
        seen = await asyncio.wait_for(follow_journal(reader, writing, limit=7), 30)
        await writing
    finally:
        for store in [*writers, reader]:
            await store.close()
    numbers = [seq for seq, _ in seen]
    assert numbers == list(range(1, 241))  # strictly increasing, none missed, none repeated
    for name in "ab":
        assert [entry["n"] for _, entry in seen if entry["writer"] == name] == list(range(120))


async def test_redis_numbers_go_on_from_the_stream_when_the_counter_is_lost(redis_server: RedisServer) -> None:
    import redis.asyncio as aioredis

    redis_server.flush()
    store = await opened(redis_server.url)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        await store.append_journal([{"n": n} for n in range(1, 4)])
        await raw.delete("callhooks:journal:seq")  # evicted, or deleted by hand
        await store.append_journal([{"n": 4}, {"n": 5}])
        assert [seq for seq, _ in await store.read_journal(0)] == [1, 2, 3, 4, 5]
        assert await store.journal_tail() == 5
    finally:
        await raw.aclose()
        await store.close()


async def test_a_batch_is_one_transaction_on_sqlite(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "callhooks.db"))
    await store.open()
    statements: list[str] = []
    try:
        store._conn().set_trace_callback(statements.append)
        for batch in range(5):
            await store.append_journal([{"n": batch * 10 + i} for i in range(10)])
        assert statements.count("BEGIN IMMEDIATE") == 5 and statements.count("COMMIT") == 5
        assert len(await read_all(store)) == 50
    finally:
        await store.close()


async def test_a_batch_is_one_command_on_redis(redis_server: RedisServer) -> None:
    import redis.asyncio as aioredis

    redis_server.flush()
    store = await opened(redis_server.url)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        await store.append_journal([{"warm": "up"}])  # loads the script once
        await store.read_journal(0)
        before = await raw.info("commandstats")
        for batch in range(5):
            await store.append_journal([{"n": batch * 10 + i} for i in range(10)])
        await store.read_journal(1, limit=50)
        after = await raw.info("commandstats")
        calls = {name: after[name]["calls"] - before.get(name, {"calls": 0})["calls"] for name in after}
        # Six round trips from the client (commandstats also counts the commands the scripts ran inside).
        assert calls["cmdstat_evalsha"] == 6 and calls["cmdstat_xadd"] == 50
        sent_by_scripts = {"cmdstat_" + c for c in ("time", "incrby", "xadd", "zadd", "zrangebyscore", "xtrim")}
        sent_by_scripts |= {"cmdstat_" + c for c in ("zremrangebyrank", "pexpire", "xrange", "exists")}
        assert {name for name, count in calls.items() if count} <= {"cmdstat_evalsha", "cmdstat_info"} | sent_by_scripts
    finally:
        await raw.aclose()
        await store.close()
