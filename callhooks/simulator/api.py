"""The REST API under ``/v1/users/{userId}``: the paths, bodies and statuses of
docs/platforms/catapult-voice.md#rest-api."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import errors
from .callback_hosts import CallbackHosts
from .engine import Engine
from .models import Call
from .params import AudioParams, CallParams, Fields, GatherParams, ListParams, UpdateParams, check_dtmf
from .resources import Resources
from .urls import Urls
from .web import Handler, empty, json_response, read_json

__all__ = ["RestApi", "Wrap"]

Wrap = Callable[[Handler, str], Handler]
Json = dict[str, object]


class RestApi:
    """HTTP adapter over the call engine: parses requests, calls one engine method, renders the answer.

    ``failures()`` lists failed deliveries oldest first; ``base_of(request)`` is the scheme and host for
    absolute URLs; ``callback_hosts`` decides which callback URLs are accepted.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        urls: Urls,
        render: Resources,
        failures: Callable[[], Sequence[Json]],
        base_of: Callable[[Request], str],
        callback_hosts: CallbackHosts,
    ) -> None:
        self.engine = engine
        self.callback_hosts = callback_hosts
        self.urls = urls
        self.render = render
        self.failures = failures
        self.base_of = base_of

    def routes(self, wrap: Wrap) -> list[Route]:
        """Starlette routes; ``wrap(handler, kind)`` adds auth and limits (kind ``create`` or ``request``)."""
        user = "/v1/users/{user_id}"
        calls = user + "/calls"
        one = calls + "/{call_id}"
        table: list[tuple[str, str, Handler]] = [
            ("POST", calls, self.create_call),
            ("GET", calls, self.list_calls),
            ("GET", one, self.get_call),
            ("POST", one, self.update_call),
            ("POST", one + "/audio", self.audio),
            ("POST", one + "/dtmf", self.dtmf),
            ("POST", one + "/gather", self.create_gather),
            ("GET", one + "/gather/{gather_id}", self.get_gather),
            ("POST", one + "/gather/{gather_id}", self.update_gather),
            ("GET", one + "/events", self.events),
            ("GET", one + "/events/{event_id}", self.event),
            ("GET", one + "/recordings", self.recordings),
            ("GET", one + "/transcriptions", self.transcriptions),
            ("GET", user + "/errors", self.errors),
            ("GET", user + "/errors/{error_id}", self.error),
        ]
        return [
            Route(path, wrap(handler, "create" if handler == self.create_call else "request"), methods=[method])
            for method, path, handler in table
        ]

    def _call(self, request: Request) -> Call:
        return self.engine.get(request.path_params["call_id"])

    async def create_call(self, request: Request) -> Response:
        """``POST /calls`` → 201, empty body, path-only ``Location``."""
        params = CallParams.parse(await read_json(request), self.callback_hosts)
        call = self.engine.create(params, self.base_of(request))
        return empty(201, self.urls.call_path(call.id))

    async def get_call(self, request: Request) -> Response:
        """``GET /calls/{id}``."""
        return json_response(self.render.call(self._call(request)))

    async def list_calls(self, request: Request) -> Response:
        """``GET /calls``: filters, paging by startTime, ``Link`` with ``first``/``next``."""
        query = ListParams.parse(request.query_params)
        page, size, filters = query.page, query.size, query.filters
        calls = sorted(self.engine.calls.values(), key=lambda c: (c.start, c.seq), reverse=query.sort_order == "desc")
        calls = [c for c in calls if _matches(c, filters) and self._started_within(c, query)]
        if filters["bridgeId"] or filters["conferenceId"]:  # the docs: pagination does not apply then
            return json_response([self.render.call(c) for c in calls])
        return self._page(request, [self.render.call(c) for c in calls], page, size)

    def _page(self, request: Request, items: Sequence[Json], page: int, size: int) -> Response:
        """One page of a list, with the ``Link`` header (``first``, and ``next`` when there is more)."""
        base = self.base_of(request) + str(request.url.path)
        kept = {k: v for k, v in request.query_params.items() if k not in ("page", "size")}

        def link(number: int, rel: str) -> str:
            return f'<{base}?{urlencode({**kept, "page": number, "size": size}, quote_via=quote)}>; rel="{rel}"'

        links = [link(0, "first")]
        if (page + 1) * size < len(items):
            links.append(link(page + 1, "next"))
        return json_response(list(items[page * size : (page + 1) * size]), headers={"Link": ", ".join(links)})

    def _started_within(self, call: Call, query: ListParams) -> bool:
        start = self.engine.clock.datetime(call.start)
        after_from = query.from_time is None or query.from_time <= start
        return after_from and (query.to_time is None or start <= query.to_time)

    async def update_call(self, request: Request) -> Response:
        """``POST /calls/{id}``: 200, or 201 + ``Location`` of the new leg for a transfer."""
        call = self._call(request)
        leg = self.engine.update(call, UpdateParams.parse(await read_json(request), self.callback_hosts))
        return empty(201, self.urls.call_path(leg.id)) if leg is not None else empty()

    async def audio(self, request: Request) -> Response:
        """``POST /calls/{id}/audio``."""
        call = self._call(request)
        self.engine.audio(call, AudioParams.parse(await read_json(request)))
        return empty()

    async def dtmf(self, request: Request) -> Response:
        """``POST /calls/{id}/dtmf``."""
        call = self._call(request)
        self.engine.send_dtmf(call, check_dtmf(await read_json(request)))
        return empty()

    async def create_gather(self, request: Request) -> Response:
        """``POST /calls/{id}/gather`` → 201 + ``Location: …/gather/{gatherId}``."""
        call = self._call(request)
        gather = self.engine.start_gather(call, GatherParams.parse(await read_json(request)))
        return empty(201, self.urls.gather_path(call.id, gather.id))

    def _gather(self, request: Request) -> tuple[Call, str]:
        call = self._call(request)
        gather_id = request.path_params["gather_id"]
        if gather_id not in call.gathers:
            raise errors.not_found(gather_id, "gather", "resource-not-found")
        return call, gather_id

    async def get_gather(self, request: Request) -> Response:
        """``GET /calls/{id}/gather/{gatherId}``."""
        call, gather_id = self._gather(request)
        return json_response(self.render.gather(call, call.gathers[gather_id]))

    async def update_gather(self, request: Request) -> Response:
        """``POST /calls/{id}/gather/{gatherId}`` with only ``{"state": "completed"}``."""
        call, gather_id = self._gather(request)
        body = await read_json(request)
        if Fields(body).choice("state", ("completed",)) is None:
            raise errors.validation_error("state", "", "'state' is required and can only be 'completed'")
        self.engine.stop_gather(call, call.gathers[gather_id])
        return empty()

    async def events(self, request: Request) -> Response:
        """``GET /calls/{id}/events``."""
        return json_response([self.render.log_entry(e) for e in self._call(request).log])

    async def event(self, request: Request) -> Response:
        """``GET /calls/{id}/events/{eventId}``."""
        event_id = request.path_params["event_id"]
        for entry in self._call(request).log:
            if entry.id == event_id:
                return json_response(self.render.log_entry(entry))
        raise errors.not_found(event_id, "call event", "resource-not-found")

    async def recordings(self, request: Request) -> Response:
        """``GET /calls/{id}/recordings``."""
        call = self._call(request)
        return json_response([self.render.recording(call, r) for r in call.recordings])

    async def transcriptions(self, request: Request) -> Response:
        """``GET /calls/{id}/transcriptions``."""
        call = self._call(request)
        return json_response([self.render.transcription(call, t) for t in call.transcriptions])

    async def errors(self, request: Request) -> Response:
        """``GET /errors``: failed callback deliveries, newest first, paged like ``GET /calls``."""
        query = ListParams.parse(request.query_params)
        return self._page(request, list(reversed(self.failures())), query.page, query.size)

    async def error(self, request: Request) -> Response:
        """``GET /errors/{id}``: one failed delivery."""
        error_id = request.path_params["error_id"]
        for failure in self.failures():
            if failure["id"] == error_id:
                return json_response(failure)
        raise errors.ApiError(
            404, "not-found", "resource-not-found", f"The error {error_id} could not be found", {"errorId": error_id}
        )


def _matches(call: Call, filters: dict[str, str | None]) -> bool:
    actual = {"from": call.from_, "to": call.to, "bridgeId": call.bridge_id, "conferenceId": call.conference_id}
    return all(value is None or actual[name] == value for name, value in filters.items())
