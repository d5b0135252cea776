"""Journal entries: what the console keeps of each request, as JSON-able dicts built from monitor records.

An entry is what goes into the shared journal of a store (``Store.append_journal``) or the in-memory one, so
it holds only JSON types, never a token (the payload is the body or query string; the token was in the path),
and every text in it is bounded. Two kinds:

``{"kind": "event", ...}``      an accepted event, the handler that ran and what was answered;
``{"kind": "rejection", ...}``  a request refused before any handler ran (nothing in it was verified).
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Final

from .. import logs
from ..platform import event_call_id
from ..receiver.monitoring import Dispatched, Rejection
from ..replay_file import recorded_context
from . import masking

__all__ = ["MAX_PAYLOAD_CHARS", "MAX_TEXT_CHARS", "EntryMaker", "fit_entry"]

#: Longest wire payload kept (the receiver's default body limit): longer ones are cut and marked.
MAX_PAYLOAD_CHARS: Final = 64 * 1024
#: Longest response body, traceback or unverified payload kept.
MAX_TEXT_CHARS: Final = 16 * 1024
_MAX_CALL_ID: Final = 200
# The call id an unverified payload claims, found without parsing it: a bounded look at its start.
_CLAIMED_CALL_ID = re.compile(r'"callId"\s{0,8}:\s{0,8}"([^"\\]{1,200})"|(?:^|&)callId=([^&]{1,200})')
_CLAIM_WINDOW: Final = 8 * 1024
_XML_TYPES: Final = ("application/xml", "text/xml")
# What a shrunk entry keeps of each long text (fit_entry).
_SHRUNK_CHARS: Final = 4096
_ESSENTIAL_CHARS: Final = 200
# The fields that say what happened, kept when nothing else fits.
_ESSENTIAL: Final = ("kind", "at", "callId", "eventType", "state", "tag", "from", "to", "method", "handler", "status")


def _cut(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[:limit], True)


class EntryMaker:
    """Turns monitor records into journal entries: numbers masked when ``mask``, secrets scrubbed from
    tracebacks (``secrets``: literal strings never to show, such as the signing keys and passwords)."""

    def __init__(self, *, mask: bool = False, secrets: Sequence[str] = ()) -> None:
        self.mask = mask
        self.secrets = tuple(s for s in secrets if len(s) >= 4)
        self._text: Callable[[str], str] = masking.mask_numbers_in if mask else _same

    def event(self, record: Dispatched) -> dict[str, Any]:
        event = record.event
        payload, truncated = _cut(record.payload.decode("utf-8", "replace"), MAX_PAYLOAD_CHARS)
        fields = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        context = recorded_context(event)  # with the kind and tag of a URL-routed platform's (Twilio's)
        number: Callable[[str | None], str | None] = _mask_optional if self.mask else _same_optional
        if self.mask:
            fields = masking.mask_fields(fields)
            context = masking.mask_fields(context) if context is not None else None
        entry: dict[str, Any] = {
            "kind": "event",
            "at": record.received,
            "callId": _call_id(event),
            "eventType": event.event_type,
            "state": event.call_state,
            "tag": event.tag,
            "from": number(getattr(event, "from_", None)),  # a v2 conference's own events name no party
            "to": number(getattr(event, "to", None)),
            "method": record.method,
            "mediaType": record.media_type or None,
            "payload": self._text(payload),
            "fields": fields,
            "context": context,
            "handler": record.handler,
            "handlerSeconds": record.handler_seconds,
            "seconds": record.duration,
            "status": record.status,
            "duplicate": record.duplicate,
            "response": self._response(record),
            "error": self._error(record.error),
        }
        if truncated:
            entry["truncated"] = True
        token = getattr(event, "idempotency_token", None)  # Twilio's I-Twilio-Idempotency-Token: a plain replay
        if token:  # sends it again, so it is answered as a duplicate as Twilio's own retry would be
            entry["idempotencyToken"] = token
        return entry

    def rejection(self, record: Rejection) -> dict[str, Any]:
        payload, truncated = _cut(record.payload.decode("utf-8", "replace"), MAX_TEXT_CHARS)
        match = _CLAIMED_CALL_ID.search(payload[:_CLAIM_WINDOW])
        claimed = (match.group(1) or match.group(2)) if match else None
        entry: dict[str, Any] = {
            "kind": "rejection",
            "at": record.received,
            "status": record.status,
            "reason": record.reason,
            "detail": self._text(logs.redact_urls_in(record.detail[:MAX_TEXT_CHARS])),
            "method": record.method,
            "client": record.client,
            "payload": self._text(payload),
            "claimedCallId": claimed,
        }
        if truncated:
            entry["truncated"] = True
        return entry

    def _response(self, record: Dispatched) -> dict[str, Any] | None:
        response = record.response
        if response is None:
            return None
        raw = getattr(response, "body", None)  # a streaming response has none to show
        body = bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else b""
        text, truncated = _cut(body.decode("utf-8", "replace"), MAX_TEXT_CHARS)
        text = logs.redact_urls_in(text)  # a BXML answer's callback URLs carry tokens (and maybe a password)
        media = response.media_type or response.headers.get("content-type", "")
        return {
            "mediaType": media,
            "xml": media.split(";")[0].strip() in _XML_TYPES,
            "body": self._text(text),
            "truncated": truncated,
        }

    def _error(self, error: BaseException | None) -> dict[str, Any] | None:
        if error is None:
            return None
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        if len(text) > MAX_TEXT_CHARS:  # the end says what failed: keep it
            text = "…\n" + text[-MAX_TEXT_CHARS:]
        text = logs.redact_urls_in(text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        message = logs.redact_urls_in(str(error)[:MAX_TEXT_CHARS])
        for secret in self.secrets:
            message = message.replace(secret, "***")
        return {"type": type(error).__name__, "message": self._text(message), "traceback": self._text(text)}


def fit_entry(entry: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """``entry``, or a shrunk copy of it (long texts cut, typed fields dropped, ``"truncated": true``) when its
    JSON is over ``max_bytes`` (a store's ``journal_entry_max_bytes``), so the store never refuses it."""
    if _size(entry) <= max_bytes:
        return entry
    shrunk = dict(entry, truncated=True, fields={"note": "too large for the journal"})
    for name, value in entry.items():
        if isinstance(value, str):
            shrunk[name] = value[:_SHRUNK_CHARS]
    if isinstance(shrunk.get("response"), dict):
        shrunk["response"] = dict(shrunk["response"], body=str(shrunk["response"].get("body", ""))[:_SHRUNK_CHARS])
    if isinstance(shrunk.get("error"), dict):
        error = shrunk["error"]
        shrunk["error"] = dict(
            error,
            message=str(error.get("message", ""))[:_SHRUNK_CHARS],
            traceback=str(error.get("traceback", ""))[-_SHRUNK_CHARS:],
        )
    if shrunk.get("context") is not None and _size(shrunk["context"]) > _SHRUNK_CHARS:
        shrunk["context"] = {"note": "too large for the journal"}
    if _size(shrunk) <= max_bytes:
        return shrunk
    essential = {name: entry[name] for name in _ESSENTIAL if name in entry}
    return {name: v[:_ESSENTIAL_CHARS] if isinstance(v, str) else v for name, v in essential.items()} | {
        "truncated": True
    }


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def _call_id(event: Any) -> str | None:
    call_id = event_call_id(event)
    return call_id[:_MAX_CALL_ID] if call_id is not None else None


def _same(text: str) -> str:
    return text


def _same_optional(text: str | None) -> str | None:
    return text


def _mask_optional(text: str | None) -> str | None:
    return masking.mask_number(text) if text is not None else None
