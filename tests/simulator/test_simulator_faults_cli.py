"""``callhooks simulate``'s fault flags: documented in --help, checked, merged over a scenario file, in force."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

from callhooks.cli import main
from callhooks.simulator.defaults import SIMULATOR_API_SECRET, SIMULATOR_API_TOKEN, SIMULATOR_USER_ID
from callhooks.testing import free_port, serve
from tests.helpers.processes import running
from tests.simulator.receiver import CALLEE, CALLER, Receiver

AUTH = (SIMULATOR_API_TOKEN, SIMULATOR_API_SECRET)
CATAPULT = ("CATAPULT_USER_ID", "CATAPULT_API_TOKEN", "CATAPULT_API_SECRET")


def simulate(port: int, *argv: str) -> list[str]:
    return [sys.executable, "-m", "callhooks", "simulate", "--port", str(port), "-q", *argv]


def environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in CATAPULT}


def test_help_documents_every_fault_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    for flag in ("--duplicate RATE", "--concurrent-duplicate RATE", "--reorder SECONDS", "--timeout-first RATE"):
        assert flag in text
    assert "--drop-after RATE" in text and "--seed N" in text and "fallbackUrl" in text


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--duplicate", "2"], "must be a rate between 0 and 1"),
        (["--drop-after", "often"], "not a number"),
        (["--reorder", "-1"], "must not be negative"),
        (["--reorder", "inf"], "reorder_jitter must be a non-negative number of seconds"),
        (["--seed", "x"], "invalid int value"),
    ],
)
def test_bad_fault_flags_are_one_line_errors(argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", *argv]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("callhooks: error:") and problem in line


def test_flags_override_the_scenario_files_faults_and_apply_to_calls(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("faults: {duplicate: 0.5, reorder_jitter: 3, rules: [{fault: duplicate, nth: 9}]}\n")
    port = free_port()
    command = simulate(port, "--scenario", str(scenario), "--duplicate", "1", "--timeout-first", "0", "--seed", "5")
    receiver = Receiver()
    with serve(receiver.app) as rx, running(command, environment(), port, "/_sim/clock", AUTH) as url:
        faults = httpx.get(url + "/_sim/faults", auth=AUTH, timeout=30).json()
        assert (faults["duplicate"], faults["reorder_jitter"], faults["seed"]) == (1.0, 3.0, 5)  # flag, file, flag
        assert faults["rules"] == [{"fault": "duplicate", "nth": 9, "rate": 1.0}]
        httpx.put(url + "/_sim/faults", json={**faults, "reorder_jitter": 0}, auth=AUTH, timeout=30)
        calls = f"{url}/v1/users/{SIMULATOR_USER_ID}/calls"
        body = {"from": CALLER, "to": CALLEE, "callbackUrl": rx.url + "/cb"}
        assert httpx.post(calls, json=body, auth=AUTH, timeout=30).status_code == 201
        answers = receiver.wait_for(lambda events: len(events) >= 2)
        assert [e["eventType"] for e in answers] == ["answer", "answer"]
