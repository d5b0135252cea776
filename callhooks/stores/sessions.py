"""Call sessions as JSON text: the one place a session is checked, encoded and decoded for every store."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .errors import SessionValueError

__all__ = ["decode_session", "encode_session", "token_digest"]


def encode_session(data: Mapping[str, Any], max_bytes: int) -> str:
    """``data`` as compact JSON; ``SessionValueError`` naming the first key whose value is not JSON."""
    text = _whole(data)
    if text is None:
        _name_the_culprit(data)
        text = json.dumps(dict(data), separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > max_bytes:
        raise SessionValueError(
            max(data, key=lambda k: len(json.dumps(data[k]))), f"makes the session over {max_bytes} bytes"
        )
    return text


_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode  # json.dumps with these options


def _whole(data: Mapping[str, Any]) -> str | None:
    # One encoding when all is well (the usual case) instead of one per value and one of the whole, which
    # doubled the cost of a settle on memory://; None when something is wrong: ``_name_the_culprit`` says what.
    if not all(isinstance(key, str) for key in data):
        return None
    try:
        return _encode(data if type(data) is dict else dict(data))
    except (TypeError, ValueError):
        return None


def _name_the_culprit(data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if not isinstance(key, str):
            raise SessionValueError(repr(key), "has a key that is not a string")
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SessionValueError(key, f"is not JSON ({type(value).__name__}: {exc})") from None


def decode_session(text: str | bytes | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


@functools.lru_cache(maxsize=1024)  # a call's URL brings the same token about 8 times: one SHA-256 for them all
def token_digest(token: str) -> str:
    """Stores keep a digest of a callback token, never the token (it is a bearer credential)."""
    return hashlib.sha256(token.encode()).hexdigest()[:40]
