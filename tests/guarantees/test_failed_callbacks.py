"""Callbacks the receiver verified and answered 5xx are kept as failed events, on every store: listed and shown
(with their status and reason), replayed through the guarantees, dropped; never a request refused before
verification. Real uvicorn on 127.0.0.1, real SQLite files and a real redis-server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from callhooks import CallHooks
from callhooks.events import DtmfEvent, parse_event
from callhooks.identity import event_identity
from callhooks.receiver.background import describe_failed
from callhooks.receiver.failed_callbacks import FailedCallbacks, failed_callback
from callhooks.stores import FailedEvent, Store, open_store
from tests.background.support import served
from tests.guarantees.support import SECRET, Held, dtmf, token_path
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import BACKENDS, backend_url, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def failed_with(store: Store, count: int) -> Any:
    async def listed() -> list[FailedEvent] | None:
        found = await store.list_failed()
        return found if len(found) >= count else None

    return listed


async def test_a_handler_failure_is_kept_and_its_replay_runs_the_handler_again(url: str) -> None:
    handler = Held()
    handler.fail_next = 1
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=url, metrics=True)
    hooks.add_handler(handler, "dtmf")
    path = token_path(hooks, bind=True)
    async with served(hooks) as http:
        failed = await http.post(path, json=dtmf("c-1", 1))
        forged = await http.post("/not-a-token", json=dtmf("c-1", 2))
        assert hooks.store is not None
        (kept,) = await eventually(failed_with(hooks.store, 1))
        shown = describe_failed(kept)
        replayed_as = await hooks.failed_events.replay(kept.id)
        await eventually(failed_with_run(handler, 2))
        after = await hooks.store.list_failed()
        again = await http.post(path, json=dtmf("c-1", 1))  # the platform's retry, after the replay ran it
        metrics = (await http.get("/metrics")).text
    assert (failed.status_code, forged.status_code) == (500, 403)
    assert (shown["kind"], shown["status"], shown["handler"]) == ("callback", 500, handler_name(handler))
    assert shown["reason"].startswith("handler-failed") and kept.error == shown["reason"]
    assert same_event(shown["fields"], dtmf("c-1", 1)) and shown["method"] == "POST" and kept.attempts == 1
    assert replayed_as is not None and after == []  # replayed: no longer failed
    assert handler.ran == [("c-1", 1), ("c-1", 1)] and again.status_code == 200  # a duplicate now
    assert "callhooks_failed_callbacks_kept_total 1.0" in metrics
    assert "callhooks_failed_callbacks_not_kept_total 0.0" in metrics


def same_event(kept: dict[str, Any], sent: dict[str, Any]) -> bool:
    """The kept fields are the event that was sent (its wire form may differ: times with microseconds)."""
    return event_identity(parse_event(kept)) == event_identity(parse_event(sent))


def failed_with_run(handler: Held, count: int) -> Any:
    async def ran() -> bool:
        return len(handler.ran) >= count

    return ran


def handler_name(handler: Held) -> str:
    hooks = CallHooks(secret=SECRET)
    hooks.add_handler(handler, "dtmf")
    (registered,) = list(hooks)
    return registered.name


async def test_a_callback_refused_while_shutting_down_is_kept_with_its_reason(url: str) -> None:
    handler = Held()
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=url)
    hooks.add_handler(handler, "dtmf")
    path = token_path(hooks)
    async with served(hooks) as http:
        assert hooks.store is not None
        await hooks.delivery.close()  # what lifespan shutdown does first: new callbacks get 503
        refused = await http.post(path, json=dtmf("c-2", 2))
        (kept,) = await eventually(failed_with(hooks.store, 1))
        await hooks.delivery.start()
    assert refused.status_code == 503 and refused.json()["error"] == "shutting-down"
    assert kept.payload["status"] == 503 and kept.error.startswith("shutting-down: ")
    assert same_event(kept.payload["fields"], dtmf("c-2", 2)) and handler.ran == []


@pytest.mark.redis
async def test_while_the_store_is_down_at_most_max_pending_wait_and_the_rest_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis = new_redis_server(tmp_path)
    redis.start()
    store = await open_store(redis.url)

    async def opened() -> Store:
        return store

    def payload(seq: int) -> dict[str, Any]:
        event = parse_event(dtmf("c-3", seq))
        return failed_callback(event, method="POST", received_at=1.7e9, handler="app.h", status=503, reason=f"r{seq}")

    kept = FailedCallbacks(opened, max_pending=2)
    try:
        redis.stop()
        for seq in (1, 2, 3):
            kept.keep(payload(seq))
        (dropped,) = [record for record in caplog.records if "not kept" in record.getMessage()]
        assert kept.pending == 2 and kept.dropped == 1
        assert dropped.levelno == logging.ERROR and "(r1)" in dropped.getMessage()
        redis.start()  # the same port, empty

        async def written() -> bool:
            return kept.pending == 0

        await eventually(written)
        assert [failed.error for failed in await store.list_failed()] == ["r3", "r2"]  # newest first
        redis.stop()
        kept.keep(payload(4))
        await kept.close(timeout=0.1)  # the store does not come back: logged as not kept
        assert kept.dropped == 2 and "(r4)" in caplog.records[-1].getMessage()
    finally:
        await store.close()
        redis.stop()


async def test_a_replayed_callback_of_a_background_handler_is_queued_and_run_in_the_background() -> None:
    ran: list[str] = []
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store="memory://")

    @hooks.on("dtmf", background=True)
    async def later(event: DtmfEvent) -> None:
        ran.append(event.dtmf_digit)

    async with served(hooks):
        assert hooks.store is not None
        event = parse_event(dtmf("c-4", 1, digit="9"))
        reason = "store-unavailable: the queue is full (100000 items)"
        payload = failed_callback(event, method="POST", received_at=1.7e9, handler="x", status=503, reason=reason)
        failed_id = await hooks.store.add_failed(payload, reason, 1)
        await hooks.failed_events.replay(failed_id)

        async def handled() -> bool:
            return ran == ["9"]

        await eventually(handled)
        assert await hooks.store.list_failed() == []
