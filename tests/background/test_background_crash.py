"""Crash test: SIGKILL a uvicorn worker process while background items are in flight and queued; after a
restart on the same store (a SQLite file, a real redis-server) each item is handled exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from callhooks.events import wire_fields
from callhooks.signing import CallbackSigner
from callhooks.stores import open_store
from callhooks.testing import wait_until
from callhooks.testing.factories import recording_event
from callhooks.testing.server import free_port
from tests.background.crash_app import SECRET
from tests.helpers.processes import ROOT
from tests.stores.support import SHARED_BACKENDS, backend_url

pytestmark = pytest.mark.timeout(120)

ITEMS = 20
IN_FLIGHT = ("r-0", "r-1")  # held by the two worker tasks of the first process when it is killed


@pytest.fixture(params=SHARED_BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


@contextmanager
def receiver(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``uvicorn tests.background.crash_app:hooks`` in its own process, once it answers ``/healthz``."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "tests.background.crash_app:hooks", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--lifespan", "on", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or _healthy(base), f"{command} to answer")
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(check: Callable[[], object], what: str, timeout: float = 40.0) -> None:
    wait_until(check, timeout=timeout, interval=0.02, what=what)


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def deliver(base: str, recording: str) -> int:
    path = "/" + CallbackSigner(SECRET).sign(None, max_age=3600)
    event = recording_event(f"c-{recording}", recordingId=recording)
    return httpx.post(base + path, json=wire_fields(event), timeout=10).status_code


def queue_size(url: str) -> int:
    async def size() -> int:
        store = await open_store(url)
        try:
            return await store.queue_size()
        finally:
            await store.close()

    return asyncio.run(size())


def test_items_survive_sigkill_and_run_exactly_once_after_restart(url: str, tmp_path: Path) -> None:
    results, blocked = tmp_path / "results.txt", tmp_path / "blocked.txt"
    env = {"CRASH_STORE": url, "CRASH_RESULTS": str(results), "CRASH_BLOCKED": str(blocked)}
    recordings = [f"r-{n}" for n in range(ITEMS)]

    with receiver({**env, "CRASH_BLOCK": ",".join(IN_FLIGHT)}) as (process, base):
        for recording in IN_FLIGHT:
            assert deliver(base, recording) == 200
        wait_for(lambda: sorted(lines(blocked)) == list(IN_FLIGHT), "both worker tasks to hold an item")
        for recording in recordings[len(IN_FLIGHT) :]:
            assert deliver(base, recording) == 200  # answered once queued; both tasks are busy, so they wait
        assert queue_size(url) == ITEMS
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
    assert lines(results) == []  # nothing ran to the end before the crash

    with receiver(env):  # the same store, nothing held this time
        wait_for(lambda: len(lines(results)) >= ITEMS and queue_size(url) == 0, "every item to be handled")
    assert Counter(lines(results)) == Counter({recording: 1 for recording in recordings})
    assert queue_size(url) == 0
