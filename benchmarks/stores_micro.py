"""Per-operation cost of each store against memory://, in one run: ``python benchmarks/stores_micro.py [-n 300]``.

Measures, on loopback, what the receiver will add to every callback: the exactly-once claim and its outcome,
the call's FIFO turn (enter, turn, leave), loading and saving the session, a token binding, and one background
item's round (enqueue, claim, ack). "callback" is the sum a guarded callback pays (run_once + call_turn +
session load and save). SQLite uses a file in a temporary directory; Redis a redis-server started here (the row
is left out when it is not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from callhooks.stores import Store, call_turn, open_store, run_once
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


STEPS: dict[str, Step] = {
    "claim+finish": claim_and_finish,
    "fifo enter/turn/leave": fifo_turn,
    "session load+save": session_round_trip,
    "bind_token": bind,
    "queue enqueue/claim/ack": queue_round,
    "callback (all of it)": callback,
}


async def measure(store: Store, step: Step, rounds: int) -> float:
    """Mean microseconds per call of ``step``, after a short warm-up."""
    for n in range(10):
        await step(store, -1 - n)
    started = time.perf_counter()
    for n in range(rounds):
        await step(store, n)
    return (time.perf_counter() - started) / rounds * 1e6


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        urls = {"memory": "memory://", "sqlite": f"sqlite:///{Path(directory) / 'bench.db'}"}
        server = RedisServer(Path(directory)) if find_redis_server() else None
        if server is not None:
            server.start()
            urls["redis"] = server.url
        try:
            results: dict[str, dict[str, float]] = {}
            for name, url in urls.items():
                store = await open_store(url)
                try:
                    results[name] = {label: await measure(store, step, rounds) for label, step in STEPS.items()}
                finally:
                    await store.close()
        finally:
            if server is not None:
                server.stop()
    names = list(results)
    print(f"{'µs per operation (x memory)':<26}" + "".join(f"{name:>20}" for name in names))
    for label in STEPS:
        base = results["memory"][label]
        cells = "".join(f"{results[name][label]:>11.1f} ({results[name][label] / base:>5.1f}x)" for name in names)
        print(f"{label:<26}{cells}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", "--rounds", type=int, default=300, help="calls of each operation per store")
    asyncio.run(main(parser.parse_args().rounds))
