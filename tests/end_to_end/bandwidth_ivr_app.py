"""The v2 demo IVR (``callhooks.bandwidth.demo``) as ``callhooks run --factory`` serves it in the worker tests,
with a journal: every event a handler ran for is one line in ``$IVR_JOURNAL_DIR/<pid>`` (``call type time``)."""

from __future__ import annotations

import os
from pathlib import Path

from callhooks import CallHooks
from callhooks.bandwidth.demo import create_app as create_ivr
from callhooks.receiver.monitoring import Dispatched


def create_app() -> CallHooks:
    hooks = create_ivr()
    journal = Path(os.environ["IVR_JOURNAL_DIR"]) / str(os.getpid())

    def write(record: Dispatched) -> None:
        if record.handler is None or record.duplicate:
            return
        event = record.event
        moment = getattr(event, "event_time", None)
        with journal.open("a") as file:  # one short line per handled event: appends from one process
            file.write(f"{event.call_id} {event.event_type} {moment.isoformat() if moment else '-'}\n")

    hooks.add_observer(write)
    return hooks
