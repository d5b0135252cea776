"""``callhooks simulate --platform bandwidth`` and ``callhooks demo --platform bandwidth``: the v2 account flags,
the token endpoint and the v2 API of the served simulator, flags of another platform refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from callhooks.testing import free_port
from tests.end_to_end.test_cli import assert_usage_error, run_cli
from tests.helpers.processes import running

BIN = Path(sys.executable).parent


def test_simulate_plays_voice_api_v2_with_the_account_given(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"numbers": {"+19195551313": {"outcome": "busy"}}}))
    port = free_port()
    command = [str(BIN / "callhooks"), "simulate", "--platform", "bandwidth", "--port", str(port)]
    command += ["--scenario", str(scenario), "--account-id", "5550001", "--client-id", "cid", "--client-secret", "cs"]
    command += ["--api-user", "user", "--api-password", "pass"]
    with running(command, dict(os.environ), port, health="/_sim/clock", auth=("user", "pass")) as base:
        token = httpx.post(
            f"{base}/api/v1/oauth2/token",
            auth=("cid", "cs"),
            content=b"grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        ).json()["access_token"]
        listed = httpx.get(f"{base}/api/v2/accounts/5550001/calls", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200 and listed.json() == []
        assert httpx.get(f"{base}/api/v2/accounts/5550001/calls", auth=("user", "wrong")).status_code == 401
        script = httpx.get(f"{base}/_sim/behaviours", auth=("user", "pass"), timeout=30).json()
        assert script["numbers"]["+19195551313"]["outcome"] == "busy"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["simulate", "--platform", "bandwidth", "--user-id", "u-1"], ["--user-id", "catapult"]),
        (["simulate", "--client-id", "c"], ["--client-id", "bandwidth"]),
        (["simulate", "--platform", "nope"], ["--platform", "nope"]),
    ],
)
def test_a_flag_of_another_platform_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert_usage_error(code, err, *words)


def test_demo_runs_the_v2_ivr_and_exits_0() -> None:
    result = subprocess.run(
        [str(BIN / "callhooks"), "demo", "--platform", "bandwidth", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for expected in ("answer", "gather", "main-menu", "transferComplete", "disconnect", "as expected"):
        assert expected in result.stdout
    assert "basic-auth-failed" not in result.stderr  # v2's challenges are the platform's normal flow
