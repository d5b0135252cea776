"""The simulator's platform seam: profiles chosen by name, unknown names and settings refused."""

from __future__ import annotations

import pytest

from callhooks.simulator import Simulator
from callhooks.simulator.catapult import CatapultProfile
from callhooks.simulator.profile import PLATFORMS, load_profile


def test_the_default_platform_is_catapult_with_the_given_credentials() -> None:
    sim = Simulator(user_id="u-1", api_token="t", api_secret="s", manual=True)
    assert isinstance(sim.profile, CatapultProfile)
    assert (sim.profile.user_id, sim.profile.api_token, sim.profile.api_secret) == ("u-1", "t", "s")
    assert sim.profile.call_path("c-1") == "/v1/users/u-1/calls/c-1"


def test_a_profile_is_found_by_name_with_its_account_settings() -> None:
    profile = load_profile("catapult", {"user_id": "u-2"})
    assert isinstance(profile, CatapultProfile) and profile.user_id == "u-2"
    assert "catapult" in PLATFORMS


def test_an_unknown_platform_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown platform 'catapul': choose one of catapult"):
        Simulator(platform="catapul")


def test_an_unknown_account_setting_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'user' is not a catapult account setting .*user_id"):
        Simulator(platform="catapult", account={"user": "x"})
