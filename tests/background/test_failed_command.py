"""`callhooks failed list|show|replay|drop` against real SQLite files and a real redis-server: what each prints,
what it changes in the store, and one line with exit code 2 for every misuse."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from callhooks import CallHooks, events
from callhooks.cli import main
from callhooks.receiver.background import BackgroundSettings, queued_event
from callhooks.receiver.failed_callbacks import failed_callback
from callhooks.stores import Store, open_store
from callhooks.testing.factories import gather_event, recording_event
from tests.background.support import SECRET, served, within
from tests.stores.support import SHARED_BACKENDS, backend_url, eventually

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=SHARED_BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def add_failed(url: str, *recordings: str) -> list[str]:
    """Failed events as the worker leaves them, one per recording id (in this order)."""

    async def add() -> list[str]:
        store = await open_store(url)
        try:
            ids = []
            for n, recording in enumerate(recordings):
                event = recording_event(f"c-{recording}", recordingId=recording)
                payload = queued_event(event, method="POST", received_at=1_700_000_000.0, handler="app.archive")
                ids.append(await store.add_failed(payload, f"RuntimeError: archive down ({recording})", 3 + n))
            return ids
        finally:
            await store.close()

    return asyncio.run(add())


def queue_size(url: str) -> int:
    async def size() -> int:
        store = await open_store(url)
        try:
            return await store.queue_size()
        finally:
            await store.close()

    return asyncio.run(size())


def test_list_show_drop(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = add_failed(url, "r-a", "r-b")
    code, out, err = run_cli(capsys, "failed", "list", "--store", url)
    assert (code, err) == (0, "2 failed events\n")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [second, first]  # newest first
    assert "attempts=4" in lines[0] and "recording call=c-r-b" in lines[0] and "archive down (r-b)" in lines[0]
    code, out, _ = run_cli(capsys, "failed", "list", "--store", url, "--limit", "1")
    assert (code, [line.split()[0] for line in out.splitlines()]) == (0, [second])

    code, out, _ = run_cli(capsys, "failed", "show", first, "--store", url)
    shown = json.loads(out)
    assert code == 0
    assert shown["error"] == "RuntimeError: archive down (r-a)"
    assert (shown["attempts"], shown["handler"], shown["method"]) == (3, "app.archive", "POST")
    assert shown["fields"]["recordingId"] == "r-a" and shown["fields"]["eventType"] == "recording"

    code, out, _ = run_cli(capsys, "failed", "drop", first, "--store", url)
    assert (code, out) == (0, f"dropped {first}\n")
    code, out, _ = run_cli(capsys, "failed", "list", "--store", url)
    assert [line.split()[0] for line in out.splitlines()] == [second]
    for action in ("show", "drop", "replay"):
        code, out, err = run_cli(capsys, "failed", action, first, "--store", url)
        assert (code, out) == (1, "")
        assert err == f"callhooks failed {action}: no failed event {first!r} in this store\n"


def test_replay_queues_it_and_a_running_receiver_handles_it(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    [failed_id] = add_failed(url, "r-c")
    code, out, _ = run_cli(capsys, "failed", "replay", failed_id, "--store", url)
    assert code == 0 and out.startswith(f"replayed {failed_id}: queued again as ")
    assert queue_size(url) == 1
    assert run_cli(capsys, "failed", "list", "--store", url)[1] == ""

    async def receive_it() -> list[str]:
        hooks = CallHooks(secret=SECRET, store=url, background=BackgroundSettings(poll_interval=0.02))
        archived: list[str] = []
        done = asyncio.Event()

        @hooks.on("recording", background=True)
        async def archive(event: events.RecordingEvent) -> None:
            archived.append(event.recording_id or "")
            done.set()

        async with served(hooks):
            await within(done.wait())
            assert hooks.store is not None
            store = hooks.store
            await eventually(lambda: _empty(store))
        return archived

    assert asyncio.run(receive_it()) == ["r-c"]
    assert queue_size(url) == 0


def test_a_failed_callback_is_listed_shown_and_replayed_to_its_handler(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def add() -> str:
        store = await open_store(url)
        try:
            event = gather_event("c-9", digits="7")
            reason = "busy: the event waited 10 s for its turn"
            payload = failed_callback(
                event, method="GET", received_at=1.7e9, handler="app.menu", status=503, reason=reason
            )
            return await store.add_failed(payload, reason, 1)
        finally:
            await store.close()

    failed_id = asyncio.run(add())
    code, out, _ = run_cli(capsys, "failed", "list", "--store", url)
    assert code == 0 and out.split()[:3] == [failed_id, out.split()[1], "attempts=1"]
    assert "callback gather call=c-9  busy: the event waited" in out
    code, out, _ = run_cli(capsys, "failed", "show", failed_id, "--store", url)
    shown = json.loads(out)
    assert (shown["kind"], shown["status"], shown["method"], shown["handler"]) == ("callback", 503, "GET", "app.menu")
    assert shown["reason"] == shown["error"] == "busy: the event waited 10 s for its turn"
    code, out, _ = run_cli(capsys, "failed", "replay", failed_id, "--store", url)
    assert code == 0 and queue_size(url) == 1

    async def receive_it() -> list[str]:
        hooks = CallHooks(secret=SECRET, store=url, background=BackgroundSettings(poll_interval=0.02))
        chosen: list[str] = []
        done = asyncio.Event()

        @hooks.on("gather")  # an ordinary handler: the replay runs it as the delivery would have
        def menu(event: events.GatherEvent) -> None:
            chosen.append(event.digits or "")
            done.set()

        async with served(hooks):
            await within(done.wait())
            assert hooks.store is not None
            store = hooks.store
            await eventually(lambda: _empty(store))
        return chosen

    assert asyncio.run(receive_it()) == ["7"]
    assert run_cli(capsys, "failed", "list", "--store", url)[1] == ""


async def _empty(store: Store) -> bool:
    return await store.queue_size() == 0


def test_the_store_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/env.db"
    [failed_id] = add_failed(url, "r-e")
    env = {"CALLHOOKS_STORE": url, "PATH": ""}
    listed = subprocess.run(
        [sys.executable, "-m", "callhooks", "failed", "list"], capture_output=True, text=True, env=env, timeout=30
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[0] == failed_id


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["failed"], ["action"]),
        (["failed", "purge", "--store", "sqlite:///x.db"], ["purge"]),
        (["failed", "list"], ["--store", "CALLHOOKS_STORE"]),
        (["failed", "list", "--store", "memory://"], ["memory://", "shared store"]),
        (["failed", "list", "--store", "ftp://host/x"], ["unknown store URL"]),
        (["failed", "list", "--store", "sqlite:///x.db", "--limit", "0"], ["--limit"]),
        (["failed", "show", "--store", "sqlite:///x.db"], ["id"]),
        (["failed", "drop", "a", "b", "--store", "sqlite:///x.db"], ["unrecognized", "b"]),
    ],
)
def test_misuse_is_one_line_and_exit_code_2(
    argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLHOOKS_STORE", raising=False)
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    [line] = err.strip().splitlines()
    assert line.startswith("callhooks: error: ")
    for word in words:
        assert word in line


def test_an_unreachable_store_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "failed", "list", "--store", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert (code, out) == (1, "")
    [line] = err.strip().splitlines()
    assert line.startswith("callhooks failed list: sqlite store unavailable: cannot open")


@pytest.mark.parametrize("action", ["list", "show", "replay", "drop"])
def test_help_shows_defaults_and_the_environment(
    action: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLHOOKS_STORE", "redis://:must-not-be-printed@127.0.0.1:1/0")
    with pytest.raises(SystemExit) as exit_info:
        main(["failed", action, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "CALLHOOKS_STORE" in out and "(default: $CALLHOOKS_STORE)" in out
    assert ("(default: 100)" in out) == (action == "list")
    assert "must-not-be-printed" not in out
