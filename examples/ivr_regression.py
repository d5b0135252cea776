"""A recorded call as a regression test: replay ``fixtures/ivr-call.json`` into the example IVR (``ivr.py``).

The fixture is one call as the receiver got it (the console's "export" button saves the same format): the
caller heard the menu, pressed 9, heard "Goodbye." and the IVR hung up. The test replays it into a freshly
built IVR and checks the same handlers ran, in the same order, on the same signed context.

Record the fixture again (a simulated call against the IVR, saved as the console would export it)::

    python -m examples.ivr_regression examples/fixtures/ivr-call.json

A replay runs your handlers again, but the call it recorded is over: commands a handler sends the platform
during a replay (here ``gather``, ``speak``, ``hangup``) are refused, so those events are answered 500 while
the handlers still run in order. Compare what ran, as this test does, not the answers.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from callhooks import CallHooks
from callhooks.app import Dispatched
from callhooks.client import Client
from callhooks.fixtures import dump_fixture
from callhooks.simulator import FarEnd
from callhooks.testing import CallRecorder, SimulatorSession, replay, running_simulator

from .ivr import create_app

FIXTURE = Path(__file__).parent / "fixtures" / "ivr-call.json"
APP_NUMBER, CALLER = "+19195550100", "+19195551313"

#: The handler each recorded event reached (None: no handler for a dtmf event; the gather reports the digits).
EXPECTED = [
    ("answer", "answered"),
    ("dtmf", None),
    ("gather", "menu_choice"),
    ("speak", "said_goodbye"),
    ("speak", "said_goodbye"),
    ("hangup", "finished"),
]


def ivr_for(session: SimulatorSession, secret: str | None = None, method: str = "POST") -> CallHooks:
    """The example IVR, its client pointed at ``session``'s simulator (signing with ``secret``, else a new one;
    its calls call back with ``method``)."""
    environ = {
        **session.environ,
        "CALLHOOKS_CALLBACK_METHOD": method,
        "CALLHOOKS_SECRET": secret or secrets.token_urlsafe(24),
        "CALLHOOKS_PUBLIC_URL": "http://127.0.0.1:9/hooks",  # session.receiver() points it at the real port
    }
    return create_app(environ)


Ran = list[tuple[str | None, str, str | None, dict[str, object]]]


def ran(hooks: CallHooks) -> Ran:
    """A list that fills with (call id, event type, handler, context) as ``hooks`` dispatches events."""
    seen: Ran = []

    def observe(dispatched: Dispatched) -> None:
        event, handler = dispatched.event, dispatched.handler
        seen.append((event.call_id, event.event_type, handler.rpartition(".")[2] if handler else None, event.context))

    hooks.add_observer(observe)
    return seen


def test_recorded_call_runs_the_same_handlers(callhooks_simulator: SimulatorSession) -> None:
    hooks = ivr_for(callhooks_simulator)
    seen = ran(hooks)
    answers = replay(hooks, FIXTURE)  # in-process, re-signed with the IVR's own secret
    assert len(answers) == len(EXPECTED)
    assert [(event_type, handler) for _, event_type, handler, _ in seen] == EXPECTED
    assert all(context == {"order": 4411} for *_, context in seen)  # the context the call's URL carried


def record(path: Path) -> None:
    """Place the call against the IVR under the simulator and save what the IVR received as a fixture."""
    with running_simulator() as session:
        session.script(CALLER, FarEnd(digits="9", hangup_after=None))
        hooks = ivr_for(session)
        recorder = CallRecorder()  # hears each event the receiver answered, with its wire payload
        hooks.add_monitor(recorder)
        with session.receiver(hooks), Client(hooks=hooks, **session.credentials) as client:
            call_id = client.calls.create(APP_NUMBER, CALLER, context={"order": 4411}).id
            session.wait_until_ended(call_id)
            session.wait_for(lambda: len(recorder.events(call_id)) == len(EXPECTED), what="the recorded events")
    path.write_text(dump_fixture(recorder.fixture(call_id)))
    print(f"saved {len(EXPECTED)} events of call {call_id} to {path}")


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURE)
