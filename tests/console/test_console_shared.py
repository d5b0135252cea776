"""With a store configured for the guarantees, the console goes through the store's shared journal
(``append_journal``/``read_journal``), so each worker's console shows every worker's events; a journal outage
costs callbacks nothing. Two receivers (two "workers") share one store here, served by one uvicorn."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from callhooks.console import JournalStore
from callhooks.stores import StoreUnavailable
from callhooks.stores.memory import MemoryStore
from callhooks.testing.server import serve

from .support import CALLER, CONSOLE, make_hooks


class JournalledStore(MemoryStore):
    """A memory store with the shared journal's interface (as the stores will have it): sequence numbers
    increasing across writers, trimmed to ``max_entries``; ``down`` makes it fail like an unreachable store."""

    def __init__(self, max_entries: int = 1000) -> None:
        super().__init__()
        self.journal: list[tuple[int, dict[str, Any]]] = []
        self.max_entries = max_entries
        self.down = False
        self.appends = 0

    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        if self.down:
            raise StoreUnavailable("memory: the journal is down (test)")
        self.appends += 1
        last = self.journal[-1][0] if self.journal else 0
        self.journal.extend((last + i, dict(entry)) for i, entry in enumerate(entries, 1))
        del self.journal[: max(0, len(self.journal) - self.max_entries)]

    async def read_journal(self, after: int, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        if self.down:
            raise StoreUnavailable("memory: the journal is down (test)")
        return [item for item in self.journal if item[0] > after][:limit]


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_each_workers_console_shows_every_workers_calls_and_survives_a_journal_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = JournalledStore()
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
        assert [seq for seq, _ in store.journal] == [1, 2]

        # The journal goes down: callbacks are still answered, the failure is logged once, and the entries
        # that waited reach the journal (and both consoles) when it is back.
        caplog.set_level(logging.WARNING, logger="callhooks")
        store.down = True
        for number in range(3):
            send("b", second, f"c-during-{number}")
        wait_until(lambda: any("journal failed" in r.getMessage() for r in caplog.records))
        assert second.console is not None and len(second.console.feed.pending) == 3
        store.down = False
        expected = {"c-on-a", "c-on-b", "c-during-0", "c-during-1", "c-during-2"}
        wait_until(lambda: set(ids("a")) == expected, timeout=15)
        failures = [r for r in caplog.records if "journal failed" in r.getMessage()]
        assert len(failures) <= 2  # once per console that hit it, not once per try
        assert second.console.feed.pending == type(second.console.feed.pending)()


def test_a_store_without_a_journal_falls_back_to_this_process() -> None:
    hooks = make_hooks(store="memory://")  # today's stores have no journal: this process's calls only
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        url = hooks.callback_url(public_url=server.url)
        assert client.post(url, json={"eventType": "answer", "callId": "c-local", "from": CALLER}).status_code == 200
        wait_until(
            lambda: (
                [c["callId"] for c in client.get("/_console/api/calls", auth=CONSOLE).json()["calls"]] == ["c-local"]
            )
        )
        assert hooks.console is not None
        assert hooks.console.feed.shared is isinstance(hooks.store, JournalStore)
