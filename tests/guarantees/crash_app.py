"""The receiver the crash and outage tests run under ``uvicorn --workers 4 --factory``.

Its ``dtmf`` handler (async, or sync with ``CRASH_HANDLER=sync``) writes ``start``/``done`` lines ``what call seq
pid monotonic_ns`` to a file of its own process in ``CRASH_LOG_DIR``, so the test counts runs and run times apart
from the store and knows which process to kill. Digit ``9`` makes it take ``CRASH_SLOW_S`` seconds, ``8`` two
seconds; others answer at once. Its ``answer`` handler is a BXML menu naming the process that ran it: a duplicate
answered by another run would show another process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from callhooks import CallEvent, CallHooks, bxml
from tests.guarantees.support import seq_of

_SECONDS = {"9": float(os.environ.get("CRASH_SLOW_S", "3")), "8": 2.0}


def create_app() -> CallHooks:
    logging.getLogger("callhooks").setLevel(logging.ERROR)  # the test reads files, not the servers' output
    hooks = CallHooks.from_env()
    log = Path(os.environ["CRASH_LOG_DIR"]) / f"{os.getpid()}.log"

    def note(what: str, event: CallEvent) -> None:
        with log.open("a") as lines:
            lines.write(f"{what} {event.call_id} {seq_of(event)} {os.getpid()} {time.monotonic_ns()}\n")

    def seconds(event: CallEvent) -> float:
        return _SECONDS.get(getattr(event, "dtmf_digit", None) or "", 0.0)

    if os.environ.get("CRASH_HANDLER") == "sync":

        @hooks.on("dtmf")
        def handle_sync(event: CallEvent) -> None:
            note("start", event)
            time.sleep(seconds(event))  # a slow sync handler (its thread), as the platform sees one
            event.session.setdefault("seen", []).append(seq_of(event))
            note("done", event)

    else:

        @hooks.on("dtmf")
        async def handle(event: CallEvent) -> None:
            note("start", event)
            await asyncio.sleep(seconds(event))
            event.session.setdefault("seen", []).append(seq_of(event))
            note("done", event)

    @hooks.on("answer")
    async def menu(event: CallEvent) -> bxml.Response:
        note("start", event)
        await asyncio.sleep(0.05)  # long enough for the platform's concurrent duplicates to meet this run
        note("done", event)
        return bxml.Response(
            bxml.Gather(bxml.SpeakSentence(f"Menu of {event.call_id} from worker {os.getpid()}."), max_digits=1)
        )

    return hooks
