"""FastAPI, as a user writes it: a pydantic model of the callback (JSON body or query), dict dispatch."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import Response
from pydantic import BaseModel

from .tally import dispatch, tally

__all__ = ["app", "tally"]


class Callback(BaseModel):
    eventType: str
    callId: str | None = None
    callUri: str | None = None
    callState: str | None = None
    tag: str | None = None
    time: str | None = None
    digits: str | None = None
    dtmfDigit: str | None = None
    cause: str | None = None


app = FastAPI()


@app.post("/{token}")
async def post_callback(token: str, callback: Callback) -> Response:
    await dispatch(callback.model_dump())
    return Response(status_code=200)


@app.get("/{token}")
async def get_callback(token: str, callback: Annotated[Callback, Query()]) -> Response:
    await dispatch(callback.model_dump())
    return Response(status_code=200)
