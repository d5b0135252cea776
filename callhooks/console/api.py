"""The console's HTTP surface (behind ``gate.BasicAuthGate``), below the receiver's path:

    GET _console/                           the page (page.py, static/)
    GET _console/static/<file>              its CSS and JavaScript
    GET _console/api/calls                  recent calls, newest first (filters: call, number, tag, event,
                                            status, q; limit)
    GET _console/api/calls/{id}             one call: summary and timeline ({id} percent-encoded, "/" as %2F)
    GET _console/api/calls/{id}/export      the call as a replayable JSON fixture (format callhooks.call/1)
    GET _console/api/rejections             requests refused before any handler ran (this worker's sample,
                                            and how many were refused, by reason)
    GET _console/api/stream                 server-sent events: a notice per new entry
    GET _console/api/info                   the receiver's store, whether replay is available
    POST _console/api/replay                {"seq": N} sends event entry N to the receiver again, re-signed;
                                            {"seq": N, "payload": "..."} sends an edited payload (replay.py)

Every query parameter is checked: a bad one is a 400 with a JSON body naming it. The one POST is JSON from this
origin only (guard.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ..replay_file import MAX_BODY_CHARS, receiver_seal
from ..signing import CallbackSigner
from .feed import ConsoleFeed
from .guard import cross_site_problem
from .page import page_response, static_response
from .replay import Replayer, ReplayRefused
from .stream import StreamHub
from .view import CallFilter, CallView

__all__ = ["EXPORT_FORMAT", "console_routes", "export_call"]

EXPORT_FORMAT: Final = "callhooks.call/1"
MAX_PARAM_CHARS: Final = 200
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
FILTER_PARAMS: Final = ("call", "number", "tag", "event", "status", "q")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_CALLS_PATH = b"/_console/api/calls/"
#: Bytes of a replay request's JSON: an edited payload as long as a fixture's, every character escaped.
MAX_REPLAY_REQUEST_BYTES: Final = 6 * MAX_BODY_CHARS + 1024
_REPLAY_PATH: Final = "/_console/api/replay"


class BadQuery(ValueError):
    pass


def _problem(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def _params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            raise BadQuery(f"unknown query parameter {key[:40]!r}; expected one of {', '.join(allowed)}")
        if key in found:
            raise BadQuery(f"query parameter {key!r} given twice")
        if len(value) > MAX_PARAM_CHARS:
            raise BadQuery(f"query parameter {key!r} is longer than {MAX_PARAM_CHARS} characters")
        if _CONTROL.search(value):
            raise BadQuery(f"query parameter {key!r} contains control characters")
        found[key] = value.strip()
    return found


def _limit(params: dict[str, str]) -> int:
    text = params.get("limit", "")
    if not text:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadQuery(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def call_filter(params: dict[str, str]) -> CallFilter:
    status = params.get("status", "")
    if status and status != "error" and not (status.isdigit() and len(status) == 3 and 100 <= int(status) <= 599):
        raise BadQuery("status must be an HTTP status (100-599) or 'error'")
    return CallFilter(**{name: params.get(name, "") for name in FILTER_PARAMS})


def _call_path(request: Request) -> tuple[str, bool] | None:
    """The call ``api/calls/<id>`` or ``api/calls/<id>/export`` names, and whether it is the export; ``None`` for
    another path. ``<id>`` is percent-encoded (the page encodes it with ``encodeURIComponent``), so a call id
    holding ``/`` arrives as ``%2F``: it is read from the raw path, where ``a%2Fb`` and ``a/b`` still differ."""
    raw: bytes | None = request.scope.get("raw_path")
    at = -1 if raw is None else raw.find(_CALLS_PATH)
    if raw is None or at < 0:  # no raw path (or a spelling of ours encoded): the decoded one, ids without "/"
        parts = [part.encode() for part in request.path_params["rest"].split("/")]
    else:
        parts = raw.split(b"?", 1)[0][at + len(_CALLS_PATH) :].split(b"/")
    if len(parts) == 2 and parts[1] == b"export":
        return _call_key(parts[0]), True
    return (_call_key(parts[0]), False) if len(parts) == 1 else None


def _call_key(encoded: bytes) -> str:
    try:
        key = unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        raise BadQuery("a call id is UTF-8, percent-encoded in the path") from None
    if not key or len(key) > MAX_PARAM_CHARS or _CONTROL.search(key):
        raise BadQuery(f"a call id is 1 to {MAX_PARAM_CHARS} printable characters")
    return key


def export_call(
    view: CallView, key: str, now: datetime | None = None, signer: CallbackSigner | None = None
) -> dict[str, Any] | None:
    """The call's events as a fixture ``callhooks replay`` sends again: wire payloads, methods, timing; with
    ``signer`` (the receiver's), sealed as recorded by this receiver (``fixtures.receiver_seal``)."""
    call = view.call(key)
    if call is None:
        return None
    events = [entry for _, entry in call.entries if entry.get("kind") == "event"]
    first = min((float(entry.get("at") or 0.0) for entry in events), default=0.0)
    exported: list[dict[str, Any]] = []
    for entry in events:
        item: dict[str, Any] = {"at": round(float(entry.get("at") or 0.0) - first, 6), "method": entry["method"]}
        if entry["method"] == "POST":
            item["contentType"] = "application/json"
        item["body"] = entry.get("payload", "")
        item["context"] = entry.get("context")
        item["status"] = entry.get("status")
        exported.append(item)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    fixture = {
        "format": EXPORT_FORMAT,
        "callId": key,
        "exported": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "events": exported,
    }
    if signer is not None:
        fixture["receiver"] = receiver_seal(signer, key, (item["context"] for item in exported))
    return fixture


def console_routes(
    view: CallView,
    feed: ConsoleFeed,
    hub: StreamHub,
    signer: CallbackSigner | None = None,
    *,
    replayer: Replayer | None = None,
    store: Callable[[], dict[str, Any]] | None = None,
) -> ASGIApp:
    """The console's router (to put behind ``gate.BasicAuthGate``); ``signer`` seals its exports, ``replayer``
    sends events again, ``store`` describes the receiver's store (``facts.store_facts``)."""
    replays = replayer or Replayer(None, None)

    async def to_page(request: Request) -> Response:
        return RedirectResponse("_console/", status_code=308)  # relative: right under any mount path

    async def page(request: Request) -> Response:
        return page_response()

    async def static(request: Request) -> Response:
        return static_response(request.path_params["name"])

    async def calls(request: Request) -> Response:
        params = _params(request, (*FILTER_PARAMS, "limit"))
        where, limit = call_filter(params), _limit(params)
        await feed.refresh()
        return JSONResponse({"calls": view.summaries(where, limit), "seq": view.last_seq})

    async def one_call_or_export(request: Request) -> Response:
        _params(request, ())
        found = _call_path(request)
        if found is None:
            return _problem(404, "not-found", "no such console page or API (encode a '/' in a call id as %2F)")
        key, exported = found
        if exported:
            return await export(key)
        await feed.refresh()
        call = view.call(key)
        if call is None:
            return _problem(404, "unknown-call", "no such call in the console's journal (it keeps recent calls)")
        claimed = [{"seq": seq, **entry} for seq, entry in view.rejections if entry.get("claimedCallId") == key]
        return JSONResponse(
            {
                "call": dict(call.summary),
                "entries": [{"seq": seq, **entry} for seq, entry in call.entries],
                "unverifiedRejections": claimed,
            }
        )

    async def export(key: str) -> Response:
        await feed.refresh()
        fixture = export_call(view, key, signer=signer)
        if fixture is None:
            return _problem(404, "unknown-call", "no such call in the console's journal (it keeps recent calls)")
        filename = _FILENAME_UNSAFE.sub("_", key)[:80] or "call"
        return Response(
            json.dumps(fixture, indent=2),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="call-{filename}.json"'},
        )

    async def rejections(request: Request) -> Response:
        params = _params(request, ("limit",))
        limit = _limit(params)
        await feed.refresh()
        counted = {"total": view.refused, "byReason": dict(view.refused_by_reason)}
        return JSONResponse({"rejections": view.rejected(limit), "refused": counted})

    async def stream(request: Request) -> Response:
        _params(request, ())
        feed.start()
        listener = hub.join()
        if listener is None:
            return _problem(503, "too-many-listeners", "too many console pages are listening; close one")
        return StreamingResponse(
            hub.frames(listener),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def info(request: Request) -> Response:
        _params(request, ())
        await feed.refresh()  # which journal the console reads is known once it read
        shared = {True: "shared", False: "this process"}.get(feed.shared) if feed.shared is not None else None
        why = replays.unavailable
        return JSONResponse(
            {
                "store": None if store is None else {**store(), "journal": shared or "not read yet"},
                "replay": {"available": why is None, "detail": why},
            }
        )

    async def replay(request: Request) -> Response:
        _params(request, ())
        problem = cross_site_problem(request.headers)
        if problem is not None:
            return _problem(*problem)
        asked = await _replay_request(request)
        await feed.refresh()
        entry = view.entry(asked[0])
        if entry is None:
            return _problem(404, "unknown-entry", "no such event in the console's journal (it keeps recent calls)")
        try:
            result = await replays.replay(asked[0], entry, asked[1])
        except ReplayRefused as refused:
            return _problem(refused.status, refused.error, refused.detail)
        return JSONResponse(result)

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        await _problem(404, "not-found", "no such console page or API")(scope, receive, send)

    routes = [
        Route("/_console", to_page),
        Route("/_console/", page),
        Route("/_console/static/{name}", static),
        Route("/_console/api/calls", calls),
        Route("/_console/api/calls/{rest:path}", one_call_or_export),  # see _call_path
        Route("/_console/api/rejections", rejections),
        Route("/_console/api/stream", stream),
        Route("/_console/api/info", info),
        Route(_REPLAY_PATH, replay, methods=["POST"]),
    ]
    return _ReadOnly(_Answering(Router(routes, default=not_found)))


async def _replay_request(request: Request) -> tuple[int, str | None]:
    """``seq`` and the edited ``payload`` (``None``: replay as recorded) of a replay request; ``BadQuery``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REPLAY_REQUEST_BYTES:
            raise BadQuery(f"a replay request is at most {MAX_REPLAY_REQUEST_BYTES} bytes of JSON")
    try:
        asked = json.loads(body)
    except (ValueError, RecursionError):
        raise BadQuery('a replay request is JSON: {"seq": <entry number>, "payload": <optional text>}') from None
    if not isinstance(asked, dict) or set(asked) - {"seq", "payload"}:
        raise BadQuery('a replay request is {"seq": <entry number>} and, to edit it, "payload": <text>')
    seq, payload = asked.get("seq"), asked.get("payload")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BadQuery("seq is the entry's number (a positive whole number)")
    if payload is not None and not isinstance(payload, str):
        raise BadQuery("payload is the wire payload as text (a JSON body, or a GET's query string)")
    return seq, payload


class _Answering:
    """Bad queries become 400 JSON, wherever they are found."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except BadQuery as exc:
            await _problem(400, "bad-query", str(exc))(scope, receive, send)


class _ReadOnly:
    """The console only reads, but for its replay POST: anything else but GET/HEAD (a callback posted here, say)
    is a 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        below = path[len(root) :] if root and path.startswith(root) else path
        if below == _REPLAY_PATH:
            if scope["method"] == "POST":
                await self.app(scope, receive, send)
                return
            response = _problem(405, "method-not-allowed", "a replay is a POST")
            response.headers["allow"] = "POST"
            await response(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            response = _problem(405, "method-not-allowed", "the console only answers GET; callbacks go elsewhere")
            response.headers["allow"] = "GET, HEAD"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
