"""Through a real uvicorn server: a duplicate gets the reply the first run answered (also one that waited for that
run), and a run whose outcome the store does not take is answered as its handler answered, kept, and saved once
the store takes it (SQLite locked by another connection)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.responses import Response

from callhooks import CallEvent, CallHooks, parse_event
from callhooks.identity import event_identity
from callhooks.stores import Limits, open_store
from callhooks.testing import serve
from tests.guarantees.support import dtmf, holds, receiver, seq_of, token_path
from tests.stores.support import BACKENDS, backend_url, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


class Menu:
    """A handler answering a BXML document that names its run (a second run would answer another), holdable."""

    def __init__(self) -> None:
        self.runs: list[int] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, event: CallEvent) -> Response:
        self.runs.append(seq_of(event))
        self.started.set()
        self.gate.wait(20)
        body = f'<?xml version="1.0"?><Response><SpeakSentence>run {len(self.runs)}</SpeakSentence></Response>'
        return Response(body, media_type="application/xml")


def _reply(response: httpx.Response) -> tuple[int, str | None, bytes]:
    return response.status_code, response.headers.get("content-type"), response.content


async def test_duplicates_get_the_reply_of_the_first_run_also_one_that_waited_for_it(url: str) -> None:
    menu = Menu()
    hooks = receiver(url, menu)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            menu.gate.clear()
            first = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
            await anyio.to_thread.run_sync(menu.started.wait, 10)
            waiting = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
            await eventually(holds(lambda: hooks.delivery.in_flight == 2))
            menu.gate.set()
            answers = [*await asyncio.gather(first, waiting), await http.post(path, json=dtmf("c-1", 1))]
            by_get = await http.get(path, params=dtmf("c-1", 1))
    assert menu.runs == [1]
    assert answers[0].status_code == 200 and b"run 1" in answers[0].content
    assert {_reply(answer) for answer in [*answers, by_get]} == {_reply(answers[0])}


async def test_a_reply_over_the_stores_limit_is_not_kept_and_its_duplicate_gets_an_empty_200() -> None:
    menu = Menu()
    store = await open_store("memory://", limits=Limits(reply_max_bytes=16))
    hooks = receiver(store, menu)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            first = await http.post(path, json=dtmf("c-1", 1))
            again = await http.post(path, json=dtmf("c-1", 1))
    assert b"run 1" in first.content
    assert again.status_code == 200 and again.content == b"" and menu.runs == [1]


async def test_an_outcome_a_locked_store_does_not_take_is_answered_kept_and_saved_once_it_is_free(
    tmp_path: Path,
) -> None:
    pytest.importorskip("prometheus_client")
    database = tmp_path / "hooks.db"
    menu = Menu()
    hooks = receiver(f"sqlite:///{database}?timeout=0.2", menu, metrics=True)
    path = token_path(hooks)
    identity = event_identity(parse_event(dtmf("c-1", 1)))
    lock = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            assert (await http.get("/healthz")).status_code == 200  # the store is open: its file exists
            menu.gate.clear()
            first = asyncio.create_task(http.post(path, json=dtmf("c-1", 1)))
            await anyio.to_thread.run_sync(menu.started.wait, 10)
            lock.execute("BEGIN EXCLUSIVE")  # another process would do the same: the store cannot write
            menu.gate.set()
            answered = await first
            kept = len(hooks.delivery.unsaved)
            duplicate = await http.post(path, json=dtmf("c-1", 1))  # answered from the kept outcome
            lock.rollback()
            await eventually(holds(lambda: not hooks.delivery.unsaved))
            following = await http.post(path, json=dtmf("c-1", 2))
            metrics = (await http.get("/metrics")).text
    assert answered.status_code == 200 and b"run 1" in answered.content  # as the handler answered, not 503
    assert kept == 1
    assert _reply(duplicate) == _reply(answered)
    assert following.status_code == 200 and menu.runs == [1, 2]
    store = await open_store(f"sqlite:///{database}")
    try:
        record = await store.record(identity)
    finally:
        await store.close()
    assert record is not None and record.state == "done" and record.reply is not None
    assert record.reply.body == answered.content
    assert "callhooks_outcomes_saved_late_total 1.0" in metrics
    assert "callhooks_outcomes_unsaved 0.0" in metrics


def test_the_lease_and_the_busy_margin_are_checked() -> None:
    with pytest.raises(ValueError, match="busy_margin must be above 0 and below callback_timeout"):
        CallHooks(secret="s", callback_timeout=10, busy_margin=10)
    with pytest.raises(ValueError, match="lease must be positive"):
        CallHooks(secret="s", lease=0)
    hooks = CallHooks(secret="s", callback_timeout=15, busy_margin=2.5, lease=4)
    assert hooks.delivery.store_deadline == 12.5 and hooks.delivery.lease == 4
    assert CallHooks(secret="s", callback_timeout=15).delivery.store_deadline == 12.0  # a fifth by default


async def test_an_event_whose_turn_does_not_come_is_answered_busy_with_the_margin_before_the_platforms_timeout() -> (
    None
):
    menu = Menu()
    hooks = receiver("memory://", menu, callback_timeout=3.0, busy_margin=1.0)
    path = token_path(hooks)
    with serve(hooks) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=3.0) as platform:  # it waits callback_timeout
            menu.gate.clear()
            first = asyncio.create_task(platform.post(path, json=dtmf("c-1", 1)))
            await anyio.to_thread.run_sync(menu.started.wait, 10)
            sent = time.monotonic()
            queued = await platform.post(path, json=dtmf("c-1", 2))  # behind the held one: its turn never comes
            waited = time.monotonic() - sent
            menu.gate.set()
            await first
    assert queued.status_code == 503 and queued.json()["error"] == "busy"
    assert waited < 3.0  # seen by the platform, which then delivers to the fallback URL
    assert menu.runs == [1]
