"""The receiver the crash test runs under uvicorn in a separate process (and SIGKILLs).

Environment: ``CRASH_STORE`` (the store URL), ``CRASH_RESULTS`` (file: one line per recording handled to the
end), ``CRASH_BLOCKED`` (file: one line per recording whose handler is held), ``CRASH_BLOCK`` (comma-separated
recording ids whose handler never finishes in this process: it is killed while they run).
"""

from __future__ import annotations

import asyncio
import os

from callhooks import CallHooks, events
from callhooks.receiver.background import BackgroundSettings
from callhooks.stores import RetryPolicy

SECRET = "crash-test-secret"
BLOCK = {name for name in os.environ.get("CRASH_BLOCK", "").split(",") if name}

hooks = CallHooks(
    secret=SECRET,
    store=os.environ.get("CRASH_STORE", "memory://"),
    # A short lease, so the restarted process takes over the items the killed one held within seconds.
    background=BackgroundSettings(
        retry=RetryPolicy(max_attempts=5, base_delay=0.05), lease=2.0, poll_interval=0.05, concurrency=2
    ),
)


def append(path: str, line: str) -> None:
    with open(path, "a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


@hooks.on("recording", background=True)
async def archive(event: events.RecordingEvent) -> None:
    recording = event.recording_id or "?"
    if recording in BLOCK:
        append(os.environ["CRASH_BLOCKED"], recording)
        await asyncio.Event().wait()  # in flight until the process is killed
    append(os.environ["CRASH_RESULTS"], recording)
