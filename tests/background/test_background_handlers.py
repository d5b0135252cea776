"""Background handlers over real uvicorn on 127.0.0.1, on memory://, a SQLite file and a real redis-server:
queued before the 200, run once afterwards, retried with backoff, kept as failed events, replayed, dropped,
and drained at shutdown."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from callhooks import CallHooks, events
from callhooks.receiver.background import BackgroundSettings
from callhooks.stores import RetryPolicy, Store, open_store
from callhooks.testing.factories import answer_event, recording_event
from tests.background.support import SECRET, deliver, served, within
from tests.stores.support import BACKENDS, backend_url, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

FAST = BackgroundSettings(retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2), poll_interval=0.02)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def new_hooks(url: str, settings: BackgroundSettings = FAST) -> CallHooks:
    return CallHooks(secret=SECRET, store=url, background=settings)


def opened_store(hooks: CallHooks) -> Store:
    assert hooks.store is not None, "the app opens its store at start-up"
    return hooks.store


async def test_background_handler_runs_after_the_200_exactly_once(url: str) -> None:
    hooks = new_hooks(url)
    release = asyncio.Event()
    handled: list[tuple[str | None, str, dict[str, object]]] = []
    done: dict[str, asyncio.Event] = {"r-1": asyncio.Event(), "r-2": asyncio.Event()}

    @hooks.on("recording", background=True)
    async def store_recording(event: events.RecordingEvent) -> None:
        await release.wait()  # held until the test has its 200
        handled.append((event.recording_id, event.call_id or "", event.context))
        done[event.recording_id or ""].set()

    async with served(hooks) as client:
        first = await deliver(client, hooks, recording_event("c-1", recordingId="r-1"), context={"account": "a-1"})
        assert first.status_code == 200 and handled == []  # answered while the handler is still held
        release.set()
        await within(done["r-1"].wait())
        # A second event, delivered as GET, runs after the first was acknowledged (one item at a time).
        second = await deliver(client, hooks, recording_event("c-2", recordingId="r-2"), method="GET")
        assert second.status_code == 200
        await within(done["r-2"].wait())
        store = opened_store(hooks)
        assert await eventually(lambda: _is_empty(store))
        assert await store.list_failed() == []
    assert handled == [("r-1", "c-1", {"account": "a-1"}), ("r-2", "c-2", {})]


async def _is_empty(store: Store) -> bool:
    return await store.queue_size() == 0


async def test_a_foreground_handler_still_runs_before_the_answer() -> None:
    hooks = new_hooks("memory://")
    ran: list[str] = []

    @hooks.on("answer")
    async def greet(event: events.AnswerEvent) -> None:
        ran.append(event.call_id or "")

    async with served(hooks) as client:
        response = await deliver(client, hooks, answer_event("c-9"))
        assert (response.status_code, ran) == (200, ["c-9"])


async def test_failures_are_retried_with_backoff_then_kept_as_a_failed_event(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "callhooks")
    hooks = new_hooks(url)
    loop = asyncio.get_running_loop()
    runs: list[float] = []

    @hooks.on("recording", background=True)
    async def transcribe(event: events.RecordingEvent) -> None:
        runs.append(loop.time())
        raise RuntimeError(f"transcriber down (run {len(runs)})")

    async with served(hooks) as client:
        response = await deliver(client, hooks, recording_event("c-3", recordingId="r-3"))
        assert response.status_code == 200
        failed_events = hooks.failed_events
        [failed] = await eventually(failed_events.list)
        assert len(runs) == 3  # max_attempts runs in all, then no more
        assert failed.attempts == 3
        assert failed.error == "RuntimeError: transcriber down (run 3)"
        assert failed.payload["fields"]["recordingId"] == "r-3"
        assert failed.payload["method"] == "POST"
        assert failed.payload["handler"].endswith("transcribe")
        assert (await failed_events.show(failed.id)) == failed
        assert await opened_store(hooks).queue_size() == 0
    # Backoff: the n-th retry waited at least the policy's delay (a lower bound: a slow machine only adds).
    gaps = [later - earlier for earlier, later in itertools.pairwise(runs)]
    assert [gap >= FAST.retry.delay(n) * 0.9 for n, gap in enumerate(gaps, start=1)] == [True, True]
    logged = [r.getMessage() for r in caplog.records if r.name == "callhooks.background"]
    assert [line.endswith(f"RuntimeError: transcriber down (run {n})") for n, line in enumerate(logged, 1)] == [
        True
    ] * 3


async def test_replay_runs_a_failed_event_again_and_drop_forgets_one(url: str) -> None:
    hooks = new_hooks(url)
    broken = {"r-4", "r-5"}
    succeeded = asyncio.Event()
    attempts: dict[str, int] = {}

    @hooks.on("recording", background=True)
    async def archive(event: events.RecordingEvent) -> None:
        key = event.recording_id or ""
        attempts[key] = attempts.get(key, 0) + 1
        if key in broken:
            raise ValueError(f"cannot archive {key}")
        succeeded.set()

    async with served(hooks) as client:
        for recording in ("r-4", "r-5"):
            assert (await deliver(client, hooks, recording_event("c-4", recordingId=recording))).status_code == 200
        failed_events = hooks.failed_events
        found = await eventually(lambda: _failed_count(hooks, 2))
        by_recording = {failed.payload["fields"]["recordingId"]: failed for failed in found}
        broken.clear()  # the outage is over
        item_id = await failed_events.replay(by_recording["r-4"].id)
        assert item_id is not None
        await within(succeeded.wait())
        assert attempts == {"r-4": 4, "r-5": 3}  # three failed runs each, and the replayed one
        assert await failed_events.drop(by_recording["r-5"].id) is True
        assert await failed_events.list() == []
        assert await failed_events.show(by_recording["r-5"].id) is None
        assert await failed_events.drop(by_recording["r-5"].id) is False
        assert await failed_events.replay(by_recording["r-5"].id) is None
        assert await eventually(lambda: _is_empty(opened_store(hooks)))
    assert attempts == {"r-4": 4, "r-5": 3}


async def _failed_count(hooks: CallHooks, count: int) -> list[object] | None:
    found = await hooks.failed_events.list()
    return list(found) if len(found) == count else None


async def test_shutdown_lets_the_running_handler_finish(url: str) -> None:
    """SIGTERM-style shutdown while one handler runs and more are queued: the running one finishes; the queued
    ones are not dropped (memory://, which dies with the process, runs them before stopping; a durable store
    keeps them for the next start, which runs each once)."""
    hooks = new_hooks(url, BackgroundSettings(poll_interval=0.02, stop_timeout=20))
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    @hooks.on("recording", background=True)
    async def slow(event: events.RecordingEvent) -> None:
        started.set()
        await release.wait()
        finished.append(event.recording_id or "")

    shutdown: asyncio.Task[None] | None = None
    async with served(hooks) as client:
        for n in range(4):
            assert (await deliver(client, hooks, recording_event("c-5", recordingId=f"r-{n}"))).status_code == 200
        await within(started.wait())
        assert finished == []
        # Shut down with the first handler still held: release it only once shutdown has begun.
        shutdown = asyncio.create_task(hooks.stop_background())
        await asyncio.sleep(0)  # let the stop begin (ordering within one loop, not a wait for time)
        release.set()
        await within(shutdown)
        store = opened_store(hooks)
        left = await store.queue_size()
    if url == "memory://":
        assert (sorted(finished), left) == ([f"r-{n}" for n in range(4)], 0)
        return
    assert (finished, left) == (["r-0"], 3)
    again = new_hooks(url)
    again.add_handler(slow, "recording", background=True)
    async with served(again):
        await eventually(lambda: _is_empty(opened_store(again)))
    assert sorted(finished) == [f"r-{n}" for n in range(4)]


async def test_the_store_must_open_at_start_up(tmp_path: Path) -> None:
    hooks = CallHooks(secret=SECRET, store=f"sqlite:///{tmp_path}/missing/dir/x.db")

    @hooks.on("recording", background=True)
    async def never(event: events.RecordingEvent) -> None:
        raise AssertionError("not reached")

    sent: list[dict[str, object]] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await hooks({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]
    [failed] = sent
    assert failed["type"] == "lifespan.startup.failed"
    assert str(failed["message"]).startswith("callhooks: sqlite store unavailable: cannot open")


def test_background_settings_refuse_nonsense() -> None:
    bad: list[Callable[[], object]] = [
        lambda: BackgroundSettings(lease=0),
        lambda: BackgroundSettings(poll_interval=-1),
        lambda: BackgroundSettings(concurrency=0),
        lambda: BackgroundSettings(retry=RetryPolicy(max_attempts=0)),
    ]
    for make in bad:
        with pytest.raises(ValueError, match=r"BackgroundSettings|RetryPolicy"):
            make()


async def test_an_app_given_an_open_store_uses_it_and_leaves_it_open(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/given.db")
    hooks = CallHooks(secret=SECRET, store=store, background=FAST)
    done = asyncio.Event()

    @hooks.on("recording", background=True)
    async def note(event: events.RecordingEvent) -> None:
        done.set()

    async with served(hooks) as client:
        assert (await deliver(client, hooks, recording_event("c-6"))).status_code == 200
        await within(done.wait())
    assert (await store.health()).ok  # the app did not close what it did not open
    await store.close()


async def test_memory_says_what_it_loses_at_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "callhooks")
    hooks = new_hooks("memory://", BackgroundSettings(retry=RetryPolicy(base_delay=600), poll_interval=0.02))
    ran = asyncio.Event()

    @hooks.on("recording", background=True)
    async def flaky(event: events.RecordingEvent) -> None:
        ran.set()
        raise RuntimeError("not yet")

    async with served(hooks) as client:
        assert (await deliver(client, hooks, recording_event("c-7"))).status_code == 200
        await within(ran.wait())  # shutdown waits for the failed run to be recorded, then finds it queued
    lost = [r.getMessage() for r in caplog.records if "lost with memory://" in r.getMessage()]
    assert len(lost) == 1 and lost[0].startswith("1 background events")


async def test_a_duplicated_background_event_is_queued_and_run_once(url: str) -> None:
    """Background events go through the same exactly-once step as foreground ones: a repeat delivery of the same
    recording (the platform's fallback, or a duplicate) gets its 200 without a second queue item."""
    hooks = new_hooks(url)
    handled: list[str | None] = []
    ran = asyncio.Event()

    @hooks.on("recording", background=True)
    async def store_recording(event: events.RecordingEvent) -> None:
        handled.append(event.recording_id)
        ran.set()

    event = recording_event("c-1", recordingId="r-1")
    async with served(hooks) as client:
        answers = [(await deliver(client, hooks, event, method=method)).status_code for method in ("POST", "GET")]
        answers.append((await deliver(client, hooks, event)).status_code)
        await within(ran.wait())
        store = opened_store(hooks)
        assert await eventually(lambda: _is_empty(store))
    assert answers == [200, 200, 200]
    assert handled == ["r-1"]
