"""The Twilio profile: ``Simulator(platform="twilio", account={"account_sid": ..., "auth_token": ...})``.

REST requests need HTTP Basic ``AccountSid:AuthToken`` (or ``api_key:api_secret``, an API key ``SK…`` and its
secret, when the profile has one), as does the control API ``/_sim/…``; a path naming another account is a 404.
Webhooks are signed with the auth token (:mod:`.encoding`); calls run TwiML (:mod:`.runner`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import BaseRoute

from ...signing import check_basic_auth
from ...twilio.client.auth import API_VERSION
from ..errors import ApiError
from ..models import Call, Delivery
from ..payloads import EventBody
from ..profile import Guard, SimulatorProfile
from . import errors
from .encoding import TwilioEncoding
from .events import TwilioEvents
from .legs import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, WEBHOOK_TIMEOUT_MS, Legs, sid
from .payloads import TwilioPayloads
from .resources import TwilioResources
from .rest import TwilioRestApi
from .runner import TwimlRunner

if TYPE_CHECKING:
    from ..delivery import Deliverer
    from ..engine import Engine
    from ..simulator import Simulator

__all__ = ["TwilioProfile"]


class TwilioProfile(SimulatorProfile):
    """Twilio Programmable Voice for the account ``account_sid``, whose ``auth_token`` signs every webhook."""

    name = "twilio"
    callback_timeout_ms = WEBHOOK_TIMEOUT_MS
    form_bodies = True
    recording_before_hangup = True  # a caller hanging up mid-<Record>: the action, then the status callback

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("the twilio platform needs an account_sid and an auth_token")
        if bool(api_key) != bool(api_secret):
            raise ValueError("api_key and api_secret go together")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_key = api_key
        self.api_secret = api_secret
        self.encoding = TwilioEncoding(auth_token)
        self.legs = Legs()
        self._events: TwilioEvents | None = None
        self._runner: TwimlRunner | None = None

    def authenticate(self, request: Request) -> None:
        """Basic ``AccountSid:AuthToken``, or the API key and its secret; 401 / 20003 otherwise."""
        header = request.headers.get("authorization")
        if check_basic_auth(header, (self.account_sid, self.auth_token)):
            return
        if self.api_key and self.api_secret and check_basic_auth(header, (self.api_key, self.api_secret)):
            return
        raise errors.authentication()

    def check_account(self, request: Request) -> None:
        """404 / 20404 for a path under another account."""
        if request.path_params.get("account_sid") != self.account_sid:
            raise errors.not_found(request.url.path)

    def events(self, sim: Simulator) -> TwilioEvents:
        """Status and recording callbacks (the engine is built after this: ``send`` finds it when it runs)."""

        def send(call_id: str, body: EventBody, target: Delivery) -> None:
            sim.engine.log_event(sim.engine.calls[call_id], body)
            sim.deliverer.enqueue(call_id, body, target)

        self._events = TwilioEvents(self.legs, TwilioPayloads(self.account_sid, sim.clock, sim.ids), send)
        return self._events

    def runner(self, engine: Engine, deliverer: Deliverer) -> TwimlRunner:
        """The TwiML runner."""
        assert self._events is not None, "events() comes first"
        self._runner = TwimlRunner(engine, deliverer, self._events)
        return self._runner

    def _the_runner(self) -> TwimlRunner:
        assert self._runner is not None, "runner() comes first"
        return self._runner

    def routes(self, sim: Simulator, guard: Guard) -> list[BaseRoute]:
        """The Calls and Recordings API under ``/2010-04-01/Accounts/{AccountSid}``."""
        assert self._events is not None
        rest = TwilioRestApi(
            engine=sim.engine,
            events=self._events,
            runner=self._the_runner,
            resources=TwilioResources(self._events.payloads),
            callback_hosts=sim.callback_hosts,
            base_of=sim.base_of,
        )
        routes: list[BaseRoute] = list(rest.routes(guard))
        return routes

    def target(self, call: Call, event: EventBody) -> Delivery:
        """The engine's events for a call are its status callbacks: the call's ``StatusCallback`` (None: not sent)."""
        leg = self.legs.of(call)
        return leg.status or Delivery(None)

    def call_path(self, call_id: str) -> str:
        """``/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json``."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid('CA', call_id)}.json"

    def banner(self, base_url: str) -> list[str]:
        """The account and the environment for callhooks' and twilio-python's clients."""
        return [
            f"Twilio account {self.account_sid}, auth token {self.auth_token}",
            "point a client at it with:",
            f"export TWILIO_ACCOUNT_SID={self.account_sid} TWILIO_AUTH_TOKEN={self.auth_token} "
            f"TWILIO_BASE_URL={base_url}/{API_VERSION}",
            f"(twilio-python: client.api.base_url = {base_url!r})",
        ]

    def control_credentials(self) -> tuple[str, str]:
        """The control API and the phone page take the account's own credentials."""
        return self.account_sid, self.auth_token

    def inbound_note(self, method: str) -> str:
        """Inbound calls run the TwiML their Voice URL answers with."""
        return "the TwiML it answers with runs"

    def spoken(self, error: ApiError) -> ApiError:
        """A core error (an unknown path, a wrong method, 415, 429) in Twilio's shape: 20404, 20004, 20429, 20003 for
        credentials, 21218 for other refused requests."""
        if isinstance(error, errors.TwilioApiError):
            return error
        code = {401: 20003, 404: 20404, 405: 20004, 429: 20429}.get(error.status, errors.INVALID_PARAMETER)
        return errors.TwilioApiError(error.status, code, error.message, error.headers)

    def render_call(self, sim: Simulator, call: Call) -> dict[str, object]:
        """The call as ``GET /Calls/{Sid}.json`` shows it."""
        assert self._events is not None
        return TwilioResources(self._events.payloads).call(self.legs.of(call))
