"""Exactly-once results under the simulator's delivery faults (issue 9): duplicated (one after the other and at
the same time), reordered, timed-out-to-the-fallback and answer-lost deliveries, end to end over loopback.

The receiver runs on its default store (``memory://``). Handlers record each event they run in a journal, so a
handler that ran twice for one event shows up twice; the simulator's own log proves the faults happened.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator

import pytest
from callhooks.examples.ivr import create_app as create_ivr

from callhooks import CallHooks
from callhooks.simulator import FaultRule, Faults
from callhooks.testing import SimulatorSession
from tests.end_to_end.flows import (
    A_LEG_FLOW,
    APP,
    B_LEG_FLOW,
    CUSTOMER,
    SALES,
    Journal,
    menu_app,
    paired_client,
    script_menu_far_ends,
)

pytestmark = pytest.mark.timeout(120)

FAULTS = {
    "duplicates": Faults(duplicate=1.0, seed=11),
    "concurrent-duplicates": Faults(concurrent_duplicate=1.0, seed=12),
    "reordered": Faults(reorder_jitter=0.5, seed=13),
    # Only A-leg events: the transfer leg has no fallback URL, and an event whose first attempt is lost
    # without one is lost on the platform too.
    "fallback-and-lost-answers": Faults(
        rules=(
            FaultRule("fallback_first", event_type="gather"),
            FaultRule("drop_after_handler", event_type="answer", nth=1),
        ),
        seed=14,
    ),
}


@pytest.fixture(params=sorted(FAULTS))
def faulty(request: pytest.FixtureRequest, callhooks_simulator: SimulatorSession) -> Iterator[SimulatorSession]:
    callhooks_simulator.simulator.set_faults(FAULTS[request.param])
    yield callhooks_simulator
    callhooks_simulator.simulator.set_faults(None)


def _faults_applied(session: SimulatorSession) -> Counter[str]:
    return Counter(fault for sent in session.sent() for fault in sent.faults)


def _place_menu_call(session: SimulatorSession, hooks: CallHooks) -> str:
    with paired_client(session, hooks) as client:
        # The same receiver as fallback: the platform's redelivery after a timeout or a lost answer goes there.
        fallback = hooks.callback_url({"order": 4411})
        return client.calls.create(APP, CUSTOMER, context={"order": 4411}, fallback_url=fallback).id


def test_test_kit_menu_runs_each_handler_once_per_event(faulty: SimulatorSession) -> None:
    session = faulty
    journal, legs = Journal(), list[str]()
    hooks = menu_app(CallHooks(secret=secrets.token_urlsafe(24)), journal, legs)
    script_menu_far_ends(session)
    with session.receiver(hooks):
        a_leg = _place_menu_call(session, hooks)
        session.wait_until_ended(a_leg)
        assert len(legs) == 1, "the menu handler transferred exactly once"
        session.wait_until_ended(legs[0])
        session.wait_for(lambda: len(journal.of(legs[0])) >= len(B_LEG_FLOW), timeout=10, what="the B leg")
    assert _faults_applied(session), "the simulator applied no fault"
    # Exactly once: every event ran its handler once, whatever arrived twice or late (order may differ when
    # the simulator reorders; the receiver keeps arrival order per call).
    assert Counter(journal.of(a_leg)) == Counter(A_LEG_FLOW)
    assert Counter(journal.of(legs[0])) == Counter(B_LEG_FLOW)


def test_example_ivr_runs_each_handler_once_per_event(
    faulty: SimulatorSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = faulty
    for name, value in session.environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CALLHOOKS_SECRET", secrets.token_urlsafe(24))
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "http://127.0.0.1:9")  # session.receiver points it at its port
    monkeypatch.setenv("IVR_SALES_NUMBER", SALES)
    hooks = create_ivr()
    handled = Journal()  # what the example's own handlers ran: observers see duplicates with handler=None
    hooks.add_observer(lambda done: handled.record(done.event) if done.handler is not None else None)
    script_menu_far_ends(session)
    with session.receiver(hooks):
        a_leg = _place_menu_call(session, hooks)
        session.wait_until_ended(a_leg)
        (b_leg,) = {sent.call_id for sent in session.sent()} - {a_leg}
        session.wait_until_ended(b_leg)
        session.wait_for(lambda: "hangup NORMAL_CLEARING" in handled.of(b_leg), timeout=10, what="the B leg")
    assert _faults_applied(session), "the simulator applied no fault"
    # The example handles answer, the menu's gather and the completed state on the A leg; answer and the
    # completed state on the B leg (speak and dtmf events have no handler there).
    assert Counter(handled.of(a_leg)) == Counter(
        ["answer", "gather main-menu digits=1 max-digits", "hangup NORMAL_CLEARING"]
    )
    assert Counter(handled.of(b_leg)) == Counter(["answer", "hangup NORMAL_CLEARING"])
