"""A Redis server that restarts without its data is reported: one ERROR line, the metrics, ``/healthz``. One that
keeps its data (append-only file) is not. Real redis-servers on 127.0.0.1, the receiver under uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks
from callhooks.stores.redis import RedisStore
from tests.background.support import served
from tests.guarantees.support import SECRET, Held, dtmf, token_path
from tests.helpers.redis_server import new_redis_server
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(60)]

LOSS = "lost callhooks' data"


def lines_about_loss(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if LOSS in record.getMessage()]


async def restart_and_deliver(tmp_path: Path, *, persistent: bool) -> tuple[Held, list[httpx.Response]]:
    """Handle events 1-3, restart the server, deliver until the store has looked at its marker again (it does
    at most once a second while used), then read /healthz twice and the metrics."""
    redis = new_redis_server(tmp_path, persistent=persistent)
    redis.start()
    handler = Held()
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=redis.url, metrics=True)
    hooks.add_handler(handler, "dtmf")
    path = token_path(hooks)
    try:
        async with served(hooks) as http:
            for seq in (1, 2, 3):
                assert (await http.post(path, json=dtmf("c-1", seq))).status_code == 200
            store = hooks.store
            assert isinstance(store, RedisStore)
            checked = store.data_checked
            redis.stop()
            redis.start()  # the same port
            seq = 3

            async def looked_again() -> bool:
                nonlocal seq
                seq += 1
                await http.post(path, json=dtmf("c-1", seq))
                return store.data_checked > checked

            await eventually(looked_again)
            redelivered = await http.post(path, json=dtmf("c-1", 1))
            answers = [redelivered, await http.get("/healthz"), await http.get("/healthz"), await http.get("/metrics")]
    finally:
        redis.stop()
    return handler, answers


async def test_a_redis_restart_that_lost_the_data_is_logged_once_counted_and_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "callhooks")
    handler, (redelivered, health, again, metrics) = await restart_and_deliver(tmp_path, persistent=False)
    # One ERROR line in all, naming what the loss means (the callbacks found it; /healthz did not log it again).
    (line,) = lines_about_loss(caplog)
    assert line.levelno == logging.ERROR and "may run again" in line.getMessage()
    assert "appendonly yes" in line.getMessage()
    assert redelivered.status_code == 200 and handler.ran.count(("c-1", 1)) == 2  # what the loss costs
    assert health.status_code == 200 and health.json()["status"] == "ok"  # the store works again
    shown = health.json()["store"]
    assert (shown["backend"], shown["data_losses"]) == ("redis", 1) and LOSS in shown["last_data_loss"]
    assert again.json() == health.json()
    assert "callhooks_store_data_lost_total 1.0" in metrics.text


async def test_a_redis_restart_that_kept_the_data_is_not_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "callhooks")
    handler, (redelivered, health, _, metrics) = await restart_and_deliver(tmp_path, persistent=True)
    assert lines_about_loss(caplog) == []
    assert redelivered.status_code == 200 and handler.ran.count(("c-1", 1)) == 1  # still a duplicate
    assert health.json() == {"status": "ok"}
    assert "callhooks_store_data_lost_total 0.0" in metrics.text
