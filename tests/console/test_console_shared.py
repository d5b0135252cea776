"""With a store configured for the guarantees, the console goes through the store's shared journal
(``append_journal``/``read_journal``), so each worker's console shows every worker's events; a journal outage
costs callbacks nothing. Two receivers (two "workers") share one store here, served by one uvicorn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from callhooks.console import JournalStore
from callhooks.console.feed import ConsoleFeed
from callhooks.console.stream import StreamHub
from callhooks.console.view import CallFilter, CallView
from callhooks.stores import Limits, StoreUnavailable
from callhooks.stores.memory import MemoryStore
from callhooks.testing import polling
from callhooks.testing.polling import DEFAULT_TIMEOUT
from callhooks.testing.server import serve

from .support import CALLER, CONSOLE, make_hooks


class FailingStore(MemoryStore):
    """``memory://``'s store whose journal can be taken down (``down``) like an unreachable server."""

    down = False

    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        if self.down:
            raise StoreUnavailable("memory", "the journal is down (test)")
        await super().append_journal(entries)

    async def read_journal(self, after: int, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        if self.down:
            raise StoreUnavailable("memory", "the journal is down (test)")
        return await super().read_journal(after, limit)


def wait_until(condition: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
    return polling.wait_until(condition, timeout=timeout, interval=0.05)


def test_each_workers_console_shows_every_workers_calls_and_survives_a_journal_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FailingStore()
    assert isinstance(store, JournalStore)
    first, second = make_hooks(store=store), make_hooks(store=store)
    host = Starlette(routes=[Mount("/a", app=first), Mount("/b", app=second)])
    with serve(host) as server, httpx.Client(base_url=server.url, timeout=10) as client:

        def ids(worker: str) -> list[str]:
            response = client.get(f"/{worker}/_console/api/calls", auth=CONSOLE)
            assert response.status_code == 200
            return [call["callId"] for call in response.json()["calls"]]

        def send(worker: str, hooks: Any, call_id: str) -> None:
            url = hooks.callback_url(public_url=f"{server.url}/{worker}")
            answer = {"eventType": "answer", "callId": call_id, "from": CALLER}
            assert client.post(url, json=answer).status_code == 200

        send("a", first, "c-on-a")
        send("b", second, "c-on-b")
        for worker in ("a", "b"):
            wait_until(lambda worker=worker: sorted(ids(worker)) == ["c-on-a", "c-on-b"])
        detail = client.get("/a/_console/api/calls/c-on-b", auth=CONSOLE).json()
        assert [entry["eventType"] for entry in detail["entries"]] == ["answer"]
        assert first.console is not None and first.console.feed.shared is True
        assert first.console.view.last_seq == 2  # one journal: two entries, numbered across both workers

        # The journal goes down: callbacks are still answered, the failure is logged once, and the entries
        # that waited reach the journal (and both consoles) when it is back.
        caplog.set_level(logging.WARNING, logger="callhooks")
        store.down = True
        for number in range(3):
            send("b", second, f"c-during-{number}")
        wait_until(lambda: any("journal failed" in r.getMessage() for r in caplog.records))
        assert second.console is not None
        wait_until(lambda: len(second.console.feed.pending) == 3)  # each is queued just after its answer
        store.down = False
        expected = {"c-on-a", "c-on-b", "c-during-0", "c-during-1", "c-during-2"}
        wait_until(lambda: set(ids("a")) == expected, timeout=15)
        failures = [r for r in caplog.records if "journal failed" in r.getMessage()]
        assert len(failures) <= 2  # once per console that hit it, not once per try
        assert second.console.feed.pending == type(second.console.feed.pending)()


def test_the_default_store_feeds_the_console_through_its_journal() -> None:
    hooks = make_hooks(store="memory://")
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        url = hooks.callback_url(public_url=server.url)
        assert client.post(url, json={"eventType": "answer", "callId": "c-local", "from": CALLER}).status_code == 200
        calls = client.get("/_console/api/calls", auth=CONSOLE).json()["calls"]  # read from the journal at once
        assert [call["callId"] for call in calls] == ["c-local"]
        assert hooks.console is not None and hooks.console.feed.shared is True


def test_an_entry_too_large_for_the_journal_is_kept_shrunk() -> None:
    store = MemoryStore(limits=Limits(journal_entry_max_bytes=4096))
    hooks = make_hooks(store=store)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        url = hooks.callback_url(public_url=server.url)
        big = {"eventType": "answer", "callId": "c-big", "from": CALLER, "tag": "t" * 20_000}
        assert client.post(url, json=big).status_code == 200
        small = {"eventType": "answer", "callId": "c-small", "from": CALLER}
        assert client.post(url, json=small).status_code == 200
        wait_until(lambda: len(client.get("/_console/api/calls", auth=CONSOLE).json()["calls"]) == 2)
        shown = client.get("/_console/api/calls/c-big", auth=CONSOLE).json()["entries"][0]
    assert shown["truncated"] is True and shown["status"] == 200 and shown["eventType"] == "answer"
    assert len(shown["tag"]) <= 4096 and len(shown.get("payload", "")) <= 4096


def test_a_store_without_a_journal_falls_back_to_this_process() -> None:
    async def scenario() -> list[str]:
        async def no_journal() -> object:
            return object()  # a store of the user's own making, without append_journal/read_journal

        view = CallView()
        feed = ConsoleFeed(view, StreamHub(), no_journal)
        feed.put({"kind": "event", "callId": "c-here", "at": 1.0, "status": 200})
        await feed.refresh()
        feed.put({"kind": "event", "callId": "c-after", "at": 2.0, "status": 200})  # shown at once now
        await feed.close()
        assert feed.shared is False
        return [call["callId"] for call in view.summaries(CallFilter(), 10)]

    assert asyncio.run(scenario()) == ["c-after", "c-here"]


def test_entries_waiting_for_the_store_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from callhooks.console import feed as feed_module

    monkeypatch.setattr(feed_module, "MAX_PENDING_ENTRIES", 5)
    monkeypatch.setattr(feed_module, "MAX_PENDING_CHARS", 3000)

    async def scenario() -> ConsoleFeed:
        async def never_opens() -> object:
            await asyncio.Event().wait()  # a store that does not answer
            return object()

        feed = ConsoleFeed(CallView(), StreamHub(), never_opens)
        for number in range(20):
            feed.put({"kind": "event", "callId": f"c-{number}", "at": 0.0, "payload": "x" * 100})
        assert [entry["callId"] for entry in feed.pending] == [f"c-{n}" for n in range(15, 20)]
        feed.put({"kind": "event", "callId": "c-big", "at": 0.0, "payload": "y" * 1400})  # 2810 characters
        await feed.close()
        return feed

    feed = asyncio.run(scenario())
    assert [entry["callId"] for entry in feed.pending] == ["c-big"] and feed.pending_chars == 2810
