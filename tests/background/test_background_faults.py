"""Background handlers when things go wrong: the store down (a real redis-server stopped and started again),
a handler raising SystemExit, an app mounted where no lifespan reaches it, the store named by the environment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from callhooks import CallHooks, events
from callhooks.receiver.background import BackgroundSettings
from callhooks.stores import RetryPolicy
from callhooks.testing.factories import recording_event
from tests.background.support import SECRET, deliver, served, within
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

FAST = BackgroundSettings(retry=RetryPolicy(max_attempts=2, base_delay=0.01), poll_interval=0.02)


async def test_a_store_that_is_down_gives_503_and_the_receiver_recovers(tmp_path: Path) -> None:
    redis = new_redis_server(tmp_path)  # a server of its own: this test stops it
    redis.start()
    try:
        hooks = CallHooks(secret=SECRET, store=redis.url, background=FAST)
        handled: list[str] = []
        done = asyncio.Event()

        @hooks.on("recording", background=True)
        async def archive(event: events.RecordingEvent) -> None:
            handled.append(event.recording_id or "")
            done.set()

        async with served(hooks) as client:
            await asyncio.to_thread(redis.stop)
            down = await deliver(client, hooks, recording_event("c-1", recordingId="r-lost"))
            assert down.status_code == 503  # not acknowledged: the platform delivers it again to the fallback
            assert down.json()["error"] == "store-unavailable"
            assert down.json()["detail"].startswith("redis store unavailable")
            await asyncio.to_thread(redis.start)  # the same port, empty
            up = await eventually(lambda: _delivered(client, hooks, "r-back"))
            assert up == 200
            await within(done.wait())
        assert handled == ["r-back"]
    finally:
        redis.stop()


async def _delivered(client: httpx.AsyncClient, hooks: CallHooks, recording: str) -> int | None:
    response = await deliver(client, hooks, recording_event("c-1", recordingId=recording))
    return response.status_code if response.status_code == 200 else None


async def test_a_handler_raising_system_exit_is_a_failure_not_the_end_of_the_worker() -> None:
    hooks = CallHooks(secret=SECRET, background=FAST)
    done = asyncio.Event()

    @hooks.on("recording", background=True)
    async def leave(event: events.RecordingEvent) -> None:
        if event.recording_id == "r-exit":
            raise SystemExit(3)
        done.set()

    async with served(hooks) as client:
        assert (await deliver(client, hooks, recording_event("c-2", recordingId="r-exit"))).status_code == 200
        [failed] = await eventually(hooks.failed_events.list)
        assert (failed.error, failed.attempts) == ("RuntimeError: handler raised SystemExit: 3", 2)
        assert (await deliver(client, hooks, recording_event("c-2", recordingId="r-ok"))).status_code == 200
        await within(done.wait())  # the worker still runs


async def test_a_mounted_app_starts_its_worker_with_the_first_background_event() -> None:
    hooks = CallHooks(secret=SECRET, background=FAST)
    done = asyncio.Event()

    @hooks.on("recording", background=True)
    async def archive(event: events.RecordingEvent) -> None:
        done.set()

    host = Starlette(routes=[Mount("/hooks", app=hooks)])  # Starlette gives mounted apps no lifespan events
    async with served(host) as client:
        assert hooks.store is None
        response = await deliver(client, hooks, recording_event("c-3"), prefix="/hooks")
        assert response.status_code == 200
        await within(done.wait())
        await hooks.stop_background()  # what the host app's shutdown does


def test_the_store_url_comes_from_the_environment() -> None:
    hooks = CallHooks.from_env({"CALLHOOKS_SECRET": SECRET, "CALLHOOKS_STORE": "sqlite:///var/callhooks.db"})
    assert (hooks.store_url, hooks.store) == ("sqlite:///var/callhooks.db", None)
    assert CallHooks.from_env({"CALLHOOKS_SECRET": SECRET}).store_url == "memory://"


async def test_a_mounted_app_whose_store_cannot_open_answers_503(tmp_path: Path) -> None:
    hooks = CallHooks(secret=SECRET, store=f"sqlite:///{tmp_path}/no/such/dir/x.db")

    @hooks.on("recording", background=True)
    async def archive(event: events.RecordingEvent) -> None:
        raise AssertionError("never queued, so never run")

    async with served(Starlette(routes=[Mount("/hooks", app=hooks)])) as client:
        response = await deliver(client, hooks, recording_event("c-4"), prefix="/hooks")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("sqlite store unavailable: cannot open")
