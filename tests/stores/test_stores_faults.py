"""A store that goes away: Redis stopped mid-run, a SQLite file locked or not writable, a bad URL; a store
holding what this version cannot read."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import Awaitable
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks
from callhooks.stores import Store, StoreUnavailable, open_store, run_once
from callhooks.testing import serve
from tests.guarantees.support import SECRET, dtmf, token_path
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_redis_stopped_mid_run_raises_store_unavailable_then_recovers(tmp_path: Path) -> None:
    server = new_redis_server(tmp_path)
    server.start()
    try:
        store = await opened(server.url)
        await store.save_session("call:c-1", {"step": 1})
        server.stop()
        with pytest.raises(StoreUnavailable) as caught:
            await store.claim("event-1", "w1", lease=5)
        assert caught.value.backend == "redis" and f"127.0.0.1:{server.port}" in caught.value.reason
        with pytest.raises(StoreUnavailable):
            await store.enqueue({"n": 1})

        async def work() -> None:
            raise AssertionError("must not run while the store is down")

        with pytest.raises(StoreUnavailable):
            await run_once(store, "event-2", work, owner="w1")
        health = await store.health()
        assert health.ok is False and health.backend == "redis" and "127.0.0.1" in health.detail

        server.start()  # same port, empty (no persistence): the store reconnects by itself
        assert (await store.health()).ok
        assert (await store.claim("event-1", "w1", lease=5)).status == "acquired"
        item_id = await store.enqueue({"n": 1})
        assert [i.id for i in await store.claim_items("w1", lease=5)] == [item_id]
        await store.close()
    finally:
        server.stop()


async def test_opening_redis_that_does_not_answer_fails_in_one_line() -> None:
    from callhooks.testing import free_port

    with pytest.raises(StoreUnavailable) as caught:
        await open_store(f"redis://127.0.0.1:{free_port()}/0")
    assert "\n" not in str(caught.value)


async def test_a_sqlite_file_locked_longer_than_the_timeout_is_unavailable_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "callhooks.db"
    store = await opened(f"sqlite:///{path}?timeout=0.2")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            await store.claim("event-1", "w1", lease=5)
        assert (await store.health()).ok is False
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await store.claim("event-1", "w1", lease=5)).status == "acquired"
    assert (await store.health()).ok
    await store.close()


def _open_error(url: str, as_nobody: bool) -> str:
    """The message open_store raises for ``url``; as the unprivileged user "nobody" in a forked child when asked
    (root may write anywhere, so that is how CI, which runs as root, sees a read-only directory)."""
    if not as_nobody:
        with pytest.raises(StoreUnavailable) as caught:
            asyncio.run(open_store(url))
        return str(caught.value)
    import callhooks.stores.sqlite  # noqa: F401  (imported before dropping privileges)

    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        os.close(reader)
        message, code = "opened", 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            asyncio.run(open_store(url))
        except StoreUnavailable as exc:
            message, code = str(exc), 0
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
        os.write(writer, message.encode())
        os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, message
    return message


def test_a_read_only_sqlite_path_fails_at_open_with_one_clear_line() -> None:
    directory = Path(tempfile.mkdtemp(prefix="callhooks-ro-"))
    try:
        directory.chmod(0o555)
        message = _open_error(f"sqlite:///{directory / 'callhooks.db'}", as_nobody=os.geteuid() == 0)
        assert "\n" not in message
        assert message.startswith(f"sqlite store unavailable: cannot open {directory / 'callhooks.db'} for writing")
        assert "unable to open database file" in message
    finally:
        directory.chmod(0o755)
        directory.rmdir()


async def test_a_sqlite_path_in_a_missing_directory_fails_at_open(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot open .*missing"):
        await open_store(f"sqlite:///{tmp_path / 'missing' / 'callhooks.db'}")


async def test_unknown_or_malformed_store_urls_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown store URL 'postgres://x'"):
        await open_store("postgres://x")
    with pytest.raises(ValueError, match="sqlite:///path"):
        await open_store("sqlite://")


async def test_operations_on_a_closed_sqlite_store_are_unavailable(tmp_path: Path) -> None:
    store = await opened(f"sqlite:///{tmp_path / 'callhooks.db'}")
    await store.close()
    with pytest.raises((StoreUnavailable, RuntimeError)):
        await asyncio.wait_for(store.claim("e", "w", lease=1), 5)


def test_a_stored_value_this_version_cannot_read_is_a_json_503_not_a_500(tmp_path: Path) -> None:
    """Issue 23, finding 3: whatever a store raises, the callback gets a 503 naming the problem (the platform
    retries it), never the server's plain-text 500; other calls go on."""
    path = tmp_path / "callhooks.db"
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=f"sqlite:///{path}")
    ran: list[str | None] = []
    hooks.on("dtmf")(lambda event: ran.append(event.call_id))
    asyncio.run(_close(opened(f"sqlite:///{path}")))  # the file and its tables
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("INSERT INTO kv VALUES ('session:call:c-1', '{not json', 1e12)")  # not what any version writes
    db.close()
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        refused = http.post(token_path(hooks), json=dtmf("c-1", 1))
        assert http.post(token_path(hooks), json=dtmf("c-2", 1)).status_code == 200
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == {
        "error": "store-error",
        "detail": "the sqlite store failed: JSONDecodeError (the receiver's log has the details)",
        "backend": "sqlite",
    }
    assert ran == ["c-2"]


async def _close(opening: Awaitable[Store]) -> None:
    await (await opening).close()
