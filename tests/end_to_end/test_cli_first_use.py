"""Issue 8's command-line bugs and papercuts: scenario settings kept unless a flag is given (1), --context
without a secret (4), one-line import errors and early option checks (7), credentials printed, the event flow
shown, --version, ``python -m callhooks`` and --help with defaults and environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import callhooks
from callhooks import CallHooks, Client
from callhooks.cli import main
from callhooks.rules import ENDED_CALL_STATES
from callhooks.simulator import Simulator
from callhooks.simulator.defaults import SIMULATOR_API_SECRET, SIMULATOR_API_TOKEN, SIMULATOR_USER_ID
from callhooks.testing import free_port, serve, wait_until

BIN = Path(sys.executable).parent
SIMULATOR_ACCOUNT = {"user_id": SIMULATOR_USER_ID, "api_token": SIMULATOR_API_TOKEN, "api_secret": SIMULATOR_API_SECRET}
AUTH = (SIMULATOR_API_TOKEN, SIMULATOR_API_SECRET)
CATAPULT = ("CATAPULT_USER_ID", "CATAPULT_API_TOKEN", "CATAPULT_API_SECRET")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CATAPULT}
    return {**env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


@contextmanager
def started(command: list[str], port: int, cwd: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    """Start ``command`` (stdout piped) and wait, polling with a deadline, until something answers on ``port``."""
    process = subprocess.Popen(command, cwd=cwd, env=clean_env(), stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, f"{command} exited with {process.returncode}"
                assert time.monotonic() < deadline, f"{command} did not start within 20 s"
                time.sleep(0.05)  # polling a separate process, bounded by the deadline above
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def simulate(*argv: str, lines: int = 4) -> Iterator[tuple[str, list[str]]]:
    """Run `callhooks simulate ARGV` on a free port; yield its URL and the ``lines`` banner lines it printed first."""
    port = free_port()
    with started([str(BIN / "callhooks"), "simulate", "--port", str(port), *argv], port) as process:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{port}", [process.stdout.readline() for _ in range(lines)]


def flow_lines(process: subprocess.Popen[str]) -> list[str]:
    """What the process printed after the banner, once it stopped."""
    process.terminate()
    out, _ = process.communicate(timeout=10)
    return [line for line in out.splitlines() if "event=" in line]


SCENARIO = "speed: 7\nuser_id: u-file\napi_token: t-file\napi_secret: s-file\n"


def test_simulate_keeps_the_scenario_files_settings(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    with simulate("--scenario", str(tmp_path / "s.yaml")) as (url, banner):
        clock = httpx.get(url + "/_sim/clock", auth=("t-file", "s-file"), timeout=30)
        assert clock.status_code == 200 and clock.json()["speed"] == 7
        assert httpx.get(url + "/v1/users/u-file/calls", auth=("t-file", "s-file"), timeout=30).json() == []
    assert "u-file" in banner[1] and "t-file" in banner[1] and "s-file" in banner[1]


def test_simulate_flags_that_are_given_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    with simulate("--scenario", str(tmp_path / "s.yaml"), "--speed", "3", "--api-secret", "s-flag") as (url, _):
        clock = httpx.get(url + "/_sim/clock", auth=("t-file", "s-flag"), timeout=30)
        assert clock.status_code == 200 and clock.json()["speed"] == 3


def test_simulate_prints_what_a_client_needs_and_shares_the_simulators_defaults() -> None:
    defaults = Simulator()
    with simulate() as (url, banner):
        export = banner[3]
        assert f"CATAPULT_BASE_URL={url}" in export
        for name, value in [
            ("CATAPULT_USER_ID", defaults.user_id),
            ("CATAPULT_API_TOKEN", defaults.api_token),
            ("CATAPULT_API_SECRET", defaults.api_secret),
        ]:
            assert f"{name}={value}" in export
        calls = f"{url}/v1/users/{defaults.user_id}/calls"
        assert httpx.get(calls, auth=(defaults.api_token, defaults.api_secret), timeout=30).status_code == 200


def test_send_context_without_a_secret_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLHOOKS_SECRET", raising=False)
    code = main(["send", "answer", "--url", f"http://127.0.0.1:{free_port()}", "--context", '{"order": 1}'])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--context needs --secret" in err


def test_run_reports_any_import_error_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken_app.py").write_text("import os\nos.environ['CATAPULT_NOT_SET_ANYWHERE']\n")
    result = subprocess.run(
        [str(BIN / "callhooks"), "run", "broken_app:hooks"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "cannot import 'broken_app'" in result.stderr and "CATAPULT_NOT_SET_ANYWHERE" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_run_exits_3_in_one_line_when_the_store_cannot_be_opened(tmp_path: Path, workers: str) -> None:
    # Port 1 on loopback refuses at once. With --workers 2, uvicorn's supervisor used to stop and exit 0.
    (tmp_path / "no_store.py").write_text(
        "from callhooks import CallHooks\nhooks = CallHooks(secret='s', store='redis://127.0.0.1:1/0')\n"
    )
    command = [str(BIN / "callhooks"), "run", "no_store:hooks", "--port", str(free_port()), "--workers", workers]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr
    if workers == "2":  # checked once in the parent, before any worker starts: one line
        assert result.stderr.count("\n") == 1 and "the app cannot start" in result.stderr


def test_run_checks_options_before_importing(tmp_path: Path) -> None:
    (tmp_path / "loud_app.py").write_text("raise SystemExit('imported')\n")
    result = subprocess.run(
        [str(BIN / "callhooks"), "run", "loud_app:hooks", "--workers", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--workers must be at least 1" in result.stderr and "imported" not in result.stderr


def test_version_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert callhooks.__version__ and callhooks.__version__[0].isdigit()
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"callhooks {callhooks.__version__}"
    module = subprocess.run([sys.executable, "-m", "callhooks", "--version"], capture_output=True, text=True)
    assert module.stdout.strip() == f"callhooks {callhooks.__version__}"
    bad = subprocess.run([sys.executable, "-m", "callhooks", "launch"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("callhooks: error:")


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("run", ["(default: 8000)", "HOST", "PORT", "FORWARDED_ALLOW_IPS", "-q"]),
        ("simulate", ["(default: 8900)", "u-simulator", "CATAPULT_USER_ID", "CATAPULT_API_SECRET", "-q"]),
        ("demo", ["(default: 50.0)", "(default: 30.0)"]),
        ("send", ["CALLHOOKS_SECRET", "CALLHOOKS_BASIC_AUTH"]),
        ("sign-url", ["CALLHOOKS_SECRET", "CALLHOOKS_PUBLIC_URL", "(default: 1 day)"]),
    ],
)
def test_every_subcommand_help_shows_defaults_and_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str, shown: list[str]
) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", "must-not-be-printed")
    monkeypatch.delenv("PORT", raising=False)
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for text in shown:
        assert text in out
    assert "must-not-be-printed" not in out


APP = """
from callhooks import CallHooks, events

hooks = CallHooks(secret="flow-secret")


@hooks.on("answer")
async def greet(event: events.AnswerEvent) -> None:
    pass
"""


@pytest.mark.parametrize("quiet", [False, True], ids=["shown", "quiet"])
def test_run_shows_one_line_per_callback_unless_quiet(tmp_path: Path, quiet: bool) -> None:
    (tmp_path / "flow_app.py").write_text(APP)
    port = free_port()
    command = [str(BIN / "callhooks"), "run", "flow_app:hooks", "--port", str(port), *(["-q"] if quiet else [])]
    with started(command, port, cwd=tmp_path) as process:
        url = f"http://127.0.0.1:{port}"
        assert main(["send", "answer", "--url", url, "--secret", "flow-secret", "tag=hello"]) == 0
        lines = flow_lines(process)
    if quiet:
        assert lines == []
    else:
        [line] = lines
        for part in ("event=answer", "state=active", "tag=hello", "handler=", "greet", "status=200", "duration_ms="):
            assert part in line


@pytest.mark.parametrize("quiet", [False, True], ids=["shown", "quiet"])
def test_simulate_shows_one_line_per_callback_unless_quiet(quiet: bool) -> None:
    hooks = CallHooks(secret=None, insecure=True)  # the far end hangs up after 60 simulated seconds: answer, hangup
    port = free_port()
    command = [str(BIN / "callhooks"), "simulate", "--port", str(port), "--speed", "1000", *(["-q"] if quiet else [])]
    with serve(hooks) as receiver, started(command, port) as process:
        with Client(base_url=f"http://127.0.0.1:{port}", **SIMULATOR_ACCOUNT) as client:
            call = client.calls.create(from_="+19195550100", to="+19195551313", callback_url=receiver.url + "/")
            wait_until(lambda: client.calls.get(call.id).state in ENDED_CALL_STATES, what="the call to end")
            httpx.post(f"http://127.0.0.1:{port}/_sim/settle", json={}, auth=AUTH, timeout=15)
        lines = flow_lines(process)
    if quiet:
        assert lines == []
    else:
        assert [line.split("event=")[1].split()[0] for line in lines] == ["answer", "hangup"]
        assert "(simulated)" in lines[0] and "status=200" in lines[0] and f"call={call.id}" in lines[0]


def test_run_names_the_callhooks_variables_an_app_not_built_from_the_environment_ignores(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from callhooks.cli import _say_ignored_variables

    monkeypatch.setenv("CALLHOOKS_STORE", "sqlite:///calls.db")
    monkeypatch.setenv("CALLHOOKS_METRICS", "1")
    monkeypatch.setenv("CALLHOOKS_SECRET", "s" * 24)
    _say_ignored_variables(CallHooks(secret="built-in-code"), "app:hooks")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning" in err
    assert "CALLHOOKS_SECRET, CALLHOOKS_STORE, CALLHOOKS_METRICS set, but app:hooks" in err
    _say_ignored_variables(CallHooks.from_env(), "app:hooks")  # it read them: nothing to say
    assert capsys.readouterr().err == ""


def test_the_metrics_404_says_why_when_the_variable_is_set_but_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    monkeypatch.setenv("CALLHOOKS_METRICS", "1")
    answer = TestClient(CallHooks(secret="s" * 24)).get("/metrics")
    assert answer.status_code == 404
    assert "CALLHOOKS_METRICS is set, but this app was not built by CallHooks.from_env()" in answer.json()["detail"]
    monkeypatch.delenv("CALLHOOKS_METRICS")
    unset = TestClient(CallHooks(secret="s" * 24)).get("/metrics").json()["detail"]
    assert unset.startswith("the metrics are off: CallHooks(metrics=True) or CALLHOOKS_METRICS=1")


def test_run_store_flag_sets_the_store_of_an_app_built_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "env_app.py").write_text("from callhooks import CallHooks\nhooks = CallHooks.from_env()\n")
    (tmp_path / "own_app.py").write_text("from callhooks import CallHooks\nhooks = CallHooks(secret='s' * 24)\n")
    database = tmp_path / "calls.db"
    port = free_port()
    env = {**clean_env(), "CALLHOOKS_SECRET": "s" * 24}
    command = [str(BIN / "callhooks"), "run", "env_app:hooks", "--port", str(port), "--store", f"sqlite:///{database}"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: database.exists(), what="the SQLite store given by --store")
    finally:
        process.terminate()
        process.wait(timeout=30)
    own = [str(BIN / "callhooks"), "run", "own_app:hooks", "--store", f"sqlite:///{database}"]
    refused = subprocess.run(own, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--store needs an app built by CallHooks.from_env()" in refused.stderr
