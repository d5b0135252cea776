"""Sending a planned replay (``fixtures.plan_replay``) over httpx: one request at a time, on its schedule.

``callhooks replay``, ``callhooks send`` (a replay of one event) and ``callhooks.testing.replay`` (over loopback
or in-process through ``httpx.ASGITransport``) all send through :func:`send_planned`, and read fixture files
with :func:`read_fixture`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence

import httpx

from .replay_file import MAX_FIXTURE_BYTES, CallFixture, ReplayRequest, load_fixture

__all__ = ["OnAnswer", "read_fixture", "send_planned"]

#: Told about each answer as it arrives (the command prints it).
OnAnswer = Callable[[ReplayRequest, httpx.Response], None]


def read_fixture(path: str | os.PathLike[str]) -> CallFixture:
    """The fixture in the file at ``path``; ``FixtureError`` (also for a file over ``MAX_FIXTURE_BYTES``, of which
    no more than that is read) or ``OSError``."""
    with open(path, "rb") as file:
        return load_fixture(file.read(MAX_FIXTURE_BYTES + 1))


async def send_planned(
    client: httpx.AsyncClient,
    requests: Sequence[ReplayRequest],
    *,
    on_answer: OnAnswer | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[httpx.Response]:
    """Send ``requests`` in order, each once the previous one was answered and its ``at`` has come; the answers.

    Connection errors and timeouts propagate (``httpx.HTTPError``) after the answers so far were reported.
    """
    started = clock()
    answers: list[httpx.Response] = []
    for request in requests:
        due = started + request.at - clock()
        if due > 0:
            await asyncio.sleep(due)  # the recorded call's own pace, not a synchronisation
        answer = await client.request(request.method, request.url, headers=request.headers, content=request.body)
        answers.append(answer)
        if on_answer is not None:
            on_answer(request, answer)
    return answers
