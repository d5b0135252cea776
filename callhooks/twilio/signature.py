"""``X-Twilio-Signature``: computed exactly as twilio-python's ``RequestValidator`` computes it, and verified
against the application's configured public URL (never one rebuilt from a ``Host`` header). Sans-I/O.

What is signed: the full URL Twilio requested (scheme, host, optional port, path and the query as sent), then,
for a form POST, each parameter name followed by its value, names in code-point order, a repeated name's
distinct values sorted. A GET signs the URL alone (its parameters are in the query). A JSON body is not signed
itself: Twilio adds ``bodySHA256=<hex SHA-256 of the body>`` to the URL and signs that URL, and the verifier
checks the hash against the body. The digest is HMAC-SHA1 keyed with the account's auth token, base64; when the
``X-Twilio-Webhooks-Signature-Settings`` header says ``algorithm=HMAC_SHA256`` it is HMAC-SHA256 keyed with the
secret of the SharedKey that header names (``key=<id>``).

Twilio is not consistent about the port, so, as ``RequestValidator`` does, a URL is accepted as signed with the
default port added (``:443``/``:80``) and with any port removed. During an auth-token rotation the verifier holds
two tokens and accepts either. Every comparison is constant-time; every refusal is a ``SignatureRejected``
carrying a short ``reason``, never another exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qs, urlparse, urlsplit

from ..platform import lower_headers

__all__ = [
    "HMAC_SHA1",
    "HMAC_SHA256",
    "SETTINGS_HEADER",
    "SIGNATURE_HEADER",
    "FormParams",
    "SignatureProblem",
    "SignatureRejected",
    "SignatureVerifier",
    "body_sha256",
    "compute_signature",
    "public_request_url",
    "url_with_body_hash",
]

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
HMAC_SHA1 = "HMAC_SHA1"
HMAC_SHA256 = "HMAC_SHA256"
_DIGESTS = {HMAC_SHA1: hashlib.sha1, HMAC_SHA256: hashlib.sha256}
# A signature is the base64 of one digest: 20 bytes (SHA-1) are 28 characters, 32 (SHA-256) are 44.
_SIGNATURE_SHAPE = {
    HMAC_SHA1: re.compile(r"[A-Za-z0-9+/]{27}="),
    HMAC_SHA256: re.compile(r"[A-Za-z0-9+/]{43}="),
}
_BODY_HASH = "bodySHA256"

#: Form parameters: decoded (name, value) pairs in any order, repeats kept; or a mapping of a name to its value or
#: values.
FormParams = Iterable[tuple[str, str]] | Mapping[str, str | Sequence[str]]


class SignatureProblem(str, Enum):
    """Why a request's signature was refused (``SignatureRejected.reason`` is the value)."""

    MISSING = "missing-signature"
    MALFORMED = "malformed-signature"
    MISMATCH = "signature-mismatch"
    BODY_HASH_MISSING = "body-hash-missing"
    BODY_HASH_MISMATCH = "body-hash-mismatch"
    UNSUPPORTED_ALGORITHM = "unsupported-algorithm"
    UNKNOWN_SHARED_KEY = "unknown-shared-key"


_DETAILS = {
    SignatureProblem.MISSING: "the request has no X-Twilio-Signature header",
    SignatureProblem.MALFORMED: "the X-Twilio-Signature header is not the base64 of one {algorithm} digest",
    SignatureProblem.MISMATCH: "the X-Twilio-Signature header does not match the request",
    SignatureProblem.BODY_HASH_MISSING: "a JSON body must be signed through a bodySHA256 query parameter",
    SignatureProblem.BODY_HASH_MISMATCH: "the body's SHA-256 is not the bodySHA256 the URL was signed with",
    SignatureProblem.UNSUPPORTED_ALGORITHM: "X-Twilio-Webhooks-Signature-Settings names an unsupported algorithm",
    SignatureProblem.UNKNOWN_SHARED_KEY: "X-Twilio-Webhooks-Signature-Settings names a SharedKey not configured",
}


class SignatureRejected(Exception):
    """The request's signature is missing, malformed or wrong: ``problem``, its ``reason`` code and a ``detail``."""

    def __init__(self, problem: SignatureProblem, **values: str) -> None:
        self.problem = problem
        self.detail = _DETAILS[problem].format(**values)
        super().__init__(self.detail)

    @property
    def reason(self) -> str:
        """A short code for responses, logs and metrics (``missing-signature``, ``signature-mismatch``, ...)."""
        return self.problem.value


def _values(params: FormParams | None) -> dict[str, set[str]]:
    by_name: dict[str, set[str]] = {}
    if params is None:
        return by_name
    if isinstance(params, Mapping):
        for name, value in params.items():
            by_name.setdefault(name, set()).update([value] if isinstance(value, str) else value)
    else:
        for name, value in params:
            by_name.setdefault(name, set()).add(value)
    return by_name


def _form_text(params: FormParams | None) -> str:
    """What follows the URL in the signed text: each name with each of its values, sorted."""
    return "".join(name + value for name, values in sorted(_values(params).items()) for value in sorted(values))


def _sign(text: str, key: str, digest: Callable[..., Any]) -> str:
    return base64.b64encode(hmac.new(key.encode(), text.encode(), digest).digest()).decode("ascii")


def compute_signature(url: str, params: FormParams | None, key: str, algorithm: str = HMAC_SHA1) -> str:
    """The ``X-Twilio-Signature`` of a request to ``url`` with form ``params`` (None or empty for a GET or a JSON
    body, whose URL then carries ``bodySHA256``: ``url_with_body_hash``), keyed with an auth token or SharedKey
    secret. ``RequestValidator(key).compute_signature(url, params, algorithm)``, to the byte. Sign a URL without
    its ``#fragment`` (connection overrides): the fragment never reaches the server that verifies."""
    digest = _DIGESTS.get(algorithm.upper())
    if digest is None:
        raise ValueError(f"unsupported signature algorithm {algorithm!r}: use {HMAC_SHA1} or {HMAC_SHA256}")
    return _sign(url + _form_text(params), key, digest)


def body_sha256(body: bytes) -> str:
    """The ``bodySHA256`` of a JSON body: the lowercase hex SHA-256 of its bytes."""
    return hashlib.sha256(body).hexdigest()


def url_with_body_hash(url: str, body: bytes) -> str:
    """``url`` with ``bodySHA256`` appended to its query, as Twilio requests a URL that it POSTs JSON to."""
    return f"{url}{'&' if '?' in url else '?'}{_BODY_HASH}={body_sha256(body)}"


def public_request_url(public_url: str, raw_path: str, query_string: str = "") -> str:
    """The URL a request was sent to: the configured public URL (scheme, host, port and any path prefix a proxy
    strips) followed by the request's raw path and query exactly as received (never decoded or re-encoded)."""
    url = public_url.rstrip("/") + (raw_path if raw_path.startswith("/") else "/" + raw_path)
    return f"{url}?{query_string}" if query_string else url


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _port_variants(url: str) -> tuple[str, str]:
    """``RequestValidator``'s two variants of a URL, as ``urlparse(...).geturl()`` writes them: with any port
    removed, and with the default port (``:443``/``:80``) added when it has none. One of them is the URL."""
    parts = urlparse(url)
    try:
        port = parts.port
    except ValueError:  # not a port number: signed as written, like a URL without one
        port = None
    if not port:
        return parts.geturl(), parts._replace(netloc=f"{parts.netloc}:{_default_port(parts.scheme)}").geturl()
    return parts._replace(netloc=parts.netloc.rpartition(":")[0]).geturl(), parts.geturl()


def _settings(header: str | None) -> tuple[str, str | None]:
    """The algorithm and SharedKey id the settings header names (``key=<id>,algorithm=<name>``)."""
    algorithm, key_id = HMAC_SHA1, None
    for part in (header or "").split(","):
        name, equals, value = part.partition("=")
        if equals and value.strip():
            if name.strip() == "algorithm":
                algorithm = value.strip().upper()
            elif name.strip() == "key":
                key_id = value.strip()
    return algorithm, key_id


@dataclass(frozen=True)
class SignatureVerifier:
    """Checks ``X-Twilio-Signature`` on requests to an application reached at ``public_url``.

    ``auth_tokens``: the account's auth token, or the old and the new one while it is rotated. ``shared_keys``:
    the secret of each SharedKey (by id) whose Webhooks Setting signs with HMAC-SHA256.
    """

    public_url: str
    auth_tokens: tuple[str, ...]
    shared_keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        try:
            port_ok = parts.port != 0 and not parts.netloc.endswith(":")
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or not port_ok:
            raise ValueError(
                f"public_url must be the http(s) URL the application is reached at (a valid port if any, no query or "
                f"fragment): "
                f"{self.public_url!r}"
            )
        if not self.auth_tokens or not all(self.auth_tokens):
            raise ValueError("auth_tokens must hold the account's auth token (two while it is rotated)")

    def request_url(self, raw_path: str, query_string: str = "") -> str:
        """The URL Twilio signed for a request with this raw path and query (``public_request_url``)."""
        return public_request_url(self.public_url, raw_path, query_string)

    def verify(
        self,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        form: FormParams | None = None,
        json_body: bytes | None = None,
    ) -> None:
        """Verify a request by its raw path and query, its headers, and its form parameters (a form POST,
        decoded, repeats kept) or raw JSON body; raise ``SignatureRejected`` when it does not hold."""
        self.verify_url(self.request_url(raw_path, query_string), headers, form=form, json_body=json_body)

    def verify_url(
        self,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        form: FormParams | None = None,
        json_body: bytes | None = None,
    ) -> None:
        """``verify`` for a request to ``url`` (the public URL, as ``request_url`` builds it)."""
        named = lower_headers(headers)
        algorithm, key_id = _settings(named.get(SETTINGS_HEADER))
        if algorithm not in _DIGESTS:
            raise SignatureRejected(SignatureProblem.UNSUPPORTED_ALGORITHM)
        keys = self._keys(SETTINGS_HEADER in named, key_id)
        signature = named.get(SIGNATURE_HEADER, "").strip()
        if not signature:
            raise SignatureRejected(SignatureProblem.MISSING)
        if not _SIGNATURE_SHAPE[algorithm].fullmatch(signature):
            raise SignatureRejected(SignatureProblem.MALFORMED, algorithm=algorithm)
        body_ok = True
        if json_body is not None:
            declared = parse_qs(urlsplit(url).query).get(_BODY_HASH)
            if not declared:
                raise SignatureRejected(SignatureProblem.BODY_HASH_MISSING)
            body_ok = hmac.compare_digest(body_sha256(json_body).encode(), declared[0].encode())
            form = None
        matched = False
        form_text, digest = _form_text(form), _DIGESTS[algorithm]  # sorted once for every candidate below
        for key in keys:  # every candidate is computed and compared: the time does not say which one matched
            for variant in _port_variants(url):
                matched |= hmac.compare_digest(_sign(variant + form_text, key, digest), signature)
        if not matched:
            raise SignatureRejected(SignatureProblem.MISMATCH)
        if not body_ok:
            raise SignatureRejected(SignatureProblem.BODY_HASH_MISMATCH)

    def _keys(self, has_settings: bool, key_id: str | None) -> tuple[str, ...]:
        if not has_settings:
            return self.auth_tokens
        if key_id is None:
            keys = tuple(self.shared_keys.values())
        else:
            secret = self.shared_keys.get(key_id)
            keys = (secret,) if secret else ()
        if not keys:
            raise SignatureRejected(SignatureProblem.UNKNOWN_SHARED_KEY)
        return keys
