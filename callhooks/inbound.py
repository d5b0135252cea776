"""One callback request's parts in, a verified typed event (or the HTTP error it deserves) out. No I/O.

``CallHooks`` (``app.py``) is the ASGI shell around these functions: it reads the body within its size limit
and sends what they decide. Other hosts (a WSGI view, a serverless function) get the same checks through
``CallHooks.read_callback``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from .events import CallEvent, parse_event, parse_event_json, query_to_fields
from .signing import CallbackSigner, TokenError, TokenProblem, check_basic_auth

__all__ = ["FORM", "JSON", "CallbackRejected", "accepted_media_type", "authenticate", "decode"]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class CallbackRejected(Exception):
    """The request is not an acceptable callback: ``status`` and the JSON ``body`` to answer with."""

    def __init__(self, status: int, error: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {"error": error, "detail": detail, **extra}


def authenticate(
    token: str,
    authorization: str | None,
    signer: CallbackSigner | None,
    basic_auth: tuple[str, str] | None,
) -> dict[str, Any]:
    """The context signed into ``token``, after the Basic-auth check; 403 saying which check failed."""
    if basic_auth is not None and not check_basic_auth(authorization, basic_auth):
        raise forbidden(TokenProblem.BASIC_AUTH)
    if signer is None:
        return {}
    try:
        return signer.verify(token)
    except TokenError as exc:
        raise forbidden(exc.problem) from None


def accepted_media_type(method: str, content_type: str | None) -> str:
    """The media type of a POST body we can decode (checked before the body is read); 415 otherwise."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if method == "GET" or media_type in (JSON, FORM):
        return media_type
    got = media_type or "no content type"
    raise CallbackRejected(415, "unsupported-media-type", f"POST callbacks must be {JSON} or {FORM}, not {got!r}")


def decode(method: str, media_type: str, query: bytes, body: bytes) -> CallEvent:
    """The typed event in a GET query, a JSON body or a form body; 400 when it is no event, 422 for bad fields."""
    try:
        if method == "GET":
            return parse_event(query_to_fields(parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)))
        if media_type == JSON:
            return parse_event_json(body)  # raw bytes straight into the model: no intermediate dict
        return parse_event(query_to_fields(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
    except ValidationError as exc:
        raise _diagnose(exc) from None


def forbidden(problem: TokenProblem) -> CallbackRejected:
    return CallbackRejected(403, "forbidden", TokenError(problem).detail, reason=problem.value)


def too_large(limit: int) -> CallbackRejected:
    return CallbackRejected(413, "body-too-large", f"callback bodies are limited to {limit} bytes")


def _wire_name(loc: tuple[int | str, ...]) -> str:
    # The first element of a union error's location is the event tag ("dtmf"); the rest is the wire path.
    return ".".join(str(part) for part in loc[1:]) or "(body)"


def _diagnose(exc: ValidationError) -> CallbackRejected:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    kinds = {error["type"] for error in errors}
    if "json_invalid" in kinds:
        return CallbackRejected(400, "invalid-json", "the request body is not valid JSON")
    if "missing_event_type" in kinds:
        return CallbackRejected(400, "invalid-event", "the callback must be a JSON object with an eventType string")
    fields: list[Mapping[str, str]] = [{"name": _wire_name(e["loc"]), "problem": e["msg"]} for e in errors]
    names = ", ".join(field["name"] for field in fields)
    return CallbackRejected(422, "invalid-field", f"fields with the wrong type: {names}", fields=fields)
