"""A call's callbacks as a JSON fixture (``callhooks.call/1``), and the plan of replaying one: no I/O here.

The console exports a call's timeline in this format; ``callhooks replay`` and ``callhooks.testing.replay``
send it back to a receiver. A fixture holds what arrived, not how to reach the receiver::

    {"format": "callhooks.call/1", "callId": "c-abc", "exported": "2026-11-27T01:00:00Z",
     "events": [{"at": 0.0, "method": "POST", "contentType": "application/json",
                 "body": "{\\"eventType\\": \\"answer\\", ...}", "context": {"order": 4411}, "status": 200}]}

``at`` is seconds since the call's first event; ``body`` the wire payload as received (the JSON body of a POST,
the query string of a GET); ``context`` the verified context the callback URL's token carried (the token itself
is never stored: a replay signs a fresh one); ``status`` what the receiver answered (informational).

A replay signs each ``context`` with the secret it is given, so a fixture from elsewhere would have the
receiver trust contexts it never made. The console's export carries ``receiver``: this receiver's seal over the
call id and the contexts (``receiver_seal``), and ``callhooks replay`` warns when a fixture with contexts has
no seal of the replaying secret's receiver (``not_recorded_here``). Fixtures without one (exported before the
seal, built by hand or by a test recorder) still replay, with that warning.

A fixture file is input like any other: it is size-checked before it is parsed, validated strictly (types are
not coerced, unknown fields are refused so a misspelt ``contex`` is not silently dropped), and every problem
becomes one :class:`FixtureError` naming the field. Bodies are kept opaque (a recorded call may hold a
malformed callback the receiver refused, and replaying it is a valid regression test).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .logs import escape, redact_url
from .signing import CallbackSigner, CallbackUrls, check_public_url, route_context, split_route

__all__ = [
    "COMPRESSED_GAP",
    "FORMAT",
    "MAX_AT",
    "MAX_BODY_CHARS",
    "MAX_EVENTS",
    "MAX_FIXTURE_BYTES",
    "CallFixture",
    "FixtureError",
    "FixtureEvent",
    "RecordedCallback",
    "ReplayRequest",
    "Timing",
    "build_fixture",
    "dump_fixture",
    "hide_secrets",
    "load_fixture",
    "not_recorded_here",
    "plan_replay",
    "receiver_seal",
    "recorded_context",
    "twilio_signed",
]

FORMAT: Final = "callhooks.call/1"
#: A fixture file larger than this is refused before it is parsed.
MAX_FIXTURE_BYTES: Final = 16 * 1024 * 1024
#: Events in one fixture: far more than any call produces (a long IVR call is a few hundred).
MAX_EVENTS: Final = 10_000
#: One body: 16 times the receiver's default ``body_limit``, for receivers configured with a larger one.
MAX_BODY_CHARS: Final = 1024 * 1024
#: Latest ``at``: a week. Calls last hours and transcriptions come after the call, not days later.
MAX_AT: Final = 7 * 24 * 3600.0
#: Seconds between requests with ``timing="compressed"``: none. Requests still go one at a time, each after the
#: previous one was answered, so the receiver sees the call's events in their order, as fast as it answers.
COMPRESSED_GAP: Final = 0.0

Timing = Literal["original", "compressed"]
USER_AGENT: Final = "BandwidthAPI/v1 (callhooks replay)"
TOKEN_PLACEHOLDER: Final = "<token>"
_FORM: Final = "application/x-www-form-urlencoded"
_ERRORS_SHOWN: Final = 5


class FixtureError(ValueError):
    """A fixture that cannot be used; the message names the field and the problem in one line."""


class FixtureEvent(BaseModel):
    """One callback as it arrived."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    at: float = Field(ge=0, le=MAX_AT)
    method: Literal["GET", "POST"]
    content_type: str | None = Field(default=None, alias="contentType", min_length=1, max_length=200)
    body: str = Field(max_length=MAX_BODY_CHARS)
    context: dict[str, Any] | None = None
    status: int | None = Field(default=None, ge=100, le=599)

    @model_validator(mode="after")
    def _check_method_parts(self) -> FixtureEvent:
        try:
            json.dumps(self.context, allow_nan=False)  # what a token can carry: plain JSON
        except ValueError:
            raise ValueError("context holds a number JSON cannot carry (Infinity or NaN)") from None
        if self.method == "GET":
            if self.content_type is not None:
                raise ValueError("a GET callback has no contentType (its body is the query string)")
            bad = next((c for c in self.body if not "!" <= c <= "~" or c == "#"), None)
            if bad is not None:
                raise ValueError(f"a GET body is a query string: {bad!r} cannot appear in one unencoded")
        elif self.content_type is not None and not self.content_type.isprintable():
            raise ValueError("contentType holds a control character")
        return self

    @property
    def fields(self) -> dict[str, Any]:
        """The body's fields (``{}`` when it is not a JSON object or a query string), for display."""
        return _body_fields(self) or {}

    @property
    def event_type(self) -> str:
        """The body's ``eventType``, else the kind its URL named (``recorded_context``), ``"?"`` when neither."""
        value = self.fields.get("eventType")
        if not (isinstance(value, str) and value):
            value = split_route(self.context or {})[1]
        return value if isinstance(value, str) and value else "?"


class CallFixture(BaseModel):
    """A call's callbacks in arrival order (``events``), as exported by the console or :func:`build_fixture`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    format: Literal["callhooks.call/1"]
    call_id: str = Field(alias="callId", min_length=1, max_length=256)
    exported: AwareDatetime
    events: list[FixtureEvent] = Field(min_length=1, max_length=MAX_EVENTS)
    #: The seal of the receiver that recorded the call (``receiver_seal``); None: not known.
    receiver: str | None = Field(default=None, pattern=r"^[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$")

    @model_validator(mode="after")
    def _check_order(self) -> CallFixture:
        for index in range(1, len(self.events)):
            earlier, later = self.events[index - 1].at, self.events[index].at
            if later < earlier:
                raise ValueError(
                    f"events[{index}].at ({later:g}) is before events[{index - 1}].at ({earlier:g}): "
                    "events are listed in arrival order"
                )
        return self


# ---------------------------------------------------------------------------------------------- reading, writing


def load_fixture(data: str | bytes) -> CallFixture:
    """The fixture in ``data`` (a file's text or bytes); :class:`FixtureError` saying what is wrong otherwise."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_FIXTURE_BYTES:
        raise FixtureError(f"invalid call fixture: {size} bytes, over the limit of {MAX_FIXTURE_BYTES}")
    try:
        return CallFixture.model_validate_json(data)
    except ValidationError as exc:
        raise FixtureError(f"invalid call fixture: {_describe(exc)}") from None


def dump_fixture(fixture: CallFixture) -> str:
    """``fixture`` as the JSON text of a fixture file (indented, ending in a newline)."""
    document = fixture.model_dump(mode="json", by_alias=True)
    for event in document["events"]:
        if event["contentType"] is None:
            del event["contentType"]
    if document["receiver"] is None:
        del document["receiver"]
    document["exported"] = _iso(fixture.exported)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _iso(moment: datetime) -> str:
    text = moment.astimezone(timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    parts = [_describe_one(error) for error in errors[:_ERRORS_SHOWN]]
    more = f" (and {len(errors) - _ERRORS_SHOWN} more)" if len(errors) > _ERRORS_SHOWN else ""
    return "; ".join(parts) + more


def _describe_one(error: Mapping[str, Any]) -> str:
    # A key of an unknown field comes from the file: escaped and cut, so the message stays one short line.
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{escape(part)[:60]}" for part in error["loc"])
    where = where.lstrip(".")
    kind, message = error["type"], str(error["msg"])
    if kind == "json_invalid":
        return f"not valid JSON ({message.removeprefix('Invalid JSON: ')})"
    if kind == "model_type" and not where:
        return "a fixture is a JSON object"
    if kind == "extra_forbidden":
        message = "unknown field"
    elif where == "format" and kind == "literal_error":
        message = f"expected {FORMAT!r} (a callhooks call fixture), got {_short(error.get('input'))}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -------------------------------------------------------------------------------------------------- the seal


def recorded_context(event: Any) -> dict[str, Any] | None:
    """What a fixture keeps as ``event``'s context: the verified context of its URL, with the kind and tag that URL
    named when the request itself names neither (``ReceivedEvent.route_in_url``: Twilio's), so a replay signs them
    back into its token; None when there is nothing to keep."""
    context: Mapping[str, Any] | None = dict(event.context)
    if event.route_in_url:
        context = route_context(context, event.event_route_type, event.tag)
    return dict(context) if context else None


def receiver_seal(signer: CallbackSigner, call_id: str, contexts: Iterable[Mapping[str, Any] | None]) -> str:
    """The receiver's seal over a recorded call's id and its events' contexts, in order (the fixture's
    ``receiver``): what a replay signs again. Bodies are not sealed: a replay sends them as any caller could."""
    return signer.seal(_sealed(call_id, contexts))


def not_recorded_here(fixture: CallFixture, signer: CallbackSigner) -> str | None:
    """``None`` when ``signer``'s receiver sealed ``fixture`` as it is; else why not, in a few words."""
    if fixture.receiver is None:
        return "it carries no receiver seal"
    if signer.sealed(_sealed(fixture.call_id, (event.context for event in fixture.events)), fixture.receiver):
        return None
    key_id = fixture.receiver.partition(".")[0]
    if not signer.holds_key(key_id):
        return f"it was sealed by another receiver (key {key_id})"
    return "its call id or contexts were changed after it was recorded"


def _sealed(call_id: str, contexts: Iterable[Mapping[str, Any] | None]) -> bytes:
    text = json.dumps([call_id, [dict(c) if c is not None else None for c in contexts]], sort_keys=True)
    return text.encode()


# ----------------------------------------------------------------------------------------------------- building


class RecordedCallback(NamedTuple):
    """One callback as a receiver saw it: what :func:`build_fixture` takes (plain tuples of these fields too).

    ``at`` is any clock's seconds (monotonic or epoch): the fixture keeps the differences from the first.
    """

    at: float
    method: str
    body: str | bytes
    context: Mapping[str, Any] | None
    status: int | None
    content_type: str | None = None


def build_fixture(
    call_id: str,
    callbacks: Iterable[RecordedCallback | tuple[Any, ...]],
    *,
    exported: datetime | None = None,
    signer: CallbackSigner | None = None,
) -> CallFixture:
    """A fixture of ``call_id`` from its callbacks in arrival order, with anything token-like hidden; sealed
    as recorded by ``signer``'s receiver when given (``receiver_seal``).

    Bodies arrive as text or bytes (undecodable bytes become U+FFFD: JSON and query strings are UTF-8); a POST
    without a content type is taken as JSON. See :func:`hide_secrets` for what is hidden.
    """
    recorded = [RecordedCallback(*callback) for callback in callbacks]
    first = recorded[0].at if recorded else 0.0
    events: list[dict[str, Any]] = []
    for callback in recorded:
        method = str(callback.method).upper()
        body = callback.body.decode("utf-8", "replace") if isinstance(callback.body, bytes) else callback.body
        content_type = None if method == "GET" else (callback.content_type or "application/json")
        events.append(
            {
                "at": round(float(callback.at) - float(first), 6),
                "method": method,
                "contentType": content_type,
                "body": hide_secrets(body, form=method == "GET" or _is_form(content_type)),
                "context": dict(callback.context) if callback.context is not None else None,
                "status": callback.status,
            }
        )
    moment = exported or datetime.now(timezone.utc)
    document = {"format": FORMAT, "callId": call_id, "exported": moment, "events": events}
    try:
        fixture = CallFixture.model_validate(document)
    except ValidationError as exc:
        raise FixtureError(f"cannot build a call fixture: {_describe(exc)}") from None
    if signer is None:
        return fixture
    seal = receiver_seal(signer, fixture.call_id, (event.context for event in fixture.events))
    return fixture.model_copy(update={"receiver": seal})


def _is_form(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == _FORM


# Runs of the characters a token is made of (itsdangerous: base64url payload, ".", base64url signature). A token
# is ``eyJ…`` (base64 of ``{"``) or ``.eJ…`` (compressed) then ``.`` and a 27-character HMAC-SHA1 signature. One
# linear pass finds the runs; each run is then checked with string methods, never a backtracking pattern.
_TOKEN_RUN: Final = re.compile(r"[A-Za-z0-9_.-]{32,}")
_BASE64URL: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SIGNATURE_CHARS: Final = 27


def _token_start(run: str) -> int | None:
    """Where a token ending ``run`` starts, if one does (a run may begin with the end of ``%2F``)."""
    head, dot, signature = run.rpartition(".")
    if not dot or len(signature) != _SIGNATURE_CHARS or not _BASE64URL.issuperset(signature):
        return None
    before, dot, payload = head.rpartition(".")
    if dot and payload.startswith("eJ") and _BASE64URL.issuperset(payload):
        return len(before)  # ".eJ…": compressed
    start = head.rfind("eyJ", len(before) + len(dot))
    if start < 0 or not _BASE64URL.issuperset(head[start:]):
        return None
    return start


def _hide_tokens(text: str, placeholder: str) -> str:
    pieces: list[str] = []
    last = 0
    for match in _TOKEN_RUN.finditer(text):
        start = _token_start(match.group(0))
        if start is not None:
            pieces += [text[last : match.start() + start], placeholder]
            last = match.end()
    return "".join(pieces) + text[last:] if pieces else text


# Fields that name where callbacks go (callbackUrl, fallbackUrl, requestUrl, redirectUrl, transcribeCallbackUrl,
# incomingCallUrl, ...): their URLs are handled like a callback URL in the logs, any long path segment hidden.
_CALLBACK_FIELD: Final = re.compile(r"(callback|fallback|request|redirect|incomingcall)[a-z]*ur[il]$", re.IGNORECASE)


def _hide_in_value(value: str, key: str = "") -> str:
    """A field's value with a URL's password masked and token-like parts hidden."""
    if "://" in value and _CALLBACK_FIELD.search(key[-100:]):
        value = redact_url(value)  # also masks the password
    elif "://" in value and "@" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is not None and parts.password is not None:
            host = parts.netloc.rpartition("@")[2]
            value = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    return _hide_tokens(value, TOKEN_PLACEHOLDER)


def _walk(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return _hide_in_value(value, key)
    if isinstance(value, list):
        return [_walk(item, key) for item in value]
    if isinstance(value, dict):
        return {name: _walk(item, str(name)) for name, item in value.items()}
    return value


def hide_secrets(body: str, *, form: bool = False) -> str:
    """``body`` with every callback token replaced by ``<token>`` and every password in a URL by ``***``.

    Catapult's callbacks carry no callback URL, but a field such as a ``callbackUrl`` or ``requestUrl`` echoed
    by another platform or a proxy would carry both secrets: in such a field every path segment of 20
    characters or more is hidden, as the logs hide them (``callhooks.logs.redact_url``), whatever its shape.
    ``form``: the body is a query string (a GET's, or a form POST's). A body is rewritten only when something
    was hidden; otherwise it stays byte for byte.
    """
    if form:
        pairs = parse_qsl(body, keep_blank_values=True)
        hidden = [(key, _hide_in_value(value, key)) for key, value in pairs]
        if hidden != pairs:
            body = urlencode(hidden, quote_via=quote)
        return _hide_tokens(body, quote(TOKEN_PLACEHOLDER))
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    if document is not None:
        cleaned = _walk(document)
        if cleaned != document:
            body = json.dumps(cleaned)
    return _hide_tokens(body, TOKEN_PLACEHOLDER)


def _body_fields(event: FixtureEvent) -> dict[str, Any] | None:
    if event.method == "GET" or _is_form(event.content_type):
        return dict(parse_qsl(event.body, keep_blank_values=True))
    try:
        document = json.loads(event.body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


# ----------------------------------------------------------------------------------------------------- replaying


@dataclass(frozen=True)
class ReplayRequest:
    """One request of a replay: send it ``at`` seconds after the replay started (and after the one before)."""

    index: int  #: position in the fixture's events
    event_type: str
    method: Literal["GET", "POST"]
    url: str = field(repr=False)  #: with a fresh token (a credential) and, for a GET, the query
    headers: dict[str, str] = field(repr=False)  #: may hold Basic credentials
    body: bytes | None
    at: float  #: seconds after the replay's start
    delay: float  #: seconds after the previous request's ``at``


def plan_replay(
    fixture: CallFixture,
    urls: CallbackUrls | CallbackSigner | None,
    url: str | None = None,
    *,
    timing: Timing = "original",
    speed: float = 1.0,
) -> list[ReplayRequest]:
    """The requests that replay ``fixture`` to the receiver at ``url`` (default: ``urls.public_url``).

    Each event goes to ``url/<token>`` with a token freshly signed by ``urls``' signer carrying the event's
    context (one token per distinct context, so a call's events share a URL as on the platform), and Basic
    credentials when ``urls`` has them. ``timing="original"`` keeps the gaps between events, divided by
    ``speed``; ``"compressed"`` sends each as soon as the previous one was answered (``COMPRESSED_GAP``).
    ``ValueError`` when the receiver URL, the speed or a context cannot be used.
    """
    callback_urls = urls if isinstance(urls, CallbackUrls) else CallbackUrls(urls)
    base = check_public_url(url) if url else callback_urls.public_url
    if not base:
        raise ValueError("a replay needs the receiver's URL")
    parts = urlsplit(base)
    if parts.query:
        raise ValueError(f"the receiver URL must not carry a query string: {parts.query!r}")
    if timing not in ("original", "compressed"):
        raise ValueError(f"timing is 'original' or 'compressed', not {timing!r}")
    if not 0 < speed < float("inf"):
        raise ValueError("speed must be a positive number")
    # The credentials go in a header rather than the URL, so any HTTP client (and ASGI transport) sends them;
    # those of ``urls`` win over any in the receiver URL.
    base = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    credentials = callback_urls.basic_auth
    if credentials is None and parts.username is not None:
        credentials = (unquote(parts.username), unquote(parts.password or ""))
    headers = {"user-agent": USER_AGENT}
    if credentials is not None:
        headers["authorization"] = _basic(credentials)
    tokens: dict[str, str] = {}
    start = fixture.events[0].at
    requests: list[ReplayRequest] = []
    previous = 0.0
    for index, event in enumerate(fixture.events):
        path = _token_path(callback_urls, tokens, event, index)
        at = 0.0 if timing == "compressed" else (event.at - start) / speed
        delay = COMPRESSED_GAP if timing == "compressed" else at - previous
        if event.method == "GET":
            target, body, event_headers = f"{base}{path}?{event.body}" if event.body else base + path, None, headers
        else:
            target, body = base + path, event.body.encode()
            event_headers = {**headers, "content-type": event.content_type or "application/json"}
        requests.append(
            ReplayRequest(index, event.event_type, event.method, target, dict(event_headers), body, at, delay)
        )
        previous = at
    return requests


def twilio_signed(requests: list[ReplayRequest], auth_token: str) -> list[ReplayRequest]:
    """``requests`` signed as Twilio signs its requests (``X-Twilio-Signature`` keyed with the account's
    ``auth_token``, over the URL each is sent to and its form parameters): the receiver's public URL, which it
    checks the signature against."""
    from .twilio.signature import SIGNATURE_HEADER, compute_signature

    signed = []
    for request in requests:
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        params = parse_qsl(request.body.decode(), keep_blank_values=True) if form and request.body else None
        signature = compute_signature(request.url, params, auth_token)
        signed.append(dataclasses.replace(request, headers={**request.headers, SIGNATURE_HEADER: signature}))
    return signed


def _token_path(urls: CallbackUrls, tokens: dict[str, str], event: FixtureEvent, index: int) -> str:
    if urls.signer is None:
        if event.context:
            raise ValueError(f"events[{index}] carries a context: replaying it needs a secret to sign it with")
        return "/"
    key = json.dumps(event.context or {}, sort_keys=True)
    if key not in tokens:
        try:
            tokens[key] = urls.signer.sign(event.context, max_age=urls.max_age)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"events[{index}].context cannot be signed: {exc}") from None
    return "/" + tokens[key]


def _basic(credentials: tuple[str, str]) -> str:
    user, password = credentials
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
