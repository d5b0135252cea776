"""Authenticity: signed callback tokens (valid, tampered, wrong key, rotated, expired, non-expiring), Basic auth."""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from callhooks import DEFAULT_MAX_AGE, CallbackSigner, CallEvent, CallHooks, TokenError, TokenProblem
from callhooks.signing import check_basic_auth

SECRET = "s3cret-that-must-never-leak"
ANSWER = {"eventType": "answer", "callId": "c-abc123"}


def token_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rpartition("/")[2]


def problem_of(hooks: CallHooks, token: str) -> TokenProblem:
    assert hooks.signer is not None
    with pytest.raises(TokenError) as info:
        hooks.signer.verify(token)
    return info.value.problem


class Recorder:
    """An app with one catch-all handler that records the events it receives."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("secret", SECRET)
        kwargs.setdefault("public_url", "http://testserver")
        self.hooks = CallHooks(**kwargs)
        self.events: list[CallEvent] = []
        self.hooks.add_handler(self.events.append)

    @property
    def client(self) -> TestClient:
        return TestClient(self.hooks)


# -- tokens -----------------------------------------------------------------------------------------------------


def test_valid_token_round_trips_context() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks")
    context = {"order": 4411, "lang": "en", "nested": {"ids": [1, 2]}}
    url = hooks.callback_url(context=context)
    assert url.startswith("https://calls.example.com/hooks/")
    assert hooks.verify_callback_url(url) == context
    assert hooks.verify_callback_url(hooks.callback_url()) == {}


def test_token_does_not_contain_the_secret() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com")
    url = hooks.callback_url(context={"order": 1})
    assert SECRET not in url
    assert SECRET not in base64.urlsafe_b64decode(token_of(url).split(".")[0] + "==").decode("latin-1")


def test_valid_token_through_the_app_attaches_context() -> None:
    app = Recorder()
    url = app.hooks.callback_url(context={"order": 4411})
    response = app.client.post(url, json=ANSWER)
    assert response.status_code == 200
    assert app.events[0].context == {"order": 4411}
    assert app.events[0].call_id == "c-abc123"


def _resign_payload(token: str, change: dict[str, Any]) -> str:
    """Keep the signature but swap in another payload (what an attacker editing the context would do)."""
    payload_b64, signature = token.rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    payload.update(change)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


def test_tampered_payload_is_altered() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://x.example")
    token = token_of(hooks.callback_url(context={"order": 1}))
    forged = _resign_payload(token, {"c": {"order": 2}})
    assert forged != token
    assert problem_of(hooks, forged) is TokenProblem.ALTERED


def test_extended_expiry_is_altered() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://x.example")
    token = token_of(hooks.callback_url(max_age=60))
    assert problem_of(hooks, _resign_payload(token, {"e": 2**40})) is TokenProblem.ALTERED


def test_tampered_signature_is_altered() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://x.example")
    token = token_of(hooks.callback_url(context={"order": 1}))
    # Flip a character whose 6 bits all count: the last of the 27 carries 4 bits of the 20-byte HMAC and 2 of
    # padding, so "A" -> "B" there changes only padding and leaves the signature as it was (1 run in 16).
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert problem_of(hooks, flipped) is TokenProblem.ALTERED
    assert problem_of(hooks, token[:-3]) is TokenProblem.ALTERED


@pytest.mark.parametrize("garbage", ["x", "not.a.token", "....", "%%%", "a" * 300, "eyJrIjoxfQ.AAAA"])
def test_garbage_tokens_are_altered(garbage: str) -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://x.example")
    assert problem_of(hooks, garbage) is TokenProblem.ALTERED


def test_missing_token() -> None:
    hooks = CallHooks(secret=SECRET)
    assert problem_of(hooks, "") is TokenProblem.MISSING


def test_token_signed_with_another_secret_is_unknown_key() -> None:
    ours = CallHooks(secret=SECRET, public_url="https://x.example")
    theirs = CallHooks(secret="another-deployments-secret", public_url="https://x.example")
    assert problem_of(ours, token_of(theirs.callback_url(context={"order": 1}))) is TokenProblem.UNKNOWN_KEY


def test_payload_that_is_not_a_dict_is_altered() -> None:
    serializer = URLSafeSerializer(SECRET, salt="callhooks.callback-url")
    hooks = CallHooks(secret=SECRET)
    assert problem_of(hooks, serializer.dumps([1, 2])) is TokenProblem.ALTERED
    assert problem_of(hooks, serializer.dumps({"k": "x", "c": "not-a-dict"})) is TokenProblem.ALTERED


def test_rotation_old_tokens_verify_new_tokens_signed_by_newest() -> None:
    old = CallHooks(secret="old-key", public_url="https://x.example")
    old_token = token_of(old.callback_url(context={"order": 1}))

    rotated = CallHooks(secret=["old-key", "new-key"], public_url="https://x.example")
    assert rotated.verify_callback_url("https://x.example/" + old_token) == {"order": 1}

    new_token = token_of(rotated.callback_url(context={"order": 2}))
    # Signed by the newest key: a receiver holding only the new key accepts it, one holding only the old does not.
    only_new = CallHooks(secret="new-key")
    assert only_new.signer is not None
    assert only_new.signer.verify(new_token) == {"order": 2}
    assert problem_of(old, new_token) is TokenProblem.UNKNOWN_KEY
    # After dropping the old key, its tokens are refused as signed by an unknown key.
    assert problem_of(only_new, old_token) is TokenProblem.UNKNOWN_KEY


def test_expired_with_injected_clock() -> None:
    now = [1_700_000_000.0]
    hooks = CallHooks(secret=SECRET, public_url="https://x.example", clock=lambda: now[0])
    url = hooks.callback_url(context={"order": 1}, max_age=60)
    now[0] += 59
    assert hooks.verify_callback_url(url) == {"order": 1}
    now[0] += 1
    with pytest.raises(TokenError) as info:
        hooks.verify_callback_url(url)
    assert info.value.problem is TokenProblem.EXPIRED


def test_default_max_age_is_used_and_configurable() -> None:
    now = [1_700_000_000.0]
    default = CallHooks(secret=SECRET, public_url="https://x.example", clock=lambda: now[0])
    short = CallHooks(secret=SECRET, public_url="https://x.example", clock=lambda: now[0], max_age=10)
    default_url, short_url = default.callback_url(), short.callback_url()
    now[0] += 11
    assert default.verify_callback_url(default_url) == {}
    with pytest.raises(TokenError):
        short.verify_callback_url(short_url)
    now[0] += DEFAULT_MAX_AGE
    with pytest.raises(TokenError) as info:
        default.verify_callback_url(default_url)
    assert info.value.problem is TokenProblem.EXPIRED
    assert DEFAULT_MAX_AGE >= 4 * 60 * 60  # covers a long call plus its transcription


def test_expired_through_the_app_is_403_and_no_handler_runs() -> None:
    now = [1_700_000_000.0]
    app = Recorder(clock=lambda: now[0])
    url = app.hooks.callback_url(max_age=5)
    now[0] += 5
    response = app.client.post(url, json=ANSWER)
    assert response.status_code == 403
    assert response.json()["reason"] == "token-expired"
    assert app.events == []


def test_non_expiring_url() -> None:
    now = [1_700_000_000.0]
    hooks = CallHooks(secret=SECRET, public_url="https://x.example", clock=lambda: now[0], max_age=60)
    url = hooks.callback_url(context={"app": "ivr"}, max_age=None)
    now[0] += 10 * 365 * 24 * 3600
    assert hooks.verify_callback_url(url) == {"app": "ivr"}
    # ... revocable by rotating the secret away.
    rotated = CallHooks(secret="replacement", public_url="https://x.example")
    with pytest.raises(TokenError):
        rotated.verify_callback_url(url)


def test_non_positive_max_age_is_rejected() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://x.example")
    with pytest.raises(ValueError):
        hooks.callback_url(max_age=0)


def test_signer_rejects_empty_secrets() -> None:
    for bad in ("", [], ["ok", ""]):
        with pytest.raises(ValueError):
            CallbackSigner(bad)


# -- Basic auth -------------------------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


EXPECTED = ("twilio-hater", "p@ss:word")


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (basic("twilio-hater", "p@ss:word"), True),
        ("basic " + basic("twilio-hater", "p@ss:word")[6:], True),  # scheme is case-insensitive
        (basic("someone", "p@ss:word"), False),
        (basic("twilio-hater", "wrong"), False),
        (basic("twilio-hater", ""), False),
        ("Basic " + base64.b64encode(b"twilio-hater").decode(), False),  # no colon
        ("Basic !!!not-base64!!!", False),
        ("Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), False),  # not UTF-8
        ("Bearer abc", False),
        ("Basic", False),
        ("", False),
        (None, False),
    ],
)
def test_check_basic_auth(header: str | None, ok: bool) -> None:
    assert check_basic_auth(header, EXPECTED) is ok


def test_basic_auth_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # callhooks.signing calls hmac.compare_digest
    assert not check_basic_auth(basic("intruder", "p@ss:word"), EXPECTED)
    # Both halves are compared with compare_digest even though the user was already wrong.
    assert compared == [(b"intruder", b"twilio-hater"), (b"p@ss:word", b"p@ss:word")]


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (EXPECTED, 200),
        (("twilio-hater", "nope"), 401),
        (("nobody", "p@ss:word"), 401),
        (None, 401),
    ],
)
@pytest.mark.parametrize("with_token", [True, False])
def test_basic_auth_through_the_app(auth: tuple[str, str] | None, status: int, with_token: bool) -> None:
    app = Recorder(secret=SECRET if with_token else None, insecure=not with_token, basic_auth=EXPECTED)
    url = app.hooks.callback_url() if with_token else "http://testserver/"
    response = app.client.post(url.replace("twilio-hater:p%40ss%3Aword@", ""), json=ANSWER, auth=auth)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="callhooks", charset="UTF-8"'
        body = response.json()
        assert body["reason"] == "basic-auth-failed"
        assert app.events == []
        assert "p@ss:word" not in response.text
    else:
        assert len(app.events) == 1


def test_basic_auth_malformed_header_through_the_app() -> None:
    app = Recorder(secret=None, insecure=True, basic_auth=EXPECTED)
    response = app.client.post("/", json=ANSWER, headers={"authorization": "Basic %%%"})
    assert response.status_code == 401
    assert response.json()["reason"] == "basic-auth-failed"


def test_basic_auth_right_but_token_bad_reports_token() -> None:
    app = Recorder(basic_auth=EXPECTED)
    response = app.client.post("/not-a-token", json=ANSWER, auth=EXPECTED)
    assert response.status_code == 403
    assert response.json()["reason"] == "token-altered"


# -- 403 bodies -----------------------------------------------------------------------------------------------


@pytest.fixture
def signed() -> Iterator[Recorder]:
    yield Recorder()


def _altered_url(app: Recorder) -> str:
    url = app.hooks.callback_url(context={"order": 1})
    token = token_of(url)
    return url.replace(token, _resign_payload(token, {"c": {"order": 999}}))


@pytest.mark.parametrize(
    ("make_url", "reason"),
    [
        (lambda app: "http://testserver/", "token-missing"),
        (_altered_url, "token-altered"),
        (lambda app: CallHooks(secret="other", public_url="http://testserver").callback_url(), "token-unknown-key"),
    ],
)
def test_403_bodies_say_why_and_never_leak_the_secret(signed: Recorder, make_url: Any, reason: str) -> None:
    for method in ("GET", "POST"):
        url = make_url(signed)
        if method == "GET":
            response = signed.client.get(url, params={"eventType": "answer"})
        else:
            response = signed.client.post(url, json=ANSWER)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["reason"] == reason
        assert body["error"] == "forbidden"
        assert body["detail"]
        assert SECRET not in response.text
        assert signed.events == []


def test_token_error_text_never_contains_the_secret() -> None:
    for problem in TokenProblem:
        error = TokenError(problem)
        assert SECRET not in str(error)
        assert error.detail == str(error)


# -- callback_url ---------------------------------------------------------------------------------------------


def test_callback_url_embeds_basic_auth_credentials_percent_encoded() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks/", basic_auth=("us er", "p@ss:w/rd"))
    url = hooks.callback_url(context={"order": 4411})
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.hostname == "calls.example.com"
    assert parts.username is not None
    assert parts.password is not None
    assert unquote(parts.username) == "us er"
    assert unquote(parts.password) == "p@ss:w/rd"
    assert parts.path.startswith("/hooks/")
    assert parts.path.count("/") == 2  # /hooks/<token>, no double slash from the trailing one
    assert hooks.verify_callback_url(url) == {"order": 4411}


def test_callback_url_replaces_credentials_already_in_public_url() -> None:
    hooks = CallHooks(
        secret=None, insecure=True, public_url="https://old:creds@calls.example.com", basic_auth=("u", "p")
    )
    assert hooks.callback_url() == "https://u:p@calls.example.com/"
    assert CallHooks(secret=None, insecure=True, public_url="https://old:creds@calls.example.com").callback_url() == (
        "https://calls.example.com/"
    )


def test_callback_url_public_url_override_and_query_kept() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://a.example")
    url = hooks.callback_url(public_url="https://b.example/cb?tenant=7")
    parts = urlsplit(url)
    assert parts.netloc == "b.example"
    assert parts.query == "tenant=7"
    assert parts.path.startswith("/cb/")
    assert hooks.verify_callback_url(url) == {}


def test_callback_url_needs_an_absolute_public_url() -> None:
    with pytest.raises(ValueError):
        CallHooks(secret=SECRET).callback_url()
    with pytest.raises(ValueError):
        CallHooks(secret=SECRET, public_url="calls.example.com/hooks").callback_url()
    with pytest.raises(ValueError):
        CallHooks(secret=SECRET, public_url="ftp://calls.example.com").callback_url()


def test_context_without_secret_is_refused() -> None:
    hooks = CallHooks(secret=None, insecure=True, public_url="https://x.example")
    with pytest.raises(ValueError, match="secret"):
        hooks.callback_url(context={"order": 1})
    assert hooks.verify_callback_url("https://x.example/anything") == {}


def test_callback_url_with_path_and_basic_auth_works_when_mounted() -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://testserver/hooks", basic_auth=EXPECTED)
    seen: list[CallEvent] = []
    hooks.add_handler(seen.append)
    app = Starlette(routes=[Mount("/hooks", app=hooks)])
    url = hooks.callback_url(context={"order": 7})
    with TestClient(app) as client:
        # httpx turns the URL's user:password into the Authorization header, as the platform does.
        response = client.post(url, json=ANSWER)
        assert response.status_code == 200
        wrong = client.post(url.replace("p%40ss%3Aword", "guess"), json=ANSWER)
        assert wrong.status_code == 401
    assert [e.context for e in seen] == [{"order": 7}]


def test_verify_callback_url() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://x.example/a/b")
    url = hooks.callback_url(context={"k": "v"})
    assert hooks.verify_callback_url(url) == {"k": "v"}
    assert hooks.verify_callback_url(url + "/") == {"k": "v"}
    with pytest.raises(TokenError) as info:
        hooks.verify_callback_url("https://x.example/a/b/")
    assert info.value.problem is TokenProblem.ALTERED
    with pytest.raises(TokenError):
        hooks.verify_callback_url(url[:-2])


# -- configuration ----------------------------------------------------------------------------------------------


def test_from_env_rotation_basic_auth_public_url() -> None:
    old = CallHooks(secret="old-key", public_url="https://x.example")
    old_token = token_of(old.callback_url(context={"n": 1}))
    hooks = CallHooks.from_env(
        {
            "CALLHOOKS_SECRET": "old-key, new-key",
            "CALLHOOKS_PUBLIC_URL": "https://calls.example.com/hooks/",
            "CALLHOOKS_BASIC_AUTH": "user:pa:ss",
        }
    )
    assert hooks.signer is not None
    assert hooks.signer.verify(old_token) == {"n": 1}
    assert hooks.basic_auth == ("user", "pa:ss")
    assert hooks.public_url == "https://calls.example.com/hooks"
    url = hooks.callback_url()
    assert url.startswith("https://user:pa%3Ass@calls.example.com/hooks/")
    only_new = CallHooks(secret="new-key")
    assert only_new.signer is not None
    assert only_new.signer.verify(token_of(url)) == {}


def test_from_env_single_secret_overrides_and_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", "only")
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "https://env.example")
    monkeypatch.delenv("CALLHOOKS_BASIC_AUTH", raising=False)
    hooks = CallHooks.from_env(public_url="https://override.example")
    assert hooks.public_url == "https://override.example"
    assert hooks.basic_auth is None
    assert hooks.verify_callback_url(CallHooks(secret="only", public_url="https://a.b").callback_url()) == {}


def test_from_env_bad_basic_auth() -> None:
    with pytest.raises(ValueError, match="user:password"):
        CallHooks.from_env({"CALLHOOKS_SECRET": "x", "CALLHOOKS_BASIC_AUTH": "no-colon"})


def test_no_secret_logs_a_loud_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="callhooks"):
        hooks = CallHooks.from_env({"CALLHOOKS_INSECURE": "1"})  # without the opt-in: refused (test_security_*)
    assert hooks.signer is None
    warnings = [r for r in caplog.records if r.name == "callhooks" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "NOT verified" in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="callhooks"):
        CallHooks(secret=SECRET)
    assert not [r for r in caplog.records if r.name == "callhooks"]


# -- verified-token cache ---------------------------------------------------------------------------------------


def test_cached_token_still_checks_expiry_on_every_use() -> None:
    now = [1_700_000_000.0]
    hooks = CallHooks(secret=SECRET, public_url="https://x.example", clock=lambda: now[0])
    url = hooks.callback_url(max_age=10)
    for _ in range(3):
        assert hooks.verify_callback_url(url) == {}
    now[0] += 10
    with pytest.raises(TokenError) as info:
        hooks.verify_callback_url(url)
    assert info.value.problem is TokenProblem.EXPIRED


def test_context_mutation_by_a_handler_does_not_leak_into_later_events() -> None:
    # One URL serves every event of a call (and a static incomingCallUrl serves every call): what one handler
    # does to its event's context, even deep inside it, must not show up in the next event's context.
    app = Recorder(store=None)  # the same event three times on purpose: without exactly-once handling
    seen: list[list[int]] = []

    @app.hooks.on("answer")
    def mutate(event: CallEvent) -> None:
        seen.append(list(event.context["cart"]["items"]))
        event.context["cart"]["items"].append(99)
        event.context["added"] = True

    url = app.hooks.callback_url(context={"cart": {"items": [1]}}, max_age=None)
    with app.client as client:
        for _ in range(3):
            assert client.post(url, json=ANSWER).status_code == 200
    assert seen == [[1], [1], [1]]
    assert app.hooks.verify_callback_url(url) == {"cart": {"items": [1]}}


def test_a_flat_context_is_copied_too_so_a_handler_cannot_change_the_next_event() -> None:
    signer = CallbackSigner("s")
    token = signer.sign({"order": 4411, "leg": "sales", "vip": True, "note": None})
    first = signer.verify(token)
    first["order"] = 1
    first["extra"] = "added"
    assert signer.verify(token) == {"order": 4411, "leg": "sales", "vip": True, "note": None}


@pytest.mark.parametrize(
    "context",
    [{}, {"order": 1}, {"order": 4411, "customer": "cust-000001"}, {"notes": "x" * 600}, {"nested": {"ids": [1, 2]}}],
)
def test_tokens_made_by_itsdangerous_itself_verify(context: dict[str, Any]) -> None:
    # Verification reads itsdangerous's format without calling it: URLs handed out before still verify,
    # deflated (a leading ".") or not, under every key of a rotation.
    payloads = [{"k": "x", "c": context}, {"k": "x", "c": context, "e": 2**31, "b": "nonce"}]
    for keys in (["old-key", SECRET], [SECRET]):
        signer = CallbackSigner(["old-key", SECRET])
        for payload in payloads:
            token = URLSafeSerializer(keys, salt="callhooks.callback-url").dumps(payload)
            assert signer.verify(token) == context
            assert signer.binds(token) is ("b" in payload)
    assert URLSafeSerializer(SECRET, salt="callhooks.callback-url").dumps({"c": {"notes": "x" * 600}})[0] == "."


@pytest.mark.parametrize("token", ["caf\u00e9.sig", "abc.\u00e9\u00e9", "abc.", ".", "..", "a.b.c"])
def test_non_ascii_and_empty_parts_are_altered(token: str) -> None:
    assert problem_of(CallHooks(secret=SECRET), token) is TokenProblem.ALTERED
