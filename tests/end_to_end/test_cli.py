"""Every `callhooks` command, its happy path and its bad-argument path (one line on stderr, exit code 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks, events
from callhooks.cli import main
from callhooks.testing import free_port, serve
from tests.helpers.processes import running

BIN = Path(sys.executable).parent
SECRET = "cli-secret"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_usage_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("callhooks: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], ["command"]),
        (["launch"], ["launch"]),
        (["run"], ["app"]),
        (["run", "no-colon"], ["module:attribute"]),
        (["run", "no_such_module_xyz:hooks"], ["cannot import"]),
        (["run", "callhooks.events:nothing_here"], ["no ASGI app"]),
        (["demo", "--speed", "-1"], ["positive"]),
        (["demo", "--port", "99999"], ["TCP port"]),
        (["send", "answer"], ["--url"]),
        (["send", "no-such-event", "--url", "http://127.0.0.1:9"], ["unknown event type"]),
        (["send", "dtmf", "--url", "http://127.0.0.1:9", "dtmfDuration=long"], ["dtmfDuration"]),
        (["send", "answer", "--url", "http://127.0.0.1:9", "justaword"], ["name=value"]),
        (["send", "answer", "--url", "not a url"], ["public_url"]),
        (["sign-url", "--context", "{nope"], ["JSON"]),
        (["sign-url", "--context", "[1]"], ["JSON object"]),
        (["simulate", "--scenario", "/no/such/file.yaml"], ["scenario"]),
        (["simulate", "--speed", "fast"], ["number"]),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], words: list[str]
) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", SECRET)
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://calls.example.com/hooks")
    code, _, err = run_cli(capsys, *argv)
    assert_usage_error(code, err, *words)


def test_sign_url_prints_a_url_the_receiver_accepts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", SECRET)
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://calls.example.com/hooks")
    code, out, _ = run_cli(capsys, "sign-url", "--context", '{"campaign": "spring"}')
    assert code == 0
    url = out.strip()
    assert url.startswith("https://calls.example.com/hooks/")
    assert CallHooks(secret=SECRET).verify_callback_url(url) == {"campaign": "spring"}


def test_sign_url_no_expiry_outlives_any_max_age(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", SECRET)
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://calls.example.com/hooks")
    _, expiring, _ = run_cli(capsys, "sign-url", "--max-age", "60")
    code, forever, _ = run_cli(capsys, "sign-url", "--no-expiry")
    assert code == 0
    in_ten_years = CallHooks(secret=SECRET, clock=lambda: 2_100_000_000.0)
    assert in_ten_years.verify_callback_url(forever.strip()) == {}
    with pytest.raises(Exception, match="expired"):
        in_ten_years.verify_callback_url(expiring.strip())


def test_sign_url_refuses_without_a_secret_and_contradictions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLHOOKS_SECRET", raising=False)
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://calls.example.com/hooks")
    code, _, err = run_cli(capsys, "sign-url")
    assert_usage_error(code, err, "CALLHOOKS_SECRET")
    monkeypatch.setenv("CALLHOOKS_SECRET", SECRET)
    code, _, err = run_cli(capsys, "sign-url", "--no-expiry", "--max-age", "5")
    assert_usage_error(code, err, "contradict")
    monkeypatch.delenv("CALLHOOKS_PUBLIC_URL")
    code, _, err = run_cli(capsys, "sign-url")
    assert_usage_error(code, err, "public_url")


@pytest.fixture
def receiver() -> tuple[CallHooks, list[events.CallEvent], str]:
    hooks = CallHooks(secret=SECRET)
    received: list[events.CallEvent] = []

    @hooks.on()
    async def record(event: events.CallEvent) -> None:
        received.append(event)

    with serve(hooks) as server:
        yield hooks, received, server.url  # type: ignore[misc]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_send_fires_a_signed_well_formed_event(
    capsys: pytest.CaptureFixture[str], receiver: tuple[CallHooks, list[events.CallEvent], str], method: str
) -> None:
    _, received, url = receiver
    argv = ["send", "gather", "--url", url, "--secret", SECRET, "--context", '{"order": 7}', "tag=main-menu"]
    argv += ["digits=42"] + (["--get"] if method == "GET" else [])
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    assert f"{method} gather -> 200" in out
    [event] = received
    assert isinstance(event, events.GatherEvent)
    assert (event.tag, event.digits, event.context) == ("main-menu", "42", {"order": 7})
    assert event.call_id and event.call_id.startswith("c-")


def test_send_reports_a_refused_event_and_exits_1(
    capsys: pytest.CaptureFixture[str], receiver: tuple[CallHooks, list[events.CallEvent], str]
) -> None:
    _, received, url = receiver
    code, out, _ = run_cli(capsys, "send", "answer", "--url", url, "--secret", "another-secret")
    assert code == 1
    assert "403" in out and "token-unknown-key" in out
    assert received == []


def test_send_to_nothing_listening_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "send", "answer", "--url", f"http://127.0.0.1:{free_port()}", "--unsigned")
    assert code == 1
    assert "could not reach" in err


def test_send_without_a_secret_refuses_unless_told_to_send_unsigned(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 24, bug 7: an unsigned event is refused by every receiver with a secret; say so, as sign-url does."""
    monkeypatch.delenv("CALLHOOKS_SECRET", raising=False)
    received: list[events.CallEvent] = []
    insecure = CallHooks(secret=None, insecure=True)
    insecure.on("answer")(received.append)
    with serve(insecure) as server:
        code, out, err = run_cli(capsys, "send", "answer", "--url", server.url)
        assert_usage_error(code, err, "CALLHOOKS_SECRET", "--unsigned")
        assert out == "" and received == []
        code, out, _ = run_cli(capsys, "send", "answer", "--url", server.url, "--unsigned")
        assert code == 0 and "POST answer -> 200" in out and len(received) == 1
    code, _, err = run_cli(capsys, "send", "answer", "--url", server.url, "--unsigned", "--secret", SECRET)
    assert_usage_error(code, err, "contradict")


def test_simulate_serves_the_platform_api(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"numbers": {"+19195551313": {"outcome": "busy"}}}))
    port = free_port()
    command = [str(BIN / "callhooks"), "simulate", "--port", str(port), "--scenario", str(scenario)]
    command += ["--user-id", "u-cli", "--api-token", "tok", "--api-secret", "sec"]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    with running(command, env, port, health="/_sim/clock", auth=("tok", "sec")) as base:
        calls = httpx.get(f"{base}/v1/users/u-cli/calls", auth=("tok", "sec"), timeout=30)
        assert calls.status_code == 200 and calls.json() == []
        assert httpx.get(f"{base}/v1/users/u-cli/calls", auth=("tok", "wrong"), timeout=30).status_code == 401
        script = httpx.get(f"{base}/_sim/behaviours", auth=("tok", "sec"), timeout=30).json()
        assert script["numbers"]["+19195551313"]["outcome"] == "busy"


@pytest.mark.parametrize(
    "flag",
    [[], ["--inbound"], ["--bxml"], ["--bxml", "--inbound"]],
    ids=["outbound", "inbound", "bxml-outbound", "bxml-inbound"],
)
def test_demo_runs_the_ivr_against_the_simulator_and_exits_0(flag: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / "callhooks"), "demo", "--timeout", "60", *flag],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # plain text when not a terminal
    for expected in ("answer", "gather", "main-menu", "menu_choice", "transferComplete", "hangup", "as expected"):
        assert expected in out
    if "--inbound" in flag:
        assert "incomingcall" in out


def test_demo_prints_its_table_without_log_lines_on_the_ports_asked_for() -> None:
    # Issue 24, bug 9: 25 INFO log lines (every callback, twice, and every delivery) buried the demo's table,
    # and the ports were random with no way to choose them.
    receiver_port, simulator_port = free_port(), free_port()
    ports = ["--port", str(receiver_port), "--simulator-port", str(simulator_port)]
    result = subprocess.run(
        [str(BIN / "callhooks"), "demo", "--timeout", "60", *ports],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert not [line for line in lines if line.startswith(("INFO", "DEBUG"))], lines
    assert result.stderr == ""
    assert f"receiver on http://127.0.0.1:{receiver_port}" in result.stdout
    assert f"simulator on http://127.0.0.1:{simulator_port}" in result.stdout
    rows = [line for line in lines if " leg " in f" {line} "]
    assert len(rows) >= 9 and len(lines) <= len(rows) + 12  # the table, its header and summary, little else


def test_demo_reports_a_flow_that_did_not_finish(capsys: pytest.CaptureFixture[str]) -> None:
    # A timeout far shorter than the scripted call: the demo must say so and fail, not hang or pass.
    done = threading.Event()
    code: list[int] = []

    def run() -> None:
        code.append(main(["demo", "--timeout", "0.5"]))
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert done.wait(60)
    assert code == [1]
    assert "did not finish" in capsys.readouterr().err
