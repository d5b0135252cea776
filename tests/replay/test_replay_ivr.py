"""A real simulated call against the example IVR becomes a fixture, and replaying it runs the same handlers.

The call is recorded by a ``CallRecorder`` on the receiver (the wire payload as received, the context its URL
carried, the status), saved to a file, loaded back and replayed into a freshly built IVR: in-process with the
test kit, over loopback with the test kit, and over loopback with `callhooks replay`.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from callhooks.examples import ivr_regression
from callhooks.examples.ivr_regression import APP_NUMBER, CALLER, Ran, ivr_for, ran

from callhooks.cli import main
from callhooks.client import Client
from callhooks.events import encode_query
from callhooks.fixtures import dump_fixture, load_fixture
from callhooks.simulator import FarEnd
from callhooks.testing import CallRecorder, SimulatorSession, latest, replay, serve
from tests.end_to_end.flows import SALES


def wait_for(seen: Ran, count: int) -> Ran:
    """``seen`` once it holds ``count`` entries (observers run just after each answer), or as it is at the deadline."""
    return latest(lambda: list(seen), lambda found: len(found) >= count)


def record_call(session: SimulatorSession, tmp_path: Path, digits: str, method: str = "POST") -> tuple[Path, Ran]:
    """A call to the IVR where the caller presses ``digits``, recorded by a ``CallRecorder`` and saved as a
    fixture; and what the IVR ran live."""
    session.script(CALLER, FarEnd(digits=digits, hangup_after=None))
    session.script(SALES, FarEnd(answer_after=1, hangup_after=30))  # "1" transfers here
    hooks = ivr_for(session, method=method)
    live, recorder = ran(hooks), CallRecorder()
    hooks.add_monitor(recorder)
    with session.receiver(hooks), Client(hooks=hooks, **session.credentials) as client:
        call_id = client.calls.create(APP_NUMBER, CALLER, context={"order": 4411}).id
        session.wait_until_ended(call_id)
    sent = session.sent(call_id)
    session.wait_for(lambda: len(recorder.events(call_id)) == len(sent), what="the recorded events")
    fixture = recorder.fixture(call_id)
    # the bodies are the wire payloads exactly as the platform sent them
    expected = [encode_query(each.event) if method == "GET" else json.dumps(each.event) for each in sent]
    assert [event.body for event in fixture.events] == expected
    path = tmp_path / "call.json"
    path.write_text(dump_fixture(fixture))
    seen = wait_for(live, len(session.sent()))  # the transfer's other leg reaches the same app
    return path, [each for each in seen if each[0] == call_id]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_recorded_call_replays_into_the_ivr_with_the_same_handlers(
    callhooks_simulator: SimulatorSession, tmp_path: Path, method: str
) -> None:
    path, live = record_call(callhooks_simulator, tmp_path, "9", method)
    fixture = load_fixture(path.read_bytes())
    assert {event.method for event in fixture.events} == {method}
    assert [(event_type, handler) for _, event_type, handler, _ in live] == ivr_regression.EXPECTED
    assert all(context == {"order": 4411} for *_, context in live)
    assert [event.status for event in fixture.events] == [200] * len(live)
    assert "/hooks/" not in path.read_text()  # no callback URL, so no token, was saved

    in_process = ivr_for(callhooks_simulator, method=method)
    replayed = ran(in_process)
    assert len(replay(in_process, fixture)) == len(live)
    assert replayed == live

    served = ivr_for(callhooks_simulator, method=method)
    over_loopback = ran(served)
    with serve(served) as server:
        answers = replay(served, path, url=f"{server.url}/hooks")
        assert wait_for(over_loopback, len(live)) == live
    assert len(answers) == len(live)


def test_callhooks_replay_drives_the_served_ivr_through_the_same_handlers(
    callhooks_simulator: SimulatorSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, live = record_call(callhooks_simulator, tmp_path, "1")  # the transfer to sales
    assert [(event_type, handler) for _, event_type, handler, _ in live] == [
        ("answer", "answered"),
        ("dtmf", None),
        ("gather", "menu_choice"),
        ("transferComplete", None),
        ("hangup", "finished"),
    ]
    secret = secrets.token_urlsafe(24)
    hooks = ivr_for(callhooks_simulator, secret)
    replayed = ran(hooks)
    monkeypatch.setenv("CALLHOOKS_SECRET", secret)  # the command signs with the receiver's secret
    with serve(hooks) as server:
        code = main(["replay", str(path), "--url", f"{server.url}/hooks", "--timing", "compressed"])
        assert wait_for(replayed, len(live)) == live
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"replaying call {load_fixture(path.read_bytes()).call_id}: {len(live)} events")
    assert len(lines) == len(live) + 1
    assert code == (0 if all(" -> 200" in line for line in lines[1:]) else 1)


def test_the_example_regression_test_passes(callhooks_simulator: SimulatorSession) -> None:
    ivr_regression.test_recorded_call_runs_the_same_handlers(callhooks_simulator)
