"""The Bandwidth Voice API v2 profile: the v2 REST API and OAuth2 token endpoint, v2 webhooks and BXML v2."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ..errors import ApiError
from ..models import Call, Delivery
from ..payloads import EventBody
from ..profile import Guard, SimulatorProfile, event_type
from .api import V2Api, render_call
from .calls import V2Calls, V2Events
from .encoding import RULES, BandwidthEncoding
from .errors import V2Error
from .oauth import TOKEN_PATH, Credentials, Tokens
from .runner import V2Runner

if TYPE_CHECKING:
    from ..delivery import Deliverer
    from ..engine import Engine
    from ..simulator import Simulator

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_API_PASSWORD",
    "DEFAULT_API_USER",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "BandwidthProfile",
]

DEFAULT_ACCOUNT_ID = "9900000"
DEFAULT_CLIENT_ID = "simulator-client"
DEFAULT_CLIENT_SECRET = "simulator-secret"
DEFAULT_API_USER = "simulator-user"
DEFAULT_API_PASSWORD = "simulator-password"
#: Webhooks wait 15 s for an answer unless a call's ``callbackTimeout`` says otherwise.
CALLBACK_TIMEOUT_MS = 15000


class BandwidthProfile(SimulatorProfile):
    """Voice API v2 for one account: OAuth2 client ``client_id``/``client_secret`` (tokens live
    ``token_lifetime`` simulated seconds) and the API user ``api_user``/``api_password`` (Basic)."""

    name = "bandwidth"
    callback_timeout_ms = CALLBACK_TIMEOUT_MS
    rules = RULES

    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        api_user: str = DEFAULT_API_USER,
        api_password: str = DEFAULT_API_PASSWORD,
        token_lifetime: float = 3600.0,
    ) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.encoding = BandwidthEncoding()
        self.credentials = Credentials((client_id, client_secret), (api_user, api_password))
        self.tokens = Tokens(self.credentials, None, token_lifetime)
        self.prefix = f"/api/v2/accounts/{account_id}"
        self._calls: V2Calls | None = None
        self._events: V2Events | None = None
        self._runner: V2Runner | None = None

    @property
    def calls(self) -> V2Calls:
        """The calls' v2 records (once attached to a simulator)."""
        assert self._calls is not None, "the profile is not attached to a simulator"
        return self._calls

    @property
    def v2_runner(self) -> V2Runner:
        """The BXML v2 runner (once attached to a simulator)."""
        assert self._runner is not None, "the profile is not attached to a simulator"
        return self._runner

    def banner(self, base_url: str) -> list[str]:
        """The account and the client's environment."""
        client_id, client_secret = self.credentials.client or ("", "")
        user, password = self.credentials.api_user or ("", "")
        return [
            f"account {self.account_id}; OAuth2 client {client_id} / {client_secret}; API user {user} / {password}",
            "point a client at it with:",
            f"export BANDWIDTH_BASE_URL={base_url}/api/v2 BANDWIDTH_TOKEN_URL={base_url}{TOKEN_PATH} "
            f"BANDWIDTH_ACCOUNT_ID={self.account_id} BANDWIDTH_CLIENT_ID={client_id} "
            f"BANDWIDTH_CLIENT_SECRET={client_secret}",
        ]

    def control_credentials(self) -> tuple[str, str] | None:
        """The API user's."""
        return self.credentials.api_user

    def inbound_note(self, method: str) -> str:
        """Every v2 call runs the BXML its initiate is answered with."""
        return "the BXML the initiate webhook is answered with runs"

    def authenticate(self, request: Request) -> None:
        """A live Bearer token, or the API user's Basic credentials."""
        self.tokens.authenticate(request)

    def check_account(self, request: Request) -> None:
        """403 for another account than the simulator's."""
        account_id = request.path_params.get("account_id")
        if account_id != self.account_id:
            raise V2Error(403, "authorization-error", "Access is denied")

    def spoken(self, error: ApiError) -> ApiError:
        """The core's errors (415, 429, a bad body) with v2's ``{"type", "description", "id"}`` body."""
        if isinstance(error, V2Error):
            return error
        kind = {401: "authentication-error", 429: "error", 500: "internal-error"}.get(error.status, "validation")
        return V2Error(error.status, kind, error.message, error.headers)

    def events(self, sim: Simulator) -> V2Events:
        """The v2 webhook bodies (the profile keeps each call's v2 record from here on)."""
        self.tokens.clock = sim.clock
        self._calls = V2Calls(sim.clock, self.account_id, sim.application_id, self.callback_timeout_ms)
        self._events = V2Events(self._calls)
        return self._events

    def runner(self, engine: Engine, deliverer: Deliverer) -> V2Runner:
        """BXML v2."""
        assert self._events is not None
        self._runner = V2Runner(engine, deliverer, self.calls, self._events)
        return self._runner

    def target(self, call: Call, event: EventBody) -> Delivery:
        """``disconnect`` goes to the disconnect URL, ``dtmf`` to the ``<StartGather>``'s; the rest to the call's
        answer/initiate URL."""
        record = self.calls.of(call)
        name = event_type(event)
        if name == "disconnect" and record.disconnect is not None:
            return record.disconnect
        if name == "dtmf" and record.dtmf is not None:
            return record.dtmf
        return record.answer

    def routes(self, sim: Simulator, guard: Guard) -> list[BaseRoute]:
        """``/api/v1/oauth2/token`` and ``/api/v2/accounts/{accountId}/…``."""
        assert self._events is not None
        api = V2Api(
            engine=sim.engine,
            calls=self.calls,
            events=self._events,
            runner=lambda: self.v2_runner,
            hosts=sim.callback_hosts,
            base_of=sim.base_of,
        )
        token = Route(TOKEN_PATH, self.tokens.token, methods=["POST"])
        return [token, *api.routes(guard, "/api/v2/accounts/{account_id}")]

    def call_path(self, call_id: str) -> str:
        """``/api/v2/accounts/{accountId}/calls/{callId}``."""
        return f"{self.prefix}/calls/{call_id}"

    def render_call(self, sim: Simulator, call: Call) -> dict[str, object]:
        """``CallState``."""
        return render_call(self.calls, self.calls.of(call))
