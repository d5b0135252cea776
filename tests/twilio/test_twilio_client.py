"""The Twilio client's credentials, errors, retries and pairing over real HTTP, and twilio-python as the
oracle of what a request must be."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from callhooks import CallHooks
from callhooks.client import PlatformError, PlatformUnreachableError
from callhooks.testing.server import free_port
from callhooks.twilio.client import (
    DEFAULT_BASE_URL,
    AsyncClient,
    AuthenticationError,
    Client,
    NotFoundError,
    RateLimitError,
    TwilioError,
)
from tests.client.recorder import FAST_RETRY, Platform, Reply, Seen
from tests.twilio.documented import (
    ACCOUNT,
    API_KEY,
    API_SECRET,
    BASIC,
    CALL,
    PREFIX,
    TOKEN,
    TWIML,
    call_json,
    error,
)

pytestmark = pytest.mark.timeout(60)


def local(platform: Platform, **options: Any) -> dict[str, Any]:
    return {"base_url": f"{platform.url}/2010-04-01", "retry": FAST_RETRY, **options}


def form_of(seen: Seen) -> list[tuple[str, str]]:
    return parse_qsl(seen.body.decode(), keep_blank_values=True)


# --- credentials and settings ---------------------------------------------------------------------------


def test_an_api_key_and_secret_authenticate_with_the_account_in_the_path(platform: Platform) -> None:
    platform.reply(Reply(json=call_json()))
    with Client(ACCOUNT, api_key=API_KEY, api_secret=API_SECRET, environ={}, **local(platform)) as client:
        client.calls.get(CALL)
    [seen] = platform.seen
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    assert seen.path == f"{PREFIX}/Calls/{CALL}.json"


def test_defaults_are_the_real_api() -> None:
    with Client(ACCOUNT, TOKEN, environ={}) as client:
        assert client.settings.base_url == DEFAULT_BASE_URL == "https://api.twilio.com/2010-04-01"
        assert TOKEN not in repr(client.settings) and TOKEN not in repr(client)


@pytest.mark.parametrize(
    ("edge", "region", "url"),
    [
        ("sydney", None, "https://api.sydney.us1.twilio.com/2010-04-01"),
        ("dublin", "ie1", "https://api.dublin.ie1.twilio.com/2010-04-01"),
        (None, "ie1", "https://api.ie1.twilio.com/2010-04-01"),
    ],
)
def test_edge_and_region_move_the_api_as_twilio_python_does(edge: str | None, region: str | None, url: str) -> None:
    from twilio.rest import Client as Sdk

    environ = {name: value for name, value in (("TWILIO_EDGE", edge), ("TWILIO_REGION", region)) if value}
    with Client.from_env({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, **environ}) as client:
        assert client.settings.base_url == url
    sdk = Sdk(ACCOUNT, TOKEN, edge=edge, region=region)
    assert sdk.get_hostname("https://api.twilio.com/2010-04-01") == url


def test_from_env_reads_twilio_variables(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TWILIO_BASE_URL", f"{platform.url}/2010-04-01")
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_EDGE", "TWILIO_REGION"):
        monkeypatch.delenv(name, raising=False)
    platform.reply(Reply(json=call_json()))
    with Client.from_env(retry=FAST_RETRY) as client:
        client.calls.get(CALL)
    assert platform.seen[0].headers["authorization"] == BASIC


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "TWILIO_ACCOUNT_SID"),
        ({"account_sid": ACCOUNT}, "TWILIO_AUTH_TOKEN"),
        ({"account_sid": ACCOUNT, "api_key": API_KEY}, "TWILIO_API_SECRET"),
    ],
)
def test_missing_credentials_name_their_variables(given: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Client(environ={}, **given)


# --- errors and retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(401, 20003, AuthenticationError), (404, 20404, NotFoundError), (400, 21220, TwilioError)],
)
def test_errors_are_typed_with_code_message_more_info_status(
    platform: Platform, status: int, code: int, kind: type[TwilioError]
) -> None:
    platform.reply(Reply(status, json=error(code, "Call is not in-progress. Cannot redirect.", status)))
    with Client(ACCOUNT, TOKEN, **local(platform)) as client, pytest.raises(kind) as caught:
        client.calls.redirect(CALL, "https://app.example/next")
    failure = caught.value
    assert type(failure) is kind
    assert (failure.status, failure.code, failure.more_info) == (
        status,
        code,
        f"https://www.twilio.com/docs/errors/{code}",
    )
    assert failure.message == "Call is not in-progress. Cannot redirect."
    assert (
        str(failure) == f"POST {PREFIX}/Calls/{CALL}.json: {status} {code}: Call is not in-progress. Cannot redirect."
    )
    assert TOKEN not in str(failure)


def test_a_non_json_error_keeps_its_text(platform: Platform) -> None:
    platform.reply(Reply(502, text="Bad Gateway"), Reply(502, text="Bad Gateway"), Reply(502, text="Bad Gateway"))
    with Client(ACCOUNT, TOKEN, **local(platform)) as client, pytest.raises(TwilioError) as caught:
        client.calls.get(CALL)
    assert (caught.value.status, caught.value.code, caught.value.message) == (502, None, "Bad Gateway")
    assert len(platform.seen) == FAST_RETRY.attempts


def test_a_429_on_create_is_raised_not_retried(platform: Platform) -> None:
    platform.reply(Reply(429, json=error(20429, "Too Many Requests", 429)))
    with Client(ACCOUNT, TOKEN, **local(platform)) as client, pytest.raises(RateLimitError):
        client.calls.create("+14155551212", "+15017122661", url="https://app.example/voice")
    assert len(platform.seen) == 1


@pytest.mark.parametrize(
    ("name", "action", "tries"),
    [
        ("get", lambda c: c.calls.get(CALL), 2),
        ("list", lambda c: list(c.calls.list()), 2),
        ("hangup", lambda c: c.calls.hangup(CALL), 2),
        ("delete", lambda c: c.recordings.delete("RE1"), 2),
        ("create", lambda c: c.calls.create("+14155551212", "+15017122661", twiml=TWIML), 1),
        ("redirect", lambda c: c.calls.redirect(CALL, "https://app.example/next"), 1),
    ],
)
def test_what_is_retried_after_a_429(
    platform: Platform, name: str, action: Callable[[Client], Any], tries: int
) -> None:
    ok = Reply(json={"calls": [], "next_page_uri": None}) if name == "list" else Reply(200, json=call_json())
    platform.reply(Reply(429, json=error(20429, "Too Many Requests", 429)), ok)
    with Client(ACCOUNT, TOKEN, **local(platform)) as client:
        if tries == 1:
            with pytest.raises(RateLimitError):
                action(client)
        else:
            action(client)
    assert len(platform.seen) == tries


def test_create_is_not_retried_after_a_read_timeout(platform: Platform) -> None:
    platform.reply(Reply(201, json=call_json(), delay=0.5))
    with Client(ACCOUNT, TOKEN, **local(platform, timeout=0.1)) as client, pytest.raises(httpx.ReadTimeout):
        client.calls.create("+14155551212", "+15017122661", twiml=TWIML)
    assert len(platform.seen) == 1


def test_a_next_page_on_another_origin_is_refused(platform: Platform) -> None:
    platform.reply(Reply(json={"calls": [call_json()], "next_page_uri": "https://elsewhere.example/2010-04-01/x.json"}))
    with Client(ACCOUNT, TOKEN, **local(platform)) as client, pytest.raises(PlatformError, match="another origin"):
        list(client.calls.list())


@pytest.mark.anyio
async def test_a_platform_that_is_down_is_a_typed_error_naming_the_host() -> None:
    port = free_port()
    async with AsyncClient(ACCOUNT, TOKEN, base_url=f"http://127.0.0.1:{port}/2010-04-01", retry=FAST_RETRY) as client:
        with pytest.raises(PlatformUnreachableError) as caught:
            await client.calls.create("+14155551212", "+15017122661", twiml=TWIML)
    assert caught.value.host == f"127.0.0.1:{port}"


# --- pairing --------------------------------------------------------------------------------------------


def receiver() -> CallHooks:
    return CallHooks(secret="change-me", public_url="https://calls.example.com/hooks", callback_http_method="POST")


def test_create_paired_runs_and_reports_to_the_receiver_signed(platform: Platform) -> None:
    hooks = receiver()
    platform.reply(Reply(201, json=call_json()))
    with Client(ACCOUNT, TOKEN, hooks=hooks, **local(platform)) as client:
        client.calls.create("+14155551212", "+15017122661", context={"order": 7})
    sent = form_of(platform.seen[0])
    url, status = dict(sent)["Url"], dict(sent)["StatusCallback"]
    assert url.startswith("https://calls.example.com/hooks/")
    # Each URL names the kind of request it receives (signed, as the context is): the TwiML, the progress.
    assert hooks.verify_callback_url(url) == hooks.verify_callback_url(status) == {"order": 7}
    assert url != status
    assert sent == [
        ("To", "+14155551212"),
        ("From", "+15017122661"),
        ("Url", url),
        ("Method", "POST"),
        ("StatusCallback", status),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
    ]


def test_paired_twiml_still_reports_to_the_receiver_and_given_values_win(platform: Platform) -> None:
    hooks = receiver()
    platform.reply(Reply(201, json=call_json()), Reply(201, json=call_json()))
    with Client(ACCOUNT, TOKEN, hooks=hooks, **local(platform)) as client:
        client.calls.create("+14155551212", "+15017122661", twiml=TWIML)
        client.calls.create(
            "+14155551212", "+15017122661", url="https://mine.example/v", status_callback_event=["completed"]
        )
    first, second = (dict(form_of(seen)) for seen in platform.seen)
    assert "Url" not in first and first["Twiml"] == TWIML
    assert hooks.verify_callback_url(first["StatusCallback"]) == {}
    assert second["Url"] == "https://mine.example/v"
    assert [value for name, value in form_of(platform.seen[1]) if name == "StatusCallbackEvent"] == ["completed"]


def test_context_and_sources_are_checked_before_sending(platform: Platform) -> None:
    with Client(ACCOUNT, TOKEN, **local(platform)) as client:
        with pytest.raises(ValueError, match="url, twiml or application_sid"):
            client.calls.create("+14155551212", "+15017122661")
        with pytest.raises(ValueError, match="not url and twiml"):
            client.calls.create("+14155551212", "+15017122661", url="https://a.example", twiml=TWIML)
        with pytest.raises(ValueError, match="hooks="):
            client.calls.create("+14155551212", "+15017122661", twiml=TWIML, context={"a": 1})
        with pytest.raises(ValueError):
            client.calls.create("+14155551212", "+15017122661", twiml="x" * 4001)
        with pytest.raises(ValueError):
            client.calls.create("+14155551212", "+15017122661", twiml=TWIML, status_callback_event=["hung-up"])
        with pytest.raises(ValueError, match="url or twiml"):
            client.calls.redirect(CALL)
    assert platform.seen == []


def test_redirect_paired_points_the_call_at_the_receiver(platform: Platform) -> None:
    hooks = receiver()
    platform.reply(Reply(json=call_json()))
    with Client(ACCOUNT, TOKEN, hooks=hooks, **local(platform)) as client:
        client.calls.bind(CALL).redirect(context={"menu": "main"})
    sent = dict(form_of(platform.seen[0]))
    assert sent["Method"] == "POST"
    assert hooks.verify_callback_url(sent["Url"]) == {"menu": "main"}


def test_attach_client_gives_handlers_twilio_handles() -> None:
    hooks = receiver()
    with Client(ACCOUNT, TOKEN, environ={}) as client:
        assert hooks.attach_client(client) is client


# --- twilio-python as the oracle ------------------------------------------------------------------------


def _sdk(platform: Platform) -> Any:
    from twilio.rest import Client as Sdk

    sdk = Sdk(ACCOUNT, TOKEN)
    sdk.api.base_url = platform.url  # everything else as twilio-python does it
    return sdk


def test_create_sends_the_form_twilio_python_sends(platform: Platform) -> None:
    options = {
        "url": "https://app.example/voice",
        "method": "POST",
        "status_callback": "https://app.example/status",
        "status_callback_event": ["initiated", "ringing", "answered", "completed"],
        "status_callback_method": "POST",
        "timeout": 45,
        "record": True,
        "recording_channels": "dual",
        "machine_detection": "DetectMessageEnd",
        "async_amd": True,
        "send_digits": "1234#",
        "time_limit": 600,
    }
    platform.reply(Reply(201, json=call_json()), Reply(201, json=call_json()))
    # twilio-python types async_amd as the string "true"/"false" (str(True) would send "True").
    sdk_options = {**options, "async_amd": "true"}
    sdk_call = _sdk(platform).calls.create(to="+14155551212", from_="+15017122661", **sdk_options)
    with Client(ACCOUNT, TOKEN, **local(platform)) as client:
        ours = client.calls.create("+14155551212", "+15017122661", **options)
    theirs_seen, ours_seen = platform.seen
    assert (ours_seen.method, ours_seen.path) == (theirs_seen.method, theirs_seen.path)
    assert sorted(form_of(ours_seen)) == sorted(form_of(theirs_seen))
    for name in ("authorization", "content-type"):
        assert ours_seen.headers[name] == theirs_seen.headers[name]
    assert (ours.sid, ours.status, ours.queue_time) == (sdk_call.sid, sdk_call.status, int(sdk_call.queue_time))


def test_update_and_list_send_what_twilio_python_sends(platform: Platform) -> None:
    from datetime import datetime, timezone

    after = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    page = Reply(json={"calls": [call_json()], "next_page_uri": None})
    platform.reply(Reply(json=call_json()), page, Reply(json=call_json()), page)
    sdk = _sdk(platform)
    sdk.calls(CALL).update(twiml=TWIML, status_callback="https://app.example/s")
    sdk.calls.list(status="completed", start_time_after=after, page_size=20)
    with Client(ACCOUNT, TOKEN, **local(platform)) as client:
        client.calls.update(CALL, twiml=TWIML, status_callback="https://app.example/s")
        list(client.calls.list(status="completed", start_time_after=after, page_size=20))
    sdk_update, sdk_list, our_update, our_list = platform.seen
    assert (our_update.method, our_update.path) == (sdk_update.method, sdk_update.path)
    assert sorted(form_of(our_update)) == sorted(form_of(sdk_update))
    assert our_list.path == sdk_list.path
    assert sorted(our_list.query) == sorted(sdk_list.query)
