"""Signed callback URLs: the token that proves a callback came from a URL we handed out.

Catapult v1 does not sign callbacks; the URL is the only thing the platform echoes back, so authenticity is
anchored in a token inside it (itsdangerous's ``URLSafeSerializer`` format, HMAC-SHA1 over a compact JSON
payload). The token lives in the
URL *path*, so verification never rebuilds the public URL from the Host header, scheme or a proxy's view of
them (the classic failure of signature checks behind load balancers).

Only the spelling ``sign`` makes verifies (``_canonical_b64decode``): the per-call binding is keyed on the token's
text, so no other string may stand for the same token.

Payload: ``{"k": key id, "c": context (optional), "e": expiry epoch seconds (optional)}``. The key id (a
short hash of the signing key, not the key) lets a failed check say "signed with an unknown key" rather than
"altered", which is what an operator rotating secrets needs to know.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import hmac
import re
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from secrets import token_urlsafe
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

from itsdangerous import URLSafeSerializer
from pydantic_core import from_json

__all__ = [
    "DEFAULT",
    "DEFAULT_MAX_AGE",
    "MAX_TOKEN_LENGTH",
    "CallbackSigner",
    "CallbackUrls",
    "TokenError",
    "TokenProblem",
    "check_basic_auth",
    "check_public_url",
    "parse_basic_auth",
    "route_context",
    "split_route",
    "validate_basic_auth",
]

#: 24 hours. Catapult documents no maximum call length; calls of several hours happen (conference bridges,
#: long holds), and recording/transcription callbacks arrive after the call ends. A day covers the longest
#: realistic call plus its transcription while still bounding how long a leaked URL can be replayed.
DEFAULT_MAX_AGE: float = 24 * 60 * 60

#: Longest token accepted (and made). Checked before any other work, so a forged token costs at most this
#: many bytes of HMAC per key. 2,000 characters keeps whole callback URLs under the ~2 KB that proxies and the
#: platform reliably carry, and leaves about 1.4 KB of signed context.
MAX_TOKEN_LENGTH: Final = 2000

_SALT = "callhooks.callback-url"
_SEAL_SALT = "callhooks.recorded-call"
_CACHE_SIZE = 4096


class TokenProblem(str, Enum):
    """Why a callback was refused; the value is what the 403 body's ``reason`` says."""

    MISSING = "token-missing"
    ALTERED = "token-altered"
    UNKNOWN_KEY = "token-unknown-key"
    EXPIRED = "token-expired"
    BASIC_AUTH = "basic-auth-failed"


_DETAILS: dict[TokenProblem, str] = {
    TokenProblem.MISSING: "the callback URL carries no callhooks token",
    TokenProblem.ALTERED: "the callback token was altered or is malformed",
    TokenProblem.UNKNOWN_KEY: "the callback token was signed with a key this receiver does not have",
    TokenProblem.EXPIRED: "the callback token has expired",
    TokenProblem.BASIC_AUTH: "HTTP Basic credentials are missing or wrong",
}


class TokenError(Exception):
    """A callback URL failed verification. ``problem`` says which way; the text never holds a secret."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(_DETAILS[problem])
        self.problem = problem

    @property
    def detail(self) -> str:
        return _DETAILS[self.problem]


def _key_id(secret: str) -> str:
    # 8 hex chars of a salted hash: identifies the key among a handful, reveals nothing usable about it.
    return hashlib.sha256(f"{_SALT}:{secret}".encode()).hexdigest()[:8]


class CallbackSigner:
    """Makes and checks callback tokens.

    ``secrets`` is one key or a list ordered oldest to newest (itsdangerous's convention): the newest signs,
    every key verifies, so a rotation is "append the new key, deploy, later drop the old one".
    """

    def __init__(
        self,
        secrets: str | Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        keys = [secrets] if isinstance(secrets, str) else list(secrets)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError("secret must be a non-empty string or a non-empty list of non-empty strings")
        self._serializer = URLSafeSerializer(keys, salt=_SALT)
        # Verification reads itsdangerous's format itself (``_verify_signature``): one keyed HMAC per key, newest
        # first as itsdangerous tries them, with the key schedule done here once; each check copies one.
        self._macs = tuple(hmac.new(_derived_key(key), digestmod=hashlib.sha1) for key in reversed(keys))
        self._signing_key_id = _key_id(keys[-1])
        self._key_ids = frozenset(_key_id(k) for k in keys)
        self._seal_keys = {_key_id(key): hashlib.sha256(f"{_SEAL_SALT}:{key}".encode()).digest() for key in keys}
        self.clock = clock
        # Every event of a call arrives on the same URL, so the same token is checked again and again:
        # remember the outcome of the (HMAC + base64 + JSON) work. Expiry is still checked on every use.
        self._verified = functools.lru_cache(maxsize=_CACHE_SIZE)(self._verify_signature)

    def sign(
        self, context: Mapping[str, Any] | None = None, *, max_age: float | None = DEFAULT_MAX_AGE, bind: bool = False
    ) -> str:
        """A URL-safe token carrying ``context`` (JSON-serialisable), valid for ``max_age`` seconds or forever.

        ``bind=True`` marks a token made for one call (an outbound call or a transfer leg): the receiver binds
        it to the first call id it arrives with (``binds``)."""
        payload: dict[str, Any] = {"k": self._signing_key_id}
        if context:
            payload["c"] = dict(context)
        if bind:
            # A nonce: two calls made in the same second with the same context must not share a token.
            payload["b"] = token_urlsafe(6)
        if max_age is not None:
            if max_age <= 0:
                raise ValueError("max_age must be positive (or None for a non-expiring URL)")
            payload["e"] = int(self.clock() + max_age)
        token = self._serializer.dumps(payload)
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError(
                f"the signed context makes a {len(token)}-character token, over MAX_TOKEN_LENGTH "
                f"({MAX_TOKEN_LENGTH}): keep ids in the context and the data in your own store"
            )
        return token

    def verify(self, token: str | None) -> dict[str, Any]:
        """The context signed into ``token``; raises ``TokenError`` saying why when it is not acceptable."""
        if not token:
            raise TokenError(TokenProblem.MISSING)
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenError(TokenProblem.ALTERED)  # before any decoding or HMAC work
        context, expires, flat, _ = self._verified(token)
        if expires is not None and self.clock() >= expires:
            raise TokenError(TokenProblem.EXPIRED)
        # A copy: the cached context is shared by every event on this URL (for a static incomingCallUrl, by
        # every call), so a handler mutating it must not change what later events see. A context of plain
        # values (the usual ids and flags) needs only a shallow copy: 0.1 us instead of deepcopy's 2.2 us, which
        # was 3.4 % of a served callback's time with per-call URLs (benchmarks/profile.py).
        if not context:
            return {}
        return dict(context) if flat else copy.deepcopy(context)

    def seal(self, data: bytes) -> str:
        """This receiver's seal over ``data`` (a recorded call's contexts, ``fixtures.receiver_seal``):
        ``<key id>.<HMAC-SHA256>`` under the newest key, with a key of its own derived from the secret, so a seal
        is never a callback signature nor the other way round. ``sealed`` checks one with any of the keys."""
        mac = hmac.new(self._seal_keys[self._signing_key_id], data, hashlib.sha256).digest()
        return f"{self._signing_key_id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode('ascii')}"

    def sealed(self, data: bytes, seal: str) -> bool:
        """Whether ``seal`` is this receiver's seal over ``data`` (made with any of its keys)."""
        key_id, _, mac = seal.partition(".")
        key = self._seal_keys.get(key_id)
        if key is None:
            return False
        expected = base64.urlsafe_b64encode(hmac.new(key, data, hashlib.sha256).digest()).rstrip(b"=")
        return hmac.compare_digest(expected, mac.encode("ascii", "replace"))

    def holds_key(self, key_id: str) -> bool:
        """Whether ``key_id`` (as a token or a seal names it) is one of this receiver's keys."""
        return key_id in self._key_ids

    def binds(self, token: str) -> bool:
        """Whether a token that ``verify`` accepted was made for one call (``sign(bind=True)``). Only one spelling
        of a token verifies, so its text is what the receiver binds to the call."""
        return self._verified(token)[3]

    def _verify_signature(self, token: str) -> tuple[dict[str, Any], int | None, bool, bool]:
        # itsdangerous's URLSafeSerializer format, read here rather than by ``loads``: its layers (key derivation
        # and a new HMAC per key on every call, then the payload's decoding steps) made a cache miss cost
        # 28-33 us; with the keyed HMACs made once and copied it is 8-13 us (benchmarks/micro.py, token
        # verification miss). Tokens itsdangerous made verify here, and ``sign`` still uses itsdangerous.
        if not token.isascii():  # every token we make is ASCII
            raise TokenError(TokenProblem.ALTERED)
        value, dot, signature = token.rpartition(".")
        if not dot:
            raise TokenError(TokenProblem.ALTERED)
        signed = value.encode("ascii")
        if not self._signed_by_us(signed, signature):
            raise TokenError(self._why_bad(signed))
        try:
            payload = _decode_payload(signed)
        except (ValueError, zlib.error):  # bad base64, deflate, UTF-8 or JSON (ValueError covers binascii's)
            raise TokenError(TokenProblem.ALTERED) from None
        if not isinstance(payload, dict):
            raise TokenError(TokenProblem.ALTERED)
        expires = payload.get("e")
        context = payload.get("c", {})
        if not isinstance(context, dict) or (expires is not None and not isinstance(expires, int)):
            raise TokenError(TokenProblem.ALTERED)
        flat = all(value is None or isinstance(value, str | int | float) for value in context.values())
        return context, expires, flat, "b" in payload

    def _signed_by_us(self, signed: bytes, signature: str) -> bool:
        claimed = _canonical_b64decode(signature.encode("ascii"))
        if claimed is None:
            return False
        for keyed in self._macs:
            mac = keyed.copy()
            mac.update(signed)
            if hmac.compare_digest(mac.digest(), claimed):
                return True
        return False

    def _why_bad(self, signed: bytes) -> TokenProblem:
        # The signature failed under every key. If the (unverified) payload names a key id we do not hold,
        # it was most likely signed by another deployment or a retired key; otherwise it was tampered with.
        # The payload is attacker-controlled: only its first few bytes are read (the key id leads it), never
        # the whole of it is decoded, decompressed or parsed.
        claimed = _claimed_key_id(signed)
        if claimed is not None and claimed not in self._key_ids:
            return TokenProblem.UNKNOWN_KEY
        return TokenProblem.ALTERED


def _derived_key(secret: str) -> bytes:
    """The HMAC key itsdangerous derives from ``secret`` for our salt (its default "django-concat" scheme)."""
    return hashlib.sha1(_SALT.encode() + b"signer" + secret.encode()).digest()


_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")


def _b64decode(data: bytes) -> bytes:
    """URL-safe base64 without its padding, as itsdangerous writes it (what ``base64.urlsafe_b64decode`` does,
    without its layers of Python: a third of the instructions)."""
    return binascii.a2b_base64(data.translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4))


def _canonical_b64decode(data: bytes) -> bytes | None:
    """The bytes ``data`` spells, only when ``data`` is how itsdangerous writes them; ``None`` for any other
    spelling. A lenient decoder reads many strings as one signature (padding ``=``, skipped characters such as
    ``!$&'()*+,;:@~``, the standard alphabet's ``+/``, unused low bits of the last character): each would be
    another spelling of one token, and anything keyed on the token's text (its binding to a call) would not
    know it. Re-encoding and comparing rejects all of them at once."""
    try:
        decoded = _b64decode(data)
    except ValueError:
        return None
    return decoded if binascii.b2a_base64(decoded, newline=False).translate(_TO_URLSAFE).rstrip(b"=") == data else None


def _decode_payload(signed: bytes) -> Any:
    """The JSON payload of a token whose signature was verified: base64, deflated when it starts with ``.``.
    pydantic-core's JSON parser: a quarter of ``json.loads``'s instructions on a token's payload."""
    if signed.startswith(b"."):
        return from_json(zlib.decompress(_b64decode(signed[1:])))
    return from_json(_b64decode(signed))


# Every payload we sign starts with the key id: compact JSON ``{"k":"<8 hex>"``, 15 bytes.
_KEY_ID_PREFIX = re.compile(rb'\{"k":"([0-9a-f]{8})"')
_PREFIX_BYTES: Final = 15
# Enough base64 for those bytes, plain (20 chars) or deflated (a dynamic Huffman header is under 300 bytes).
_PREFIX_CHARS: Final = 512


def _claimed_key_id(payload: Any) -> str | None:
    """The key id an unverified payload claims, reading at most ``_PREFIX_CHARS`` of it and inflating at most
    ``_PREFIX_BYTES`` bytes: bounded work whatever the attacker sent."""
    raw = bytes(payload)
    compressed = raw.startswith(b".")
    head = raw[1 : 1 + _PREFIX_CHARS] if compressed else raw[:_PREFIX_CHARS]
    head = head[: len(head) - len(head) % 4]  # whole base64 quanta only
    try:
        data = base64.urlsafe_b64decode(head)
        if compressed:
            data = zlib.decompressobj().decompress(data, _PREFIX_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        return None
    match = _KEY_ID_PREFIX.match(data[:_PREFIX_BYTES])
    return match.group(1).decode() if match else None


def parse_basic_auth(text: str, source: str = "basic auth") -> tuple[str, str]:
    """``user:password`` (as in ``CALLHOOKS_BASIC_AUTH``) as a ``(user, password)`` pair."""
    user, sep, password = text.partition(":")
    if not sep:
        raise ValueError(f"{source} must look like user:password")
    return user, password


def validate_basic_auth(credentials: object) -> tuple[str, str]:
    """``credentials`` as a ``(user, password)`` pair the Basic scheme can carry; ``ValueError`` otherwise.

    A user containing ``:`` could never authenticate (the header splits at the first ``:``), so it is
    refused when configured rather than failing every callback later.
    """
    if not isinstance(credentials, tuple) or len(credentials) != 2 or not all(isinstance(p, str) for p in credentials):
        raise TypeError("basic_auth must be a (user, password) tuple of strings")
    user, password = credentials
    if ":" in user:
        raise ValueError("the basic auth user must not contain ':' (HTTP Basic splits user:password at the first one)")
    return user, password


def check_basic_auth(header: str | None, expected: tuple[str, str]) -> bool:
    """Constant-time check of an ``Authorization: Basic …`` header against ``(user, password)``."""
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    # Compare both halves always, so timing does not reveal which one was wrong.
    user_ok = hmac.compare_digest(user.encode(), expected[0].encode())
    password_ok = hmac.compare_digest(password.encode(), expected[1].encode())
    return bool(sep) and user_ok and password_ok


def check_public_url(url: str) -> str:
    """``url`` without a trailing slash, after checking it is an absolute http(s) URL (``ValueError`` if not)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"public_url must be an absolute http(s) URL such as https://calls.example.com/hooks, not {url!r}"
        )
    if parts.fragment:
        raise ValueError(f"public_url must not carry a fragment (it never reaches the server): {url!r}")
    return url.rstrip("/")


# The kind and tag a URL was made for travel in its token's context under names no context of an application's
# uses ('@' is in no identifier), and are taken out of it before the handlers see the context.
_ROUTE_KIND: Final = "@kind"
_ROUTE_TAG: Final = "@tag"


def route_context(context: Mapping[str, Any] | None, kind: str | None, tag: str | None) -> Mapping[str, Any] | None:
    """``context`` with the kind and tag a callback URL is made for (a platform whose requests name no event type
    learns it so: Twilio), as its token carries them; ``split_route`` takes them out again."""
    if kind is None and tag is None:
        return context
    for label, value in (("kind", kind), ("tag", tag)):
        if value is not None and (not isinstance(value, str) or not value):
            raise TypeError(f"a callback URL's {label} must be a non-empty string or None, not {value!r}")
    route = {name: value for name, value in ((_ROUTE_KIND, kind), (_ROUTE_TAG, tag)) if value is not None}
    return {**(context or {}), **route}


def split_route(context: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None, str | None]:
    """A verified token's context without the kind and tag it carries, and those two (None when absent)."""
    if _ROUTE_KIND not in context and _ROUTE_TAG not in context:
        return context, None, None
    rest = {name: value for name, value in context.items() if name not in (_ROUTE_KIND, _ROUTE_TAG)}
    kind, tag = context.get(_ROUTE_KIND), context.get(_ROUTE_TAG)
    return rest, kind if isinstance(kind, str) else None, tag if isinstance(tag, str) else None


class _Default:
    """The type of ``DEFAULT``: "use the configured value", distinct from ``None`` ("never expires")."""

    def __repr__(self) -> str:
        return "<default>"


DEFAULT: Final = _Default()


class CallbackUrls:
    """Signed callback URLs of one receiver: ``public_url/<token>``, with the Basic-auth pair in the URL (unless
    ``credentials_in_url`` is False: Bandwidth v2 takes them in attributes of their own).

    ``CallHooks.callback_url`` and ``verify_callback_url`` delegate here.
    """

    __slots__ = ("basic_auth", "credentials_in_url", "max_age", "public_url", "signer")

    def __init__(
        self,
        signer: CallbackSigner | None,
        public_url: str | None = None,
        *,
        basic_auth: tuple[str, str] | None = None,
        max_age: float | None = DEFAULT_MAX_AGE,
        credentials_in_url: bool = True,
    ) -> None:
        self.signer = signer
        self.public_url = check_public_url(public_url) if public_url else None
        self.basic_auth = basic_auth
        self.max_age = max_age
        self.credentials_in_url = credentials_in_url

    @property
    def path_prefix(self) -> str:
        """The path of ``public_url`` (``/hooks`` for ``https://calls.example.com/hooks``), ``""`` for none."""
        return urlsplit(self.public_url).path.rstrip("/") if self.public_url else ""

    def make(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        max_age: float | _Default | None = DEFAULT,
        public_url: str | None = None,
        bind: bool = False,
        kind: str | None = None,
        tag: str | None = None,
    ) -> str:
        if (kind is not None or tag is not None) and self.signer is None:
            raise ValueError("a callback URL's kind and tag travel in its signed token: they need a secret")
        context = route_context(context, kind, tag)
        base = check_public_url(public_url) if public_url else self.public_url
        if not base:
            raise ValueError("callback_url needs public_url (CallHooks(public_url=...) or CALLHOOKS_PUBLIC_URL)")
        parts = urlsplit(base)
        path = parts.path
        if self.signer is not None:
            lifetime = self.max_age if isinstance(max_age, _Default) else max_age
            path = f"{path}/{self.signer.sign(context, max_age=lifetime, bind=bind)}"
        elif context:
            raise ValueError("context needs a secret: without one it could not be trusted on the way back")
        netloc = parts.netloc.rpartition("@")[2]
        if self.basic_auth is not None and self.credentials_in_url:
            user, password = (quote(p, safe="") for p in self.basic_auth)
            netloc = f"{user}:{password}@{netloc}"
        return urlunsplit((parts.scheme, netloc, path or "/", parts.query, ""))

    def request_url(self, segment: str, query: bytes = b"") -> str | None:
        """The public URL a request was sent to: ``public_url``, the path segment below it (the token) and the raw
        query as received; what a platform signing its requests signed (Twilio). None without ``public_url``."""
        base = self.public_url
        if base is None:
            return None
        url = f"{base}/{segment}" if segment else (base if self.path_prefix else f"{base}/")
        return f"{url}?{query.decode('latin-1')}" if query else url

    def verify(self, url: str) -> dict[str, Any]:
        if self.signer is None:
            return {}
        token = urlsplit(url).path.rstrip("/").rpartition("/")[2]
        return dict(split_route(self.signer.verify(token))[0])
