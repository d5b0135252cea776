"""``/healthz`` answers within a second while another process holds a SQLite store's write lock for 7 s, callbacks
waiting for the same lock meanwhile (it took the store's 5 s busy timeout, and more behind those callbacks)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.background.support import served
from tests.guarantees.support import Held, dtmf, receiver, sqlite_locked, token_path

pytestmark = [pytest.mark.anyio, pytest.mark.processes, pytest.mark.timeout(90)]

LOCKED_FOR = 7.0


async def timed_health(http: httpx.AsyncClient) -> tuple[float, httpx.Response]:
    asked = time.monotonic()
    answer = await http.get("/healthz")
    return time.monotonic() - asked, answer


async def test_healthz_answers_within_a_second_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "hooks.db"
    handler = Held()
    hooks = receiver(f"sqlite:///{db}", handler)  # the default busy timeout: 5 s
    path = token_path(hooks)
    async with served(hooks) as http:
        assert (await http.post(path, json=dtmf("c-0", 0))).status_code == 200
        async with sqlite_locked(db, LOCKED_FOR) as released:
            waiting = [asyncio.ensure_future(http.post(path, json=dtmf(f"c-{n}", n))) for n in range(1, 5)]
            answers = []
            while not released.done():  # every answer while the lock is held, one after the other
                answers.append(await timed_health(http))
        callbacks = await asyncio.gather(*waiting)
        after = await http.get("/healthz")
    slowest = max(seconds for seconds, _ in answers)
    assert len(answers) >= 5, answers
    assert slowest < 1.0, f"/healthz took {slowest:.2f} s while the file was locked"
    locked = [answer for _, answer in answers if answer.status_code == 503]
    assert locked and all(answer.json()["store"]["backend"] == "sqlite" for answer in locked)
    assert any("locked" in answer.json()["store"]["detail"] for answer in locked)
    assert after.status_code == 200 and after.json() == {"status": "ok"}
    assert {response.status_code for response in callbacks} <= {200, 503}
