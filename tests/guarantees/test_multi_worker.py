"""The guarantees under ``uvicorn --workers 4`` on one SQLite file and on Redis: a load generator replays a few
thousand events over a few hundred calls, each delivered twice at once, calls interleaved."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks, parse_event
from callhooks.identity import event_identity
from callhooks.stores import Store, open_store
from callhooks.testing import free_port
from tests.guarantees.support import SECRET, dtmf, token_path
from tests.helpers.processes import ROOT, running
from tests.stores.support import SHARED_BACKENDS, backend_url

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]

WORKERS = 4
DELIVERIES = 2  # every event delivered twice, concurrently


@pytest.fixture(params=SHARED_BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


class Run:
    def __init__(self, calls: int, events_per_call: int) -> None:
        self.calls = [f"c-{n:04d}" for n in range(calls)]
        self.events_per_call = events_per_call
        self.statuses: Counter[int] = Counter()

    @property
    def events(self) -> int:
        return len(self.calls) * self.events_per_call


async def _deliver_twice(http: httpx.AsyncClient, path: str, run: Run, call: str, seq: int) -> list[asyncio.Task[None]]:
    async def one() -> None:
        response = await http.post(path, json=dtmf(call, seq))
        run.statuses[response.status_code] += 1

    return [asyncio.create_task(one()) for _ in range(DELIVERIES)]


async def _replay_answered(http: httpx.AsyncClient, path: str, run: Run, call: str) -> None:
    """Each event twice at once; the next once both are answered."""
    for seq in range(1, run.events_per_call + 1):
        await asyncio.gather(*await _deliver_twice(http, path, run, call, seq))


async def _replay_queued(http: httpx.AsyncClient, path: str, run: Run, call: str, store: Store) -> None:
    """Each event twice at once; the next as soon as this one is running (long before it is answered), so a
    call's events queue behind its slow handler."""
    pending: list[asyncio.Task[None]] = []
    for seq in range(1, run.events_per_call + 1):
        pending += await _deliver_twice(http, path, run, call, seq)
        identity = event_identity(parse_event(dtmf(call, seq)))
        deadline = time.monotonic() + 30
        while (record := await store.record(identity)) is None or record.state == "failed":
            assert time.monotonic() < deadline, f"event {seq} of {call} never started"
            await asyncio.sleep(0.002)  # polling the store for the event's claim, bounded by the deadline
    await asyncio.gather(*pending)


async def _load(url: str, tmp_path: Path, run: Run, slow_ms: int) -> dict[str, float]:
    logs = tmp_path / f"handled-{slow_ms}"
    logs.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "CALLHOOKS_SECRET": SECRET,
        "CALLHOOKS_STORE": url,
        "LOAD_LOG_DIR": str(logs),
        "LOAD_SLOW_MS": str(slow_ms),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.guarantees.load_app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS), "--log-level", "warning"]
    path = token_path(CallHooks(secret=SECRET, public_url="http://127.0.0.1"), max_age=None)
    store = await open_store(url)
    started = time.monotonic()
    try:
        with running(command, env, port) as base:
            limits = httpx.Limits(max_connections=64)
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
                if slow_ms:
                    await asyncio.gather(*(_replay_queued(http, path, run, call, store) for call in run.calls))
                else:
                    await asyncio.gather(*(_replay_answered(http, path, run, call) for call in run.calls))
        elapsed = time.monotonic() - started
        sessions = {call: (await store.load_session(f"call:{call}")).get("seen") for call in run.calls}
    finally:
        await store.close()

    handled: Counter[tuple[str, int]] = Counter()
    by_call: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for file in logs.iterdir():
        for line in file.read_text().splitlines():
            call, seq, at = line.split()
            handled[(call, int(seq))] += 1
            by_call[call].append((int(at), int(seq)))
    order_violations = 0
    for runs in by_call.values():
        seqs = [seq for _, seq in sorted(runs)]  # in the order the handlers started
        order_violations += sum(1 for a, b in itertools.pairwise(seqs) if b < a)
    expected = list(range(1, run.events_per_call + 1))
    figures = {
        "events": run.events,
        "deliveries": run.events * DELIVERIES,
        "duplicates": run.events * (DELIVERIES - 1),
        "handled": sum(handled.values()),
        "handled_twice": sum(1 for n in handled.values() if n > 1),
        "order_violations": order_violations,
        "incomplete_sessions": sum(1 for seen in sessions.values() if seen != expected),
        "non_2xx": sum(n for status, n in run.statuses.items() if not 200 <= status < 300),
        "workers_that_handled": len(list(logs.iterdir())),
        "seconds": round(elapsed, 1),
    }
    print(f"\nmulti-worker {url.split(':')[0]} slow_ms={slow_ms}: {figures}")
    assert figures["non_2xx"] == 0, run.statuses
    assert figures["handled"] == run.events and figures["handled_twice"] == 0
    assert set(handled) == {(call, seq) for call in run.calls for seq in expected}
    assert figures["order_violations"] == 0
    assert figures["incomplete_sessions"] == 0
    assert figures["workers_that_handled"] > 1  # the load really was spread over processes
    return figures


async def test_four_workers_handle_each_event_once_in_order(url: str, tmp_path: Path) -> None:
    await _load(url, tmp_path, Run(calls=200, events_per_call=10), slow_ms=0)


async def test_four_workers_keep_order_when_a_slow_handler_makes_events_queue(url: str, tmp_path: Path) -> None:
    await _load(url, tmp_path, Run(calls=60, events_per_call=8), slow_ms=20)
