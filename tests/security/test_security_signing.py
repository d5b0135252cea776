"""Issue 7, findings 2, 3 and 10: token failures cost bounded work, no insecure default, Basic-auth config.
Issue 23, finding 1: one spelling of a token verifies, so a bound per-call URL cannot be respelt for another call."""

from __future__ import annotations

import hmac
import json
import logging
import zlib
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from callhooks import CallbackSigner, CallEvent, CallHooks, TokenError, TokenProblem
from callhooks.signing import _SALT, MAX_TOKEN_LENGTH, _key_id
from callhooks.testing import serve
from tests.guarantees.support import dtmf
from tests.security.token_variants import IGNORED, percent_spellings, token_variants

SECRET = "security-secret"


class DecompressionMeter:
    """Counts the bytes zlib produces while installed (every decompression path itsdangerous and we use)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.produced = 0
        real_decompress = zlib.decompress
        real_decompressobj = zlib.decompressobj
        meter = self

        def decompress(data: bytes, *args: Any, **kwargs: Any) -> bytes:
            out = real_decompress(data, *args, **kwargs)
            meter.produced += len(out)
            return out

        class MeteredObj:
            def __init__(self, *args: Any) -> None:
                self._inner = real_decompressobj(*args)

            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                out = self._inner.decompress(data, max_length)
                meter.produced += len(out)
                return out

        monkeypatch.setattr(zlib, "decompress", decompress)
        monkeypatch.setattr(zlib, "decompressobj", MeteredObj)


def forged_bomb(key_id: str = "deadbeef", inflated: int = 40_000_000) -> str:
    """A compressed token whose payload claims ``key_id`` and inflates to ``inflated`` bytes: a zip bomb."""
    payload = json.dumps({"k": key_id, "c": {"x": "A" * inflated}}, separators=(",", ":")).encode()
    forger = URLSafeSerializer("attacker-key", salt=_SALT)
    token = forger.dumps({"k": key_id, "c": {"x": "A" * inflated}})
    assert token.startswith(".")  # compressed
    assert len(zlib.compress(payload)) < len(payload) // 500
    return token


def test_a_forged_zip_bomb_token_is_never_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = CallbackSigner(SECRET)
    token = forged_bomb(inflated=1_400_000)  # what fits under the length cap; the old code inflated all of it
    assert len(token) < MAX_TOKEN_LENGTH
    meter = DecompressionMeter(monkeypatch)
    with pytest.raises(TokenError) as info:
        signer.verify(token)
    assert info.value.problem is TokenProblem.UNKNOWN_KEY  # the reason still comes from the key id
    assert meter.produced <= 16  # only the key id prefix; before the fix: 1,400,000+ bytes


def test_the_claimed_key_of_a_forged_token_is_read_from_a_bounded_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = CallbackSigner(SECRET)
    ours = _key_id(SECRET)
    forger = URLSafeSerializer("attacker-key", salt=_SALT)
    meter = DecompressionMeter(monkeypatch)
    for context, expected in [
        ({}, TokenProblem.ALTERED),  # claims our key id: then the signature was tampered with
        ({"c": {"x": "A" * 500}}, TokenProblem.ALTERED),  # compressed, claims ours
    ]:
        with pytest.raises(TokenError) as info:
            signer.verify(forger.dumps({"k": ours, **context}))
        assert info.value.problem is expected
    for context in ({}, {"c": {"x": "A" * 500}}):
        with pytest.raises(TokenError) as info:
            signer.verify(forger.dumps({"k": "0badc0de", **context}))
        assert info.value.problem is TokenProblem.UNKNOWN_KEY
    assert meter.produced <= 4 * 16


def test_a_token_over_the_cap_is_refused_before_any_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = CallbackSigner(SECRET)
    macs: list[int] = []
    real_copy = hmac.HMAC.copy  # the signer keys its HMACs once and copies one per check

    def counting_copy(self: hmac.HMAC) -> hmac.HMAC:
        macs.append(1)
        return real_copy(self)

    monkeypatch.setattr(hmac.HMAC, "copy", counting_copy)
    with pytest.raises(TokenError) as info:
        signer.verify("A" * (MAX_TOKEN_LENGTH + 1) + ".sig")
    assert info.value.problem is TokenProblem.ALTERED
    assert macs == []  # no work at all on an oversized token
    valid = signer.sign({"order": 1})
    assert signer.verify(valid) == {"order": 1}
    assert macs == [1]  # the count does see a check: one HMAC for one key


def test_signing_a_context_too_big_for_the_cap_says_so() -> None:
    signer = CallbackSigner(SECRET)
    noise = {f"k{i}": f"{i * 7919:x}" * 4 for i in range(400)}  # compresses badly
    with pytest.raises(ValueError, match="MAX_TOKEN_LENGTH"):
        signer.sign(noise)


# -- finding 3: no insecure default ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret_env", [None, "", "   ", " , ", ","])
def test_from_env_without_a_secret_refuses_to_start(secret_env: str | None) -> None:
    env = {} if secret_env is None else {"CALLHOOKS_SECRET": secret_env}
    with pytest.raises(ValueError) as info:
        CallHooks.from_env(env)
    message = str(info.value)
    assert "\n" not in message  # one line
    assert "CALLHOOKS_SECRET" in message and "CALLHOOKS_INSECURE=1" in message


def test_code_without_a_secret_refuses_unless_insecure(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValueError, match="insecure=True"):
        CallHooks(secret=None)
    with caplog.at_level(logging.WARNING, logger="callhooks"):
        hooks = CallHooks(secret=None, insecure=True)
    assert hooks.signer is None
    assert any("NOT verified" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("flag", ["1", "true", "YES"])
def test_insecure_opt_in_from_env(flag: str) -> None:
    assert CallHooks.from_env({"CALLHOOKS_INSECURE": flag}).signer is None
    with pytest.raises(ValueError):
        CallHooks.from_env({"CALLHOOKS_INSECURE": "0"})


# -- finding 10: Basic auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["a:b", ":", "user:"])
def test_a_basic_auth_user_containing_a_colon_is_refused_at_configuration(user: str) -> None:
    with pytest.raises(ValueError, match="must not contain ':'"):
        CallHooks(secret=SECRET, basic_auth=(user, "pw"))


def test_a_password_containing_a_colon_is_fine() -> None:
    assert CallHooks(secret=SECRET, basic_auth=("user", "p:w")).basic_auth == ("user", "p:w")


# -- issue 23, finding 1: one spelling per token -----------------------------------------------------------------

OLD_SECRET = "security-secret-retired"


@pytest.mark.parametrize(
    "make",
    [
        lambda signer: signer.sign(bind=True),
        lambda signer: signer.sign({"order": 4411}, bind=True),
        lambda signer: signer.sign({"note": "A" * 300}),  # compressed (a ``.eJ…`` payload)
        lambda signer: signer.sign(max_age=None),
        lambda signer: CallbackSigner(OLD_SECRET).sign({"order": 1}, bind=True),  # signed by a retired key
    ],
    ids=["bound", "bound-context", "compressed", "no-expiry", "old-key"],
)
def test_no_other_spelling_of_a_token_verifies(make: Any) -> None:
    signer = CallbackSigner([OLD_SECRET, SECRET])
    token = make(signer)
    context = signer.verify(token)
    variants = token_variants(token)
    assert len(variants) > 20 * len(token)  # padding, skipped characters, +/ for -_, swapped case, last-character bits
    accepted = []
    for variant in sorted(variants):
        try:
            signer.verify(variant)
        except TokenError as exc:
            assert exc.problem in (TokenProblem.ALTERED, TokenProblem.UNKNOWN_KEY)
        else:
            accepted.append(variant)
    assert accepted == []  # before the fix: 309 of them, for every token
    assert signer.verify(token) == context  # the token itself still verifies after all those misses


def test_tokens_itsdangerous_makes_still_verify() -> None:
    signer = CallbackSigner(SECRET)
    made = URLSafeSerializer(SECRET, salt=_SALT)
    for payload in ({"k": _key_id(SECRET)}, {"k": _key_id(SECRET), "c": {"n": "B" * 400}, "b": "nonce1"}):
        token = made.dumps(payload)
        assert signer.verify(token) == payload.get("c", {})
        assert signer.binds(token) is ("b" in payload)


def test_a_respelt_bound_url_gets_no_other_call_through_over_http() -> None:
    """The finding's attack over loopback HTTP: the URL of call A, respelt, posted with the events of other
    calls. Every respelling is refused (403) and no handler runs for another call."""
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1")
    ran: list[str | None] = []

    @hooks.on("dtmf")
    def record(event: CallEvent) -> None:
        ran.append(event.call_id)

    token = hooks.callback_url(bind=True).rsplit("/", 1)[1]
    appended = [token + a + b for a in IGNORED for b in ("", *IGNORED)]
    last_bits = [variant for variant in token_variants(token) if variant[:-1] == token[:-1]]
    # Unescaped in the path where HTTP allows it; whitespace and the rest percent-encoded as a client would.
    paths = ["/" + quote(variant, safe="=!$&'()*+,;:@~.") for variant in appended + last_bits]
    paths += ["/" + spelling for spelling in percent_spellings(token)]
    answers: dict[int, int] = {}
    reasons: dict[str, int] = {}
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        assert http.post("/" + token, json=dtmf("c-A", 1)).status_code == 200  # binds the token to c-A
        for number, path in enumerate(paths):
            answer = http.post(path, json=dtmf(f"c-{number}", 1))
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            if answer.status_code == 403:
                reason = answer.json()["reason"]
                reasons[reason] = reasons.get(reason, 0) + 1
        assert http.post("/" + token, json=dtmf("c-A", 2)).status_code == 200  # still good for its own call
    assert answers == {403: len(paths)}, answers  # before the fix: 200 for the appended "=", "==", ...
    assert ran == ["c-A", "c-A"]
    # The percent-encoded spellings of the token itself arrive as the token: refused as bound elsewhere.
    # (Counted by what they decode to: a token may itself hold the letters "3d", which no "=" spells.)
    assert reasons["token-bound-to-another-call"] == sum(1 for s in percent_spellings(token) if unquote(s) == token)
