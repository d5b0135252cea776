"""Bare Starlette for Twilio's requests, as a user writes it: one route, ``await request.form()`` (or the query),
dict dispatch by the call's status (the requests name no event type). No signature check, as the other bare
peers check no token."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .tally import dispatch, tally

__all__ = ["app", "tally"]


async def callback(request: Request) -> Response:
    fields = dict(await request.form()) if request.method == "POST" else dict(request.query_params)
    await dispatch(fields, key="CallStatus")
    return Response(status_code=200)


app = Starlette(routes=[Route("/{token}", callback, methods=["GET", "POST"])])
