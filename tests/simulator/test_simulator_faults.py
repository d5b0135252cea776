"""Delivery faults on purpose (issue 9): duplicates, reordering, a first attempt that times out, an answer lost
after the handler ran; rates, rules, seeds, and the three ways to configure them (Python, scenario, HTTP).

Each fault is observed at a real receiver over loopback; overlap is proved with a meeting of requests, not
with timing. The command-line flags are in ``test_simulator_faults_cli``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callhooks.simulator import FarEnd, FaultRule, Faults, Simulator
from callhooks.simulator.faults import FaultInjector
from tests.simulator.receiver import CALLEE, Env, Meeting, running

EPOCH = datetime.fromisoformat("2026-01-02T03:04:05+00:00")
KEYS = FarEnd(digits="123456789#", digit_interval=0.25, hangup_after=5)


def log(env: Env, call_id: str) -> list[dict[str, Any]]:
    """The simulator's event log of one call, as the control API shows it."""
    response = env.client.get("/_sim/events", params={"callId": call_id})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def types(events: list[dict[str, Any]]) -> list[str]:
    return [str(e.get("dtmfDigit", e["eventType"])) for e in events]


def keypad_call(env: Env, **body: Any) -> str:
    """A call whose far end presses ten keys into a gather and hangs up at t=5: 13 events."""
    call_id = env.create_call(**body)
    assert env.client.post(f"{env.calls}/{call_id}/gather", json={}).status_code == 201
    env.advance(10)
    return call_id


# ------------------------------------------------------------------------------------------- duplicates


def test_a_duplicate_is_delivered_again_after_the_first_delivery() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=5)}, faults=Faults(duplicate=1.0, seed=1)) as env:
        call_id = env.create_call()
        env.advance(5)
        assert types(env.receiver.events()) == ["answer", "answer", "hangup", "hangup"]
        for entry in log(env, call_id):
            assert entry["faults"] == ["duplicate"]
            assert [(a["copy"], a["status"], a["fault"]) for a in entry["attempts"]] == [(0, 200, None), (1, 200, None)]
            assert entry["outcome"] == "delivered"


def test_sequential_duplicates_do_not_overlap() -> None:
    # The first delivery waits for a second request that only comes after it was answered: it gives up (504).
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, faults=Faults(duplicate=1.0)) as env:
        env.receiver.meeting = Meeting(frozenset({"/cb"}), patience=1.0)
        call_id = env.create_call()
        env.settle()
        (entry,) = log(env, call_id)
        assert [(a["copy"], a["status"]) for a in entry["attempts"]] == [(0, 504), (1, 200)]


def test_concurrent_duplicates_overlap_at_the_receiver_and_keep_the_calls_order() -> None:
    rule = FaultRule("concurrent_duplicate", event_type="answer")
    with running(numbers={CALLEE: FarEnd(hangup_after=5)}, faults=Faults(rules=[rule])) as env:
        # both copies are held at the receiver until the other one has arrived: they were in flight together
        env.receiver.meeting = Meeting(frozenset({"/cb"}))
        call_id = env.create_call()
        env.advance(5)
        assert types(env.receiver.events()) == ["answer", "answer", "hangup"]
        answer, hangup = log(env, call_id)
        assert answer["faults"] == ["concurrent_duplicate"] and hangup["faults"] == []
        assert sorted((a["copy"], a["status"]) for a in answer["attempts"]) == [(0, 200), (1, 200)]
        assert answer["outcome"] == "delivered"


# ------------------------------------------------------------------------------------------- reordering


def event_seconds(event: dict[str, Any]) -> float:
    return (datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")) - EPOCH).total_seconds()


def overtaken_by(events: list[dict[str, Any]]) -> list[float]:
    """For each pair that arrived in the opposite order from the one it happened in: the time between them."""
    seconds = [event_seconds(e) for e in events]
    pairs = [(i, j) for i in range(len(seconds)) for j in range(i + 1, len(seconds))]
    return [seconds[i] - seconds[j] for i, j in pairs if seconds[j] < seconds[i]]


def test_reordering_delivers_a_calls_events_out_of_order_within_the_jitter() -> None:
    with running(numbers={CALLEE: KEYS}, epoch=EPOCH, faults=Faults(reorder_jitter=1.0, seed=5)) as env:
        call_id = keypad_call(env)
        received = env.receiver.events()
        produced = [entry["event"] for entry in log(env, call_id)]
        assert sorted(types(received)) == sorted(types(produced)) and len(received) == 13  # nothing lost or added
        gaps = overtaken_by(received)
        assert gaps, "no event was delivered out of order"
        assert max(gaps) <= 1.0  # an event is only overtaken by events up to the jitter later
        holds = [entry["hold"] for entry in log(env, call_id)]
        assert all(0 <= hold <= 1.0 for hold in holds) and len(set(holds)) > 1


def test_a_reorder_rule_holds_one_event_back_by_its_hold() -> None:
    rule = FaultRule("reorder", event_type="dtmf", nth=2, hold=0.6)  # the 2nd event: the first key press
    with running(numbers={CALLEE: KEYS}, faults=Faults(rules=[rule])) as env:
        keypad_call(env)
        # keys come every 0.25 s: "1" (at 0.25) arrives after "2" and "3" (0.5, 0.75), before "4" (1.0)
        assert types(env.receiver.events()) == ["answer", "2", "3", "1", *"456789#", "gather", "hangup"]


def test_settling_a_running_clock_waits_for_held_back_events() -> None:
    rule = FaultRule("reorder", event_type="answer", hold=0.5)  # 50 ms of real time at speed 10
    with running(speed=10, numbers={CALLEE: FarEnd(hangup_after=None)}, faults=Faults(rules=[rule])) as env:
        call_id = env.create_call()
        env.settle()
        assert types(env.receiver.events()) == ["answer"]  # no waiting here: settle returned after delivery
        assert log(env, call_id)[0]["outcome"] == "delivered"


# --------------------------------------------------------------------------- a first attempt that fails


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_timed_out_first_attempt_sends_the_event_to_the_fallback_while_the_first_is_unanswered(method: str) -> None:
    rule = FaultRule("fallback_first", event_type="answer")
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, faults=Faults(rules=[rule])) as env:
        # The primary's handler only answers once the fallback request has arrived: the simulator must have
        # stopped waiting for it (as after a callbackTimeout) and gone on to the fallback URL.
        env.receiver.meeting = Meeting(frozenset({"/primary", "/fallback"}))
        call_id = env.create_call(
            path="/primary", fallbackUrl=env.receiver_url + "/fallback", callbackHttpMethod=method
        )
        env.settle()
        assert types(env.receiver.events("/primary")) == types(env.receiver.events("/fallback")) == ["answer"]
        assert env.receiver.events("/primary") == env.receiver.events("/fallback")
        (entry,) = log(env, call_id)
        first, fallback = entry["attempts"]
        assert (first["fault"], first["status"], first["lateStatus"]) == ("fallback_first", None, 200)
        assert "no response within 10000 ms" in first["error"]
        assert (fallback["url"], fallback["status"], fallback["fault"]) == (env.receiver_url + "/fallback", 200, None)
        assert entry["outcome"] == "fallback"
        (failure,) = env.client.get("/_sim/failures").json()
        assert failure["code"] == "callback-failed"


def test_a_timed_out_first_attempt_without_fallback_url_loses_the_event_as_the_platform_would() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, faults=Faults(fallback_first=1.0)) as env:
        call_id = env.create_call()
        env.settle()
        (entry,) = log(env, call_id)
        assert entry["outcome"] == "failed"
        assert [(a["fault"], a["lateStatus"]) for a in entry["attempts"]] == [("fallback_first", 200)]
        assert types(env.receiver.events()) == ["answer"]  # it reached the receiver, but counts as not delivered


def test_an_answer_dropped_after_the_handler_ran_is_delivered_again() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=5)}, faults=Faults(drop_after_handler=1.0)) as env:
        # fallbackUrl = callbackUrl: the platform's redelivery on a failed delivery comes back to the same place
        call_id = env.create_call(fallbackUrl=env.receiver_url + "/cb")
        env.advance(5)
        assert types(env.receiver.events()) == ["answer", "answer", "hangup", "hangup"]
        for entry in log(env, call_id):
            dropped, again = entry["attempts"]
            assert (dropped["status"], dropped["fault"]) == (200, "drop_after_handler")
            assert "connection dropped after the handler answered 200" in dropped["error"]
            assert (again["status"], again["fault"]) == (200, None)
            assert entry["outcome"] == "fallback"


# -------------------------------------------------------------------------------- rates, rules and seeds


ALL = Faults(duplicate=0.3, concurrent_duplicate=0.2, reorder_jitter=0.4, fallback_first=0.2, drop_after_handler=0.2)


def decisions(env: Env, call_id: str) -> list[tuple[str, list[str], float]]:
    return [(e["event"]["eventType"], e["faults"], e["hold"]) for e in log(env, call_id)]


def faulty_run(faults: Faults, **options: Any) -> tuple[list[tuple[str, list[str], float]], list[str]]:
    with running(numbers={CALLEE: KEYS}, epoch=EPOCH, faults=faults, **options) as env:
        call_id = keypad_call(env, fallbackUrl=env.receiver_url + "/fallback")
        env.settle()
        return decisions(env, call_id), types(env.receiver.events())


def test_the_same_seed_gives_the_same_fault_decisions_and_deliveries() -> None:
    first, received = faulty_run(Faults(**{**ALL.as_json(), "seed": 3}))
    again, received_again = faulty_run(Faults(**{**ALL.as_json(), "seed": 3}), seed=99)  # ids' seed differs
    other, _ = faulty_run(Faults(**{**ALL.as_json(), "seed": 4}))
    assert first == again and received == received_again
    assert first != other
    assert {fault for _, faults, _ in first for fault in faults} == {
        "duplicate",
        "concurrent_duplicate",
        "reorder",
        "fallback_first",
        "drop_after_handler",
    }


def test_the_simulators_seed_is_the_fault_seed_unless_faults_have_their_own() -> None:
    assert Simulator(seed=4, faults=ALL).fault_seed == 4
    assert Simulator(seed=4, faults=Faults(duplicate=1, seed=9)).fault_seed == 9
    unseeded = Simulator(faults=ALL)
    assert isinstance(unseeded.fault_seed, int)  # chosen at random and reported, so a run can be replayed
    assert unseeded.faults_state()["seed"] == unseeded.fault_seed


def test_rates_of_zero_change_nothing() -> None:
    zero = Faults(duplicate=0, concurrent_duplicate=0, reorder_jitter=0, fallback_first=0, drop_after_handler=0, seed=3)
    plain, plain_received = faulty_run(Faults())
    zeroed, zero_received = faulty_run(zero)
    assert plain == zeroed and plain_received == zero_received
    assert all(faults == [] and hold == 0 for _, faults, hold in zeroed)
    assert plain_received == ["answer", *"123456789#", "gather", "hangup"]


def test_rules_pick_events_by_type_tag_and_position() -> None:
    injector = FaultInjector(
        Faults(
            rules=[
                FaultRule("duplicate", event_type="gather"),
                FaultRule("drop_after_handler", tag="pay"),
                FaultRule("fallback_first", nth=2),
                FaultRule("concurrent_duplicate", event_type="dtmf", tag="pay", rate=0),
            ]
        ),
        seed=1,
    )
    flow = [
        ("c-1", {"eventType": "answer"}),
        ("c-1", {"eventType": "gather", "tag": "menu"}),
        ("c-2", {"eventType": "answer", "tag": "pay"}),
        ("c-1", {"eventType": "dtmf", "tag": "pay"}),
        ("c-2", {"eventType": "dtmf"}),
    ]
    plans = [injector.plan(call_id, event).faults for call_id, event in flow]
    assert plans == [
        (),
        ("duplicate", "fallback_first"),  # a gather, and the 2nd event of c-1
        ("drop_after_handler",),
        ("drop_after_handler",),  # the rule with rate 0 never applies
        ("fallback_first",),  # the 2nd event of c-2
    ]


def test_each_fault_has_its_own_draws_so_changing_one_rate_leaves_the_others_decisions_alone() -> None:
    def duplicated(faults: Faults) -> list[bool]:
        injector = FaultInjector(faults, seed=0)
        return [injector.plan("c", {"eventType": "dtmf"}).has("duplicate") for _ in range(200)]

    alone = duplicated(Faults(duplicate=0.5, seed=5))
    assert alone == duplicated(Faults(duplicate=0.5, drop_after_handler=0.9, reorder_jitter=2, seed=5))
    assert alone != duplicated(Faults(duplicate=0.5, seed=6))


def test_a_rule_with_a_rate_applies_to_about_that_share_of_matching_events() -> None:
    injector = FaultInjector(Faults(rules=[FaultRule("duplicate", event_type="dtmf", rate=0.25)]), seed=8)
    plans = [injector.plan("c", {"eventType": "dtmf"}).has("duplicate") for _ in range(2000)]
    assert 400 < sum(plans) < 600
    assert not injector.plan("c", {"eventType": "answer"}).faults


def test_the_nth_event_rule_counts_each_calls_events_on_the_wire() -> None:
    rule = FaultRule("duplicate", nth=3)  # answer, "1", "2": the second key press
    with running(numbers={CALLEE: KEYS}, faults=Faults(rules=[rule])) as env:
        keypad_call(env)
        assert types(env.receiver.events()) == ["answer", "1", "2", "2", *"3456789#", "gather", "hangup"]


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"duplicate": 1.5}, "duplicate must be a rate between 0 and 1"),
        ({"reorder_jitter": -1}, "reorder_jitter must be a non-negative number"),
        ({"reorder_jitter": float("nan")}, "reorder_jitter must be a non-negative number"),
        ({"rules": [{"fault": "reorder", "hold": float("inf")}]}, "hold must be a non-negative number"),
        ({"fallbackFirst": "often"}, "fallback_first must be a rate"),
        ({"sometimes": 1}, "unknown faults setting 'sometimes'"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"rules": {"fault": "duplicate"}}, "rules must be a list"),
        ({"rules": [{"event_type": "answer"}]}, "a fault rule needs 'fault'"),
        ({"rules": [{"fault": "explode"}]}, "fault must be one of duplicate"),
        ({"rules": [{"fault": "reorder"}]}, "a reorder rule needs 'hold'"),
        ({"rules": [{"fault": "duplicate", "hold": 1}]}, "'hold' only applies to reorder rules"),
        ({"rules": [{"fault": "duplicate", "nth": 0}]}, "nth counts a call's events from 1"),
        ({"rules": [{"fault": "duplicate", "when": 1}]}, "unknown fault rule setting 'when'"),
    ],
)
def test_bad_fault_settings_are_clear_errors(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Faults.from_mapping(settings)


# ----------------------------------------------------------------------- scenario file and control API

SCENARIO = """
manual: true
faults:
  duplicate: 0.25
  reorderJitter: 0.5
  seed: 12
  rules:
    - {fault: fallback_first, event_type: gather}
    - {fault: reorder, tag: slow, hold: 2}
"""


def test_a_scenario_files_faults_section_configures_them(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    sim = Simulator.from_scenario(tmp_path / "s.yaml")
    assert sim.faults == Faults(
        duplicate=0.25,
        reorder_jitter=0.5,
        seed=12,
        rules=[FaultRule("fallback_first", event_type="gather"), FaultRule("reorder", tag="slow", hold=2)],
    )
    assert sim.fault_seed == 12
    assert Faults.from_mapping(sim.faults.as_json()) == sim.faults  # what GET /_sim/faults shows reads back


def test_the_simulator_guides_faults_section_is_a_valid_scenario(tmp_path: Path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "guides" / "simulator.md").read_text()
    section = guide.split("## Faults on purpose", 1)[1].split("\n## ", 1)[0]
    (yaml,) = re.findall(r"^```yaml\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    (tmp_path / "s.yaml").write_text(yaml)
    faults = Simulator.from_scenario(tmp_path / "s.yaml").faults
    assert faults.duplicate == 0.2 and faults.seed == 7 and len(faults.rules) == 2


def test_a_bad_faults_section_names_the_file_and_the_problem(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"faults": {"duplicate": 2}}')
    with pytest.raises(ValueError, match=r"s\.json: faults: duplicate must be a rate"):
        Simulator.from_scenario(tmp_path / "s.json")


def test_the_control_api_reads_sets_and_clears_faults_on_a_running_simulator() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}) as env:
        assert env.client.get("/_sim/faults").json() == {**Faults().as_json(), "seed": 7}  # running() seeds 7
        rules = [{"fault": "duplicate", "eventType": "answer"}]
        changed = env.client.put("/_sim/faults", json={"dropAfterHandler": 0, "seed": 3, "rules": rules})
        assert changed.status_code == 200, changed.text
        assert changed.json()["drop_after_handler"] == 0 and changed.json()["seed"] == 3
        assert changed.json()["rules"] == [{"fault": "duplicate", "event_type": "answer", "rate": 1.0}]
        assert env.sim.faults.rules == (FaultRule("duplicate", event_type="answer"),)

        first = env.create_call()
        env.settle()
        assert types(env.receiver.events()) == ["answer", "answer"]  # the new faults apply to the next events
        assert log(env, first)[0]["faults"] == ["duplicate"]

        bad = env.client.put("/_sim/faults", json={"duplicate": "lots"})
        assert bad.status_code == 400
        assert bad.json()["code"] == "validation-error" and "duplicate must be a rate" in bad.json()["message"]
        assert env.sim.faults.rules  # unchanged by the rejected request

        cleared = env.client.delete("/_sim/faults").json()
        assert cleared["rules"] == [] and not env.sim.faults.active
        second = env.create_call()
        env.settle()
        assert log(env, second)[0]["faults"] == [] and len(env.receiver.events()) == 3


def test_set_faults_changes_a_running_simulator_from_python() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}) as env:
        env.sim.set_faults(Faults(duplicate=1.0))
        env.create_call()
        env.settle()
        env.sim.set_faults(None)
        env.create_call()
        env.settle()
        assert types(env.receiver.events()) == ["answer", "answer", "answer"]
        assert [s.faults for s in env.sim.sent] == [("duplicate",), ()]
        assert [a.copy for a in env.sim.sent[0].attempts] == [0, 1]
