"""Per-operation cost of each store against memory://, in one run: ``python benchmarks/stores_micro.py [-n 300]``.

Measures, on loopback, what the receiver will add to every callback: the exactly-once claim and its outcome,
the call's FIFO turn (enter, turn, leave), loading and saving the session, a token binding, and one background
item's round (enqueue, claim, ack). "callback" is the sum a guarded callback pays (run_once + call_turn +
session load and save), step by step; "admit+settle" the same in the two trips the receiver takes when nobody
is queued ahead (``Store.admit``/``settle``).
[trips] counts the store's trips to its engine per operation (Redis round trips, SQLite transactions, on its
thread or the event loop's connection), a figure the machine's load does not change.
SQLite uses a file in a temporary directory; Redis a redis-server started here (the row is left out when it is
not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from callhooks.stores import Admission, Store, call_turn, open_store, run_once
from callhooks.testing.redis_server import RedisServer, find_redis_server

Step = Callable[[Store, int], Awaitable[object]]


async def _nothing() -> None:
    return None


async def claim_and_finish(store: Store, n: int) -> None:
    await store.claim(f"bench-{n}", "w", 30)
    await store.finish(f"bench-{n}", "w", ok=True)


async def fifo_turn(store: Store, n: int) -> None:
    async with call_turn(store, f"call:bench-{n % 50}"):
        pass


async def session_round_trip(store: Store, n: int) -> None:
    session = await store.load_session(f"call:bench-{n % 50}")
    session["step"] = n
    await store.save_session(f"call:bench-{n % 50}", session)


async def bind(store: Store, n: int) -> None:
    await store.bind_token(f"token-{n % 50}", f"c-{n % 50}")


async def queue_round(store: Store, n: int) -> None:
    await store.enqueue({"n": n})
    for item in await store.claim_items("w", lease=30, limit=1):
        await store.ack(item.id, "w")


async def callback(store: Store, n: int) -> None:
    async def handle() -> None:
        await session_round_trip(store, n)

    async with call_turn(store, f"call:cb-{n % 50}"):
        await run_once(store, f"cb-{n}", handle, owner="w")


async def callback_admitted(store: Store, n: int) -> None:
    # What delivery.py does for the usual callback: one trip in (claim, ticket, session), one out.
    admission = Admission(f"cb1-{n}", "w", 30.0, f"call:cb1-{n % 50}")
    admitted = await store.admit(admission)
    session = dict(admitted.session)
    session["step"] = n
    await store.settle(admission, admitted.ticket, ok=True, session=session)


STEPS: dict[str, Step] = {
    "claim+finish": claim_and_finish,
    "fifo enter/turn/leave": fifo_turn,
    "session load+save": session_round_trip,
    "bind_token": bind,
    "queue enqueue/claim/ack": queue_round,
    "callback (all of it)": callback,
    "callback, admit+settle": callback_admitted,
}


class TripCounter:
    """Counts a store's trips to its engine: Redis round trips (``_do``), SQLite transactions on its thread
    (``_run``) or on the event loop's connection (``_short``; one that finds the lock taken counts twice)."""

    def __init__(self, store: Store) -> None:
        self.trips = 0
        for name in ("_do", "_run", "_short"):
            inner = getattr(store, name, None)
            if inner is not None:
                setattr(store, name, self._counted(inner))

    def _counted(self, inner: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        async def counted(*args: object) -> object:
            self.trips += 1
            return await inner(*args)

        return counted


async def measure(store: Store, counter: TripCounter, step: Step, rounds: int) -> tuple[float, float]:
    """Mean microseconds and engine trips per call of ``step``, after a short warm-up."""
    for n in range(10):
        await step(store, -1 - n)
    trips = counter.trips
    started = time.perf_counter()
    for n in range(rounds):
        await step(store, n)
    return (time.perf_counter() - started) / rounds * 1e6, (counter.trips - trips) / rounds


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        urls = {"memory": "memory://", "sqlite": f"sqlite:///{Path(directory) / 'bench.db'}"}
        server = RedisServer(Path(directory)) if find_redis_server() else None
        if server is not None:
            server.start()
            urls["redis"] = server.url
        try:
            results: dict[str, dict[str, tuple[float, float]]] = {}
            for name, url in urls.items():
                store = await open_store(url)
                counter = TripCounter(store)
                try:
                    results[name] = {label: await measure(store, counter, s, rounds) for label, s in STEPS.items()}
                finally:
                    await store.close()
        finally:
            if server is not None:
                server.stop()
    names = list(results)
    print(f"{'µs per operation (x memory) [trips]':<36}" + "".join(f"{name:>28}" for name in names))
    for label in STEPS:
        base = results["memory"][label][0]
        cells = "".join(
            f"{results[n][label][0]:>11.1f} ({results[n][label][0] / base:>5.1f}x) [{results[n][label][1]:>4.1f}]"
            for n in names
        )
        print(f"{label:<36}{cells}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", "--rounds", type=int, default=300, help="calls of each operation per store")
    asyncio.run(main(parser.parse_args().rounds))
