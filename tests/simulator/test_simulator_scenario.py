"""Scripting far ends (Python, scenario files, control API), the clock, and determinism."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from callhooks.simulator import FarEnd, SimClock, Simulator, load_scenario
from callhooks.testing.server import serve
from tests.simulator.receiver import CALLEE, CALLER, SECRET, TOKEN, USER, Receiver, running

SCENARIO: dict[str, Any] = {
    "userId": USER,
    "apiToken": TOKEN,
    "apiSecret": SECRET,
    "manual": True,
    "seed": 3,
    "default": {"answer_after": 1, "hangup_after": 10},
    "numbers": {
        "+19195551313": {"outcome": "busy"},
        "+19195550199": {"answerAfter": 2, "digits": ["1", "1234#"], "hangupAfter": 30},
    },
}
YAML = f"""
user_id: {USER}
api_token: {TOKEN}
api_secret: {SECRET}
manual: true
seed: 3
default: {{answer_after: 1, hangup_after: 10}}
numbers:
  "+19195551313": {{outcome: busy}}
  "+19195550199":
    answer_after: 2
    digits: ["1", "1234#"]
    hangup_after: 30
"""


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_scenario_files_load_the_same_structure(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scenario{suffix}"
    path.write_text(json.dumps(SCENARIO) if suffix == ".json" else YAML)
    scenario = load_scenario(path)
    assert scenario.behaviours.default == FarEnd(answer_after=1, hangup_after=10)
    # issue 8, bug 8: an entry inherits what it does not set from the scenario's default
    assert scenario.behaviours.for_number("+19195551313") == FarEnd(outcome="busy", answer_after=1, hangup_after=10)
    assert scenario.behaviours.for_number("+19195550199").digits == ("1", "1234#")
    assert scenario.options == {"user_id": USER, "api_token": TOKEN, "api_secret": SECRET, "manual": True, "seed": 3}

    sim = Simulator.from_scenario(path, incoming_call_url="http://127.0.0.1:1/in")
    assert (sim.user_id, sim.clock.manual) == (USER, True)
    assert sim.behaviours.for_number("+1000") == FarEnd(answer_after=1, hangup_after=10)


def test_scenario_drives_a_call(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(YAML)
    receiver = Receiver()
    with serve(receiver.app) as rx, serve(Simulator.from_scenario(path)) as server:
        client = httpx.Client(base_url=server.url, auth=(TOKEN, SECRET))
        body = {"from": CALLER, "to": "+19195551313", "callbackUrl": rx.url + "/cb"}
        assert client.post(f"/v1/users/{USER}/calls", json=body).status_code == 201
        client.post("/_sim/clock/advance", json={"seconds": 1})  # busy after the default's answer_after
        receiver.wait_types("hangup")
        assert receiver.events()[0]["cause"] == "USER_BUSY"


@pytest.mark.parametrize(
    "bad",
    [
        {"default": {"outcome": "explode"}},
        {"numbers": {"+1": {"digits": "12x"}}},
        {"numbers": {"+1": {"answer_after": -1}}},
        {"numbers": {"+1": {"mystery": 1}}},
        {"numbers": ["+1"]},
    ],
)
def test_bad_scenarios_fail_clearly(tmp_path: Path, bad: dict[str, Any]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError):
        load_scenario(path)


def test_unknown_simulator_option_in_a_scenario_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"colour": "blue"}))
    with pytest.raises(ValueError, match="colour"):
        Simulator.from_scenario(path)


def test_control_api_scripts_far_ends() -> None:
    with running() as env:
        response = env.client.post(
            "/_sim/behaviours", json={"numbers": {CALLEE: {"outcome": "reject", "answer_after": 3}}}
        )
        assert response.status_code == 200
        assert response.json()["numbers"][CALLEE]["outcome"] == "reject"
        env.create_call()
        env.advance(3)
        assert env.receiver.wait_types("hangup")[0]["cause"] == "CALL_REJECTED"

        bad = env.client.post("/_sim/behaviours", json={"default": {"outcome": "maybe"}})
        assert (bad.status_code, bad.json()["code"]) == (400, "validation-error")
        reset = env.client.delete("/_sim/behaviours").json()
        assert reset["numbers"] == {} and reset["default"]["outcome"] == "answer"


def test_control_api_clock_and_inbound_errors() -> None:
    with running(epoch=datetime(2020, 1, 1, tzinfo=timezone.utc)) as env:
        assert env.client.get("/_sim/clock").json() == {
            "now": 0.0,
            "time": "2020-01-01T00:00:00.000Z",
            "speed": None,
            "manual": True,
        }
        assert env.advance(90.5)["time"] == "2020-01-01T00:01:30.500Z"
        assert env.client.post("/_sim/clock/advance", json={"seconds": -1}).status_code == 400
        no_url = env.client.post("/_sim/inbound", json={"from": CALLER, "to": CALLEE})
        assert (no_url.status_code, no_url.json()["details"][0]["name"]) == (400, "callbackUrl")
        bad_from = env.client.post("/_sim/inbound", json={"from": "me", "to": CALLEE, "callbackUrl": "http://x.test"})
        assert bad_from.json()["details"][0]["name"] == "from"


def run_flow() -> list[dict[str, Any]]:
    """A small IVR-ish flow on a manual clock; returns every event with its delivery outcome."""
    epoch = datetime(2021, 6, 1, 12, tzinfo=timezone.utc)
    script = {CALLEE: FarEnd(answer_after=1.5, digits=["42#"], hangup_after=20)}
    with running(numbers=script, epoch=epoch, seed=11) as env:
        call_id = env.create_call(tag="det")
        env.advance(1.5)
        env.client.post(f"{env.calls}/{call_id}/gather", json={"prompt": {"sentence": "Enter your code"}})
        env.advance(30)
        sent: list[dict[str, Any]] = env.client.get("/_sim/events").json()
        for entry in sent:  # the receiver's port differs between runs
            entry.pop("attempts")
            entry["event"].pop("callUri", None)
        return sent


def test_manual_clock_runs_are_identical() -> None:
    first, second = run_flow(), run_flow()
    assert first == second
    assert [s["event"]["eventType"] for s in first] == ["answer", "dtmf", "dtmf", "dtmf", "gather", "hangup"]
    assert first[1]["time"] == "2021-06-01T12:00:02.000Z"  # pressed as soon as the gather starts (barge-in)
    assert first[4]["event"]["digits"] == "42"


def test_clock_fires_timers_in_due_order_with_ties_in_schedule_order() -> None:
    clock = SimClock(speed=None)
    fired: list[str] = []
    clock.schedule(2, lambda: fired.append("b"))
    clock.schedule(1, lambda: fired.append("a"))
    clock.schedule(2, lambda: fired.append("c"))
    cancelled = clock.schedule(1.5, lambda: fired.append("x"))
    cancelled.cancel()
    clock.schedule(0, lambda: clock.schedule(0.5, lambda: fired.append(f"nested@{clock.now()}")))
    clock.catch_up()
    assert fired == []  # the nested timer is due at 0.5 simulated seconds
    clock._run_until(5)
    assert fired == ["nested@0.5", "a", "b", "c"]
    assert clock.now() == 5
    with pytest.raises(ValueError):
        SimClock(speed=0)


def test_far_end_validation() -> None:
    with pytest.raises(ValueError):
        FarEnd(press_on="whenever")  # type: ignore[arg-type]
    assert FarEnd(digits="1").digits == ("1",)


@pytest.mark.anyio
async def test_python_api_places_inbound_calls_and_advances_the_clock_from_another_thread() -> None:
    receiver = Receiver()
    with serve(receiver.app) as rx:
        sim = Simulator(manual=True, incoming_call_url=rx.url + "/in", far_end=FarEnd(hangup_after=5))
        with serve(sim):
            call_id = await sim.place_inbound("+19195551111", CALLER)
            await sim.advance(5, settle=True)
            assert await sim.settle()
            assert [e["eventType"] for e in receiver.events("/in")] == ["incomingcall", "answer", "hangup"]
            assert sim.call(call_id)["state"] == "completed"
            assert [s.outcome for s in sim.sent] == ["delivered"] * 3
            assert sim.failures == []
