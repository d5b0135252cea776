"""One frozen ``Settings`` configures a receiver, whether ``CallHooks(...)`` or ``CallHooks.from_env`` built it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from callhooks import CallHooks
from callhooks.receiver.settings import Settings

SECRET = "s" * 32


def test_callhooks_takes_exactly_the_settings_fields_with_their_defaults() -> None:
    parameters = inspect.signature(CallHooks.__init__).parameters
    keywords = {name: p.default for name, p in parameters.items() if name != "self"}
    fields = {f.name: f.default for f in dataclasses.fields(Settings)}
    assert keywords.pop("secret") is inspect.Parameter.empty and fields.pop("secret") is dataclasses.MISSING
    assert list(keywords) == list(fields) == list(Settings.names())[1:]
    assert keywords == fields


def test_both_ways_of_building_give_the_same_checked_frozen_settings() -> None:
    built = CallHooks(secret=SECRET, callback_http_method="get", basic_auth=("platform", "pw"), store=None)
    env = {"CALLHOOKS_SECRET": SECRET, "CALLHOOKS_CALLBACK_METHOD": "get", "CALLHOOKS_BASIC_AUTH": "platform:pw"}
    read = CallHooks.from_env(env, store=None)
    assert built.settings == read.settings
    assert (read.settings.callback_http_method, read.settings.callback_timeout) == ("GET", 10.0)
    assert (built.from_environment, read.from_environment) == (False, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.settings.secret = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"body_limit": 0}, "body_limit"),
        ({"callback_timeout": -1}, "callback_timeout"),
        ({"callback_http_method": "PUT"}, "callback_http_method"),
        ({"metrics_auth": ("a", "b")}, "metrics_auth"),
        ({"platform": "nowhere"}, "unknown platform"),
    ],
)
def test_a_bad_option_is_a_value_error_naming_it(options: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Settings(secret=SECRET, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("platform", ["catapult", "bandwidth"])
def test_the_checked_options_are_read_only_on_the_receiver(platform: str) -> None:
    # Assigning one would change nothing the receiver checks (its reader and URLs keep their own): refused.
    hooks = CallHooks(
        secret=SECRET,
        public_url="https://calls.example.com/hooks",
        basic_auth=("platform", "pw"),
        max_age=60,
        body_limit=1000,
        store=None,
        platform=platform,
    )
    assert hooks.signer is not None and hooks.signer.verify(hooks.callback_url().rpartition("/")[2]) == {}
    assert (hooks.basic_auth, hooks.max_age, hooks.body_limit) == (("platform", "pw"), 60, 1000)
    assert hooks.callback_credentials == (("platform", "pw") if platform == "bandwidth" else None)  # v2: beside
    for name in ("signer", "basic_auth", "max_age", "body_limit", "callback_credentials"):
        with pytest.raises(AttributeError):
            setattr(hooks, name, None)
    assert (hooks.basic_auth, hooks.max_age, hooks.body_limit) == (("platform", "pw"), 60, 1000)
    hooks.public_url = "https://other.example.com/hooks"  # the one that may change: it is where URLs point
    assert "other.example.com/hooks/" in hooks.callback_url()
