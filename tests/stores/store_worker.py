"""A separate worker process for the multi-process store tests: ``python store_worker.py COMMAND URL ...``.

It talks to the test over its stdin/stdout, one line per step, so the test orders the processes by waiting
for lines, never by sleeping.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from callhooks.stores import Store, call_turn, open_store, process_due_items, run_once


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def read_line() -> str:
    return (await asyncio.to_thread(sys.stdin.readline)).strip()


def append(path: str, line: str) -> None:
    with open(path, "a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


async def once(store: Store, identities: int) -> None:
    """Wait for "go", then claim every identity at once; print the ones this process ran."""
    say("ready")
    await read_line()

    async def one(identity: str) -> None:
        async def work() -> None:
            await asyncio.sleep(0.005)  # a handler's work, so the other processes find it running

        if (await run_once(store, identity, work, owner=f"{os.getpid()}", wait=60)).ran:
            say(f"ran {identity}")

    await asyncio.gather(*(one(f"e{n}") for n in range(identities)))
    say("done")


class Announcing:
    """The store, printing the ticket each arrival takes (so the test knows the arrival order)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def enter(self, key: str, lease: float) -> int:
        ticket = await self.store.enter(key, lease)
        say(f"entered {ticket}")
        return ticket


async def fifo(store: Store, key: str, name: str, log: str, hold: bool) -> None:
    """Take a turn in ``key``'s queue, log start/end of the turn; with ``hold`` wait for a line before leaving."""
    async with call_turn(Announcing(store), key, lease=5, timeout=60):  # type: ignore[arg-type]
        append(log, f"start {name}")
        say("turn")
        if hold:
            await read_line()
        else:
            await asyncio.sleep(0.02)  # a slow handler: the others keep polling meanwhile
        append(log, f"end {name}")
    say("left")


async def queue(store: Store, results: str, block_on: int) -> None:
    """Handle background items until killed; the item numbered ``block_on`` never finishes."""

    async def handle(payload: dict[str, Any]) -> None:
        if payload["n"] == block_on:
            say("blocked")
            await asyncio.Event().wait()
        append(results, str(payload["n"]))

    while True:
        if not await process_due_items(store, "doomed-worker", handle, lease=1.0):
            await asyncio.sleep(0.01)


async def journal(store: Store, name: str, batches: int, size: int) -> None:
    """Wait for "go", then append ``batches`` batches of ``size`` entries numbered from 0 in this writer's order."""
    say("ready")
    await read_line()
    for batch in range(batches):
        await store.append_journal([{"writer": name, "n": batch * size + i} for i in range(size)])
    say("done")


async def main(argv: list[str]) -> None:
    command, url, *rest = argv
    store = await open_store(url)
    try:
        if command == "once":
            await once(store, int(rest[0]))
        elif command == "fifo":
            await fifo(store, rest[0], rest[1], rest[2], rest[3] == "hold")
        elif command == "queue":
            await queue(store, rest[0], int(rest[1]))
        elif command == "journal":
            await journal(store, rest[0], int(rest[1]), int(rest[2]))
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
