"""``callhooks demo``: the example IVR (``examples/ivr.py``) answering a call placed on the local simulator.

With ``--bxml`` the IVR is the BXML application ``examples/bxml_ivr.py``, and the call's callbacks come by GET.
With ``--platform bandwidth`` the IVR is the Voice API v2 one (``callhooks.bandwidth.demo``): the customer presses 1
and is transferred, all in BXML v2, the simulator playing v2 and the v2 client placing the call.
With ``--phone`` nothing is scripted: the IVR and the simulator keep serving (in real time) until Ctrl-C or
``--duration``, and a person calls the IVR from the simulator's phone page, whose URL is printed.

Both run on free loopback ports. The far end listens to the menu, presses 1 and is transferred to sales; the
demo prints each event as the receiver handles it, then a summary, and exits 0 when the flow went as expected.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import queue
import secrets
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
from rich import box
from rich.console import Console
from rich.table import Table

from ..app import CallHooks, Dispatched
from ..client import Client
from ..rules import ENDED_CALL_STATES
from ..simulator import FarEnd, Simulator
from ..threaded_server import free_port, serve

__all__ = ["DemoResult", "run_demo", "run_phone_demo"]

APP_NUMBER = "+19195550100"
CUSTOMER_NUMBER = "+19195551313"
SALES_NUMBER = "+19195550199"
#: The user name of the console that `demo --phone` turns on (its password is made at each start).
CONSOLE_USER = "console"


@dataclass
class DemoResult:
    """What the demo saw: every dispatched event, and each call's final state."""

    events: list[Dispatched] = field(default_factory=list)
    final_states: dict[str, str] = field(default_factory=dict)

    def watched(self, bxml: bool) -> list[str]:
        """Calls whose hangup the receiver must see: every leg, or with BXML only the app's own calls (the legs
        a <Transfer> creates send no events)."""
        seen = {record.event.call_id for record in self.events}
        return [call_id for call_id in self.final_states if not bxml or call_id in seen]

    def hung_up(self) -> set[str | None]:
        """Calls whose hangup event the receiver handled."""
        return {record.event.call_id for record in self.events if record.event.event_type == "hangup"}

    def problems(self, inbound: bool, bxml: bool = False) -> list[str]:
        """What went differently from the scripted flow (empty when all is as expected)."""
        seen = [(record.event.event_type, getattr(record.event, "digits", None)) for record in self.events]
        found: list[str] = []
        expected_first = "incomingcall" if inbound else "answer"
        if not seen or seen[0][0] != expected_first:
            found.append(f"the first event was not {expected_first}")
        if ("gather", "1") not in seen:
            found.append("the caller's menu choice (gather with digits 1) never arrived")
        if len(self.final_states) < 2:
            found.append("no transfer leg was created")
        hung_up = self.hung_up()
        for call_id, state in self.final_states.items():
            if state not in ENDED_CALL_STATES:
                found.append(f"call {call_id} is still {state}")
            elif call_id not in hung_up and call_id in self.watched(bxml):
                found.append(f"no hangup event was handled for call {call_id}")
        if any(record.status >= 400 for record in self.events):
            found.append("the receiver answered an event with an error status")
        return found


class PortInUse(Exception):
    """A port asked for with ``--port``/``--simulator-port`` that cannot be listened on."""


def _ports(args: argparse.Namespace) -> tuple[int, int]:
    """The receiver's and the simulator's ports: those asked for (checked free now), else free ones."""
    chosen: list[int] = []
    asked = (getattr(args, "port", None), getattr(args, "simulator_port", None))
    for option, port in zip(("--port", "--simulator-port"), asked, strict=True):
        if port is None:
            chosen.append(free_port())
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                raise PortInUse(f"{option} {port}: {exc.strerror or exc}") from None
        chosen.append(port)
    if chosen[0] == chosen[1]:
        raise PortInUse(f"--port and --simulator-port are both {chosen[0]}")
    return chosen[0], chosen[1]


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """The demo's output is its table: callhooks' INFO lines (each callback, each delivery) stay off while it
    runs; warnings and errors still show."""
    root = logging.getLogger("callhooks")
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)


def create_ivr(settings: Mapping[str, str], bxml: bool = False) -> CallHooks:
    """The example IVR, from its factory (``examples/`` installs as ``callhooks.examples``, which mypy does
    not follow, hence the import by name); ``bxml``: the BXML one."""
    module = importlib.import_module("callhooks.examples.bxml_ivr" if bxml else "callhooks.examples.ivr")
    hooks: CallHooks = module.create_app(settings)
    return hooks


def _ivr_environment(receiver_url: str, simulator_url: str, account: tuple[str, str, str]) -> dict[str, str]:
    """What a deployment of the example IVR has in its environment, pointed at this demo's simulator."""
    user_id, api_token, api_secret = account
    return {
        "CALLHOOKS_SECRET": secrets.token_urlsafe(24),
        "CALLHOOKS_PUBLIC_URL": receiver_url,
        "CATAPULT_USER_ID": user_id,
        "CATAPULT_API_TOKEN": api_token,
        "CATAPULT_API_SECRET": api_secret,
        "CATAPULT_BASE_URL": simulator_url,
        "IVR_SALES_NUMBER": SALES_NUMBER,
    }


class _Printer:
    """Live rows as events are handled; colour and boxes only on a terminal, plain text otherwise."""

    # Event times come from the simulator's clock, which runs --speed times faster than the wall clock.
    COLUMNS = ("sim time", "call", "event", "state", "tag", "handler", "status")
    WIDTHS = (12, 10, 17, 10, 11, 24, 6)

    def __init__(self, console: Console) -> None:
        self.console = console
        self.legs: dict[str, str] = {}

    def header(self, title: str) -> None:
        self.console.print(title, style="bold")
        self.console.print(self._line(self.COLUMNS), style="bold", markup=False, highlight=False)

    def row(self, record: Dispatched) -> None:
        event = record.event
        call = self.legs.setdefault(event.call_id or "-", f"leg {len(self.legs) + 1}") if event.call_id else "-"
        handler = (record.handler or "(none)").rsplit(".", 1)[-1]
        moment = getattr(event, "time", None) or getattr(event, "event_time", None)  # v1's time, v2's eventTime
        when = moment.strftime("%H:%M:%S.%f")[:12] if moment else "-"
        cells = (when, call, event.event_type, event.call_state or "-", event.tag or "-", handler, record.status)
        style = "red" if record.status >= 400 else ("dim" if record.handler is None else None)
        self.console.print(self._line(cells), style=style, markup=False, highlight=False)

    def _line(self, cells: tuple[object, ...]) -> str:
        return "  ".join(str(cell)[:width].ljust(width) for cell, width in zip(cells, self.WIDTHS, strict=True))

    def summary(self, result: DemoResult, client: Client) -> None:
        table = Table(title="calls", box=box.SIMPLE if self.console.is_terminal else None)
        for column in ("leg", "call id", "direction", "from", "to", "state", "events"):
            table.add_column(column)
        for call_id, state in result.final_states.items():
            call = client.calls.get(call_id)
            count = sum(1 for record in result.events if record.event.call_id == call_id)
            leg = self.legs.get(call_id, "-")
            table.add_row(leg, call_id, call.direction or "-", call.from_ or "-", call.to or "-", state, str(count))
        self.console.print(table)


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo (``--inbound``, ``--bxml``, ``--speed``, ``--timeout``, ``--port``, ``--simulator-port``); 0
    when the flow completed as expected, 2 when a port asked for is taken. With ``--phone``, :func:`run_phone_demo`
    instead. callhooks' INFO log lines stay off: the output is the table."""
    try:
        ports = _ports(args)
    except PortInUse as exc:
        print(f"callhooks demo: {exc}", file=sys.stderr)
        return 2
    with _quiet_logs():
        if getattr(args, "phone", False):
            return run_phone_demo(args, ports)
        if getattr(args, "platform", "catapult") == "bandwidth":
            return _scripted_v2_demo(args, ports)
        return _scripted_demo(args, ports)


def _scripted_demo(args: argparse.Namespace, ports: tuple[int, int]) -> int:
    bxml: bool = getattr(args, "bxml", False)
    console = _console()
    result = DemoResult()
    handled: queue.Queue[Dispatched] = queue.Queue()
    user_id, api_token, api_secret = "u-demo", "t-demo", secrets.token_urlsafe(16)
    receiver_port, simulator_port = ports
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    simulator = Simulator(
        user_id=user_id,
        api_token=api_token,
        api_secret=api_secret,
        speed=args.speed,
        numbers=scripted_numbers(),
        hold_clock=True,  # scripted: the call's simulated timeline never depends on how busy this machine is
    )
    with ExitStack() as stack:
        sim = stack.enter_context(serve(simulator, port=simulator_port))
        settings = _ivr_environment(receiver_url, sim.url, (user_id, api_token, api_secret))
        hooks = create_ivr(settings, bxml)  # the example's own factory, given what a deployment has in its environment
        hooks.add_observer(handled.put)
        stack.enter_context(serve(hooks, port=receiver_port))
        client = stack.enter_context(Client(user_id, api_token, api_secret, base_url=sim.url))
        printer = _Printer(console)
        console.print(f"simulator on {sim.url} (speed x{args.speed:g}), example IVR receiver on {receiver_url}")
        console.print(f"sim time is the simulated clock: {args.speed:g} simulated seconds pass each real second")
        if args.inbound:
            printer.header(f"inbound call from {CUSTOMER_NUMBER} to {APP_NUMBER}")
            response = httpx.post(
                f"{sim.url}/_sim/inbound",
                json={
                    "from": CUSTOMER_NUMBER,
                    "to": APP_NUMBER,
                    "callbackUrl": hooks.callback_url(max_age=None),
                    "callbackHttpMethod": hooks.callback_http_method,
                },
                auth=(api_token, api_secret),
                timeout=10,
            )
            response.raise_for_status()
        else:
            printer.header(f"outbound call from {APP_NUMBER} to {CUSTOMER_NUMBER}")
            client.calls.create(
                from_=APP_NUMBER,
                to=CUSTOMER_NUMBER,
                callback_url=hooks.callback_url(context={"demo": True}),
                callback_http_method=hooks.callback_http_method,
            )
        finished = _follow(client, handled, printer, result, time.monotonic() + args.timeout, bxml)
        printer.summary(result, client)
    problems = result.problems(args.inbound, bxml) if finished else ["the flow did not finish before --timeout"]
    if problems:
        for problem in problems:
            print(f"callhooks demo: {problem}", file=sys.stderr)
        return 1
    console.print(f"done: {len(result.events)} events over {len(result.final_states)} call legs, all as expected")
    return 0


def _console() -> Console:
    """Where a demo prints: off a terminal (CI logs, pipes) rich would wrap at 80 columns and add nothing, so
    lines are kept whole."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = 120
    return console


def scripted_numbers() -> dict[str, FarEnd]:
    """The scripted demos' far ends: the customer listens to the menu, then presses 1; sales answers and talks
    for a minute."""
    return {
        CUSTOMER_NUMBER: FarEnd(answer_after=2, digits="1", press_on="prompt", hangup_after=None),
        SALES_NUMBER: FarEnd(answer_after=3, hangup_after=60),
    }


#: What the v2 demo's caller must see happen, in this order, on the call placed.
V2_FLOW = ("answer", "gather", "transferComplete", "disconnect")


def _scripted_v2_demo(args: argparse.Namespace, ports: tuple[int, int]) -> int:
    """The v2 IVR (:mod:`callhooks.bandwidth.demo`) on the simulator playing Voice API v2: an outbound call to
    the customer, who presses 1 and talks to sales; 0 when the handlers saw answer, gather, transferComplete and
    disconnect, the call ended, and no event was refused."""
    from ..bandwidth.client import Client as V2Client
    from ..bandwidth.demo import create_app
    from ..simulator.bandwidth import BandwidthProfile

    console = _console()
    handled: queue.Queue[Dispatched] = queue.Queue()
    client_id, client_secret = "demo-client", secrets.token_urlsafe(16)
    profile = BandwidthProfile(client_id=client_id, client_secret=client_secret)
    receiver_port, simulator_port = ports
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    simulator = Simulator(
        platform=profile,
        speed=args.speed,
        numbers=scripted_numbers(),
        hold_clock=True,  # scripted: the call's simulated timeline never depends on how busy this machine is
    )
    events: list[Dispatched] = []
    with ExitStack() as stack:
        sim = stack.enter_context(serve(simulator, port=simulator_port))
        hooks = create_app(
            {
                "CALLHOOKS_SECRET": secrets.token_urlsafe(24),
                "CALLHOOKS_PUBLIC_URL": receiver_url,
                "CALLHOOKS_BASIC_AUTH": f"demo:{secrets.token_urlsafe(12)}",
                "IVR_SALES_NUMBER": SALES_NUMBER,
            }
        )
        hooks.add_observer(handled.put)
        stack.enter_context(serve(hooks, port=receiver_port))
        client = stack.enter_context(
            V2Client(
                profile.account_id,
                client_id=client_id,
                client_secret=client_secret,
                base_url=f"{sim.url}/api/v2",
                token_url=f"{sim.url}/api/v1/oauth2/token",
                hooks=hooks,
            )
        )
        printer = _Printer(console)
        console.print(f"simulator playing Voice API v2 on {sim.url} (speed x{args.speed:g}), v2 IVR on {receiver_url}")
        printer.header(f"outbound call from {APP_NUMBER} to {CUSTOMER_NUMBER}")
        call_id = client.calls.create(APP_NUMBER, CUSTOMER_NUMBER, "demo-application", context={"demo": True}).call_id
        deadline = time.monotonic() + args.timeout
        state = None
        while time.monotonic() < deadline:
            try:
                record = handled.get(timeout=0.1)
            except queue.Empty:
                state = client.calls.get(call_id).state
                if state == "disconnected" and any(r.event.event_type == "disconnect" for r in events):
                    break
                continue
            events.append(record)
            printer.row(record)
    seen = [record.event.event_type for record in events if getattr(record.event, "call_id", None) == call_id]
    problems = [f"no {step} event was handled for the call" for step in V2_FLOW if step not in seen]
    if state != "disconnected":
        problems.append(f"the call is still {state} after --timeout")
    if any(record.status >= 400 for record in events):
        problems.append("the receiver answered an event with an error status")
    for problem in problems:
        print(f"callhooks demo: {problem}", file=sys.stderr)
    if problems:
        return 1
    console.print(f"done: {len(events)} events, answer -> menu -> 1 -> sales -> goodbye, all as expected")
    return 0


def _follow(
    client: Client,
    handled: queue.Queue[Dispatched],
    printer: _Printer,
    result: DemoResult,
    deadline: float,
    bxml: bool = False,
) -> bool:
    """Print events as they are handled until every leg has ended and its hangup was handled."""
    while time.monotonic() < deadline:
        try:
            record = handled.get(timeout=0.1)
        except queue.Empty:
            if _all_over(client, result, bxml):
                return True
            continue
        result.events.append(record)
        printer.row(record)
    return False


def _all_over(client: Client, result: DemoResult, bxml: bool = False) -> bool:
    result.final_states = {call.id: call.state or "?" for call in client.calls.list(sort_order="asc")}
    hung_up = result.hung_up()
    watched = result.watched(bxml)
    return bool(result.final_states) and all(
        state in ENDED_CALL_STATES and (call_id in hung_up or call_id not in watched)
        for call_id, state in result.final_states.items()
    )


def run_phone_demo(args: argparse.Namespace, ports: tuple[int, int] | None = None) -> int:
    """``callhooks demo --phone``: the example IVR on the simulator, called from the phone page by a person.

    The IVR owns ``APP_NUMBER`` (an application whose ``incomingCallUrl`` is the receiver); the page dials from
    ``CUSTOMER_NUMBER``, and ``SALES_NUMBER`` rings on the page too, so pressing 1 brings a second call to
    answer. Serves until Ctrl-C or ``--duration`` seconds; returns 0.
    """
    bxml: bool = getattr(args, "bxml", False)
    console = _console()
    handled: queue.Queue[Dispatched] = queue.Queue()
    user_id, api_token, api_secret = "u-demo", "t-demo", secrets.token_urlsafe(16)
    receiver_port, simulator_port = ports or (free_port(), free_port())
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    simulator = Simulator(user_id=user_id, api_token=api_token, api_secret=api_secret, speed=1.0)
    simulator.phone.claim(CUSTOMER_NUMBER)
    simulator.phone.claim(SALES_NUMBER)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    with ExitStack() as stack:
        # An open phone page holds a stream: shutting down waits at most a second for it.
        sim = stack.enter_context(serve(simulator, port=simulator_port, timeout_graceful_shutdown=1))
        settings = _ivr_environment(receiver_url, sim.url, (user_id, api_token, api_secret))
        console_password = secrets.token_urlsafe(12)
        settings["CALLHOOKS_CONSOLE"] = f"{CONSOLE_USER}:{console_password}"  # the receiver's live console
        hooks = create_ivr(settings, bxml)
        hooks.add_observer(handled.put)
        # An open console page holds a stream too.
        stack.enter_context(serve(hooks, port=receiver_port, timeout_graceful_shutdown=1))
        _own_number(sim.url, (user_id, api_token, api_secret), hooks)
        console.print(f"simulator on {sim.url} (real time), example IVR receiver on {receiver_url}")
        pages = _Pages((api_token, api_secret), sim.port, console_password, receiver_port)
        follow_phone_calls(console, _Printer(console), handled, deadline, pages, "events")
    return 0


@dataclass(frozen=True)
class _Pages:
    """Where the phone demo's two pages are: the simulator's phone (behind the account's login) and the
    receiver's console (behind ``CONSOLE_USER`` and its password)."""

    phone_login: tuple[str, str]
    simulator_port: int
    console_password: str
    receiver_port: int


def follow_phone_calls(
    console: Console,
    printer: _Printer,
    handled: queue.Queue[Dispatched],
    deadline: float | None,
    pages: _Pages,
    what: str,
) -> None:
    """Say where the phone and console pages are, then print a row for each of ``what`` (events, requests) the
    IVR handles until ``deadline`` (``time.monotonic()``) or Ctrl-C."""
    user, password = pages.phone_login
    phone_url = f"http://{user}:{password}@127.0.0.1:{pages.simulator_port}/_sim/phone"
    console.print(f"phone: {phone_url}", style="bold", markup=False)
    console.print(f"  (user {user}, password {password}); call {APP_NUMBER} from it", markup=False)
    console.print(f"  {SALES_NUMBER} (sales, press 1) rings on the page too; Ctrl-C stops", markup=False)
    console_password = pages.console_password
    console_url = f"http://{CONSOLE_USER}:{console_password}@127.0.0.1:{pages.receiver_port}/_console/"
    console.print(f"console: {console_url}", style="bold", markup=False)
    console.print(f"  (user {CONSOLE_USER}, password {console_password}); each call's {what}, live", markup=False)
    printer.header(f"{what} as the IVR handles them")
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                printer.row(handled.get(timeout=0.2))
            except queue.Empty:
                continue
    except KeyboardInterrupt:
        pass
    console.print("stopping")


def _own_number(simulator_url: str, account: tuple[str, str, str], hooks: CallHooks) -> None:
    """Create an application that sends inbound calls to ``hooks`` and give it ``APP_NUMBER``, as a deployment
    does once on the platform."""
    user_id, api_token, api_secret = account
    root = f"{simulator_url}/v1/users/{user_id}"
    with httpx.Client(auth=(api_token, api_secret), timeout=10) as http:
        body = {
            "name": "example IVR",
            "incomingCallUrl": hooks.callback_url(max_age=None),
            "callbackHttpMethod": hooks.callback_http_method,
        }
        created = http.post(f"{root}/applications", json=body)
        created.raise_for_status()
        application_id = created.headers["location"].rsplit("/", 1)[-1]
        owned = http.post(f"{root}/phoneNumbers", json={"number": APP_NUMBER, "applicationId": application_id})
        owned.raise_for_status()
