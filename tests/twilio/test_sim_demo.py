"""``callhooks demo --platform twilio``: the Twilio IVR example runs its flow on the simulator playing Twilio, outbound
and inbound, and says so."""

from __future__ import annotations

import pytest

from callhooks.cli import main


@pytest.mark.parametrize("direction", [[], ["--inbound"]])
def test_the_twilio_demo_runs_the_ivr_to_the_end(direction: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--platform", "twilio", "--speed", "100", "--timeout", "60", *direction]) == 0
    out = capsys.readouterr().out
    assert "menu_choice" in out and "dialled" in out and "all as expected" in out
    assert ("inbound" in out) == bool(direction) and "outbound-dial" in out


def test_catapult_only_flags_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--platform", "twilio", "--bxml"]) == 2
    assert "--bxml is for --platform catapult" in capsys.readouterr().err
