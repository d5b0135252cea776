"""Shared by the guarantee tests: wire events numbered per call, and a receiver whose handlers can be held."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from callhooks import CallEvent, CallHooks

SECRET = "guarantees-secret"
_EPOCH = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _at(seq: int) -> str:
    return (_EPOCH + timedelta(milliseconds=seq)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dtmf(call_id: str, seq: int, digit: str = "5") -> dict[str, Any]:
    """The ``seq``-th event of ``call_id`` on the wire: a dtmf whose time (ms) makes it a distinct event."""
    return {"eventType": "dtmf", "callId": call_id, "dtmfDigit": digit, "time": _at(seq)}


def answer(call_id: str, seq: int = 0) -> dict[str, Any]:
    """The call's answer event on the wire (the ``seq``-th of its events)."""
    return {"eventType": "answer", "callId": call_id, "callState": "active", "time": _at(seq)}


def hangup(call_id: str, seq: int) -> dict[str, Any]:
    when = _at(seq)
    return {
        "eventType": "hangup",
        "callId": call_id,
        "callState": "completed",
        "cause": "NORMAL_CLEARING",
        "time": when,
    }


def seq_of(event: CallEvent) -> int:
    assert event.time is not None
    return round((event.time - _EPOCH).total_seconds() * 1000)


class Held:
    """A sync handler that records what it ran and can be held (``hold``) until ``release``."""

    def __init__(self) -> None:
        self.ran: list[tuple[str | None, int]] = []
        self.entered: list[tuple[str | None, int]] = []  #: events that reached the handler, held or not
        self.started = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.fail_next = 0
        self._lock = threading.Lock()

    def hold(self) -> None:
        self.started.clear()
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def __call__(self, event: CallEvent) -> None:
        with self._lock:
            self.entered.append((event.call_id, seq_of(event)))
        self.started.set()
        self.gate.wait(20)
        with self._lock:
            self.ran.append((event.call_id, seq_of(event)))
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("the first delivery fails")


def receiver(store: Any, handler: Callable[..., Any], **options: Any) -> CallHooks:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=store, **options)
    hooks.add_handler(handler, "dtmf")
    return hooks


def token_path(hooks: CallHooks, **options: Any) -> str:
    """The path of a callback URL made by ``hooks`` (``/<token>``), to post to a server at another address."""
    return "/" + hooks.callback_url(**options).rsplit("/", 1)[1]


def holds(check: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    """``check`` as the async condition ``eventually`` polls."""

    async def checked() -> object:
        return check()

    return checked


# Another process: take a SQLite file's write lock, say so, hold it for the seconds given, let it go, say so.
_LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
print("released", flush=True)
"""


@contextlib.asynccontextmanager
async def sqlite_locked(db: Path, seconds: float) -> AsyncIterator[asyncio.Future[bytes]]:
    """Another process holds ``db``'s write lock for ``seconds`` from when the block starts; the block gets a
    future that is done when it let go (leaving the block waits for that)."""
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _LOCKER, str(db), str(seconds), stdout=asyncio.subprocess.PIPE
    )
    assert locker.stdout is not None
    try:
        assert await asyncio.wait_for(locker.stdout.readline(), 20) == b"locked\n"
        released = asyncio.ensure_future(locker.stdout.readline())
        yield released
        assert await asyncio.wait_for(released, seconds + 20) == b"released\n"
    finally:
        if locker.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                locker.kill()
        await locker.wait()
