"""Applications and the numbers they own: where inbound calls go (docs/platforms/catapult-voice.md#applications).

    POST   /v1/users/{userId}/applications              201, Location: …/applications/{applicationId}
    GET    /v1/users/{userId}/applications              the list
    GET    /v1/users/{userId}/applications/{id}         one
    POST   /v1/users/{userId}/applications/{id}         change the fields given
    DELETE /v1/users/{userId}/applications/{id}         its numbers no longer take calls
    POST   /v1/users/{userId}/phoneNumbers              {"number", "applicationId"}: 201, the number is the app's
    GET    /v1/users/{userId}/phoneNumbers              the numbers and their applications

An inbound call to a number an application owns goes to the application's ``incomingCallUrl`` with its
``callbackHttpMethod``, ``incomingCallUrlCallbackTimeout`` and ``incomingCallFallbackUrl``, answered at once
when ``autoAnswer`` (the default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import rules
from . import errors
from .callback_hosts import CallbackHosts
from .ids import IdFactory
from .models import Delivery
from .params import Fields
from .web import Handler, empty, json_response, read_json

__all__ = ["Application", "Applications"]

Json = dict[str, object]


@dataclass
class Application:
    """One application's settings."""

    id: str
    name: str
    incoming_call_url: str | None = None
    incoming_call_url_callback_timeout: int = 10000
    incoming_call_fallback_url: str | None = None
    callback_http_method: str = "POST"
    auto_answer: bool = True

    def delivery(self) -> Delivery:
        """Where and how its inbound calls' events go."""
        return Delivery(
            self.incoming_call_url,
            self.callback_http_method,
            self.incoming_call_url_callback_timeout,
            self.incoming_call_fallback_url,
        )


def _settings(data: Mapping[str, Any], hosts: CallbackHosts, *, creating: bool) -> dict[str, Any]:
    """The fields of a create or update body, checked (URLs on hosts that ``hosts`` allows); absent fields are
    left out."""
    f = Fields(data)
    values: dict[str, Any] = {
        "name": f.string("name", required=creating),
        "incoming_call_url": f.callback_url("incomingCallUrl", hosts),
        "incoming_call_url_callback_timeout": f.integer("incomingCallUrlCallbackTimeout", None, rules.CALLBACK_TIMEOUT),
        "incoming_call_fallback_url": f.callback_url("incomingCallFallbackUrl", hosts),
        "callback_http_method": f.choice("callbackHttpMethod", rules.CALLBACK_HTTP_METHODS),
        "auto_answer": f.boolean("autoAnswer"),
    }
    if values["callback_http_method"] is not None:
        values["callback_http_method"] = values["callback_http_method"].upper()
    return {name: value for name, value in values.items() if value is not None or f.given(_WIRE[name])}


_WIRE = {
    "name": "name",
    "incoming_call_url": "incomingCallUrl",
    "incoming_call_url_callback_timeout": "incomingCallUrlCallbackTimeout",
    "incoming_call_fallback_url": "incomingCallFallbackUrl",
    "callback_http_method": "callbackHttpMethod",
    "auto_answer": "autoAnswer",
}


class Applications:
    """The account's applications and which of them owns each number, with their REST routes."""

    def __init__(self, root: str, ids: IdFactory, callback_hosts: CallbackHosts) -> None:
        self.root = root  # /v1/users/{userId}
        self.ids = ids
        self.callback_hosts = callback_hosts
        self.applications: dict[str, Application] = {}
        self.numbers: dict[str, str] = {}  # number -> application id

    def owner(self, number: str) -> Application | None:
        """The application owning ``number``, if any."""
        application_id = self.numbers.get(number)
        return self.applications.get(application_id) if application_id else None

    def render(self, application: Application) -> Json:
        body: Json = {"id": application.id}
        for name, wire in _WIRE.items():
            value = getattr(application, name)
            if value is not None:
                body[wire] = value.lower() if name == "callback_http_method" else value
        return body

    def _get(self, request: Request) -> Application:
        application_id = request.path_params["application_id"]
        application = self.applications.get(application_id)
        if application is None:
            message = f"The application {application_id} could not be found"
            raise errors.ApiError(404, "not-found", "application-not-found", message, {"applicationId": application_id})
        return application

    def routes(self, wrap: Callable[[Handler, str], Handler]) -> list[Route]:
        """Starlette routes; ``wrap(handler, kind)`` adds auth and limits."""
        user = "/v1/users/{user_id}"
        one = user + "/applications/{application_id}"
        table: list[tuple[str, str, Handler]] = [
            ("POST", user + "/applications", self.create),
            ("GET", user + "/applications", self.list),
            ("GET", one, self.get),
            ("POST", one, self.update),
            ("DELETE", one, self.delete),
            ("POST", user + "/phoneNumbers", self.assign),
            ("GET", user + "/phoneNumbers", self.list_numbers),
        ]
        return [Route(path, wrap(handler, "request"), methods=[method]) for method, path, handler in table]

    async def create(self, request: Request) -> Response:
        application = Application(
            self.ids.new("a"), **_settings(await read_json(request), self.callback_hosts, creating=True)
        )
        self.applications[application.id] = application
        return empty(201, f"{self.root}/applications/{application.id}")

    async def list(self, request: Request) -> Response:
        return json_response([self.render(application) for application in self.applications.values()])

    async def get(self, request: Request) -> Response:
        return json_response(self.render(self._get(request)))

    async def update(self, request: Request) -> Response:
        application = self._get(request)
        for name, value in _settings(await read_json(request), self.callback_hosts, creating=False).items():
            setattr(application, name, value)
        return empty()

    async def delete(self, request: Request) -> Response:
        application = self._get(request)
        del self.applications[application.id]
        self.numbers = {number: owner for number, owner in self.numbers.items() if owner != application.id}
        return empty()

    async def assign(self, request: Request) -> Response:
        f = Fields(await read_json(request))
        number = f.address("number", required=True)
        application_id = f.string("applicationId", required=True)
        assert number is not None and application_id is not None
        if application_id not in self.applications:
            message = f"The application {application_id} could not be found"
            raise errors.ApiError(404, "not-found", "application-not-found", message, {"applicationId": application_id})
        self.numbers[number] = application_id
        return empty(201, f"{self.root}/phoneNumbers/{number}")

    async def list_numbers(self, request: Request) -> Response:
        return json_response([{"number": n, "applicationId": a} for n, a in self.numbers.items()])
