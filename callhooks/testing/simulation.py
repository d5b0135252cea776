"""A running simulator with a client pointed at it: what end-to-end tests of an IVR need.

``running_simulator()`` is a context manager; the pytest fixture ``callhooks_simulator`` (see ``plugin``)
wraps it. Everything runs on 127.0.0.1 under real uvicorn servers, and every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar
from urllib.parse import quote

import httpx

from ..app import CallHooks
from ..client import Client
from ..simulator import FarEnd, SentEvent, Simulator
from . import session_platforms
from .polling import DEFAULT_TIMEOUT, wait_until
from .server import free_port, serve

__all__ = ["SimulatorSession", "running_simulator"]

T = TypeVar("T")


class ClientCredentials(TypedDict):
    user_id: str
    api_token: str
    api_secret: str
    base_url: str


@dataclass
class SimulatorSession:
    """A simulator served on a free loopback port, and a client of its platform already pointed at it.

    ``platform`` is the one played: ``catapult`` (``client`` is a ``callhooks.client.Client``; ``user_id``,
    ``api_token`` and ``api_secret`` its credentials), ``bandwidth`` (a ``callhooks.bandwidth.client.Client``
    with OAuth2 client credentials) or ``twilio`` (a ``callhooks.twilio.client.Client`` with the account sid and
    auth token); ``account`` holds the simulator's account settings on the last two."""

    simulator: Simulator
    url: str
    #: The platform's blocking client (``Client`` on Catapult; typed ``Any`` as it is one of three).
    client: Any
    user_id: str
    api_token: str
    api_secret: str
    platform: str = "catapult"
    account: dict[str, str] = field(default_factory=dict)

    @property
    def client_options(self) -> dict[str, str]:
        """Keyword arguments for the platform's ``Client``/``AsyncClient`` to talk to this simulator (Catapult:
        ``credentials``)."""
        account = {"user_id": self.user_id, "api_token": self.api_token, "api_secret": self.api_secret}
        return session_platforms.client_options(
            self.platform, account if self.platform == "catapult" else self.account, self.url
        )

    @property
    def control_auth(self) -> tuple[str, str]:
        """The Basic credentials of the control API ``/_sim/…`` (the account's own)."""
        return self.simulator.profile.control_credentials() or (self.api_token, self.api_secret)

    @property
    def credentials(self) -> ClientCredentials:
        """Keyword arguments for Catapult's ``Client``/``AsyncClient`` to talk to this simulator (any platform:
        ``client_options``)."""
        return {
            "user_id": self.user_id,
            "api_token": self.api_token,
            "api_secret": self.api_secret,
            "base_url": self.url,
        }

    @property
    def environ(self) -> dict[str, str]:
        """The variables that point an app configured from the environment at this simulator: ``CATAPULT_*``,
        ``BANDWIDTH_*`` or ``TWILIO_*`` (``TWILIO_AUTH_TOKEN`` is also what a Twilio receiver checks with)."""
        return session_platforms.environ(self.platform, self.client_options)

    def script(self, number: str, far_end: FarEnd) -> None:
        """How the party at ``number`` behaves in calls placed from now on."""
        self.simulator.script(number, far_end)

    def place_inbound(
        self,
        from_: str,
        to: str,
        *,
        callback_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **options: Any,
    ) -> str:
        """Place an inbound call from a plain (non-async) test; returns its id.

        Its events go to ``callback_url`` (else the simulator's ``incoming_call_url``); ``options`` are those
        of :meth:`Simulator.place_inbound` (``method``, ``fallback_url``, ``auto_answer``, ``diversion``).
        """
        loop = self.simulator.clock.loop
        if loop is None:
            raise RuntimeError("the simulator is not running")
        placed = self.simulator.place_inbound(from_, to, callback_url=callback_url, **options)
        return asyncio.run_coroutine_threadsafe(placed, loop).result(timeout)

    @contextmanager
    def receiver(self, hooks: CallHooks) -> Iterator[str]:
        """Serve ``hooks`` on a free loopback port for the ``with`` block and yield its URL.

        ``hooks.public_url`` is pointed at that server for the duration (so ``callback_url()`` and the paired
        client send the simulator there), and when ``hooks`` has no client yet, the platform's ``AsyncClient``
        for this simulator is attached so handlers written as ``(event, call)`` get a working call handle.
        """
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        saved_url = hooks.public_url
        hooks.public_url = url
        attached = None
        if hooks.client is None:
            # Synchronous (event, call) handlers need a blocking client; anything else gets an AsyncClient.
            wants_sync = any(h.wants_call and not h.is_async for h in hooks)
            attached = session_platforms.make_client(
                self.platform, self.client_options, hooks=hooks, asynchronous=not wants_sync
            )
            hooks.attach_client(attached)
            hooks.on_shutdown(attached.close)  # its connections belong to the server's event loop
        try:
            with serve(hooks, port=port):
                yield url
        finally:
            hooks.public_url = saved_url
            if attached is not None:
                hooks.detach_client()
                hooks.lifecycle.shutdown_callbacks.remove(attached.close)

    def assert_no_errors(self) -> None:
        """Fail (``AssertionError`` chained to the first one) if an action inside the simulation raised.

        The simulator logs such an exception and goes on, so a test would otherwise only see events that
        never come. :meth:`wait_for` and the ``callhooks_simulator`` fixture's teardown call this.
        """
        errors = self.simulator.errors
        if errors:
            first = errors[0]
            raise AssertionError(
                f"the simulator hit {len(errors)} error(s) in scheduled actions; first: {type(first).__name__}: {first}"
            ) from first

    def wait_for(
        self, condition: Callable[[], T | None], timeout: float = DEFAULT_TIMEOUT, what: str = "condition"
    ) -> T:
        """Poll ``condition`` until it returns something truthy (returned); ``AssertionError`` after ``timeout``
        or as soon as the simulator reports an error (see :meth:`assert_no_errors`)."""

        def checked() -> T | None:
            self.assert_no_errors()
            return condition()

        return wait_until(checked, timeout=timeout, what=what)

    def wait_until_ended(self, call_id: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Wait until the call has ended (as the platform's REST API shows it: Catapult's ``Call``, v2's
        ``CallState``, Twilio's ``Call``) and every callback it produced has been delivered; return it."""

        def ended() -> Any:
            return session_platforms.ended(self.platform, self.client, call_id)

        call = self.wait_for(ended, timeout, f"call {call_id} to end")
        self.settle(timeout)
        return call

    def settle(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the simulator has delivered every queued callback."""
        response = httpx.post(
            f"{self.url}/_sim/settle",
            json={"timeout": timeout},
            auth=self.control_auth,
            timeout=timeout + 5,
        )
        response.raise_for_status()
        if response.json() != {"idle": True}:
            raise AssertionError(f"callbacks still queued after {timeout}s")

    # -- the phone: a test as the far end of calls, doing what a person does on the page at /_sim/phone ----------

    def claim(self, number: str) -> None:
        """Calls to ``number`` ring and wait to be answered (:meth:`answer`) or rejected instead of following a
        script; calls from it (:meth:`dial`) are driven by this test too."""
        self._control("POST", "/phone/lines", {"number": number})

    def release(self, number: str) -> None:
        """``number`` follows its far-end script again."""
        self._control("DELETE", f"/phone/lines/{quote(number, safe='')}")

    def dial(self, from_: str, to: str, *, callback_url: str | None = None) -> str:
        """Call the application from ``from_`` to its number ``to`` (as ``place_inbound``, with a far end this
        test drives); returns the call id. Its events go to ``callback_url``, else to the owner of ``to``
        (an application), else to the simulator's ``incoming_call_url``."""
        body = {"from": from_, "to": to, **({"callbackUrl": callback_url} if callback_url else {})}
        return str(self._control("POST", "/phone/dial", body)["callId"])

    def press(self, call_id: str, digits: str) -> dict[str, Any]:
        """Press keys on an answered call (``dtmf`` events, digits for a running gather); returns :meth:`phone_view`."""
        return self._control("POST", f"/calls/{self._engine_id(call_id)}/dtmf", {"digits": digits})

    def answer(self, call_id: str) -> dict[str, Any]:
        """Answer a ringing outbound call; returns :meth:`phone_view`."""
        return self._control("POST", f"/calls/{self._engine_id(call_id)}/answer")

    def reject(self, call_id: str) -> dict[str, Any]:
        """Decline a ringing outbound call (``CALL_REJECTED``); returns :meth:`phone_view`."""
        return self._control("POST", f"/calls/{self._engine_id(call_id)}/reject")

    def hang_up(self, call_id: str) -> dict[str, Any]:
        """Hang up as the far end; returns :meth:`phone_view`."""
        return self._control("POST", f"/calls/{self._engine_id(call_id)}/hangup")

    def phone_view(self, call_id: str) -> dict[str, Any]:
        """The call as ``GET /_sim/calls/{callId}`` shows it: state, ``playing``, ``gather`` and ``heard``."""
        return self._control("GET", f"/calls/{self._engine_id(call_id)}")

    def said(self, call_id: str) -> list[str]:
        """The sentences the application spoke to the far end of ``call_id`` so far, oldest first."""
        return [entry["text"] for entry in self.phone_view(call_id)["heard"] if entry["kind"] == "speak"]

    def wait_until_said(self, call_id: str, text: str, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Wait until a sentence containing ``text`` was spoken on ``call_id``; returns :meth:`said`."""

        def spoken() -> list[str] | None:
            said = self.said(call_id)
            return said if any(text in sentence for sentence in said) else None

        return self.wait_for(spoken, timeout, f"{text!r} to be said on call {call_id}")

    def wait_for_ringing(self, number: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until an outbound call to ``number`` rings (claim it first); returns the call's id."""

        def ringing() -> str | None:
            calls = self._control_json("GET", "/calls")
            found = [c for c in calls if c["direction"] == "out" and c["to"] == number and c["state"] == "started"]
            return str(found[-1]["callId"]) if found else None

        return self.wait_for(ringing, timeout, f"a call ringing at {number}")

    def _engine_id(self, call_id: str) -> str:
        # The phone's calls are the simulator's: a Twilio sid names its call too.
        return session_platforms.engine_id(self.simulator, call_id)

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self._control_json(method, path, body)
        return answer

    def _control_json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sim{path}", json=body, auth=self.control_auth, timeout=10)
        response.raise_for_status()  # HTTPStatusError: the body names what the simulator refused and why
        return response.json()

    def sent(self, call_id: str | None = None) -> list[SentEvent]:
        """The events the simulator produced (for one call, if given: by its id or its Twilio sid), with their
        delivery outcomes."""
        wanted = None if call_id is None else self._engine_id(call_id)
        return [event for event in self.simulator.sent if wanted in (None, event.call_id)]

    def event_types(self, call_id: str) -> list[str]:
        """The ``eventType`` of each event produced for ``call_id`` (a Twilio request's kind), in order."""
        name = getattr(self.simulator.profile.encoding, "event_name", None)
        return [str(name(event.event) if name else event.event["eventType"]) for event in self.sent(call_id)]


@contextmanager
def running_simulator(
    *, platform: str = "catapult", speed: float | None = 100.0, **options: Any
) -> Iterator[SimulatorSession]:
    """Run a ``Simulator`` playing ``platform`` (``catapult``, ``bandwidth`` or ``twilio``; any of its keyword
    options; ``speed`` 100 by default, so a two-minute call takes 1.2 s) on a free loopback port, with that
    platform's ``Client`` pointed at it.

    The credentials are random: Catapult's ``user_id``/``api_token``/``api_secret``; for the others the
    ``account`` settings (Bandwidth v2's OAuth2 ``client_id``/``client_secret`` and API user, Twilio's
    ``account_sid``/``auth_token``), any given in ``account`` kept.

    ``hold_clock`` is on unless given: simulated time stands still while a callback waits for the receiver's
    answer, so a handler slowed by a busy machine still acts at its event's simulated instant, and a test's
    timeline is the same on any machine."""
    session_platforms.check_platform(platform)
    options.setdefault("hold_clock", True)
    options.setdefault("user_id", "u-" + secrets.token_hex(8))
    options.setdefault("api_token", "t-" + secrets.token_hex(8))
    options.setdefault("api_secret", secrets.token_urlsafe(16))
    account: dict[str, str] = {}
    if platform != "catapult":
        account = options["account"] = session_platforms.random_account(platform, options.get("account"))
    simulator = Simulator(platform=platform, speed=speed, **options)
    with ExitStack() as stack:
        server = stack.enter_context(serve(simulator))
        if platform == "catapult":
            client: Any = Client(options["user_id"], options["api_token"], options["api_secret"], base_url=server.url)
        else:
            client = session_platforms.make_client(
                platform, session_platforms.client_options(platform, account, server.url)
            )
        stack.enter_context(client)
        session = SimulatorSession(
            simulator=simulator,
            url=server.url,
            client=client,
            user_id=options["user_id"],
            api_token=options["api_token"],
            api_secret=options["api_secret"],
            platform=platform,
            account=account,
        )
        yield session
        session.assert_no_errors()  # reached only when the block ended normally: never masks its own failure
