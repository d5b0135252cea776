"""A scenario file chooses the v2 platform and its account, and scripts the far ends of v2 calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from callhooks.simulator import Simulator
from callhooks.simulator.bandwidth import BandwidthProfile
from callhooks.simulator.scenario_file import ScenarioError


def test_a_scenario_file_sets_the_platform_its_account_and_the_far_ends(tmp_path: Path) -> None:
    path = tmp_path / "v2.yaml"
    path.write_text(
        "platform: bandwidth\n"
        "account: {account_id: '5550002', client_id: cid, client_secret: cs}\n"
        "manual: true\n"
        "numbers:\n"
        "  '+19195551313': {outcome: busy}\n"
    )
    sim = Simulator.from_scenario(path)
    assert isinstance(sim.profile, BandwidthProfile)
    assert (sim.profile.account_id, sim.profile.client_id) == ("5550002", "cid")
    assert sim.behaviours.for_number("+19195551313").outcome == "busy"


def test_a_misspelt_account_setting_names_the_file_and_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "v2.yaml"
    path.write_text("platform: bandwidth\naccount: {acount_id: '1'}\n")
    with pytest.raises(ScenarioError, match="'acount_id' is not a bandwidth account setting"):
        Simulator.from_scenario(path)


def test_the_default_v2_account_answers_with_its_defaults() -> None:
    sim = Simulator(platform="bandwidth", manual=True)
    banner = "\n".join(sim.profile.banner("http://127.0.0.1:8900"))
    assert "BANDWIDTH_BASE_URL=http://127.0.0.1:8900/api/v2" in banner
    assert "BANDWIDTH_ACCOUNT_ID=9900000" in banner
