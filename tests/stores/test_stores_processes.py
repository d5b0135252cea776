"""Guarantees across processes, on the stores several processes share: sqlite:/// (one file) and redis://."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callhooks.stores import process_due_items
from tests.stores.support import SHARED_BACKENDS, backend_url, eventually, follow_journal, opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

WORKER = str(Path(__file__).with_name("store_worker.py"))


@pytest.fixture(params=SHARED_BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


class Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def expect(self, prefix: str, timeout: float = 30.0) -> str:
        assert self.process.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not raw:
                raise AssertionError(f"worker exited before saying {prefix!r}; said {self.lines}")
            line = raw.decode().strip()
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.returncode is None:
            worker.process.kill()
        await asyncio.wait_for(worker.process.wait(), 10)


async def start(workers: list[Worker], *args: str) -> Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable, WORKER, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    worker = Worker(process)
    workers.append(worker)
    return worker


async def test_several_processes_claiming_the_same_events_run_each_exactly_once(
    url: str, workers: list[Worker]
) -> None:
    group = [await start(workers, "once", url, "25") for _ in range(4)]
    for worker in group:
        await worker.expect("ready")
    for worker in group:  # all start claiming together
        await worker.send("go")
    for worker in group:
        await worker.expect("done", timeout=60)
    ran = Counter(line.split()[1] for worker in group for line in worker.lines if line.startswith("ran "))
    assert ran == Counter({f"e{n}": 1 for n in range(25)})
    assert len([w for w in group if any(line.startswith("ran ") for line in w.lines)]) >= 1


async def test_a_calls_turns_go_in_ticket_order_across_processes_behind_a_slow_holder(
    url: str, workers: list[Worker], tmp_path: Path
) -> None:
    log = tmp_path / "turns.log"
    holder = await start(workers, "fifo", url, "call:c-1", "p0", str(log), "hold")
    await holder.expect("turn")
    waiting = []
    for number in range(1, 6):  # each takes its ticket before the next process starts
        worker = await start(workers, "fifo", url, "call:c-1", f"p{number}", str(log), "go")
        assert await worker.expect("entered") == f"entered {number}"
        waiting.append(worker)
    await holder.send("release")
    for worker in [holder, *waiting]:
        await worker.expect("left", timeout=60)
    expected = [f"{edge} p{n}" for n in range(6) for edge in ("start", "end")]
    assert log.read_text().split("\n")[:-1] == expected


async def test_background_items_survive_a_sigkilled_worker_and_each_is_handled_exactly_once(
    url: str, workers: list[Worker], tmp_path: Path
) -> None:
    results = tmp_path / "handled.log"
    store = await opened(url)
    try:
        for n in range(20):
            await store.enqueue({"n": n})
        doomed = await start(workers, "queue", url, str(results), "5")
        await doomed.expect("blocked")
        doomed.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(doomed.process.wait(), 10) == -signal.SIGKILL
        assert results.read_text().split() == ["0", "1", "2", "3", "4"]

        async def handle(payload: dict[str, int]) -> None:
            with results.open("a") as file:
                file.write(f"{payload['n']}\n")

        async def drained() -> bool:
            await process_due_items(store, "restarted-worker", handle, lease=30)
            return await store.queue_size() == 0

        await eventually(drained, timeout=30)  # the dead worker's items come back when its 1 s lease ends
    finally:
        await store.close()
    handled = Counter(results.read_text().split())
    assert handled == Counter({str(n): 1 for n in range(20)})


async def test_two_processes_appending_to_the_journal_are_read_once_each_in_order_while_they_write(
    url: str, workers: list[Worker]
) -> None:
    writers = [await start(workers, "journal", url, name, "150", "4") for name in ("a", "b")]
    for writer in writers:
        await writer.expect("ready")
    reader = await opened(url)
    try:
        for writer in writers:  # both start appending together
            await writer.send("go")
        finished = asyncio.gather(*(writer.expect("done", timeout=60) for writer in writers))
        seen = await follow_journal(reader, finished)  # while the writers write
        await finished
    finally:
        await reader.close()
    assert [seq for seq, _ in seen] == list(range(1, 1201))  # strictly increasing: none missed, none repeated
    for name in "ab":
        assert [entry["n"] for _, entry in seen if entry["writer"] == name] == list(range(600))
