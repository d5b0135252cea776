"""Shared pieces of the end-to-end call-flow tests: the journal handlers write to, the menu app, far ends and
the expected flows (a helper module, not a test module)."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from callhooks.examples.ivr import create_app as create_ivr

from callhooks import AsyncCallHandle, CallHooks, events
from callhooks.client import Client
from callhooks.simulator import FarEnd
from callhooks.testing import SimulatorSession

APP = "+19195550100"  # the application's own number
CUSTOMER = "+19195551313"
SALES = "+19195550199"
MENU = "Thanks for calling. Press 1 for sales, or 9 to end the call."
LONG_PROMPT = "Please listen carefully, as our menu options have changed recently. " * 14  # about 60 s of speech
CAUSE_REJECTED = "CALL_REJECTED"


# ------------------------------------------------------------------------------------------------ helpers


def describe(event: events.CallEvent) -> str:
    """One event as a short line: its type and what matters about it (digits, cause, status, tag)."""
    if isinstance(event, events.SpeakEvent | events.PlaybackEvent):
        details: list[Any] = [event.status, event.tag]
    elif isinstance(event, events.DtmfEvent):
        details = [event.dtmf_digit]
    elif isinstance(event, events.GatherEvent):
        details = [event.tag, f"digits={event.digits}", event.reason]
    elif isinstance(event, events.HangupEvent):  # RejectEvent too
        details = [event.cause]
    elif isinstance(event, events.RecordingEvent):
        details = [event.status]
    else:
        details = []
    return " ".join([event.event_type, *(str(d) for d in details if d is not None)])


class Journal:
    """Every event the receiver's handlers saw, in arrival order (handlers run on the server's threads)."""

    def __init__(self) -> None:
        self._events: list[events.CallEvent] = []
        self._lock = threading.Lock()

    def record(self, event: events.CallEvent) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def received(self) -> list[events.CallEvent]:
        with self._lock:
            return list(self._events)

    def typed(self, call_id: str | None) -> list[events.CallEvent]:
        """The events of one call leg (``None``: those without a call id, i.e. transcriptions)."""
        return [event for event in self.received if event.call_id == call_id]

    def of(self, call_id: str | None) -> list[str]:
        """The events of one call leg, described."""
        return [describe(event) for event in self.typed(call_id)]

    def catch_all(self, hooks: CallHooks) -> None:
        """Record the events no other handler takes."""

        @hooks.on()
        async def anything_else(event: events.CallEvent) -> None:
            self.record(event)


def new_hooks(**options: Any) -> CallHooks:
    return CallHooks(secret=secrets.token_urlsafe(24), **options)


@contextmanager
def paired_client(session: SimulatorSession, hooks: CallHooks) -> Iterator[Client]:
    """A blocking client for the test itself, paired with ``hooks``: calls it creates call back there, signed."""
    with Client(hooks=hooks, **session.credentials) as client:
        yield client


def hangup_cause(client: Client, call_id: str) -> str:
    """The ``cause`` of the call's hangup, read back from its event log through the client."""
    causes = [json.loads(entry.data)["cause"] for entry in client.calls.events(call_id) if entry.name == "hangup"]
    assert len(causes) == 1, f"call {call_id} has {len(causes)} hangup events"
    return str(causes[0])


def place_inbound(session: SimulatorSession, callback_url: str, caller: str = CUSTOMER, **extra: Any) -> str:
    """An inbound call from ``caller`` to APP, placed over the simulator's control API; returns its id."""
    body = {"from": caller, "to": APP, "callbackUrl": callback_url, **extra}
    response = httpx.post(
        f"{session.url}/_sim/inbound", json=body, auth=(session.api_token, session.api_secret), timeout=10
    )
    assert response.status_code == 201, response.text
    return str(response.json()["callId"])


def load_example_ivr() -> CallHooks:
    """``examples/ivr.py``'s app, built by its factory from the environment as it is now."""
    return create_ivr()


def wait_for_journal(session: SimulatorSession, journal: Journal, call_id: str | None, expected: list[str]) -> None:
    """For receivers observed after the fact: wait (with a deadline) for the expected events, then compare."""
    try:
        session.wait_for(lambda: journal.of(call_id) == expected, what=f"the events of {call_id}")
    except AssertionError:
        assert journal.of(call_id) == expected  # the diff says what arrived instead
        raise


# ------------------------------------------------------------------- the menu: gather, transfer, both legs end


def menu_app(hooks: CallHooks, journal: Journal, legs: list[str]) -> CallHooks:
    """Answer → menu (gather with a prompt) → "1" transfers to sales, with a context for the new leg, whose
    answer brings a whisper to the sales agent."""

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        if event.context.get("leg") == "sales":
            await call.speak("You have a customer on the line.", tag="whisper")
        else:
            await call.gather(max_digits=1, inter_digit_timeout=10, prompt=MENU, tag="main-menu")

    @hooks.on("gather", tag="main-menu")
    async def menu_choice(event: events.GatherEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        if event.digits == "1":
            legs.append(await call.transfer(SALES, callback_context={"leg": "sales", "menu": "main"}))

    journal.catch_all(hooks)
    return hooks


def script_menu_far_ends(session: SimulatorSession) -> None:
    session.script(CUSTOMER, FarEnd(digits="1", hangup_after=None))  # presses 1, stays until the transfer ends
    # Sales hangs up once the whisper was heard, not at a time: at speed 100 a busy machine's handler could
    # otherwise whisper into a call the far end had already left (403 call-invalid-state).
    session.script(SALES, FarEnd(answer_after=1, hangup_after=1, hangup_on="prompt"))


def run_menu_call(session: SimulatorSession, hooks: CallHooks) -> tuple[Journal, str, str]:
    """Place the menu call against ``hooks`` until both legs ended; returns (journal, A-leg id, B-leg id)."""
    journal, legs = Journal(), list[str]()
    menu_app(hooks, journal, legs)
    with session.receiver(hooks), paired_client(session, hooks) as client:
        a_leg = client.calls.create(APP, CUSTOMER, context={"order": 4411}).id
        session.wait_until_ended(a_leg)
    assert len(legs) == 1, "the menu handler transferred once"
    return journal, a_leg, legs[0]


A_LEG_FLOW = [
    "answer",
    "dtmf 1",
    "gather main-menu digits=1 max-digits",
    "transferComplete",
    "hangup NORMAL_CLEARING",
]
B_LEG_FLOW = ["answer", "speak started whisper", "speak done whisper", "hangup NORMAL_CLEARING"]
