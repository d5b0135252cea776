"""Twilio's Calls and Recordings API (2010-04-01) over the call engine, under ``/2010-04-01/Accounts/{AccountSid}``.

=======  ====================================  =================================================================
POST     ``/Calls.json``                       create (201, ``status=queued``); ``initiated``/``ringing`` follow
GET      ``/Calls.json``                       list, newest first: ``To``, ``From``, ``Status``, ``ParentCallSid``;
                                               ``PageSize`` (1-1000, default 50), ``Page``, ``PageToken``
GET      ``/Calls/{Sid}.json``                 fetch
POST     ``/Calls/{Sid}.json``                 update: ``Status=completed`` hangs up, ``Status=canceled`` cancels
                                               a ringing call (and leaves an answered one be), ``Url``/``Twiml``
                                               redirect a live call (21220 once it ended), callbacks change
DELETE   ``/Calls/{Sid}.json``                 204 for an ended call (then it is gone); 400 while it is live
GET      ``/Calls/{Sid}/Recordings.json``      the call's recordings
GET      ``/Recordings.json``                  every recording (``CallSid`` filter)
GET      ``/Recordings/{Sid}.json``            fetch; ``DELETE``: 204, then it is gone
=======  ====================================  =================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...twilio.client.auth import API_VERSION
from ..callback_hosts import CallbackHosts
from ..models import Delivery
from . import errors
from .events import TwilioEvents, status_of
from .legs import Leg
from .params import CreateCall, Form, UpdateCall
from .resources import TwilioResources

if TYPE_CHECKING:
    from ..engine import Engine
    from ..web import Handler
    from .runner import TwimlRunner

__all__ = ["TwilioRestApi"]

Guard = Callable[["Handler", str], "Handler"]


class TwilioRestApi:
    """HTTP adapter over the engine for the Calls and Recordings resources; ``base_of(request)`` is the scheme and
    host the engine's calls use for absolute URLs."""

    def __init__(
        self,
        *,
        engine: Engine,
        events: TwilioEvents,
        runner: Callable[[], TwimlRunner],
        resources: TwilioResources,
        callback_hosts: CallbackHosts,
        base_of: Callable[[Request], str],
    ) -> None:
        self.engine = engine
        self.events = events
        self.legs = events.legs
        self.runner = runner
        self.render = resources
        self.callback_hosts = callback_hosts
        self.base_of = base_of

    def routes(self, guard: Guard) -> list[Route]:
        """The routes, each handler wrapped by ``guard(handler, kind)`` (``create`` for a new call)."""
        account = f"/{API_VERSION}/Accounts/{{account_sid}}"
        table: list[tuple[str, str, Handler]] = [
            ("POST", "/Calls.json", self.create_call),
            ("GET", "/Calls.json", self.list_calls),
            ("GET", "/Calls/{call_sid}.json", self.fetch_call),
            ("POST", "/Calls/{call_sid}.json", self.update_call),
            ("DELETE", "/Calls/{call_sid}.json", self.delete_call),
            ("GET", "/Calls/{call_sid}/Recordings.json", self.call_recordings),
            ("GET", "/Recordings.json", self.list_recordings),
            ("GET", "/Recordings/{recording_sid}.json", self.fetch_recording),
            ("DELETE", "/Recordings/{recording_sid}.json", self.delete_recording),
        ]
        routes = [
            Route(
                account + path, guard(handler, "create" if handler == self.create_call else "request"), methods=[verb]
            )
            for verb, path, handler in table
        ]
        return routes

    def _leg(self, request: Request) -> Leg:
        leg = self.legs.by_sid(request.path_params["call_sid"])
        if leg is None or leg.deleted:
            raise errors.not_found(request.url.path)
        return leg

    async def create_call(self, request: Request) -> Response:
        """``POST /Calls.json`` → 201 with the call, ``queued``; its ``initiated`` and ``ringing`` callbacks follow."""
        given = CreateCall.parse(Form.parse(await request.body()), self.callback_hosts)
        voice = given.voice or Delivery(None)  # inline Twiml: nothing to fetch
        call = self.engine.dial(given.from_, given.to, self.base_of(request), voice, given.timeout, None)
        call.recording_enabled = given.record
        leg = self.legs.add(
            Leg(
                call,
                "outbound-api",
                voice=given.voice,
                twiml=given.twiml,
                status=given.status,
                events=given.events,
                machine_detection=given.machine_detection,
                recording_callback=given.recording_callback,
            )
        )
        self.events.status_callback(leg, "initiated")
        self.events.status_callback(leg, "ringing")
        return JSONResponse(self.render.call(leg, "queued"), status_code=201)

    async def fetch_call(self, request: Request) -> Response:
        """``GET /Calls/{Sid}.json``."""
        return JSONResponse(self.render.call(self._leg(request)))

    async def update_call(self, request: Request) -> Response:
        """``POST /Calls/{Sid}.json``."""
        leg = self._leg(request)
        call = leg.call
        given = UpdateCall.parse(Form.parse(await request.body()), self.callback_hosts)
        if given.status_callback is not None:
            leg.status = given.status_callback
        if given.status == "completed" and not call.ended:
            self.engine.end(call, "NORMAL_CLEARING" if call.active is not None else "ORIGINATOR_CANCEL")
        elif given.status == "canceled" and call.state == "started":
            self.engine.end(call, "ORIGINATOR_CANCEL")
        elif given.voice is not None or given.twiml is not None:
            if call.ended:
                raise errors.not_in_progress(leg.sid)
            leg.voice, leg.twiml = (given.voice, None) if given.voice is not None else (leg.voice, given.twiml)
            if call.state != "started":  # a ringing call runs the new TwiML when it is answered
                self.runner().redirect(call, given.voice, given.twiml)
        return JSONResponse(self.render.call(leg))

    async def delete_call(self, request: Request) -> Response:
        """``DELETE /Calls/{Sid}.json`` → 204 for a call that has ended (then it is gone); 400 for a live one."""
        leg = self._leg(request)
        if not leg.call.ended:
            raise errors.invalid("Status", f"The call {leg.sid} is {status_of(leg)}: only an ended call can be deleted")
        leg.deleted = True
        return Response(status_code=204)

    async def list_calls(self, request: Request) -> Response:
        """``GET /Calls.json``: newest first, filtered, one page."""
        query = Form(list(request.query_params.multi_items()))
        wanted = {
            "to": query.get("To"),
            "from": query.get("From"),
            "status": query.get("Status"),
            "parent": query.get("ParentCallSid"),
        }
        legs = [leg for leg in reversed(self.legs.all()) if not leg.deleted]
        rows = [
            self.render.call(leg)
            for leg in legs
            if _matches(
                {"to": leg.call.to, "from": leg.call.from_, "status": status_of(leg), "parent": leg.parent_sid}, wanted
            )
        ]
        return self._page(request, "calls", rows, query)

    def _page(self, request: Request, key: str, rows: list[dict[str, object]], query: Form) -> Response:
        size = query.integer("PageSize", 50, 1, 1000)
        page = query.integer("Page", 0, 0, 10**6)
        kept = {name: value for name, value in query.pairs if name not in ("PageSize", "Page", "PageToken")}
        return JSONResponse(self.render.page(key, request.url.path, rows, kept, page, size))

    async def call_recordings(self, request: Request) -> Response:
        """``GET /Calls/{Sid}/Recordings.json``."""
        leg = self._leg(request)
        query = Form(list(request.query_params.multi_items()))
        return self._page(request, "recordings", self._recordings(leg.sid), query)

    async def list_recordings(self, request: Request) -> Response:
        """``GET /Recordings.json`` (``CallSid`` narrows it to one call)."""
        query = Form(list(request.query_params.multi_items()))
        return self._page(request, "recordings", self._recordings(query.get("CallSid")), query)

    def _recordings(self, call_sid: str | None) -> list[dict[str, object]]:
        rows = []
        for info in reversed(list(self.legs.recordings.values())):
            leg = self.legs.by_sid(info.call_sid)
            if not info.deleted and leg is not None and call_sid in (None, info.call_sid):
                rows.append(self.render.recording(info, leg))
        return rows

    def _recording(self, request: Request) -> tuple[Leg, str]:
        recording_sid = request.path_params["recording_sid"]
        info = self.legs.recordings.get(recording_sid)
        leg = None if info is None or info.deleted else self.legs.by_sid(info.call_sid)
        if leg is None:
            raise errors.not_found(request.url.path)
        return leg, recording_sid

    async def fetch_recording(self, request: Request) -> Response:
        """``GET /Recordings/{Sid}.json``."""
        leg, recording_sid = self._recording(request)
        return JSONResponse(self.render.recording(self.legs.recordings[recording_sid], leg))

    async def delete_recording(self, request: Request) -> Response:
        """``DELETE /Recordings/{Sid}.json`` → 204."""
        _, recording_sid = self._recording(request)
        self.legs.recordings[recording_sid].deleted = True
        return Response(status_code=204)


def _matches(actual: dict[str, str | None], wanted: dict[str, str | None]) -> bool:
    return all(value is None or actual[name] == value for name, value in wanted.items())
