"""`send`, `sign-url` and `replay` take `--platform catapult|bandwidth|twilio` and make that platform's requests:
each is checked by a real receiver of that platform, served by uvicorn on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callhooks import CallHooks
from callhooks.cli import main
from callhooks.fixtures import build_fixture, dump_fixture, recorded_context
from callhooks.testing import serve

SECRET = "cli-platform-secret"
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_usage_error(code: int, err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert (code, len(lines)) == (2, 1), err
    assert lines[0].startswith("callhooks: error: ")
    assert all(word in lines[0] for word in words), lines[0]


class Served:
    """A receiver of one platform, served, with every event its handlers saw."""

    def __init__(self, hooks: CallHooks, url: str) -> None:
        self.hooks, self.url = hooks, url
        self.received: list[Any] = []


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    platform: str = request.param
    options: dict[str, Any] = {"secret": SECRET, "store": None, "platform": platform}
    if platform == "twilio":
        options["auth_token"] = AUTH_TOKEN
    if platform == "bandwidth":
        options["basic_auth"] = ("platform", "pw")
    hooks = CallHooks(public_url="http://127.0.0.1:1", **options)  # the port is known once served
    with serve(hooks) as server:
        hooks.public_url = server.url
        receiver = Served(hooks, server.url)

        @hooks.on()
        def record(event: Any) -> None:
            receiver.received.append(event)

        yield receiver


@pytest.mark.parametrize("served", ["bandwidth"], indirect=True)
def test_send_bandwidth_posts_v2_json_with_basic_credentials(
    capsys: pytest.CaptureFixture[str], served: Served
) -> None:
    argv = ["send", "gather", "--platform", "bandwidth", "--url", served.url, "--secret", SECRET]
    argv += ["--basic-auth", "platform:pw", "--context", '{"order": 7}', "digits=42", "tag=menu"]
    code, out, _ = run_cli(capsys, *argv)
    assert (code, out.split(" -> ")[0]) == (0, "POST gather"), out
    [event] = served.received
    assert type(event).__module__ == "callhooks.bandwidth.events"
    assert (event.event_type, event.digits, event.tag, event.context) == ("gather", "42", "menu", {"order": 7})
    assert event.call_id.startswith("c-") and event.account_id
    # Without the credentials the v2 receiver challenges: the header was what let it in.
    code, out, _ = run_cli(capsys, *argv[:7], "digits=1")
    assert code == 1 and "401" in out


@pytest.mark.parametrize("served", ["twilio"], indirect=True)
def test_send_twilio_posts_a_signed_form_to_a_url_naming_the_kind(
    capsys: pytest.CaptureFixture[str], served: Served
) -> None:
    argv = ["send", "gather", "--platform", "twilio", "--url", served.url, "--secret", SECRET, "--tag", "main-menu"]
    code, out, _ = run_cli(capsys, *argv, "--auth-token", AUTH_TOKEN, "Digits=7")
    assert code == 0, out
    [event] = served.received
    assert (event.kind, event.tag, event.digits, event.context) == ("gather", "main-menu", "7", {})
    assert event.call_sid.startswith("CA") and event.call_status == "in-progress"
    # Signed with another auth token, Twilio's signature does not verify.
    code, out, _ = run_cli(capsys, *argv, "--auth-token", "not-the-account-token", "Digits=8")
    assert code == 1 and "403" in out and "signature" in out
    assert len(served.received) == 1


def test_send_twilio_needs_an_auth_token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    argv = ["send", "call", "--platform", "twilio", "--url", "http://127.0.0.1:9", "--secret", SECRET]
    code, _, err = run_cli(capsys, *argv)
    assert_usage_error(code, err, "TWILIO_AUTH_TOKEN")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["send", "answer", "--platform", "plivo", "--url", "http://x"], ["--platform", "plivo"]),
        (["sign-url", "--platform", "catapult2"], ["--platform", "catapult2"]),
        (["replay", "f.json", "--url", "http://x", "--platform", "v3"], ["--platform", "v3"]),
        (["send", "answered", "--platform", "bandwidth", "--url", "http://x", "--secret", SECRET], ["answered"]),
        (["send", "gathr", "--platform", "twilio", "--url", "http://x", "--secret", SECRET], ["unknown kind"]),
        (
            ["send", "answer", "--platform", "bandwidth", "--url", "http://x", "--secret", SECRET, "--tag", "t"],
            ["--tag"],
        ),
        (["sign-url", "--kind", "gather"], ["--kind", "Twilio"]),
        (["sign-url", "--platform", "twilio", "--kind", "gathr"], ["unknown kind"]),
    ],
)
def test_a_bad_platform_flag_or_value_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], words: list[str]
) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", SECRET)
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://calls.example.com/hooks")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    code, _, err = run_cli(capsys, *argv)
    assert_usage_error(code, err, *words)


@pytest.mark.parametrize("platform", ["catapult", "bandwidth", "twilio"])
def test_sign_url_signs_for_the_platforms_receiver(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", SECRET)
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://calls.example.com/hooks")
    monkeypatch.setenv("CALLHOOKS_BASIC_AUTH", "platform:pw")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)  # signing a URL needs no Twilio auth token
    extra = ["--kind", "gather", "--tag", "main-menu"] if platform == "twilio" else []
    code, out, _ = run_cli(capsys, "sign-url", "--platform", platform, "--context", '{"order": 7}', *extra)
    assert code == 0
    url = out.strip()
    assert url.startswith("https://")
    # Catapult's and Twilio's credentials travel in the URL; Bandwidth v2's beside it (username/password).
    assert ("platform:pw@" in url) == (platform != "bandwidth")
    signer = CallHooks(secret=SECRET, store=None).signer
    assert signer is not None
    signed = signer.verify(url.rsplit("/", 1)[1])
    route = {"@kind": "gather", "@tag": "main-menu"} if extra else {}
    assert signed == {"order": 7, **route}


@pytest.mark.parametrize("served", ["twilio"], indirect=True)
def test_replay_twilio_replays_a_recorded_call_with_its_kinds_and_signatures(
    capsys: pytest.CaptureFixture[str], served: Served, tmp_path: Path
) -> None:
    # Record two requests of a call as a Twilio receiver saw them, then replay the fixture to it.
    form = "CallSid=CA0123&AccountSid=AC0123&CallStatus=in-progress&From=%2B19195551212&To=%2B19195550100"
    records = []
    for kind, tag, body in (("call", None, form), ("gather", "main-menu", form + "&Digits=5")):
        event = served.hooks.platform.parse(_delivery(body, kind, tag)).with_context({"order": 7})
        records.append(
            (float(len(records)), "POST", body, recorded_context(event), 200, "application/x-www-form-urlencoded")
        )
    fixture = tmp_path / "call.json"
    fixture.write_text(dump_fixture(build_fixture("CA0123", records)))
    argv = ["replay", str(fixture), "--platform", "twilio", "--url", served.url, "--secret", SECRET]
    code, out, _ = run_cli(capsys, *argv, "--auth-token", AUTH_TOKEN, "--timing", "compressed")
    assert code == 0, out
    assert "POST call -> 200" in out and "POST gather -> 200" in out
    assert [(e.kind, e.tag, e.context) for e in served.received] == [
        ("call", None, {"order": 7}),
        ("gather", "main-menu", {"order": 7}),
    ]


@pytest.mark.parametrize("served", ["bandwidth"], indirect=True)
def test_replay_bandwidth_sends_the_credentials_in_a_header(
    capsys: pytest.CaptureFixture[str], served: Served, tmp_path: Path
) -> None:
    body = json.dumps({"eventType": "answer", "callId": "c-1", "accountId": "9900000", "direction": "inbound"})
    fixture = tmp_path / "call.json"
    fixture.write_text(dump_fixture(build_fixture("c-1", [(0.0, "POST", body, None, 200)])))
    argv = ["replay", str(fixture), "--platform", "bandwidth", "--url", served.url, "--secret", SECRET]
    code, out, _ = run_cli(capsys, *argv, "--basic-auth", "platform:pw")
    assert code == 0, out
    [event] = served.received
    assert (event.event_type, event.call_id) == ("answer", "c-1")


def _delivery(body: str, kind: str, tag: str | None) -> Any:
    from urllib.parse import parse_qsl

    from callhooks.platform import Delivery

    return Delivery(dict(parse_qsl(body)), kind=kind, tag=tag)
