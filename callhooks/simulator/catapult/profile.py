"""The Catapult v1 profile: today's REST API, callback bodies, BXML runner and callback encoding
(docs/platforms/catapult-voice.md#delivery) plugged into the simulator's seam."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import BaseRoute

from ..api import RestApi
from ..bxml_runner import BxmlRunner
from ..defaults import SIMULATOR_API_SECRET, SIMULATOR_API_TOKEN, SIMULATOR_USER_ID
from ..errors import ApiError
from ..models import Call
from ..payloads import EventFactory
from ..profile import Guard, SimulatorProfile
from ..urls import Urls
from ..web import check_basic_auth
from .encoding import CatapultEncoding

if TYPE_CHECKING:
    from ..delivery import Deliverer
    from ..engine import Engine
    from ..simulator import Simulator

__all__ = ["CatapultProfile"]


class CatapultProfile(SimulatorProfile):
    """Catapult v1: ``/v1/users/{userId}/…`` with Basic ``token:secret``."""

    name = "catapult"
    callback_timeout_ms = 10000

    def __init__(
        self,
        user_id: str = SIMULATOR_USER_ID,
        api_token: str = SIMULATOR_API_TOKEN,
        api_secret: str = SIMULATOR_API_SECRET,
    ) -> None:
        self.user_id = user_id
        self.api_token = api_token
        self.api_secret = api_secret
        self.urls = Urls(user_id)
        self.encoding = CatapultEncoding()
        self._events = EventFactory(self.urls, "")

    def banner(self, base_url: str) -> list[str]:
        """The account and the client's environment."""
        return [
            f"user id {self.user_id}, API token {self.api_token}, API secret {self.api_secret}",
            "point a client at it with:",
            f"export CATAPULT_BASE_URL={base_url} CATAPULT_USER_ID={self.user_id} "
            f"CATAPULT_API_TOKEN={self.api_token} CATAPULT_API_SECRET={self.api_secret}",
        ]

    def control_credentials(self) -> tuple[str, str] | None:
        """The API token and secret."""
        return (self.api_token, self.api_secret)

    def inbound_note(self, method: str) -> str:
        """Only GET-mode calls run BXML on Catapult."""
        return "the BXML it answers with runs" if method == "GET" else "--incoming-call-method GET for BXML"

    def authenticate(self, request: Request) -> None:
        """Basic ``token:secret``."""
        check_basic_auth(request, self.api_token, self.api_secret)

    def check_account(self, request: Request) -> None:
        """404 ``user-not-found`` for another ``userId``."""
        user_id = request.path_params.get("user_id")
        if user_id != self.user_id:
            raise ApiError(404, "not-found", "user-not-found", f"The user {user_id} could not be found")

    def routes(self, sim: Simulator, guard: Guard) -> list[BaseRoute]:
        """``/v1/users/{userId}/calls…``, ``/errors``, ``/applications`` and ``/phoneNumbers``."""
        rest = RestApi(
            engine=sim.engine,
            urls=self.urls,
            render=sim.resources,
            failures=lambda: sim.failures,
            base_of=sim.base_of,
            callback_hosts=sim.callback_hosts,
        )
        routes: list[BaseRoute] = [*rest.routes(guard), *sim.applications.routes(guard)]
        return routes

    def events(self, sim: Simulator) -> EventFactory:
        """The v1 event bodies."""
        self._events = EventFactory(self.urls, sim.application_id)
        return self._events

    def runner(self, engine: Engine, deliverer: Deliverer) -> BxmlRunner:
        """BXML v1 for GET-mode calls."""
        return BxmlRunner(engine, deliverer, self._events)

    def call_path(self, call_id: str) -> str:
        """``/v1/users/{userId}/calls/{callId}``."""
        return self.urls.call_path(call_id)

    def render_call(self, sim: Simulator, call: Call) -> dict[str, object]:
        """``GET /calls/{id}``."""
        return sim.resources.call(call)
