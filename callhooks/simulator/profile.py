"""The simulator's platform seam: what one platform plugs into the shared engine.

The core (clock, fault injection, per-call ordered delivery, far-end scripting, the phone page and the control
API) knows no platform's wire format. A :class:`SimulatorProfile` supplies the rest as data and small functions:

* ``routes(sim, guard)``: the platform's REST API, each handler wrapped by ``guard`` (which runs
  :meth:`SimulatorProfile.authenticate` and the rate limit first);
* ``events(sim)``: the :class:`SimulatorEvents` the engine calls for what happens on a call (ring, answer,
  hangup, timeout, key presses, recordings...); each may return ``None`` when the platform sends nothing then;
* ``runner(engine, deliverer)``: the :class:`DocumentRunner` that runs the documents (BXML, TwiML...) a
  call's callbacks are answered with;
* ``encoding``: how one callback request is written (:class:`CallbackEncoding`: method, body, headers,
  credentials or signature, whether its reply is read), and ``rules``: the platform's retry rules
  (:class:`DeliveryRules`); the core sends, times out, falls back and injects faults.

Profiles are found by name (:func:`load_profile`, :data:`PLATFORMS`); each lives in its own sub-package,
``callhooks/simulator/<platform>/``.
"""

from __future__ import annotations

import base64
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request
from starlette.routing import BaseRoute

from .errors import ApiError
from .models import Call, Delivery, Gather, Recording, Transcription
from .payloads import EventBody

if TYPE_CHECKING:
    from .delivery import Deliverer
    from .engine import Engine
    from .simulator import Simulator
    from .web import Handler

__all__ = [
    "PLATFORMS",
    "CallbackEncoding",
    "CallbackRequest",
    "DeliveryRules",
    "DocumentRunner",
    "Guard",
    "SimulatorEvents",
    "SimulatorProfile",
    "basic_authorization",
    "event_type",
    "load_profile",
]

#: ``guard(handler, kind)``: the simulator's wrapper for a REST handler (auth, rate limit, clock, errors);
#: ``kind`` is ``create`` for the call-creating operation (rate-limited as such), ``document`` for one whose
#: body is an XML document rather than JSON, else ``request``.
Guard = Callable[["Handler", str], "Handler"]

#: The platforms the simulator plays, and where each profile class lives (imported on first use).
_PROFILES: dict[str, str] = {
    "catapult": "callhooks.simulator.catapult:CatapultProfile",
    "bandwidth": "callhooks.simulator.bandwidth:BandwidthProfile",
    "twilio": "callhooks.simulator.twilio:TwilioProfile",
}
PLATFORMS: tuple[str, ...] = tuple(_PROFILES)


def load_profile(name: str, account: Mapping[str, str] | None = None) -> SimulatorProfile:
    """The profile of platform ``name``, its account settings (ids and credentials, the keyword arguments of
    the profile's class) from ``account`` or the defaults; ``ValueError`` naming the choices or the setting."""
    where = _PROFILES.get(name)
    if where is None:
        raise ValueError(f"unknown platform {name!r}: choose one of {', '.join(PLATFORMS)}")
    module, _, attribute = where.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    settings = dict(account or {})
    known = [p for p in inspect.signature(cls).parameters]
    for key in settings:
        if key not in known:
            raise ValueError(f"account: {key!r} is not a {name} account setting (one of {', '.join(known)})")
    profile: SimulatorProfile = cls(**settings)
    return profile


def event_type(event: EventBody) -> str:
    """The ``eventType`` of a JSON callback body (Catapult and Bandwidth v2 both name events so)."""
    return str(event.get("eventType", "?"))


def basic_authorization(username: str, password: str) -> str:
    """An ``Authorization`` header value for Basic credentials."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


@dataclass(frozen=True)
class CallbackRequest:
    """One callback request as it goes on the wire."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


class CallbackEncoding(Protocol):
    """How a platform writes its callback requests."""

    def encode(
        self, url: str, event: EventBody, target: Delivery, credentials: tuple[str, str] | None
    ) -> CallbackRequest:
        """The request that delivers ``event`` to ``url`` (the callback or the fallback URL of ``target``);
        ``credentials``: the Basic credentials to send with it, if any."""
        ...

    def keeps_reply(self, event: EventBody, target: Delivery) -> bool:
        """Whether the reply to this request may be a document to run (its body is then kept)."""
        ...

    def event_name(self, event: EventBody) -> str:
        """The event's name, for logs, the errors list and fault rules (``FaultRule(event_type=...)``)."""
        ...


@dataclass(frozen=True)
class DeliveryRules:
    """A platform's rules for sending callbacks, beyond "try the URL, then the fallback URL once".

    ``connect_retries``: how many times a request that could not connect is sent again to the same URL
    before the fallback URL. ``basic_challenge``: when a URL has credentials, the first request goes without
    them and they are sent only after a 401 carrying ``WWW-Authenticate`` (a 401 without it ends the
    attempt); otherwise they go with the first request.
    """

    connect_retries: int = 0
    basic_challenge: bool = False


class SimulatorEvents(Protocol):
    """The callbacks a platform sends for what the engine does; ``None``: this platform sends none then.

    ``time`` is the simulated timestamp (ISO 8601) of the happening.
    """

    def incomingcall(self, call: Call, time: str) -> EventBody | None:
        """An inbound call arrived (Catapult ``incomingcall``, v2 ``initiate``)."""
        ...

    def answer(self, call: Call, time: str) -> EventBody | None:
        """The call was answered."""
        ...

    def hangup(self, call: Call, cause: str, time: str) -> EventBody | None:
        """The call ended with ``cause`` (Catapult's vocabulary: ``NORMAL_CLEARING``, ``USER_BUSY``...)."""
        ...

    def timeout(self, call: Call, time: str) -> EventBody | None:
        """Nobody answered within the call timeout (the hangup follows)."""
        ...

    def audio(self, call: Call, kind: str, started: bool, tag: str | None, time: str) -> EventBody | None:
        """Speech (``speak``) or a file (``playback``) started or stopped playing."""
        ...

    def dtmf(self, call: Call, digit: str, time: str) -> EventBody | None:
        """The far end pressed one key."""
        ...

    def gather(self, call: Call, gather: Gather, terminating_digit: str | None, time: str) -> EventBody | None:
        """A gather completed."""
        ...

    def transfer_complete(self, a_leg: Call, b_leg: Call, time: str) -> EventBody | None:
        """The bridged B-leg of a transfer hung up (to the A-leg)."""
        ...

    def recording(self, call: Call, recording: Recording, start: str, end: str) -> EventBody | None:
        """A recording stopped and was saved."""
        ...

    def transcription(self, call: Call, transcription: Transcription) -> EventBody | None:
        """A recording's transcription is ready."""
        ...


class DocumentRunner(Protocol):
    """Runs the documents a platform's callbacks are answered with, for the engine."""

    def runs(self, call: Call) -> bool:
        """Whether ``call``'s answer is answered with a document to run (else the app drives it by REST)."""
        ...

    def controls(self, call: Call) -> bool:
        """Whether a document takes ``call``'s key presses now (then the engine's ``dtmf`` event is not sent)."""
        ...

    def start(self, call: Call, answer: EventBody) -> None:
        """Send ``answer`` and run the document its reply holds."""
        ...

    def leg_answered(self, leg: Call) -> bool:
        """A call was answered; True when the runner owns what happens next (e.g. a transfer target)."""
        ...

    def call_ended(self, call: Call, was_answered: bool) -> bool:
        """A call ended; True when the runner handles its peers (the engine then leaves them alone)."""
        ...


class SimulatorProfile:
    """One platform, as the simulator plays it. Subclasses set :attr:`name`, :attr:`encoding` and
    :attr:`rules` and implement the methods below."""

    #: The platform's name, as ``--platform`` spells it.
    name: str = ""
    encoding: CallbackEncoding
    rules: DeliveryRules = DeliveryRules()
    #: Default ``callbackTimeout`` of a call's callbacks, in milliseconds.
    callback_timeout_ms: int = 10000
    #: Whether the REST API takes ``application/x-www-form-urlencoded`` bodies (Twilio's) besides JSON.
    form_bodies: bool = False
    #: Whether a recording verb running when its call ends is stopped (its requests queued) before the call's
    #: ending event: Twilio requests ``<Record>``'s action with the recording, then the ``completed`` status
    #: callback; Catapult and v2 send the ``hangup``/``disconnect`` first. A whole call's recording stops after.
    recording_before_hangup: bool = False

    def authenticate(self, request: Request) -> None:
        """Raise the platform's 401 :class:`~.errors.ApiError` unless ``request`` carries valid credentials
        (the REST API and the control API ``/_sim/…`` both ask)."""
        raise NotImplementedError

    def check_account(self, request: Request) -> None:
        """Raise the platform's error when the account a REST path names is not the simulator's."""

    def routes(self, sim: Simulator, guard: Guard) -> list[BaseRoute]:
        """The platform's REST API; wrap every handler with ``guard``."""
        raise NotImplementedError

    def events(self, sim: Simulator) -> SimulatorEvents:
        """The callback bodies the engine sends."""
        raise NotImplementedError

    def runner(self, engine: Engine, deliverer: Deliverer) -> DocumentRunner:
        """The runner of the platform's call-control documents."""
        raise NotImplementedError

    def banner(self, base_url: str) -> list[str]:
        """Lines ``callhooks simulate`` prints about the account: its credentials and how to point a client at
        it."""
        return []

    def control_credentials(self) -> tuple[str, str] | None:
        """The Basic credentials of the control API and the phone page, for ``callhooks simulate``'s banner."""
        return None

    def inbound_note(self, method: str) -> str:
        """What happens to inbound calls' replies, for ``callhooks simulate``'s banner."""
        return "the document it answers with runs"

    def spoken(self, error: ApiError) -> ApiError:
        """``error`` (raised by the core: 415, 429, a bad JSON body) in the platform's error shape; default as is."""
        return error

    def target(self, call: Call, event: EventBody) -> Delivery:
        """Where an event the engine produces for ``call`` goes (default: the call's callback URL)."""
        return call.delivery

    def call_path(self, call_id: str) -> str:
        """The path-only URL of a call (``Location`` of calls the control API places)."""
        raise NotImplementedError

    def render_call(self, sim: Simulator, call: Call) -> dict[str, object]:
        """The call resource as the platform's ``GET`` of the call shows it."""
        raise NotImplementedError
