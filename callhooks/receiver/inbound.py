"""One callback request's parts in, a verified typed event (or the HTTP error it deserves) out. No I/O.

``CallHooks`` (``app.py``) is the ASGI shell around ``CallbackReader``: it reads the body within its size limit
and sends what the reader decides. Other hosts (a WSGI view, a serverless function) get the same checks, in
the same order, through ``read_callback`` (gidgethub's ``Event.from_http`` is the model: one call, no I/O).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from ..events import parse_event, parse_event_json, query_to_fields
from ..platform import Delivery, Event, lower_headers
from ..signing import CallbackSigner, TokenError, TokenProblem, check_basic_auth, split_route

if TYPE_CHECKING:
    from .receiving import Receiving

__all__ = [
    "FORM",
    "JSON",
    "CallbackHead",
    "CallbackParts",
    "CallbackReader",
    "CallbackRejected",
    "parse_form",
    "read_callback",
]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
ALLOWED_METHODS = "GET, POST"

_BASIC_CHALLENGE = {"www-authenticate": 'Basic realm="callhooks", charset="UTF-8"'}


class CallbackRejected(Exception):
    """The request is not an acceptable callback: ``status``, the JSON ``body`` and any ``headers`` to answer with."""

    def __init__(
        self, status: int, error: str, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {"error": error, "detail": detail, **extra}
        self.headers: Mapping[str, str] = headers or {}
        #: A Basic-auth challenge to a request that carried no credentials: the platform's usual first try
        #: (Bandwidth v2 sends them only when challenged), so not worth a warning. Wrong credentials are not.
        self.challenge_only = False

    @property
    def reason(self) -> str:
        """A short code for logs and metrics: the body's ``reason`` when it has one, else its ``error``."""
        return str(self.body.get("reason", self.body["error"]))


@dataclass(frozen=True, slots=True)
class CallbackHead:
    """What the request head decided: how to read the body and the verified context to attach to the event."""

    method: str
    media_type: str
    context: Mapping[str, Any]
    bound_token: str | None = None  #: the token, when it was made for one call (bound to its first call id)
    kind: str | None = None  #: the kind of request the URL was made for (``callback_url(kind=...)``)
    tag: str | None = None  #: the tag the URL was made with (``callback_url(tag=...)``)


class CallbackReader:
    """The receiver's whole inbound sequence, in two steps and with no I/O.

    ``judge_head`` looks only at the request head (method, token, ``Authorization``, content type and length)
    and answers 405, 401, 403, 415 or 413 before a byte of body is read. ``read_event`` turns the query and
    the body into the verified, typed event (400, 413 or 422). The ASGI app and ``read_callback`` both use it,
    so the order of the checks is written once, here. ``receiving`` serves a platform other than Catapult
    (``callhooks.receiver.receiving``): its own check, then its parser, read the body.
    """

    __slots__ = ("basic_auth", "body_limit", "receiving", "signer")

    def __init__(
        self,
        signer: CallbackSigner | None,
        basic_auth: tuple[str, str] | None,
        body_limit: int,
        receiving: Receiving | None = None,
    ) -> None:
        self.signer = signer
        self.basic_auth = basic_auth
        self.body_limit = body_limit
        self.receiving = receiving if receiving is not None and receiving.platform.name != "catapult" else None

    def judge_head(
        self,
        method: str,
        token: str,
        authorization: str | None = None,
        content_type: str | None = None,
        content_length: str | None = None,
    ) -> CallbackHead:
        if method not in ("GET", "POST"):
            raise method_not_allowed(method, ALLOWED_METHODS)
        if self.basic_auth is not None and not check_basic_auth(authorization, self.basic_auth):
            # 401 with a challenge: the platform's HTTP client sends the URL's credentials only when asked.
            rejected = CallbackRejected(
                401,
                "unauthorized",
                TokenError(TokenProblem.BASIC_AUTH).detail,
                reason=TokenProblem.BASIC_AUTH.value,
                headers=_BASIC_CHALLENGE,
            )
            rejected.challenge_only = not authorization
            raise rejected
        context: Mapping[str, Any] = {}
        bound_token = kind = tag = None
        signer = self.signer  # read once: this runs for every request
        if signer is not None:
            try:
                context = signer.verify(token)
            except TokenError as exc:
                raise forbidden(exc.problem) from None
            bound_token = token if signer.binds(token) else None
            context, kind, tag = split_route(context)
        media_type = _accepted_media_type(method, content_type)
        if content_length is not None and content_length.isdigit():
            limit = self.body_limit
            if int(content_length) > limit:
                raise too_large(limit)
        return CallbackHead(method, media_type, context, bound_token, kind, tag)

    def read_event(
        self,
        head: CallbackHead,
        query: bytes = b"",
        body: bytes = b"",
        *,
        headers: Iterable[tuple[str, str]] | None = None,
        url: str | None = None,
    ) -> Event:
        """The verified, typed event. ``headers`` (every request header) and ``url`` (the public URL the request
        was sent to) are read only by platforms that sign requests or name things in headers (Twilio)."""
        if len(body) > self.body_limit:
            raise too_large(self.body_limit)
        if self.receiving is None:
            event: Event = _decode(head.method, head.media_type, query, body)
        else:
            event = _read_platform(self.receiving, head, query, body, lower_headers(headers), url)
        return event.with_context(head.context) if head.context else event


class CallbackParts(TypedDict, total=False):
    """A callback's parts beside its method, token and query (``CallHooks.read_callback``'s keywords)."""

    content_type: str | None
    body: bytes
    authorization: str | None
    headers: Iterable[tuple[str, str]] | None


def read_callback(
    reader: CallbackReader,
    method: str,
    token: str = "",
    *,
    query: bytes = b"",
    content_type: str | None = None,
    body: bytes = b"",
    authorization: str | None = None,
    headers: Iterable[tuple[str, str]] | None = None,
    url: str | None = None,
) -> Event:
    """Verify and parse one callback from its parts in one call, for hosts other than ASGI (a WSGI view, a
    serverless function). ``token`` is the last path segment of the callback URL; ``headers`` and ``url`` (the
    public URL requested) are what Twilio's signature needs. Raises ``CallbackRejected`` with the status, JSON
    body and headers the ASGI app would have answered."""
    head = reader.judge_head(method.upper(), token, authorization, content_type)
    return reader.read_event(head, query, body, headers=headers, url=url)


_json_object: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def _read_platform(
    receiving: Receiving, head: CallbackHead, query: bytes, body: bytes, headers: dict[str, str], url: str | None
) -> Event:
    """A platform's event (``receiving.platform``): its own check (a signature) first, then its parser."""
    from .receiving import Inbound  # receiving imports replies, which imports routing; none imports this

    platform = receiving.platform
    form = parse_form(body.decode("utf-8", "replace")) if head.method == "POST" and head.media_type == FORM else None
    receiving.verify(Inbound(head.method, url, headers, head.media_type, body, form))
    try:
        if head.method == "GET":
            fields: Mapping[str, Any] = platform.form_fields(parse_form(query.decode("utf-8", "replace")))
        elif form is None:
            fields = _json_object.validate_json(body)
        else:
            fields = platform.form_fields(form)
        kind = head.kind or receiving.default_kind
        event: Event = platform.parse(Delivery(fields, kind=kind, tag=head.tag, headers=headers))
    except ValidationError as exc:
        raise _diagnose(exc, union=False) from None
    return event


def _accepted_media_type(method: str, content_type: str | None) -> str:
    """The media type of a POST body we can decode (checked before the body is read); 415 otherwise."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if method == "GET" or media_type in (JSON, FORM):
        return media_type
    got = media_type or "no content type"
    raise CallbackRejected(415, "unsupported-media-type", f"POST callbacks must be {JSON} or {FORM}, not {got!r}")


def _decode(method: str, media_type: str, query: bytes, body: bytes) -> Event:
    """The typed event in a GET query, a JSON body or a form body; 400 when it is no event, 422 for bad fields."""
    try:
        if method == "GET":
            return parse_event(query_to_fields(parse_form(query.decode("utf-8", "replace"))))
        if media_type == JSON:
            return parse_event_json(body)  # raw bytes straight into the model: no intermediate dict
        return parse_event(query_to_fields(parse_form(body.decode("utf-8", "replace"))))
    except ValidationError as exc:
        raise _diagnose(exc) from None


def parse_form(text: str) -> list[tuple[str, str]]:
    """The name/value pairs of a query string or form body, decoded: ``parse_qsl(text, keep_blank_values=True)``
    exactly, at a sixth of its cost on a callback's query (the standard one runs its whole decoding on every
    part; here only parts holding a ``+`` or a ``%`` are decoded, most hold neither, and ``_unquote`` decodes
    the others in C)."""
    pairs: list[tuple[str, str]] = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = _unquote(name)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = _unquote(value)
        pairs.append((name, value))
    return pairs


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text)``, a sixth of its instructions on a callback's URI (6k instead of 35k, callgrind):
    a text in ASCII has its ``%XX`` escapes decoded in C by the codec that reads ``\\xXX`` in bytes literals, once
    its backslashes are doubled (they stay themselves) and its ``%`` written ``\\x``. A ``%`` that escapes nothing
    (``unquote`` leaves it as it is) makes that codec fail; then, and for text not in ASCII, ``unquote`` does it."""
    if text.isascii():
        escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode()
        try:
            decoded: bytes = codecs.escape_decode(escaped)[0]
        except ValueError:
            return unquote(text)
        return decoded.decode("utf-8", "replace")  # as ``unquote`` decodes the bytes of escapes
    return unquote(text)


def method_not_allowed(method: str, allow: str) -> CallbackRejected:
    return CallbackRejected(
        405, "method-not-allowed", f"{method} is not allowed here; use {allow}", headers={"allow": allow}
    )


def forbidden(problem: TokenProblem) -> CallbackRejected:
    return CallbackRejected(403, "forbidden", TokenError(problem).detail, reason=problem.value)


def too_large(limit: int) -> CallbackRejected:
    return CallbackRejected(413, "body-too-large", f"callback bodies are limited to {limit} bytes")


def _wire_name(loc: tuple[int | str, ...], union: bool = True) -> str:
    # The first element of a union error's location is the event tag ("dtmf"); the rest is the wire path.
    return ".".join(str(part) for part in (loc[1:] if union else loc)) or "(body)"


def _diagnose(exc: ValidationError, *, union: bool = True) -> CallbackRejected:
    """The 400 or 422 for a body the event model refused (``union``: Catapult's tagged union of events)."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    kinds = {error["type"] for error in errors}
    if "json_invalid" in kinds:
        return CallbackRejected(400, "invalid-json", "the request body is not valid JSON")
    if "missing_event_type" in kinds or any(e["type"] == "missing" and e["loc"] == ("eventType",) for e in errors):
        return CallbackRejected(400, "invalid-event", "the callback must be a JSON object with an eventType string")
    if not union and any(e["type"] == "dict_type" and not e["loc"] for e in errors):
        return CallbackRejected(400, "invalid-event", "the callback's JSON body must be an object")
    fields: list[Mapping[str, str]] = [{"name": _wire_name(e["loc"], union), "problem": e["msg"]} for e in errors]
    names = ", ".join(field["name"] for field in fields)
    return CallbackRejected(422, "invalid-field", f"fields with the wrong type: {names}", fields=fields)
