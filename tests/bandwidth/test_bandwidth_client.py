"""The Bandwidth v2 client's credentials, OAuth token cache, errors, retries and pairing, over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest

from callhooks import CallHooks
from callhooks.bandwidth.client import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    AsyncClient,
    AuthenticationError,
    BandwidthError,
    Client,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
)
from callhooks.client import PlatformUnreachableError, RetryPolicy
from callhooks.testing.server import free_port
from tests.bandwidth.documented import (
    ACCOUNT,
    APPLICATION,
    BASIC,
    CALL,
    CLIENT_ID,
    CLIENT_SECRET,
    CREATED,
    PASSWORD,
    PREFIX,
    TOKEN_BASIC,
    TOKEN_PATH,
    USERNAME,
    call_state,
    error,
)
from tests.client.recorder import FAST_RETRY, Platform, Reply, Seen

pytestmark = pytest.mark.timeout(60)


def oauth(platform: Platform, **options: Any) -> dict[str, Any]:
    """Constructor arguments for OAuth2 credentials against the recording server."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "base_url": f"{platform.url}/api/v2",
        "token_url": f"{platform.url}{TOKEN_PATH}",
        "retry": FAST_RETRY,
        **options,
    }


def basic(platform: Platform, **options: Any) -> dict[str, Any]:
    return {
        "username": USERNAME,
        "password": PASSWORD,
        "base_url": f"{platform.url}/api/v2",
        "retry": FAST_RETRY,
        **options,
    }


def token(value: str, expires_in: Any = 3600) -> Reply:
    return Reply(json={"access_token": value, "expires_in": expires_in, "token_type": "Bearer"})


class TokenServer:
    """Answers the token endpoint with a new token each time (``T1``, ``T2``, ...), and the API with ``api``."""

    def __init__(self, api: Callable[[Seen, str], Reply]) -> None:
        self.api = api
        self.issued = 0
        self._lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        if seen.path == TOKEN_PATH:
            with self._lock:
                self.issued += 1
                return token(f"T{self.issued}")
        return self.api(seen, seen.headers.get("authorization", ""))


def serving(platform: Platform, server: TokenServer, count: int) -> None:
    platform.reply(*[server] * count)


# --- OAuth2 ---------------------------------------------------------------------------------------------


def test_the_token_request_and_the_bearer(platform: Platform) -> None:
    platform.reply(token("tok-1"), Reply(json=call_state()), Reply(json=call_state()))
    with Client(ACCOUNT, **oauth(platform)) as client:
        client.calls.get(CALL)
        client.calls.get(CALL)  # the cached token: no second token request
    fetch, first, second = platform.seen
    assert (fetch.method, fetch.path) == ("POST", TOKEN_PATH)
    assert fetch.headers["authorization"] == TOKEN_BASIC
    assert fetch.headers["content-type"] == "application/x-www-form-urlencoded"
    assert fetch.body == b"grant_type=client_credentials"
    assert [first.path, second.path] == [f"{PREFIX}/calls/{CALL}"] * 2
    assert first.headers["authorization"] == second.headers["authorization"] == "Bearer tok-1"


@pytest.mark.parametrize("expires_in", [60, 30])
def test_a_token_is_not_used_in_its_last_minute(platform: Platform, expires_in: int) -> None:
    platform.reply(token("a", expires_in), Reply(json=call_state()), token("b", expires_in), Reply(json=call_state()))
    with Client(ACCOUNT, **oauth(platform)) as client:
        client.calls.get(CALL)
        client.calls.get(CALL)
    assert [seen.path for seen in platform.seen] == [TOKEN_PATH, f"{PREFIX}/calls/{CALL}"] * 2
    assert platform.seen[3].headers["authorization"] == "Bearer b"


@pytest.mark.parametrize("expires_in", [None, 0, -5, "soon"])
def test_a_missing_or_unusable_lifetime_is_an_hour(platform: Platform, expires_in: Any) -> None:
    platform.reply(token("a", expires_in), Reply(json=call_state()), Reply(json=call_state()))
    with Client(ACCOUNT, **oauth(platform)) as client:
        client.calls.get(CALL)
        client.calls.get(CALL)
    assert [seen.path for seen in platform.seen].count(TOKEN_PATH) == 1


def test_a_401_fetches_one_new_token_and_sends_again(platform: Platform) -> None:
    refused = Reply(401, json=error("authentication-error", "The credentials provided were invalid"))
    platform.reply(token("old"), refused, token("new"), Reply(json=call_state()))
    with Client(ACCOUNT, **oauth(platform)) as client:
        assert client.calls.get(CALL).call_id == CALL
    assert [seen.headers["authorization"] for seen in platform.seen] == [
        TOKEN_BASIC,
        "Bearer old",
        TOKEN_BASIC,
        "Bearer new",
    ]


def test_a_second_401_is_an_authentication_error_after_one_refresh(platform: Platform) -> None:
    refused = Reply(401, json=error("authentication-error", "The credentials provided were invalid"))
    platform.reply(token("old"), refused, token("new"), refused)
    with Client(ACCOUNT, **oauth(platform)) as client, pytest.raises(AuthenticationError) as caught:
        client.calls.get(CALL)
    assert len(platform.seen) == 4
    assert caught.value.type == "authentication-error"
    assert "credentials provided were invalid" in str(caught.value)


def test_a_refused_token_request_is_an_authentication_error(platform: Platform) -> None:
    platform.reply(Reply(401, json={"error": "invalid_client", "error_description": "Bad client credentials"}))
    with Client(ACCOUNT, **oauth(platform)) as client, pytest.raises(AuthenticationError) as caught:
        client.calls.get(CALL)
    assert [seen.path for seen in platform.seen] == [TOKEN_PATH]
    assert caught.value.path == TOKEN_PATH and caught.value.type == "invalid_client"
    assert CLIENT_SECRET not in str(caught.value)


def test_an_answer_without_a_token_is_an_authentication_error(platform: Platform) -> None:
    platform.reply(Reply(200, json={"token_type": "Bearer"}))
    with Client(ACCOUNT, **oauth(platform)) as client, pytest.raises(AuthenticationError, match="no access_token"):
        client.calls.get(CALL)


def _api_refusing(refused_token: str) -> Callable[[Seen, str], Reply]:
    def api(seen: Seen, authorization: str) -> Reply:
        if authorization == f"Bearer {refused_token}":
            return Reply(401, json=error("authentication-error", "expired"))
        return Reply(json=call_state())

    return api


def test_concurrent_requests_share_one_token_and_one_refresh_threads(platform: Platform) -> None:
    server = TokenServer(_api_refusing("T1"))
    serving(platform, server, 40)
    with Client(ACCOUNT, **oauth(platform)) as client, ThreadPoolExecutor(8) as pool:
        states = list(pool.map(lambda _: client.calls.get(CALL), range(8)))
    assert len(states) == 8
    # T1 is fetched once by whoever came first; every 401 with T1 is answered by one refresh, T2.
    assert server.issued == 2


def test_concurrent_requests_share_one_token_and_one_refresh_tasks(platform: Platform) -> None:
    server = TokenServer(_api_refusing("T1"))
    serving(platform, server, 40)

    async def main() -> list[Any]:
        results: list[Any] = []
        async with AsyncClient(ACCOUNT, **oauth(platform)) as client:

            async def get() -> None:
                results.append(await client.calls.get(CALL))

            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(get)
        return results

    assert len(anyio.run(main)) == 8
    assert server.issued == 2


def test_the_token_request_is_the_sdks(platform: Platform) -> None:
    """bandwidth-sdk's own token request, sent to the recording server, is the one this client sends."""
    from bandwidth import Configuration

    platform.reply(token("sdk"), token("ours"), Reply(json=call_state()))
    sdk = Configuration(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, access_token_url=f"{platform.url}{TOKEN_PATH}"
    )
    assert sdk.get_access_token() == "sdk"
    with Client(ACCOUNT, **oauth(platform)) as client:
        client.calls.get(CALL)
    theirs, ours = platform.seen[0], platform.seen[1]
    assert (ours.method, ours.path, ours.body) == (theirs.method, theirs.path, theirs.body)
    for name in ("authorization", "content-type"):
        assert ours.headers[name] == theirs.headers[name]


def test_legacy_api_users_use_basic(platform: Platform) -> None:
    platform.reply(Reply(json=call_state()))
    with Client(ACCOUNT, **basic(platform)) as client:
        client.calls.get(CALL)
    [seen] = platform.seen
    assert seen.headers["authorization"] == BASIC


# --- settings -------------------------------------------------------------------------------------------


def test_defaults_are_the_real_v2_hosts() -> None:
    with Client(ACCOUNT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, environ={}) as client:
        assert client.settings.base_url == DEFAULT_BASE_URL == "https://voice.bandwidth.com/api/v2"
        assert client.settings.token_url == DEFAULT_TOKEN_URL == "https://api.bandwidth.com/api/v1/oauth2/token"
        assert CLIENT_SECRET not in repr(client.settings) and CLIENT_SECRET not in repr(client)


def test_from_env_reads_bandwidth_variables(platform: Platform) -> None:
    environ = {
        "BANDWIDTH_ACCOUNT_ID": "5550000",
        "BANDWIDTH_CLIENT_ID": CLIENT_ID,
        "BANDWIDTH_CLIENT_SECRET": CLIENT_SECRET,
        "BANDWIDTH_BASE_URL": f"{platform.url}/api/v2",
        "BANDWIDTH_TOKEN_URL": f"{platform.url}{TOKEN_PATH}",
    }
    platform.reply(token("env"), Reply(json=call_state()))
    with Client.from_env(environ, retry=FAST_RETRY) as client:
        client.calls.get(CALL)
    assert platform.seen[0].headers["authorization"] == TOKEN_BASIC
    assert platform.seen[1].path == f"/api/v2/accounts/5550000/calls/{CALL}"


def test_from_env_reads_os_environ_and_basic_credentials(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "BANDWIDTH_ACCOUNT_ID": ACCOUNT,
        "BANDWIDTH_USERNAME": USERNAME,
        "BANDWIDTH_PASSWORD": PASSWORD,
        "BANDWIDTH_BASE_URL": f"{platform.url}/api/v2",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("BANDWIDTH_CLIENT_ID", "BANDWIDTH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    platform.reply(Reply(json=call_state()))
    with Client.from_env() as client:
        client.calls.get(CALL)
    assert platform.seen[0].headers["authorization"] == BASIC


def test_arguments_win_over_the_environment(platform: Platform) -> None:
    environ = {"BANDWIDTH_CLIENT_ID": "env-id", "BANDWIDTH_CLIENT_SECRET": "env-secret"}
    platform.reply(Reply(json=call_state()))
    with Client(ACCOUNT, environ=environ, **basic(platform)) as client:
        client.calls.get(CALL)
    assert platform.seen[0].headers["authorization"] == BASIC


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "BANDWIDTH_ACCOUNT_ID"),
        ({"account_id": ACCOUNT}, "BANDWIDTH_CLIENT_ID"),
        ({"account_id": ACCOUNT, "client_id": CLIENT_ID}, "BANDWIDTH_CLIENT_SECRET"),
        ({"account_id": ACCOUNT, "username": USERNAME}, "BANDWIDTH_PASSWORD"),
    ],
)
def test_missing_credentials_name_their_variables(given: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Client(environ={}, **given)


# --- errors and retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, error("validation", "Invalid to: must be an E164 telephone number"), BandwidthError),
        (403, error("authorization-error", "Access is denied"), ForbiddenError),
        (404, error("validation", f"Call [{CALL}] not found", "e-1"), NotFoundError),
        (409, error("validation", f"Call [{CALL}] cannot be modified in its current state", ""), ConflictError),
    ],
)
def test_errors_are_typed_from_the_v2_body(
    platform: Platform, status: int, body: dict[str, Any], kind: type[BandwidthError]
) -> None:
    platform.reply(Reply(status, json=body))
    with Client(ACCOUNT, **basic(platform)) as client, pytest.raises(kind) as caught:
        client.calls.redirect(CALL, "https://app.example/r")
    assert type(caught.value) is kind
    assert (caught.value.status, caught.value.type, caught.value.description) == (
        status,
        body["type"],
        body["description"],
    )
    assert caught.value.error_id == (body["id"] or None)
    assert str(caught.value) == f"POST {PREFIX}/calls/{CALL}: {status} {body['type']}: {body['description']}"


def test_a_429_on_create_is_a_rate_limit_error_and_not_retried(platform: Platform) -> None:
    limited = Reply(
        429,
        json={"type": "error", "description": "Account call creation rate limit exceeded", "id": ""},
        headers={"Retry-After": "2"},
    )
    platform.reply(limited)
    with Client(ACCOUNT, **basic(platform)) as client, pytest.raises(RateLimitError) as caught:
        client.calls.create("+19195554321", "+19195551234", APPLICATION, answer_url="https://app.example/a")
    assert len(platform.seen) == 1
    assert caught.value.reset_at is not None


def test_a_429_on_a_read_waits_for_retry_after_then_retries(platform: Platform) -> None:
    platform.reply(Reply(429, json=error("error", "slow down"), headers={"Retry-After": "0"}), Reply(json=call_state()))
    with Client(ACCOUNT, **basic(platform)) as client:
        assert client.calls.get(CALL).call_id == CALL
    assert len(platform.seen) == 2


@pytest.mark.parametrize(
    ("name", "action", "tries"),
    [
        ("get", lambda c: c.calls.get(CALL), 2),
        ("hangup", lambda c: c.calls.hangup(CALL), 2),
        ("delete recording", lambda c: c.recordings.delete(CALL, "r-1"), 2),
        (
            "create",
            lambda c: c.calls.create("+19195554321", "+19195551234", APPLICATION, answer_url="https://a.example/a"),
            1,
        ),
        ("redirect", lambda c: c.calls.redirect(CALL, "https://a.example/r"), 1),
        ("replace bxml", lambda c: c.calls.replace_bxml(CALL, "<Bxml/>"), 1),
    ],
)
def test_what_is_retried_after_a_503(
    platform: Platform, name: str, action: Callable[[Client], Any], tries: int
) -> None:
    unavailable = Reply(503, json=error("system-overloaded", "Managing too many concurrent calls"))
    platform.reply(
        unavailable, Reply(201 if name == "create" else 200, json=CREATED if name == "create" else call_state())
    )
    with Client(ACCOUNT, **basic(platform)) as client:
        if tries == 1:
            with pytest.raises(BandwidthError):
                action(client)
        else:
            action(client)
    assert len(platform.seen) == tries


def test_create_is_not_retried_after_a_read_timeout(platform: Platform) -> None:
    platform.reply(Reply(201, json=CREATED, delay=0.5))
    with Client(ACCOUNT, **basic(platform, timeout=0.1)) as client, pytest.raises(httpx.ReadTimeout):
        client.calls.create("+19195554321", "+19195551234", APPLICATION, answer_url="https://app.example/a")
    assert len(platform.seen) == 1


class CountingTransport(httpx.HTTPTransport):
    attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return super().handle_request(request)


def test_a_platform_that_is_down_is_a_typed_error_naming_the_host_after_the_retries() -> None:
    transport = CountingTransport()
    port = free_port()
    options = {"username": USERNAME, "password": PASSWORD, "retry": FAST_RETRY, "transport": transport}
    with (
        Client(ACCOUNT, base_url=f"http://127.0.0.1:{port}/api/v2", **options) as client,
        pytest.raises(PlatformUnreachableError) as caught,
    ):
        client.calls.create("+19195554321", "+19195551234", APPLICATION, answer_url="https://app.example/a")
    assert caught.value.host == f"127.0.0.1:{port}"
    assert transport.attempts == FAST_RETRY.attempts  # never connected, so even a create is tried again


def test_an_unreachable_token_endpoint_is_named(platform: Platform) -> None:
    port = free_port()
    options = oauth(platform, token_url=f"http://127.0.0.1:{port}{TOKEN_PATH}", retry=RetryPolicy(attempts=1))
    with Client(ACCOUNT, **options) as client, pytest.raises(PlatformUnreachableError, match=f"127.0.0.1:{port}"):
        client.calls.get(CALL)
    assert platform.seen == []


# --- pairing --------------------------------------------------------------------------------------------


def receiver() -> CallHooks:
    return CallHooks(secret="change-me", public_url="https://calls.example.com/hooks", callback_http_method="POST")


def test_create_paired_points_every_callback_at_the_receiver_signed(platform: Platform) -> None:
    hooks = receiver()
    platform.reply(Reply(201, json=CREATED))
    with Client(ACCOUNT, hooks=hooks, **basic(platform)) as client:
        client.calls.create(
            "+19195554321", "+19195551234", APPLICATION, context={"order": 42}, machine_detection={"mode": "async"}
        )
    body = platform.seen[0].json
    url = body["answerUrl"]
    assert url.startswith("https://calls.example.com/hooks/")
    assert body["disconnectUrl"] == body["machineDetection"]["callbackUrl"] == url
    assert body["answerMethod"] == body["disconnectMethod"] == body["machineDetection"]["callbackMethod"] == "POST"
    assert hooks.verify_callback_url(url) == {"order": 42}


def test_given_urls_win_and_context_needs_a_receiver(platform: Platform) -> None:
    hooks = receiver()
    platform.reply(Reply(201, json=CREATED))
    with Client(ACCOUNT, hooks=hooks, **basic(platform)) as client:
        client.calls.create("+19195554321", "+19195551234", APPLICATION, answer_url="https://mine.example/answer")
        with pytest.raises(ValueError, match="not both"):
            client.calls.create(
                "+19195554321",
                "+19195551234",
                APPLICATION,
                context={"a": 1},
                answer_url="https://mine.example/answer",
                disconnect_url="https://mine.example/disconnect",
            )
    body = platform.seen[0].json
    assert body["answerUrl"] == "https://mine.example/answer"
    assert hooks.verify_callback_url(body["disconnectUrl"]) == {}
    with Client(ACCOUNT, **basic(platform)) as client:
        with pytest.raises(ValueError, match="hooks="):
            client.calls.create("+19195554321", "+19195551234", APPLICATION, context={"a": 1})
        with pytest.raises(ValueError, match="answer_url is required"):
            client.calls.create("+19195554321", "+19195551234", APPLICATION)
    assert len(platform.seen) == 1


def test_redirect_and_transcribe_paired(platform: Platform) -> None:
    hooks = receiver()
    platform.reply(Reply(200), Reply(204))
    with Client(ACCOUNT, hooks=hooks, **basic(platform)) as client:
        client.calls.bind(CALL).redirect(context={"menu": "main"})
        client.recordings.transcribe(CALL, "r-1", context={"keep": True})
    redirect, transcribe = (seen.json for seen in platform.seen)
    assert redirect["state"] == "active" and redirect["redirectMethod"] == "POST"
    assert hooks.verify_callback_url(redirect["redirectUrl"]) == {"menu": "main"}
    assert hooks.verify_callback_url(transcribe["callbackUrl"]) == {"keep": True}


def test_attach_client_gives_handlers_bandwidth_handles() -> None:
    hooks = receiver()
    with Client(ACCOUNT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, environ={}) as client:
        assert hooks.attach_client(client) is client
        assert repr(client.calls.bind(CALL)) == f"CallHandle({CALL!r})"


# --- checked before sending -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"callback_timeout": 30},
        {"call_timeout": 0.5},
        {"priority": 6},
        {"tag": "x" * 4097},
        {"answer_method": "PUT"},
        {"machine_detection": {"mode": "sometimes"}},
        {"no_such_option": 1},
    ],
)
def test_bad_values_are_refused_before_sending(platform: Platform, options: dict[str, Any]) -> None:
    with Client(ACCOUNT, **basic(platform)) as client, pytest.raises(ValueError):
        client.calls.create("+19195554321", "+19195551234", APPLICATION, answer_url="https://a.example/a", **options)
    assert platform.seen == []


def _as_sent(read_back: Any, sent: Any) -> Any:
    """``read_back`` (the SDK's serialisation, with its defaults) cut down to the keys that were ``sent``."""
    if isinstance(sent, dict):
        return {name: _as_sent(read_back.get(name), value) for name, value in sent.items()}
    return read_back


@pytest.fixture
def sdk_models() -> Iterator[Any]:
    import bandwidth.models

    yield bandwidth.models


def test_request_bodies_are_what_the_sdk_models_accept(platform: Platform, sdk_models: Any) -> None:
    """bandwidth-sdk's request models read every body this client sends, with no unknown field left over."""
    platform.reply(Reply(201, json=CREATED), *[Reply(200)] * 6)
    with Client(ACCOUNT, **basic(platform)) as client:
        client.calls.create(
            "+19195554321",
            "+19195551234",
            APPLICATION,
            answer_url="https://app.example/a",
            answer_method="GET",
            disconnect_url="https://app.example/d",
            call_timeout=12.5,
            callback_timeout=7,
            priority=2,
            tag="t",
            privacy=True,
            display_name="Anonymous",
            machine_detection={
                "mode": "sync",
                "detection_timeout": 10,
                "delay_result": True,
                "callback_url": "https://app.example/m",
            },
        )
        client.calls.redirect(CALL, "https://app.example/r", redirect_method="POST", tag="x")
        client.calls.hangup(CALL)
        client.calls.pause_recording(CALL)
        client.recordings.transcribe(CALL, "r-1", callback_url="https://app.example/t", detect_language=True)
        client.conferences.redirect("conf-1", "https://app.example/c")
        client.conferences.update_member("conf-1", CALL, mute=True, hold=False, call_ids_to_coach=["c-2"])
    models = [
        sdk_models.CreateCall,
        sdk_models.UpdateCall,
        sdk_models.UpdateCall,
        sdk_models.UpdateCallRecording,
        sdk_models.TranscribeRecording,
        sdk_models.UpdateConference,
        sdk_models.UpdateConferenceMember,
    ]
    for seen, model in zip(platform.seen, models, strict=True):
        parsed = model.from_dict(seen.json)
        assert parsed.additional_properties == {}, model.__name__
        assert _as_sent(json.loads(parsed.to_json()), seen.json) == seen.json, model.__name__
    detection = sdk_models.CreateCall.from_dict(platform.seen[0].json).machine_detection
    assert detection.additional_properties == {}
