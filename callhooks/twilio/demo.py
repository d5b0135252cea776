"""``callhooks demo --platform twilio``: the Twilio IVR (``examples/twilio_ivr.py``) on the local simulator playing
Twilio. The far end listens to the menu, presses 1 and is put through to sales; every request the IVR handles is a
row, then each call leg's final status; exit 0 when the flow went as expected.

With ``--inbound`` the customer calls the IVR's number (its Voice URL is the receiver), otherwise the IVR's paired
client creates an outbound call whose ``Url`` and ``StatusCallback`` are the receiver's signed URLs. With
``--phone`` a person calls the IVR from the simulator's phone page and watches the receiver's console.
"""

from __future__ import annotations

import argparse
import importlib
import queue
import secrets
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack

import httpx
from rich.console import Console

from ..app import CallHooks, Dispatched
from ..commands.demo import (
    APP_NUMBER,
    CONSOLE_USER,
    CUSTOMER_NUMBER,
    SALES_NUMBER,
    DemoResult,
    PortInUse,
    _console,
    _Pages,
    _ports,
    _Printer,
    _quiet_logs,
    follow_phone_calls,
    scripted_numbers,
)
from ..simulator import Simulator
from ..testing.server import serve
from .client import Client
from .client.auth import API_VERSION
from .events import ENDED_CALL_STATES

__all__ = ["run_twilio_demo", "run_twilio_phone_demo", "twilio_problems"]

ACCOUNT_SID = "AC" + "d" * 32


def create_twilio_ivr(settings: Mapping[str, str]) -> CallHooks:
    """The example Twilio IVR from its factory (``examples/`` installs as ``callhooks.examples``)."""
    hooks: CallHooks = importlib.import_module("callhooks.examples.twilio_ivr").create_app(settings)
    return hooks


class _TwilioPrinter(_Printer):
    """Rows for Twilio requests: no event time or type on the wire, so the kind and the simulated time handled."""

    def __init__(self, console: Console, simulator: Simulator) -> None:
        super().__init__(console)
        self.simulator = simulator

    def row(self, record: Dispatched) -> None:
        event = record.event
        call = self.legs.setdefault(event.call_id or "-", f"leg {len(self.legs) + 1}") if event.call_id else "-"
        handler = (record.handler or "(none)").rsplit(".", 1)[-1]
        when = self.simulator.clock.datetime().strftime("%H:%M:%S.%f")[:12]
        cells = (when, call, event.event_type, event.call_state or "-", event.tag or "-", handler, record.status)
        style = "red" if record.status >= 400 else ("dim" if record.handler is None else None)
        self.console.print(self._line(cells), style=style, markup=False, highlight=False)


def twilio_problems(result: DemoResult) -> list[str]:
    """What went differently from the scripted flow (empty when all is as expected)."""
    seen = [(record.event.event_type, getattr(record.event, "digits", None)) for record in result.events]
    found: list[str] = []
    if not seen or seen[0][0] not in ("answer", "call", "status"):
        found.append("the call's first request was not its TwiML or a status callback")
    if ("gather", "1") not in seen:
        found.append("the caller's menu choice (a gather with digits 1) never arrived")
    if not any(getattr(record.event, "dial_call_status", None) == "completed" for record in result.events):
        found.append("no dial request reported a completed call to sales")
    if len(result.final_states) < 2:
        found.append("no leg was dialled")
    found += [
        f"call {sid} is still {state}" for sid, state in result.final_states.items() if state not in ENDED_CALL_STATES
    ]
    if any(record.status >= 400 for record in result.events):
        found.append("the receiver answered a request with an error status")
    return found


def run_twilio_demo(args: argparse.Namespace) -> int:
    """Run the Twilio demo (``--inbound``, ``--speed``, ``--timeout``, ``--port``, ``--simulator-port``; ``--phone``:
    :func:`run_twilio_phone_demo`)."""
    if getattr(args, "bxml", False):
        print("callhooks demo: --bxml is for --platform catapult", file=sys.stderr)
        return 2
    try:
        ports = _ports(args)
    except PortInUse as exc:
        print(f"callhooks demo: {exc}", file=sys.stderr)
        return 2
    with _quiet_logs():
        if getattr(args, "phone", False):
            return run_twilio_phone_demo(args, ports)
        return _scripted(args, ports)


def _settings(receiver_url: str, auth_token: str) -> dict[str, str]:
    """What a deployment of the Twilio IVR has in its environment."""
    return {
        "CALLHOOKS_SECRET": secrets.token_urlsafe(24),
        "CALLHOOKS_PUBLIC_URL": receiver_url,
        "TWILIO_AUTH_TOKEN": auth_token,
        "IVR_SALES_NUMBER": SALES_NUMBER,
    }


def run_twilio_phone_demo(args: argparse.Namespace, ports: tuple[int, int]) -> int:
    """``callhooks demo --platform twilio --phone``: the Twilio IVR, whose number's Voice URL is the receiver, called
    by a person from the simulator's phone page (``SALES_NUMBER`` rings there too); its console shows each request.
    Serves in real time until Ctrl-C or ``--duration`` seconds; returns 0."""
    console = _console()
    handled: queue.Queue[Dispatched] = queue.Queue()
    auth_token = secrets.token_urlsafe(24)
    receiver_port, simulator_port = ports
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    settings = _settings(receiver_url, auth_token)
    console_password = secrets.token_urlsafe(12)
    settings["CALLHOOKS_CONSOLE"] = f"{CONSOLE_USER}:{console_password}"
    hooks = create_twilio_ivr(settings)
    hooks.add_observer(handled.put)
    simulator = Simulator(
        platform="twilio",
        account={"account_sid": ACCOUNT_SID, "auth_token": auth_token},
        speed=1.0,
        incoming_call_url=hooks.callback_url(max_age=None),  # the number's Voice URL
    )
    simulator.phone.claim(CUSTOMER_NUMBER)
    simulator.phone.claim(SALES_NUMBER)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    with ExitStack() as stack:
        # Open phone and console pages hold streams: shutting down waits at most a second for them.
        sim = stack.enter_context(serve(simulator, port=simulator_port, timeout_graceful_shutdown=1))
        stack.enter_context(serve(hooks, port=receiver_port, timeout_graceful_shutdown=1))
        console.print(f"Twilio simulator on {sim.url} (real time), Twilio IVR receiver on {receiver_url}")
        pages = _Pages((ACCOUNT_SID, auth_token), sim.port, console_password, receiver_port)
        follow_phone_calls(console, _TwilioPrinter(console, simulator), handled, deadline, pages, "requests")
    return 0


def _scripted(args: argparse.Namespace, ports: tuple[int, int]) -> int:
    console = _console()
    result = DemoResult()
    handled: queue.Queue[Dispatched] = queue.Queue()
    auth_token = secrets.token_urlsafe(24)
    receiver_port, simulator_port = ports
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    simulator = Simulator(
        platform="twilio",
        account={"account_sid": ACCOUNT_SID, "auth_token": auth_token},
        speed=args.speed,
        numbers=scripted_numbers(),
        hold_clock=True,  # scripted: the call's simulated timeline never depends on how busy this machine is
    )
    with ExitStack() as stack:
        sim = stack.enter_context(serve(simulator, port=simulator_port))
        hooks = create_twilio_ivr(_settings(receiver_url, auth_token))
        hooks.add_observer(handled.put)
        stack.enter_context(serve(hooks, port=receiver_port))
        client = stack.enter_context(
            Client(account_sid=ACCOUNT_SID, auth_token=auth_token, base_url=f"{sim.url}/{API_VERSION}", hooks=hooks)
        )
        printer = _TwilioPrinter(console, simulator)
        console.print(f"Twilio simulator on {sim.url} (speed x{args.speed:g}), Twilio IVR receiver on {receiver_url}")
        if args.inbound:
            printer.header(f"inbound call from {CUSTOMER_NUMBER} to {APP_NUMBER}")
            body = {"from": CUSTOMER_NUMBER, "to": APP_NUMBER, "callbackUrl": hooks.callback_url(max_age=None)}
            httpx.post(
                f"{sim.url}/_sim/inbound", json=body, auth=(ACCOUNT_SID, auth_token), timeout=10
            ).raise_for_status()
        else:
            printer.header(f"outbound call from {APP_NUMBER} to {CUSTOMER_NUMBER}")
            client.calls.create(CUSTOMER_NUMBER, APP_NUMBER)
        finished = _follow(client, simulator, handled, printer, result, time.monotonic() + args.timeout)
        _summary(console, client, result, printer)
    problems = twilio_problems(result) if finished else ["the flow did not finish before --timeout"]
    if problems:
        for problem in problems:
            print(f"callhooks demo: {problem}", file=sys.stderr)
        return 1
    console.print(f"done: {len(result.events)} requests over {len(result.final_states)} call legs, all as expected")
    return 0


def _follow(
    client: Client,
    simulator: Simulator,
    handled: queue.Queue[Dispatched],
    printer: _TwilioPrinter,
    result: DemoResult,
    deadline: float,
) -> bool:
    """Print requests as they are handled until every leg has ended and no request is left to deliver."""
    while time.monotonic() < deadline:
        try:
            record = handled.get(timeout=0.1)
        except queue.Empty:
            result.final_states = {call.sid: call.status or "?" for call in client.calls.list()}
            pending = any(sent.outcome == "pending" for sent in simulator.sent)
            if result.final_states and not pending and set(result.final_states.values()) <= ENDED_CALL_STATES:
                return True
            continue
        result.events.append(record)
        printer.row(record)
    return False


def _summary(console: Console, client: Client, result: DemoResult, printer: _TwilioPrinter) -> None:
    for sid, status in reversed(result.final_states.items()):
        call = client.calls.get(sid)
        count = sum(1 for record in result.events if record.event.call_id == sid)
        leg = printer.legs.get(sid, "-")
        console.print(f"  {leg:6} {sid}  {call.direction:13} {call.from_} -> {call.to}  {status}  {count} requests")
