"""A handler's reply as kept with its event's record, so that a duplicate delivery gets the same answer.

Kept as one JSON text under the record's ``reply`` (a field of the Redis hash, a key of the memory/SQLite record):
``{"v": 1, "status": 200, "type": "application/xml", "body": "..."}`` with the body as text, or ``"body64"`` (base64)
when it is not UTF-8. Records written before replies were kept (record format 1) have no ``reply``: a duplicate
of one gets an empty 200, as then. A text this version cannot read (a later format) is read as no reply.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final

__all__ = ["REPLY_FORMAT", "StoredReply", "decode_reply", "encode_reply"]

#: The version of the reply's text written now.
REPLY_FORMAT: Final = 1


@dataclass(frozen=True)
class StoredReply:
    """What the first run of an event answered: its status, content type and body."""

    status: int
    media_type: str | None
    body: bytes


#: ``json.dumps`` with these separators, built once: ``dumps`` builds an encoder per call when given any option, which
#: was most of what keeping a reply cost a callback on ``memory://``.
_encode = json.JSONEncoder(separators=(",", ":")).encode


def encode_reply(reply: StoredReply) -> str:
    """``reply`` as the JSON text kept with the record."""
    kept: dict[str, object] = {"v": REPLY_FORMAT, "status": reply.status, "type": reply.media_type}
    try:
        kept["body"] = reply.body.decode()
    except UnicodeDecodeError:
        kept["body64"] = base64.b64encode(reply.body).decode("ascii")
    return _encode(kept)


def decode_reply(text: str | bytes | None) -> StoredReply | None:
    """The reply a record keeps, or None: none kept, or a text this version cannot read."""
    if not text:
        return None
    try:
        kept = json.loads(text)
        if not isinstance(kept, dict) or kept.get("v") != REPLY_FORMAT:
            return None
        if "body64" in kept:
            body = base64.b64decode(kept["body64"], validate=True)
        else:
            body = str(kept.get("body", "")).encode()
        status, media_type = kept["status"], kept.get("type")
        if not isinstance(status, int) or not (media_type is None or isinstance(media_type, str)):
            return None
        return StoredReply(status, media_type, body)
    except (ValueError, KeyError, binascii.Error):
        return None
