"""``keep_alive`` renews a lease on a timer while its block runs, one renewal at a time, and stops with it."""

from __future__ import annotations

import asyncio

import pytest

from callhooks.stores.leases import keep_alive
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


async def test_renews_while_the_block_runs_never_two_at_once_and_stops_after() -> None:
    calls: list[int] = []
    running = 0
    most = 0
    gate = asyncio.Event()

    async def renew() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        calls.append(1)
        if len(calls) == 2:
            await gate.wait()  # a slow renewal: later beats must not start another meanwhile
        running -= 1

    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(1)

    async def ticked(n: int) -> None:
        """Wait until a second keep_alive on the same interval has beaten ``n`` more times."""
        target = len(ticks) + n

        async def done() -> bool:
            return len(ticks) >= target

        await eventually(done)

    async with keep_alive(tick, 0.001):
        async with keep_alive(renew, 0.001):

            async def second_started() -> bool:
                return len(calls) == 2

            await eventually(second_started)
            await ticked(5)  # beats came while the second renewal hangs: none may have started a third
            assert len(calls) == 2
            gate.set()

            async def renewed_again() -> bool:
                return len(calls) >= 4

            await eventually(renewed_again)
        after = len(calls)
        await ticked(5)
    assert len(calls) == after and most == 1


async def test_a_failing_renewal_is_tried_again_next_beat() -> None:
    attempts: list[int] = []

    async def renew() -> None:
        attempts.append(1)
        raise ConnectionError("store down")

    async with keep_alive(renew, 0.001):

        async def tried_thrice() -> bool:
            return len(attempts) >= 3

        await eventually(tried_thrice)
