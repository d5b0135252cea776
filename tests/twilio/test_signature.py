"""X-Twilio-Signature (callhooks.twilio.signature), with twilio-python's RequestValidator as the oracle: the reference
sheet's worked examples, and properties over generated requests (ports, query strings, non-ASCII and repeated
parameters, JSON bodies): callhooks accepts what RequestValidator signs and refuses any alteration of it, and
RequestValidator accepts what callhooks signs."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from callhooks.twilio.signature import (
    HMAC_SHA256,
    SignatureRejected,
    SignatureVerifier,
    body_sha256,
    compute_signature,
    public_request_url,
    url_with_body_hash,
)

# Example A (twilio-python's own test vector)
TOKEN_A = "12345"
URL_A = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS_A = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
# Example B (an inbound call with special characters)
TOKEN_B = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
URL_B = "https://voice.example.com/twilio/voice?tenant=acme&lang=en-US"
PARAMS_B = {
    "AccountSid": "AC00000000000000000000000000000001",
    "ApiVersion": "2010-04-01",
    "CallSid": "CA00000000000000000000000000000002",
    "CallStatus": "ringing",
    "Called": "+15005550006",
    "Caller": "+14155552671",
    "CallerName": "O'Brien & Sons",
    "Direction": "inbound",
    "From": "+14155552671",
    "FromCity": "SAN FRANCISCO",
    "To": "+15005550006",
}


def _signed(signature: str, **more: str) -> dict[str, str]:
    return {"X-Twilio-Signature": signature, **more}


def _verifier_for(url: str, *tokens: str, **shared_keys: str) -> tuple[SignatureVerifier, str, str]:
    """A verifier whose public URL is the origin of ``url``, and ``url``'s raw path and query."""
    parts = urlsplit(url)
    verifier = SignatureVerifier(f"{parts.scheme}://{parts.netloc}", tokens, shared_keys)
    return verifier, parts.path, parts.query


def _reason(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(SignatureRejected) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.reason


# ---- the worked examples ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (URL_A, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_example_a_signatures(url: str, expected: str) -> None:
    assert compute_signature(url, PARAMS_A, TOKEN_A) == expected
    verifier, path, query = _verifier_for(url, TOKEN_A)
    verifier.verify(path, query, _signed(expected), form=PARAMS_A)


def test_a_url_without_a_port_is_accepted_signed_with_the_default_port_and_the_other_way_round() -> None:
    verifier, path, query = _verifier_for(URL_A, TOKEN_A)
    verifier.verify(path, query, _signed("kvajT1Ptam85bY51eRf/AJRuM3w="), form=PARAMS_A)  # signed with :443
    with_port, path, query = _verifier_for("https://mycompany.com:443/myapp.php?foo=1&bar=2", TOKEN_A)
    with_port.verify(path, query, _signed("RSOYDt4T1cUTdK1PDd93/VVr8B8="), form=PARAMS_A)  # signed without


def test_example_a_repeated_parameters_are_signed_sorted_and_once() -> None:
    pairs = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert compute_signature(URL_A, pairs, TOKEN_A) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert compute_signature(URL_A, {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["1234", "5678"]}, TOKEN_A) == (
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )
    verifier, path, query = _verifier_for(URL_A, TOKEN_A)
    verifier.verify(path, query, _signed("IK+Dwps556ElfBT0I3Rgjkr1wJU="), form=pairs)


def test_example_a_json_body() -> None:
    body = b'{"property": "value", "boolean": true}'
    assert body_sha256(body) == "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url = url_with_body_hash(URL_A, body)
    assert url == URL_A + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    assert compute_signature(url, None, TOKEN_A) == "a9nBmqA0ju/hNViExpshrM61xv4="
    verifier, path, query = _verifier_for(url, TOKEN_A)
    verifier.verify(path, query, _signed("a9nBmqA0ju/hNViExpshrM61xv4="), json_body=body)


def test_example_b_form_post_and_its_port_variant() -> None:
    assert compute_signature(URL_B, PARAMS_B, TOKEN_B) == "T0oiXwA9dFPqjtxP8SP3282SWes="
    verifier, path, query = _verifier_for(URL_B, TOKEN_B)
    for signature in ("T0oiXwA9dFPqjtxP8SP3282SWes=", "BCS1n2WXlMeINoT/5XSatEQl/hg="):
        verifier.verify(path, query, _signed(signature), form=PARAMS_B)


def test_example_b_seen_as_http_behind_a_tls_proxy_is_refused() -> None:
    # A verifier configured with the scheme the proxy presents, not the public one, cannot match.
    verifier, path, query = _verifier_for(URL_B.replace("https:", "http:"), TOKEN_B)
    reason = _reason(verifier.verify, path, query, _signed("T0oiXwA9dFPqjtxP8SP3282SWes="), form=PARAMS_B)
    assert reason == "signature-mismatch"


def test_example_c_get() -> None:
    url = "https://voice.example.com/twilio/voice?" + urlencode(PARAMS_B)
    assert "CallerName=O%27Brien+%26+Sons" in url and "Called=%2B15005550006" in url
    assert compute_signature(url, None, TOKEN_B) == "5SZJTA6YCdMQ5BFV1RADMhhYymY="
    verifier, path, query = _verifier_for(url, TOKEN_B)
    verifier.verify(path, query, _signed("5SZJTA6YCdMQ5BFV1RADMhhYymY="))


def test_example_d_json_body_and_a_tampered_one() -> None:
    body = b'{"CallSid":"CA00000000000000000000000000000002","CallStatus":"completed"}'
    assert body_sha256(body) == "7cd5520c4a1854d72c369bd69561508feca1245898aa8e52c2a69f0bf474f3d1"
    url = url_with_body_hash("https://voice.example.com/events", body)
    assert compute_signature(url, None, TOKEN_B) == "qY1LD/aUH6Itg/euWKDYgzZvYL8="
    verifier, path, query = _verifier_for(url, TOKEN_B)
    verifier.verify(path, query, _signed("qY1LD/aUH6Itg/euWKDYgzZvYL8="), json_body=body)
    tampered = body.replace(b"completed", b"canceled")
    reason = _reason(verifier.verify, path, query, _signed("qY1LD/aUH6Itg/euWKDYgzZvYL8="), json_body=tampered)
    assert reason == "body-hash-mismatch"


def test_example_e_hmac_sha256_with_a_shared_key() -> None:
    expected = "oGpEzC5PXDlEZvVAwhej7gcLHNUMxmv8TynfDikDIHs="
    assert compute_signature(URL_B, PARAMS_B, TOKEN_B, HMAC_SHA256) == expected
    verifier, path, query = _verifier_for(URL_B, "the-auth-token", webhooks_sharedkey_1=TOKEN_B)
    settings_header = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    headers = _signed(expected, **{"X-Twilio-Webhooks-Signature-Settings": settings_header})
    verifier.verify(path, query, headers, form=PARAMS_B)
    lower = _signed(
        expected, **{"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=hmac_sha256"}
    )
    verifier.verify(path, query, lower, form=PARAMS_B)


# ---- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing-signature"),
        ({"X-Twilio-Signature": ""}, "missing-signature"),
        ({"X-Twilio-Signature": "not base64!"}, "malformed-signature"),
        ({"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8"}, "malformed-signature"),  # no padding
        ({"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8=="}, "malformed-signature"),
        ({"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8Bé="}, "malformed-signature"),  # not ASCII
        ({"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B9="}, "signature-mismatch"),
        (
            {
                "X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                "X-Twilio-Webhooks-Signature-Settings": "algorithm=MD5",
            },
            "unsupported-algorithm",
        ),
        (
            {
                "X-Twilio-Signature": "oGpEzC5PXDlEZvVAwhej7gcLHNUMxmv8TynfDikDIHs=",
                "X-Twilio-Webhooks-Signature-Settings": "key=another,algorithm=HMAC_SHA256",
            },
            "unknown-shared-key",
        ),
        (
            {
                "X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8=",  # a SHA-1 signature where SHA-256 is announced
                "X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256",
            },
            "malformed-signature",
        ),
    ],
)
def test_a_missing_or_bad_header_is_a_refusal_with_a_reason(headers: dict[str, str], reason: str) -> None:
    verifier, path, query = _verifier_for(URL_A, TOKEN_A, k1="shared")
    assert _reason(verifier.verify, path, query, headers, form=PARAMS_A) == reason


def test_a_json_body_whose_url_carries_no_hash_is_refused() -> None:
    body = b'{"CallSid":"CA1"}'
    verifier, path, query = _verifier_for(URL_A, TOKEN_A)
    signature = compute_signature(URL_A, None, TOKEN_A)
    assert _reason(verifier.verify, path, query, _signed(signature), json_body=body) == "body-hash-missing"


def test_the_signature_is_checked_against_the_configured_url_not_the_requests_host() -> None:
    # Signed for another host (what a Host header could claim): refused by the verifier of this application.
    forged = compute_signature("https://attacker.example/myapp.php?foo=1&bar=2", PARAMS_A, TOKEN_A)
    verifier, path, query = _verifier_for(URL_A, TOKEN_A)
    assert _reason(verifier.verify, path, query, _signed(forged), form=PARAMS_A) == "signature-mismatch"


def test_both_tokens_are_accepted_during_a_rotation() -> None:
    old, new = "old-token", "new-token"
    verifier, path, query = _verifier_for(URL_B, old, new)
    for token in (old, new):
        verifier.verify(path, query, _signed(compute_signature(URL_B, PARAMS_B, token)), form=PARAMS_B)
    stranger = compute_signature(URL_B, PARAMS_B, "a-third-token")
    assert _reason(verifier.verify, path, query, _signed(stranger), form=PARAMS_B) == "signature-mismatch"


def test_the_public_url_may_carry_a_path_prefix() -> None:
    verifier = SignatureVerifier("https://mycompany.com/", (TOKEN_A,))
    assert verifier.request_url("/myapp.php", "foo=1&bar=2") == URL_A
    assert public_request_url("https://h.example/prefix", "/hooks/x", "") == "https://h.example/prefix/hooks/x"
    verifier.verify("/myapp.php", "foo=1&bar=2", _signed("RSOYDt4T1cUTdK1PDd93/VVr8B8="), form=PARAMS_A)


@pytest.mark.parametrize(
    "public_url",
    ["voice.example.com", "ftp://voice.example.com", "https://voice.example.com?x=1", "https://h:99999", "https://h:"],
)
def test_a_bad_public_url_is_refused_at_configuration(public_url: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        SignatureVerifier(public_url, (TOKEN_A,))


def test_no_token_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match="auth_tokens"):
        SignatureVerifier("https://h.example", ())


def test_an_unsupported_algorithm_is_a_value_error_when_signing() -> None:
    with pytest.raises(ValueError, match="MD5"):
        compute_signature(URL_A, PARAMS_A, TOKEN_A, "MD5")


# ---- properties against RequestValidator ---------------------------------------------------------------------

_NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
_VALUE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_SEGMENT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, str, str, list[tuple[str, str]], bytes | None]:
    """(public origin, raw path, raw query, form pairs, JSON body or None): a request as Twilio sends it."""
    scheme = draw(st.sampled_from(["https", "http"]))
    host = draw(st.sampled_from(["voice.example.com", "127.0.0.1", "hooks.example.org"]))
    port = draw(st.sampled_from([None, 80, 443, 8443]) | st.integers(1024, 65535))
    origin = f"{scheme}://{host}" + (f":{port}" if port else "")
    path = "/" + "/".join(quote(segment, safe="") for segment in draw(st.lists(_SEGMENT, min_size=1, max_size=3)))
    query_pairs = draw(st.lists(st.tuples(_NAME, _VALUE), max_size=3))
    mode = draw(st.sampled_from(["form", "get", "json"]))
    form: list[tuple[str, str]] = []
    body = None
    if mode == "form":
        form = draw(st.lists(st.tuples(_NAME, _VALUE), max_size=6))
        if form and draw(st.booleans()):  # a name repeated, with a new value and an old one
            form += [(form[0][0], draw(_VALUE)), form[0]]
    elif mode == "get":
        query_pairs += draw(st.lists(st.tuples(_NAME, _VALUE), min_size=1, max_size=6))
    query = urlencode(query_pairs)
    if mode == "json":
        payload = draw(st.dictionaries(_NAME, _VALUE | st.integers() | st.booleans(), max_size=4))
        body = json.dumps(payload, ensure_ascii=draw(st.booleans())).encode()
        query = urlsplit(url_with_body_hash(f"https://x/?{query}" if query else "https://x/", body)).query
    return origin, path, query, form, body


def _twilio_params(form: list[tuple[str, str]]) -> MultiDict[str]:
    return MultiDict(form)


def _altered(signature: str, position: int) -> str:
    index = position % (len(signature) - 1)  # never the '=' padding
    swapped = "A" if signature[index] != "A" else "B"
    return signature[:index] + swapped + signature[index + 1 :]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    request=_requests(), token=st.text(min_size=1, max_size=40), position=st.integers(0, 100), vary_port=st.booleans()
)
def test_callhooks_accepts_what_request_validator_signs_and_refuses_any_alteration(
    request: tuple[str, str, str, list[tuple[str, str]], bytes | None], token: str, position: int, vary_port: bool
) -> None:
    origin, path, query, form, body = request
    url = public_request_url(origin, path, query)
    oracle = RequestValidator(token)
    verifier = SignatureVerifier(origin, (token,))
    signed_url = url
    if vary_port:  # Twilio is not consistent about the port: it may sign with the default one, or with none
        port = urlsplit(origin).port
        bare = origin.rpartition(":")[0] if port else origin
        signed_url = url.replace(origin, bare if port else f"{bare}:{443 if origin.startswith('https') else 80}", 1)
    signature = oracle.compute_signature(signed_url, {} if body is not None else _twilio_params(form))
    kwargs = {"json_body": body} if body is not None else {"form": form}
    verifier.verify(path, query, _signed(signature), **kwargs)  # type: ignore[arg-type]

    altered = _altered(signature, position)
    assert _reason(verifier.verify, path, query, _signed(altered), **kwargs) == "signature-mismatch"
    assert _reason(verifier.verify, path + "x", query, _signed(signature), **kwargs) == "signature-mismatch"
    if body is not None:
        reason = _reason(verifier.verify, path, query, _signed(signature), json_body=body + b" ")
        assert reason == "body-hash-mismatch"
    else:
        extra = [*form, ("Injected", "1")]
        assert _reason(verifier.verify, path, query, _signed(signature), form=extra) == "signature-mismatch"
        if form:
            changed = [(form[0][0], form[0][1] + "!"), *form[1:]]
            if sorted(set(changed)) != sorted(set(form)):
                assert _reason(verifier.verify, path, query, _signed(signature), form=changed) == "signature-mismatch"


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    request=_requests(), token=st.text(min_size=1, max_size=40), algorithm=st.sampled_from(["HMAC_SHA1", HMAC_SHA256])
)
def test_request_validator_accepts_what_callhooks_signs(
    request: tuple[str, str, str, list[tuple[str, str]], bytes | None], token: str, algorithm: str
) -> None:
    origin, path, query, form, body = request
    url = public_request_url(origin, path, query)
    oracle = RequestValidator(token)
    signature = compute_signature(url, None if body is not None else form, token, algorithm)
    assert signature == oracle.compute_signature(url, {} if body is not None else _twilio_params(form), algorithm)
    params: object = body.decode() if body is not None else _twilio_params(form)
    assert oracle.validate(url, params, signature, algorithm)
