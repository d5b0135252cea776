"""The receiver the multi-worker test runs under ``uvicorn --workers 4 --factory``.

Its one handler appends the event's number to the call's session and a line ``call seq started_ns`` to a file
of its own process (in ``LOAD_LOG_DIR``): the test counts those lines, independently of the store, to see how
often each event ran. ``LOAD_SLOW_MS`` makes the handler slow, so a call's next events queue behind it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from callhooks import CallEvent, CallHooks
from tests.guarantees.support import seq_of


def create_app() -> CallHooks:
    # No per-callback lines: the test does not read the server's output, and a full pipe would stall it.
    logging.getLogger("callhooks").setLevel(logging.WARNING)
    hooks = CallHooks.from_env()
    log = Path(os.environ["LOAD_LOG_DIR"]) / f"{os.getpid()}.log"
    slow = float(os.environ.get("LOAD_SLOW_MS", "0")) / 1000

    @hooks.on("dtmf")
    async def handle(event: CallEvent) -> None:
        started = time.monotonic_ns()  # one clock for every process on the host
        if slow:
            await asyncio.sleep(slow)
        seq = seq_of(event)
        event.session.setdefault("seen", []).append(seq)
        with log.open("a") as lines:
            lines.write(f"{event.call_id} {seq} {started}\n")

    return hooks
