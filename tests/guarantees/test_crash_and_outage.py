"""The guarantees when a worker dies or the store goes away, under ``uvicorn --workers 4`` on one SQLite file and on
a real redis-server, with the test as the platform: it waits ``PLATFORM_TIMEOUT`` for each answer and delivers to
the fallback at once when a delivery fails. Which handler ran how often and when is read from the workers' own
files (``crash_app.py``), not from the store."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks, bxml
from callhooks.testing import free_port
from tests.guarantees.support import SECRET, answer, dtmf, token_path
from tests.helpers.processes import ROOT, running
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import SHARED_BACKENDS, backend_url

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

WORKERS = 4
#: How long the platform waits for each delivery (Catapult's callbackTimeout, the receiver's default).
PLATFORM_TIMEOUT = 10.0
PATH = token_path(CallHooks(secret=SECRET, public_url="http://127.0.0.1"), max_age=None)


@pytest.fixture(params=SHARED_BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


class Runs:
    """The handlers' ``start``/``done`` lines of every worker (``crash_app.py``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def lines(self) -> list[tuple[str, str, int, int, int]]:
        found = []
        for file in self.directory.iterdir():
            for line in file.read_text().splitlines():
                what, call, seq, pid, at = line.split()
                found.append((what, call, int(seq), int(pid), int(at)))
        return found

    def count(self, what: str, call: str, seq: int) -> int:
        return sum(1 for w, c, s, _, _ in self.lines() if (w, c, s) == (what, call, seq))

    def first(self, what: str, call: str, seq: int) -> tuple[int, int] | None:
        """(pid, monotonic ns) of the first such line, or None."""
        times = sorted((at, pid) for w, c, s, pid, at in self.lines() if (w, c, s) == (what, call, seq))
        return (times[0][1], times[0][0]) if times else None


@contextmanager
def workers(url: str, logs: Path, **env: str) -> Iterator[str]:
    """``uvicorn --workers 4`` serving ``crash_app`` on ``url``'s store; its base URL once it answers."""
    logs.mkdir(exist_ok=True)
    port = free_port()
    environ = {
        **os.environ,
        "CALLHOOKS_SECRET": SECRET,
        "CALLHOOKS_STORE": url,
        "CALLHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CRASH_LOG_DIR": str(logs),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.guarantees.crash_app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS), "--log-level", "critical"]
    with running(command, environ, port) as base:
        yield base


@asynccontextmanager
async def platform(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=PLATFORM_TIMEOUT, limits=httpx.Limits(max_connections=64)) as c:
        yield c


async def until(check: object, what: str, timeout: float = 30.0) -> None:
    """Poll ``check()`` (a callable) until truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)  # polling the workers' files, bounded by the deadline


# -- a worker killed in the middle of a handler --------------------------------------------------------------


@pytest.mark.parametrize("handler", ["async", "sync"])
async def test_a_worker_killed_mid_handler_frees_its_event_and_its_call_within_seconds(
    url: str, tmp_path: Path, handler: str
) -> None:
    runs = Runs(tmp_path / "runs")
    # A 2 s handler: what follows the kill is lease (2 s) + grace (0.3 s) + the handler's rerun; with the
    # finding's 3 s handler the next event came 4.9-5.3 s after the kill, too close to 6 s for a loaded CI.
    with workers(url, runs.directory, CRASH_HANDLER=handler, CRASH_SLOW_S="2") as base:
        async with platform(base) as http:
            first = asyncio.create_task(http.post(PATH, json=dtmf("c-1", 1, "9")))  # a 2 s handler
            await until(lambda: runs.first("start", "c-1", 1), "the handler to start")
            started = runs.first("start", "c-1", 1)
            assert started is not None
            await asyncio.sleep(0.3)  # the scenario: 0.3 s into the handler
            os.kill(started[0], signal.SIGKILL)
            killed = time.monotonic_ns()
            with pytest.raises(httpx.TransportError):
                await first  # the connection dies with the worker: the platform delivers to the fallback at once
        async with platform(base) as http:  # new connections, as the fallback's
            sent = time.monotonic()
            fallback = asyncio.create_task(http.post(PATH, json=dtmf("c-1", 1, "9")))
            following = asyncio.create_task(http.post(PATH, json=dtmf("c-1", 2)))  # the call's next event
            answered = await fallback
            fallback_seconds = time.monotonic() - sent
            after = await following
    assert answered.status_code == 200 and fallback_seconds < PLATFORM_TIMEOUT
    assert after.status_code == 200
    assert runs.count("start", "c-1", 1) == 2  # the killed run and the fallback's
    assert runs.count("done", "c-1", 1) == 1  # run to completion once
    assert runs.count("start", "c-1", 2) == 1
    next_started = runs.first("start", "c-1", 2)
    assert next_started is not None
    seconds_after_kill = (next_started[1] - killed) / 1e9
    print(f"\n{url.split(':')[0]} {handler}: fallback answered in {fallback_seconds:.1f} s, "
          f"next event handled {seconds_after_kill:.1f} s after the kill")  # fmt: skip
    assert seconds_after_kill < 6.0


# -- the store away while handlers run -----------------------------------------------------------------------


class SqliteLock:
    """An exclusive lock on a SQLite file held by another process (``BEGIN EXCLUSIVE``) until ``release``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process: subprocess.Popen[str] | None = None

    def take(self) -> None:
        script = (
            "import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
            "db.rollback()\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, str(self.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.process is not None:
            self.process.communicate("", timeout=10)
            self.process = None


CALLS = [f"c-{n}" for n in range(4)]


@pytest.mark.parametrize(("backend", "seconds"), [("redis", 3.5), ("sqlite", 3.5), ("sqlite", 7.0)])
async def test_a_store_away_while_handlers_run_blocks_no_call_after_it_is_back_and_runs_nothing_twice(
    tmp_path: Path, backend: str, seconds: float
) -> None:
    runs = Runs(tmp_path / "runs")
    if backend == "redis":  # stopped and started again on its port, empty
        redis = new_redis_server(tmp_path)
        redis.start()
        url, lock = redis.url, None
    else:  # locked by another process
        url, lock = f"sqlite:///{tmp_path / 'hooks.db'}", SqliteLock(tmp_path / "hooks.db")
    try:
        with workers(url, runs.directory) as base:
            async with platform(base) as http:

                async def deliver(event: dict[str, object]) -> list[httpx.Response | httpx.HTTPError]:
                    """As the platform: once, then at once to the fallback URL (this receiver too) when the
                    answer was a 5xx or did not come within its timeout."""
                    answers: list[httpx.Response | httpx.HTTPError] = []
                    for _ in range(2):
                        try:
                            answers.append(await http.post(PATH, json=event))
                        except httpx.HTTPError as exc:
                            answers.append(exc)
                            continue
                        if answers[-1].status_code < 500:  # type: ignore[union-attr]
                            break
                    return answers

                # Each call's first event (a 2 s handler) delivered twice at once, as platforms do; the store goes
                # away 1 s into the handlers (so on SQLite it is still locked when the callbacks' deadline comes).
                first = [asyncio.create_task(deliver(dtmf(call, 1, "8"))) for call in CALLS for _ in range(2)]
                await until(lambda: all(runs.first("start", call, 1) for call in CALLS), "every handler to start")
                await asyncio.sleep(1.0)  # the scenario: the store goes while the handlers run
                if lock is not None:
                    lock.take()
                else:
                    redis.stop()
                await asyncio.sleep(seconds)  # the outage, as long as the scenario says
                if lock is not None:
                    lock.release()
                else:
                    redis.start()
                back = time.monotonic_ns()
                following = [asyncio.create_task(deliver(dtmf(call, 2))) for call in CALLS]
                chains = [*await asyncio.gather(*first), *await asyncio.gather(*following)]
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic_ns() - back) / 1e9))  # a retry 1 s after
                again = [await deliver(dtmf(call, 1, "8")) for call in CALLS]
    finally:
        if lock is not None:
            lock.release()
        else:
            redis.stop()
    answers = [answer for chain in chains for answer in chain]
    statuses = Counter(a.status_code if isinstance(a, httpx.Response) else type(a).__name__ for a in answers)
    print(f"\n{backend} away {seconds} s: {dict(statuses)}")
    # Every delivery was answered before the platform's timeout: a 2xx, or a 5xx that sends it to the fallback.
    assert all(isinstance(a, httpx.Response) and (a.status_code == 200 or a.status_code >= 500) for a in answers)
    for n, call in enumerate(CALLS):
        assert runs.count("start", call, 1) == 1 and runs.count("done", call, 1) == 1  # nothing ran twice
        assert runs.count("start", call, 2) == 1
        # The run was answered as the handler answered: the platform saw the event handled.
        ends = [chain[-1] for chain in chains[2 * n : 2 * n + 2]]
        assert any(isinstance(end, httpx.Response) and end.status_code == 200 for end in ends)
        next_started = runs.first("start", call, 2)
        assert next_started is not None and (next_started[1] - back) / 1e9 < 1.0  # no call blocked after
    assert all(_ok(chain) for chain in chains[2 * len(CALLS) :])  # the next events
    assert all(_ok(chain) for chain in again)  # duplicates, answered without running


def _ok(chain: list[httpx.Response | httpx.HTTPError]) -> bool:
    return len(chain) == 1 and isinstance(chain[0], httpx.Response) and chain[0].status_code == 200


# -- concurrent duplicates of a BXML application ---------------------------------------------------------------


async def test_every_duplicate_of_a_bxml_answer_gets_the_original_document(url: str, tmp_path: Path) -> None:
    runs = Runs(tmp_path / "runs")
    calls = [f"bxml-{n:02d}" for n in range(50)]
    with workers(url, runs.directory) as base:
        async with platform(base) as http:
            replies = await asyncio.gather(*(http.post(PATH, json=answer(call)) for call in calls for _ in range(3)))
    silent = 0
    for n, call in enumerate(calls):
        three = replies[3 * n : 3 * n + 3]
        assert all(r.status_code == 200 for r in three), [r.status_code for r in three]
        bodies = {(r.headers.get("content-type"), r.content) for r in three}
        assert len(bodies) == 1, bodies  # the duplicates got the original document
        if not three[0].content:
            silent += 1
            continue
        document = bxml.parse(three[0].text)
        assert document.verbs and isinstance(document.verbs[0], bxml.Gather)
        assert runs.count("done", call, 0) == 1
    assert silent == 0
