"""The receiver the console's multi-process test runs (``uvicorn --factory tests.console.worker_app:create_app``):
configured from the environment (its secret, store and console credentials), one handler for ``answer``."""

from __future__ import annotations

import logging

from callhooks import CallEvent, CallHooks


def create_app() -> CallHooks:
    logging.getLogger("callhooks").setLevel(logging.WARNING)  # nobody reads the output: keep the pipe empty
    hooks = CallHooks.from_env()

    @hooks.on("answer")
    def answered(event: CallEvent) -> None:
        return None

    return hooks
