"""Call sessions as JSON text: the one place a session is checked, encoded and decoded for every store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .errors import SessionValueError

__all__ = ["decode_session", "encode_session", "token_digest"]


def encode_session(data: Mapping[str, Any], max_bytes: int) -> str:
    """``data`` as compact JSON; ``SessionValueError`` naming the first key whose value is not JSON."""
    for key, value in data.items():
        if not isinstance(key, str):
            raise SessionValueError(repr(key), "has a key that is not a string")
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SessionValueError(key, f"is not JSON ({type(value).__name__}: {exc})") from None
    text = json.dumps(dict(data), separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > max_bytes:
        raise SessionValueError(
            max(data, key=lambda k: len(json.dumps(data[k]))), f"makes the session over {max_bytes} bytes"
        )
    return text


def decode_session(text: str | bytes | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def token_digest(token: str) -> str:
    """Stores keep a digest of a callback token, never the token (it is a bearer credential)."""
    return hashlib.sha256(token.encode()).hexdigest()[:40]
