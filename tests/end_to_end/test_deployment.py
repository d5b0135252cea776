"""The ways users deploy callhooks: the Procfile's web process, `callhooks run`, the README's commands."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx

from callhooks.testing import free_port
from tests.helpers.processes import running

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

DEPLOY_ENV = {
    "CALLHOOKS_SECRET": "deploy-secret",
    "CALLHOOKS_PUBLIC_URL": "https://calls.example.com/hooks",
    "CATAPULT_USER_ID": "u-deploy",
    "CATAPULT_API_TOKEN": "t-deploy",
    "CATAPULT_API_SECRET": "s-deploy",
    # Catapult v1's public host is retired, so there is no default; nothing is called while serving /healthz.
    "CATAPULT_BASE_URL": "http://127.0.0.1:9",
}


def _env(port: int) -> dict[str, str]:
    return {**os.environ, **DEPLOY_ENV, "PORT": str(port), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def test_procfile_web_process_serves_the_example_ivr() -> None:
    line = (ROOT / "Procfile").read_text().strip()
    assert line.startswith("web: ")
    port = free_port()
    command = [part.replace("$PORT", str(port)) for part in shlex.split(line[len("web: ") :])]
    assert "--proxy-headers" in command
    command[command.index("0.0.0.0")] = "127.0.0.1"  # tests stay on loopback
    with running(command, _env(port), port) as base:
        # Unsigned callbacks are refused: the deployed app verifies with CALLHOOKS_SECRET.
        # Served standalone, callbacks live under the path of CALLHOOKS_PUBLIC_URL (/hooks).
        response = httpx.post(f"{base}/hooks/", json={"eventType": "answer", "callId": "c-1"}, timeout=30)
        assert response.status_code == 403
        assert response.json()["reason"] == "token-missing"
        outside = httpx.post(f"{base}/", json={"eventType": "answer", "callId": "c-1"}, timeout=30)
        assert outside.status_code == 404
        assert "/hooks/" in outside.json()["detail"]


def test_callhooks_run_serves_an_app_from_an_import_string() -> None:
    port = free_port()
    command = [str(BIN / "callhooks"), "run", "--factory", "examples.ivr:create_app", "--port", str(port)]
    with running(command, _env(port), port) as base:
        assert httpx.get(f"{base}/healthz", timeout=30).json() == {"status": "ok"}


def test_procfile_with_a_missing_required_variable_is_one_line_not_a_traceback() -> None:
    line = (ROOT / "Procfile").read_text().strip()
    port = free_port()
    command = [part.replace("$PORT", str(port)) for part in shlex.split(line[len("web: ") :])]
    command[command.index("0.0.0.0")] = "127.0.0.1"
    env = {k: v for k, v in _env(port).items() if k != "CATAPULT_API_TOKEN"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    [message] = done.stderr.strip().splitlines()
    assert "missing credentials: api_token (or CATAPULT_API_TOKEN)" in message


def test_the_deploying_guide_lists_every_variable_the_procfile_reads() -> None:
    deploying = (ROOT / "docs" / "guides" / "deploying.md").read_text().split("## Deploying", 1)[1].split("\n## ", 1)[0]
    for name in [*DEPLOY_ENV, "PORT", "CATAPULT_BASE_URL", "IVR_SALES_NUMBER", "CALLHOOKS_BASIC_AUTH"]:
        assert f"`{name}`" in deploying, name


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```(?:bash|sh)\n(.+?)\n```", quick_start, flags=re.MULTILINE | re.DOTALL)


def test_readme_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    demo, tests = commands
    assert "callhooks demo" in demo
    assert "\n" not in demo and "\n" not in tests
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert tests in ci_lines
