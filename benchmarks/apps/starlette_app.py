"""Bare Starlette, as a user writes it: one route, ``await request.json()`` (or the query), dict dispatch."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .tally import dispatch, tally

__all__ = ["app", "tally"]


async def callback(request: Request) -> Response:
    fields = await request.json() if request.method == "POST" else dict(request.query_params)
    await dispatch(fields)
    return Response(status_code=200)


app = Starlette(routes=[Route("/{token}", callback, methods=["GET", "POST"])])
