"""One frozen ``Settings`` configures a receiver, whether ``CallHooks(...)`` or ``CallHooks.from_env`` built it."""

from __future__ import annotations

import dataclasses
import inspect
import logging

import pytest
from starlette.testclient import TestClient

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


def test_changing_public_url_changes_the_settings_too_checked_as_when_built(caplog: pytest.LogCaptureFixture) -> None:
    # A tunnel's or a test server's URL is known only at start-up: hooks.public_url = ... points the receiver there,
    # and hooks.settings says so too (it is what a reader of the configuration looks at).
    hooks = CallHooks(secret=None, insecure=True, public_url="https://calls.example.com/hooks/", store=None)
    assert hooks.settings.public_url == hooks.public_url == "https://calls.example.com/hooks"  # checked once
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="callhooks"):
        hooks.public_url = "https://tunnel.example.net/in/"
    assert hooks.settings.public_url == hooks.public_url == "https://tunnel.example.net/in"
    assert hooks.callback_url() == "https://tunnel.example.net/in"  # no secret: no token
    assert not caplog.records  # the no-secret warning was said once, when the receiver was built
    with TestClient(hooks, base_url="https://tunnel.example.net") as client:
        assert client.post("/hooks/anything", json={}).json()["detail"].startswith("callbacks are served under /in/")
    with pytest.raises(ValueError, match="absolute http"):
        hooks.public_url = "tunnel.example.net/in"
    assert hooks.settings.public_url == hooks.public_url == "https://tunnel.example.net/in"  # unchanged
    hooks.public_url = None
    assert hooks.settings.public_url is hooks.public_url is None
    twilio = CallHooks(
        secret=SECRET, public_url="https://calls.example.com/hooks", platform="twilio", auth_token="t", store=None
    )
    with pytest.raises(ValueError, match="needs public_url"):  # as CallHooks(platform="twilio") without one
        twilio.public_url = None
    assert twilio.settings.public_url == twilio.public_url == "https://calls.example.com/hooks"
