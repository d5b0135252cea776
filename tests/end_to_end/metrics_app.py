"""The app the multi-worker metrics test serves with ``callhooks run --workers 2``: each answer says which
worker process handled it; hangups fail (500)."""

from __future__ import annotations

import asyncio
import os

from starlette.responses import JSONResponse

from callhooks import CallEvent, CallHooks

hooks = CallHooks.from_env(store=None)


@hooks.on("answer")
async def answered(event: CallEvent) -> JSONResponse:
    # Holding the connection a moment lets the other worker accept the next ones: the load spreads.
    await asyncio.sleep(0.02)
    return JSONResponse({"pid": os.getpid()})


@hooks.on("hangup")
async def hung_up(event: CallEvent) -> None:
    raise RuntimeError("handler bug")
