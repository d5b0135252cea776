"""The :class:`Simulator`: a local stand-in for the Catapult Voice API v1, as one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .applications import Applications
from .behaviours import Behaviours, FarEnd, load_scenario
from .callback_hosts import CallbackHosts
from .catapult import CatapultProfile
from .clock import SimClock
from .control import ControlApi
from .defaults import SIMULATOR_API_SECRET, SIMULATOR_API_TOKEN, SIMULATOR_USER_ID
from .delivery import Deliverer, SentEvent
from .engine import Engine, EngineOptions
from .errors import validation_error
from .faults import FaultInjector, Faults
from .ids import IdFactory
from .models import Delivery
from .origins import Origins
from .phone import Phone, PhonePage
from .profile import SimulatorProfile, load_profile
from .ratelimit import RateLimit, RateLimiter
from .resources import Resources
from .scenario_file import ScenarioError
from .scenario_options import check_options
from .urls import Urls
from .web import Handler, error_response, guard, http_error, request_base

__all__ = ["Simulator"]

T = TypeVar("T")


class Simulator:
    """The platform, locally: REST API, call engine, callbacks, scripted far ends and a control API.

    The object is an ASGI app (``uvicorn.run(Simulator(...))`` or ``serve(sim)``); its lifespan starts the
    clock driver and the ``httpx.AsyncClient`` used for callbacks, so run it under a server that does
    lifespan. Everything runs on that server's event loop.

    **Parameters** (all keyword-only):

    * ``platform``: which platform it plays: ``"catapult"`` (default, Catapult v1), ``"bandwidth"`` (Voice
      API v2), or a :class:`~.profile.SimulatorProfile` (e.g. ``BandwidthProfile(account_id=...)`` for other
      credentials); see :mod:`.profile`. ``account``: the platform's account settings, the keyword arguments
      of its profile (e.g. ``{"account_id": "9900000", "client_id": ..., "client_secret": ...}``).
    * ``user_id``, ``api_token``, ``api_secret``: the account (default ``u-simulator``, ``t-simulator``,
      ``s-simulator``, as ``callhooks simulate``); requests need Basic ``token:secret`` and the ``userId`` in
      the path (401 / 404 otherwise).
    * ``speed``: simulated seconds per real second (``100`` plays a 2-minute call in 1.2 s); ``None`` or
      ``manual=True`` for a clock that only moves via :meth:`advance` / ``POST /_sim/clock/advance``.
    * ``epoch``: wall-clock time of simulated second 0 (default: now); events' ``time`` derive from it.
    * ``base_url``: scheme and host used in ``callUri`` and ``Link`` (default: from each request).
    * ``rate_limit``: a :class:`RateLimit` to exercise clients' limit handling (default: none).
    * ``far_end``: the default :class:`FarEnd`; ``numbers``: a FarEnd per phone number.
    * ``incoming_call_url`` (+ ``incoming_call_method``, ``incoming_call_fallback_url``,
      ``incoming_call_timeout`` ms (default: the platform's callback timeout), ``auto_answer``,
      ``application_id``): where inbound calls go.
    * ``seed``: makes ids (and, unless ``faults`` has its own seed, the fault decisions) reproducible.
    * ``faults``: delivery faults to inject on purpose (:class:`Faults`: duplicates, reordering, a first
      attempt that times out, an answer lost after the handler ran); :meth:`set_faults` changes them while
      running. ``hangup_after_timeout``: send ``hangup``/``NO_ANSWER`` after
      ``timeout`` (default true). ``speech_chars_per_second``, ``playback_seconds``,
      ``transcription_delay``: how long the platform's own work takes, in simulated seconds.
      ``bxml_idle_hangup``: seconds a BXML call stays up once its document has ended (0: hang up at once).
    * ``hold_clock``: simulated time stands still while a callback waits for the receiver's answer (speed
      mode), so how fast the receiver's machine is never changes a call's simulated timeline: a handler that
      takes a real second still acts at the instant of its event. The test kit turns it on; for a person on
      the phone page, time runs on (default).
    * ``allow_callback_hosts``: hosts callbacks may go to besides loopback and ``localhost`` (names, addresses,
      networks such as ``10.0.0.0/8``, or ``*``); link-local and metadata addresses never (see
      :mod:`.callback_hosts`). A callback URL elsewhere is a 400 when given and is never sent to.
    * ``allow_hosts``: names the simulator may be reached by besides IP addresses, ``localhost`` and
      ``base_url``'s host; ``allow_origins``: web pages (``scheme://host[:port]``) besides its own that may
      call it from a browser (see :mod:`.origins`). Others get 403.

    ``simulator.phone`` (:class:`~.phone.Phone`) is the far end by hand: numbers that ring on the page at
    ``/_sim/phone`` and wait to be answered, and what a person does on a call (dial, press keys, hang up).

    Calls whose callbacks come by GET run the BXML their ``answer`` (and each verb URL) is answered with
    (:mod:`.bxml_runner`); an empty reply to ``answer`` leaves the call to REST control.
    """

    def __init__(
        self,
        *,
        platform: str | SimulatorProfile = "catapult",
        account: Mapping[str, str] | None = None,
        user_id: str = SIMULATOR_USER_ID,
        api_token: str = SIMULATOR_API_TOKEN,
        api_secret: str = SIMULATOR_API_SECRET,
        speed: float | None = 1.0,
        manual: bool = False,
        epoch: datetime | None = None,
        base_url: str | None = None,
        rate_limit: RateLimit | None = None,
        far_end: FarEnd | None = None,
        numbers: Mapping[str, FarEnd] | None = None,
        incoming_call_url: str | None = None,
        incoming_call_method: str = "POST",
        incoming_call_fallback_url: str | None = None,
        incoming_call_timeout: int | None = None,
        auto_answer: bool = True,
        application_id: str | None = None,
        seed: int | None = None,
        hangup_after_timeout: bool = True,
        speech_chars_per_second: float = 15.0,
        playback_seconds: float = 3.0,
        transcription_delay: float = 2.0,
        faults: Faults | None = None,
        bxml_idle_hangup: float = 30.0,
        hold_clock: bool = False,
        allow_callback_hosts: Iterable[str] = (),
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
    ) -> None:
        #: Where callbacks may go (loopback unless allowed); ``origins``: who may call the simulator.
        try:
            self.callback_hosts = CallbackHosts(allow_callback_hosts)
        except ValueError as exc:
            raise ValueError(f"allow_callback_hosts: {exc} (--allow-callback-host)") from None
        self.origins = Origins(allow_hosts, allow_origins, base_url)
        for name, url in (
            ("incoming_call_url", incoming_call_url),
            ("incoming_call_fallback_url", incoming_call_fallback_url),
        ):
            reason = None if url is None else self.callback_hosts.refusal(url)
            if reason is not None:
                raise ValueError(f"{name} is refused: {reason}")
        if isinstance(platform, SimulatorProfile):
            profile = platform
        elif platform == "catapult" and not account:
            profile = CatapultProfile(user_id, api_token, api_secret)
        else:
            profile = load_profile(platform, account)
        #: The platform played: its REST API, callbacks, documents and callback encoding.
        self.profile = profile
        self.user_id = user_id
        self.api_token = api_token
        self.api_secret = api_secret
        self.base_url = base_url.rstrip("/") if base_url else None
        self.clock = SimClock(None if manual else speed, epoch)
        self.ids = IdFactory(seed)
        self.urls = Urls(user_id)
        self.behaviours = Behaviours(far_end or FarEnd(), dict(numbers or {}))
        fault_seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        injector = FaultInjector(faults or Faults(), fault_seed)
        self.deliverer = Deliverer(
            self.clock,
            self.ids,
            injector,
            self.callback_hosts,
            encoding=profile.encoding,
            rules=profile.rules,
            hold_clock=hold_clock,
        )
        self.limiter = RateLimiter(rate_limit, self.clock) if rate_limit else None
        self.application_id = application_id or self.ids.new("a")
        timeout_ms = profile.callback_timeout_ms if incoming_call_timeout is None else incoming_call_timeout
        inbound = Delivery(incoming_call_url, incoming_call_method.upper(), timeout_ms, incoming_call_fallback_url)
        options = EngineOptions(
            speech_chars_per_second=speech_chars_per_second,
            playback_seconds=playback_seconds,
            transcription_delay=transcription_delay,
            hangup_after_timeout=hangup_after_timeout,
            auto_answer=auto_answer,
            inbound=inbound,
            bxml_idle_hangup=bxml_idle_hangup,
        )
        self.engine = Engine(
            urls=self.urls,
            clock=self.clock,
            ids=self.ids,
            behaviours=self.behaviours,
            send=self.deliverer.enqueue,
            application_id=self.application_id,
            options=options,
            deliverer=self.deliverer,
            events=profile.events(self),
            runner=profile.runner,
            event_name=profile.encoding.event_name,
            target=profile.target,
            recording_before_hangup=profile.recording_before_hangup,
        )
        self.resources = Resources(self.urls, self.clock)
        #: Applications and the numbers they own: inbound calls to those numbers go to the owner's URL.
        self.applications = Applications(self.urls.root, self.ids, self.callback_hosts)
        #: The far end by hand: numbers that ring on the phone page, and what a person does on a call.
        self.phone = Phone(self)
        # Absolute URLs in events of calls placed from Python (no request to take a host from) use the host
        # of the latest request served; the guards below record it.
        self._latest_request_base = "http://127.0.0.1"
        control = ControlApi(self, base_of=self.base_of)
        routes = profile.routes(self, self._rest_guard)
        routes += control.routes(self._control_guard) + PhonePage(self.phone).routes(self._control_guard)
        handlers = {HTTPException: self._http_exception}
        self.app = Starlette(routes=routes, lifespan=self._lifespan, exception_handlers=handlers)

    @classmethod
    def from_scenario(cls, path: str | Path, **overrides: Any) -> Simulator:
        """A simulator configured by a JSON/YAML scenario file (see :mod:`.behaviours`; its ``faults:``
        section is read by :meth:`Faults.from_mapping`); ``overrides`` win over the file's options.

        A bad file is one ``ValueError`` line naming the file, the key and, for a misspelt key, the close
        match (:mod:`.scenario_file`, :mod:`.scenario_options`); ``OSError`` when it cannot be read.
        """
        scenario = load_scenario(path)
        try:
            options = {**check_options(scenario.options), **overrides}
            numbers = {**scenario.behaviours.numbers, **options.pop("numbers", {})}
            options.setdefault("far_end", scenario.behaviours.default)
            return cls(numbers=numbers, **options)
        except ValueError as exc:
            raise ScenarioError(path, str(exc)) from None

    # ------------------------------------------------------------------------------------ ASGI & life

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.origins.refusal(scope) if scope["type"] == "http" else None
        if refusal is not None:  # a foreign page or a rebound name: nothing else runs
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.clock.bind()
        # trust_env=False: callbacks go exactly where the call says, never through a configured proxy
        self.deliverer.client = httpx.AsyncClient(trust_env=False)
        driver = None if self.clock.manual else asyncio.get_running_loop().create_task(self.clock.run())
        try:
            yield
        finally:
            if driver is not None:
                driver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await driver
            await self.deliverer.close()
            await self.deliverer.client.aclose()
            self.deliverer.client = None

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        """Unknown paths and wrong methods: the platform's JSON error shape."""
        return error_response(self.profile.spoken(http_error(request, exc)))

    def base_of(self, request: Request) -> str:
        """Scheme and host for absolute URLs in answers to ``request``: ``base_url`` or the request's own."""
        return self.base_url or request_base(request)

    def _rest_guard(self, handler: Handler, kind: str) -> Handler:
        def before(request: Request) -> None:
            self.profile.authenticate(request)
            self._latest_request_base = self.base_of(request)
            self.profile.check_account(request)
            self.clock.catch_up()
            if self.limiter is not None:
                (self.limiter.check_create if kind == "create" else self.limiter.check_request)()

        return guard(
            handler,
            before,
            self.clock.catch_up,
            xml=kind == "document",
            forms=self.profile.form_bodies,
            spoken=self.profile.spoken,
        )

    def _control_guard(self, handler: Handler) -> Handler:
        def before(request: Request) -> None:
            self.profile.authenticate(request)
            self._latest_request_base = self.base_of(request)
            self.clock.catch_up()

        return guard(handler, before, self.clock.catch_up)

    # --------------------------------------------------------------------------------- Python control

    def script(self, number: str, far_end: FarEnd) -> None:
        """Give the party at ``number`` a behaviour (calls placed afterwards use it)."""
        self.behaviours.numbers[number] = far_end

    def script_default(self, far_end: FarEnd) -> None:
        """Set the behaviour of every number without its own script."""
        self.behaviours.default = far_end

    def reset_scripts(self) -> None:
        """Back to the built-in default far end and no per-number scripts."""
        self.behaviours.default, self.behaviours.numbers = FarEnd(), {}

    def place_inbound_now(
        self,
        from_: str,
        to: str,
        *,
        callback_url: str | None = None,
        method: str | None = None,
        fallback_url: str | None = None,
        auto_answer: bool | None = None,
        diversion: dict[str, Any] | None = None,
        base_url: str | None = None,
    ) -> str:
        """:meth:`place_inbound` for code already running on the simulator's event loop (the control API)."""
        configured = self.engine.options.inbound
        application = None if callback_url else self.applications.owner(to)
        if application is not None:  # the number's application decides where and how
            configured = application.delivery()
            auto_answer = application.auto_answer if auto_answer is None else auto_answer
        url = callback_url or configured.url
        if url is None:
            raise validation_error("callbackUrl", "", "No incomingCallUrl is configured; pass 'callbackUrl'")
        for name, given in (("callbackUrl", callback_url), ("fallbackUrl", fallback_url)):
            if given:
                self.callback_hosts.check(name, given)
        delivery = Delivery(
            url,
            (method or configured.method).upper(),
            configured.timeout_ms,
            fallback_url or configured.fallback_url,
        )
        base = base_url or self.base_url or self._latest_request_base
        self.clock.catch_up()
        call = self.engine.place_inbound(
            from_, to, base, delivery, auto_answer, diversion, application.id if application else None
        )
        self.clock.catch_up()
        return call.id

    async def place_inbound(
        self,
        from_: str,
        to: str,
        *,
        callback_url: str | None = None,
        method: str | None = None,
        fallback_url: str | None = None,
        auto_answer: bool | None = None,
        diversion: dict[str, Any] | None = None,
        base_url: str | None = None,
    ) -> str:
        """Place an inbound call to the ``incoming_call_url`` (or ``callback_url``); returns its id.

        When an application (``POST /applications``) owns ``to`` (``POST /phoneNumbers``), its settings are
        used instead of the ``incoming_call_*`` options.

        ``method``, ``fallback_url`` default to the ``incoming_call_*`` options, ``auto_answer`` to the
        simulator's. ``diversion`` is echoed on ``incomingcall``/``answer``. Absolute URLs in its events use
        ``base_url``, else the simulator's ``base_url``, else the host of the latest request the simulator
        served. Raises :class:`ApiError` (400) when there is no URL to send its events to, or when
        ``callback_url``/``fallback_url`` is on a host callbacks may not go to (``allow_callback_hosts``).
        """
        return await self._on_loop(
            lambda: self.place_inbound_now(
                from_,
                to,
                callback_url=callback_url,
                method=method,
                fallback_url=fallback_url,
                auto_answer=auto_answer,
                diversion=diversion,
                base_url=base_url,
            )
        )

    async def advance(self, seconds: float, *, settle: bool = False) -> float:
        """Move simulated time forward (see :meth:`SimClock.advance`); with ``settle`` each fired timer's
        callbacks are delivered before the next timer fires. Returns the new simulated time."""
        return await self.clock.advance(seconds, self._settle_quietly if settle else None)

    async def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued callback has been delivered (False after ``timeout`` real seconds).

        With a running clock that includes events held back by the ``reorder`` fault; with a manual clock
        those wait for :meth:`advance` to reach their time.
        """
        held = not self.clock.manual
        idle: bool = await self._on_loop_async(lambda: self.deliverer.wait_idle(timeout, held=held))
        return idle

    @property
    def faults(self) -> Faults:
        """The delivery faults in force (see :class:`Faults`)."""
        return self.deliverer.injector.faults

    @property
    def fault_seed(self) -> int:
        """The seed of the fault decisions: pass it as ``Faults(seed=...)`` to replay a run."""
        return self.deliverer.injector.seed

    def set_faults(self, faults: Faults | None) -> None:
        """Inject ``faults`` into events produced from now on (``None``: none). Decisions restart from
        ``faults.seed`` when it is given, and otherwise carry on from the current random state."""
        self.deliverer.injector.configure(faults or Faults())

    def faults_state(self) -> dict[str, object]:
        """The faults in force, with the seed actually used (``GET /_sim/faults``)."""
        return {**self.faults.as_json(), "seed": self.fault_seed}

    def clock_state(self) -> dict[str, object]:
        """The simulated time: ``{"now", "time", "speed", "manual"}``."""
        clock = self.clock
        return {"now": clock.now(), "time": clock.iso(), "speed": clock.speed, "manual": clock.manual}

    async def _settle_quietly(self) -> None:
        await self.deliverer.wait_idle()

    @property
    def sent(self) -> list[SentEvent]:
        """Every event produced so far, with delivery outcomes (oldest first)."""
        return list(self.deliverer.sent)

    @property
    def errors(self) -> list[Exception]:
        """Exceptions raised inside the simulation's scheduled actions (simulator bugs), oldest first; each
        was logged and the simulation went on. ``callhooks.testing`` fails tests that cause one."""
        return list(self.clock.errors)

    @property
    def failures(self) -> list[dict[str, object]]:
        """Failed deliveries in the ``/errors`` shape (oldest first)."""
        return list(self.deliverer.failures)

    def call(self, call_id: str) -> dict[str, object]:
        """The call resource as ``GET /calls/{id}`` shows it."""
        return self.profile.render_call(self, self.engine.get(call_id))

    async def _on_loop(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        result: T = await self._on_loop_async(run)
        return result

    async def _on_loop_async(self, fn: Callable[[], Any]) -> Any:
        # the engine lives on the server's loop; a caller on another thread's loop is handed over to it
        owner = self.clock.loop
        if owner is not None and owner.is_running() and owner is not asyncio.get_running_loop():
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fn(), owner))
        return await fn()
