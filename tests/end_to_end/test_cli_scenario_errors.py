"""Bad scenario files (issue 24, bug 3; issue 23, finding 10): every one is a single line on stderr naming the file,
the key and, for a misspelt key, its close match, with exit code 2; never a traceback, never a huge message."""

from __future__ import annotations

import socket
import tracemalloc
from pathlib import Path

import pytest

from callhooks.cli import main
from callhooks.simulator import Simulator
from callhooks.simulator.scenario_file import MAX_MESSAGE
from tests.simulator.receiver import running

#: Ten levels of ten aliases each: 10**10 leaves once expanded (issue 23 measured 1.27 GB and a 312 MB error).
ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10)
)


def simulate_error(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    """Run `callhooks simulate --scenario PATH`; check exit 2 and one line; return that line.

    The port is taken, so a scenario wrongly accepted ends in a failure to listen instead of a server."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["simulate", "--scenario", str(path), "--port", str(taken.getsockname()[1]), "-q"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"callhooks: error: {path}: ") and len(lines[0]) <= MAX_MESSAGE + 20, lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("broken.yaml", "speed: 5\ndefault: {answer_after: 1\n", ["line 3", "column 1"]),
        ("broken.json", '{"speed": 5,}', ["line 1", "column 13"]),
        ("type.yaml", "speed: fast\n", ["speed: must be a positive number or null, not 'fast'"]),
        ("typo.yaml", "speeed: 5\n", ["unknown option 'speeed' (did you mean 'speed'?)"]),
        ("camel.yaml", "incomingCallUrll: http://127.0.0.1/x\n", ["'incoming_call_urll'", "'incoming_call_url'"]),
        (
            "far_end.yaml",
            'numbers:\n  "+19195551313": {outcom: busy}\n',
            ["numbers: '+19195551313': unknown far-end setting 'outcom' (did you mean 'outcome'?)"],
        ),
        ("outcome.yaml", "default: {outcome: bussy}\n", ["default: outcome must be one of", "(did you mean 'busy'?)"]),
        ("unquoted.yaml", "numbers:\n  +19195551313: {outcome: busy}\n", ["numbers: 19195551313: quote phone numbers"]),
        ("faults.yaml", "faults: {duplicat: 0.5}\n", ["faults: unknown faults setting 'duplicat'", "'duplicate'"]),
        ("limit.yaml", "rate_limit: {calls_per_second: 1, windw: 5}\n", ["rate_limit: unknown", "'window'"]),
        ("method.yaml", "incoming_call_method: PUT\n", ["incoming_call_method: must be POST or GET, not 'PUT'"]),
        ("epoch.yaml", "epoch: yesterday\n", ["epoch: must be an ISO-8601 time"]),
        ("list.yaml", "- speed: 5\n", ["a scenario must be a mapping"]),
        ("python.yaml", "speed: !!python/object/apply:os.system ['true']\n", ["line 1", "python/object/apply"]),
        ("alias.yaml", ALIAS_BOMB + "speed: *a9\n", ["line 2", "aliases (*name) are not allowed"]),
        ("host.yaml", "incoming_call_url: http://169.254.169.254/\n", ["incoming_call_url is refused", "metadata"]),
    ],
)
def test_a_bad_scenario_is_one_line_naming_the_file_and_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, text: str, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    line = simulate_error(capsys, path)
    for word in words:
        assert word in line


def test_a_bad_allow_flag_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:  # a flag wrongly accepted ends in a failure to listen, not in a server
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["simulate", "--allow-callback-host", "http://x/", "--port", str(taken.getsockname()[1]), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--allow-callback-host" in err and "'http://x/'" in err


def test_an_alias_bomb_costs_nothing_and_says_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "default: *a9\n")
    tracemalloc.start()
    try:
        line = simulate_error(capsys, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "aliases" in line and peak < 20 * 1024 * 1024, peak


def test_a_huge_scenario_file_is_refused_unread(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("speed: 5\n" + "#" * (2 * 1024 * 1024) + "\n")
    assert "larger than 1024 KiB" in simulate_error(capsys, path)


def test_a_long_value_is_cut_short_in_the_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(f"speed: {'f' * 100_000}\n")
    assert "speed: must be a positive number" in simulate_error(capsys, path)


def test_every_simulator_option_can_be_set_from_a_file() -> None:
    """The options table and Simulator's keyword arguments stay the same set."""
    import inspect

    from callhooks.simulator.scenario_options import OPTIONS

    parameters = set(inspect.signature(Simulator).parameters) - {"far_end", "numbers"}
    assert set(OPTIONS) == parameters


def test_a_good_scenario_still_loads_with_every_kind_of_option(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(
        "speed: 50\nepoch: '2019-03-14T15:04:00Z'\nincoming_call_method: get\nrate_limit: {calls_per_second: 1}\n"
        "allow_callback_hosts: [10.0.0.0/8]\nfaults: {duplicate: 0.5}\ndefault: {answer_after: 1}\n"
        'numbers: {"+19195551313": {outcome: busy}}\n'
    )
    simulator = Simulator.from_scenario(path)
    assert simulator.clock.speed == 50 and simulator.engine.options.inbound.method == "GET"
    assert simulator.callback_hosts.refusal("http://10.1.2.3/x") is None
    assert simulator.behaviours.for_number("+19195551313").outcome == "busy"


def test_the_control_api_names_the_far_end_setting_and_its_close_match() -> None:
    with running() as env:
        answer = env.client.post("/_sim/behaviours", json={"numbers": {"+19195551313": {"outcom": "busy"}}})
        assert answer.status_code == 400
        assert "unknown far-end setting 'outcom' (did you mean 'outcome'?)" in answer.json()["message"]
