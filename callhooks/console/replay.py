"""Replaying one recorded event from the console, as it arrived ("Replay") or with an edited payload ("Edit &
replay"), through the receiver's own path: signed afresh with the receiver's secret (the context it verified
when the event arrived, as ``callhooks replay`` does), its Basic credentials, its verification, routing and
delivery guarantees. So exactly-once applies: a plain replay of a handled event is answered as a duplicate,
and only an edited payload (a new event by its content identity) runs a handler again.

The request goes to the receiver in-process (``httpx.ASGITransport``): no URL of the receiver is needed, and
nothing leaves the process. What the receiver made of it (the ``Dispatched`` record, or the ``Rejection``)
is caught by the console's monitor while the replay runs (:func:`caught`), and the journal entry is marked
as a replay of the entry it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

import httpx
from pydantic import ValidationError
from starlette.types import ASGIApp

from ..receiver.monitoring import Dispatched, Rejection
from ..replay_file import FORMAT, CallFixture, plan_replay, twilio_signed
from ..signing import CallbackUrls
from ..twilio.events import IDEMPOTENCY_HEADER
from .journal import MAX_TEXT_CHARS

__all__ = ["REPLAY_SECONDS", "ReplayRefused", "Replayer", "caught"]

#: Seconds a replay may take before the console gives up waiting for the receiver's answer.
REPLAY_SECONDS: Final = 30.0
#: Where in-process requests are addressed (nothing resolves it: the transport is the receiver itself).
_IN_PROCESS: Final = "http://callhooks-console.invalid"


class ReplayRefused(Exception):
    """A replay that cannot be made: ``status``, an ``error`` code and a one-line ``detail``."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@dataclass
class _Replaying:
    """What the monitor learns while one replay runs."""

    of: int
    edited: bool
    dispatched: list[Dispatched] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


# Set while a replay's request runs through the receiver. ASGITransport calls the app in the same task, and the
# receiver tells its monitors in that task, so the monitor sees it; every other request sees None.
_current: ContextVar[_Replaying | None] = ContextVar("callhooks_console_replay", default=None)


def caught(record: Dispatched | Rejection) -> dict[str, Any] | None:
    """For the monitor: when ``record`` is a console replay's, keep it for the replay and return the mark its
    journal entry carries (``{"of": seq, "edited": bool}``); ``None`` for any other request."""
    replaying = _current.get()
    if replaying is None:
        return None
    if isinstance(record, Dispatched):
        replaying.dispatched.append(record)
    else:
        replaying.rejected.append(record)
    return {"of": replaying.of, "edited": replaying.edited}


class Replayer:
    """Sends journal entries back to the receiver ``app`` (signing with ``urls``). ``app=None``: a console
    without its receiver (replay unavailable); ``masked``: the journal's numbers are masked, so its payloads
    are not what arrived (replay unavailable); ``auth_token``: the key a platform that signs each request signs
    with (Twilio's auth token, its newest): a replay is signed with it, over the receiver's public URL."""

    def __init__(
        self, app: ASGIApp | None, urls: CallbackUrls | None, *, masked: bool = False, auth_token: str | None = None
    ) -> None:
        self.app = app
        self.urls = urls
        self.masked = masked
        self.auth_token = auth_token

    @property
    def unavailable(self) -> str | None:
        """Why no event can be replayed here (``None``: they can)."""
        if self.app is None or self.urls is None:
            return "this console is not attached to a receiver"
        if self.masked:
            return "the console masks numbers, so its payloads are not what arrived (console_mask_numbers)"
        return None

    async def replay(self, seq: int, entry: Mapping[str, Any], payload: str | None) -> dict[str, Any]:
        """Send entry ``seq`` again (``payload``: an edited wire payload in place of the recorded one); what the
        receiver answered and made of it. ``ReplayRefused`` when it cannot be sent."""
        why = self.unavailable
        if why is not None:
            raise ReplayRefused(409, "replay-unavailable", why)
        assert self.app is not None and self.urls is not None
        if entry.get("kind") != "event":
            raise ReplayRefused(409, "not-an-event", "only accepted events can be replayed (this was refused)")
        if entry.get("truncated"):
            raise ReplayRefused(409, "payload-cut", "the journal kept only part of this payload; it cannot be sent")
        recorded = str(entry.get("payload") or "")
        edited = payload is not None and payload != recorded
        requests = self._plan(entry, recorded if payload is None else payload)
        token = entry.get("idempotencyToken")
        headers = dict(requests[0].headers)
        if token and not edited:  # the same request again, as the platform's retry would be (an edit is a new one)
            headers[IDEMPOTENCY_HEADER] = str(token)
        replaying = _Replaying(seq, edited)
        token = _current.set(replaying)
        try:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport) as client:
                request = requests[0]
                answer = await asyncio.wait_for(
                    client.request(request.method, request.url, headers=headers, content=request.body),
                    REPLAY_SECONDS,
                )
        except asyncio.TimeoutError:
            detail = f"the receiver did not answer within {REPLAY_SECONDS:g} s"
            raise ReplayRefused(504, "replay-timeout", detail) from None
        finally:
            _current.reset(token)
        return _outcome(seq, edited, answer, replaying)

    def _plan(self, entry: Mapping[str, Any], body: str) -> list[Any]:
        assert self.urls is not None
        method = entry.get("method")
        event: dict[str, Any] = {"at": 0.0, "method": method, "body": body, "context": entry.get("context")}
        if method == "POST":
            event["contentType"] = entry.get("mediaType") or "application/json"
        document = {
            "format": FORMAT,
            "callId": str(entry.get("callId") or "(no call)"),
            "exported": datetime.now(timezone.utc),
            "events": [event],
        }
        try:
            fixture = CallFixture.model_validate(document)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in problem["loc"] if part not in ("events", 0))
            message = str(problem["msg"]).removeprefix("Value error, ")
            raise ReplayRefused(400, "bad-payload", f"{where}: {message}" if where else message) from None
        # Still in-process: a signed request goes to the public URL only because its signature covers that URL.
        base = self.urls.public_url if self.auth_token is not None else None
        try:
            planned = plan_replay(fixture, self.urls, base or _IN_PROCESS + self.urls.path_prefix, timing="compressed")
        except ValueError as exc:
            raise ReplayRefused(409, "cannot-sign", str(exc)) from None
        return planned if self.auth_token is None else twilio_signed(planned, self.auth_token)


def _outcome(seq: int, edited: bool, answer: httpx.Response, replaying: _Replaying) -> dict[str, Any]:
    text = answer.text
    result: dict[str, Any] = {
        "replayOf": seq,
        "edited": edited,
        "status": answer.status_code,
        "mediaType": answer.headers.get("content-type", ""),
        "body": text[:MAX_TEXT_CHARS],
        "truncated": len(text) > MAX_TEXT_CHARS,
        "handler": None,
    }
    if replaying.rejected:
        rejection = replaying.rejected[-1]
        result["outcome"] = "rejected"
        result["detail"] = f"refused by the receiver before any handler ran: {rejection.reason}"
    elif replaying.dispatched:
        record = replaying.dispatched[-1]
        result["handler"] = record.handler
        if record.duplicate:
            result["outcome"] = "duplicate"
            result["detail"] = "this event was already handled, so no handler ran again (exactly-once)"
        elif record.handler is None:
            result["outcome"] = "no-handler"
            result["detail"] = "accepted; no handler matched it"
        elif record.status >= 500 or record.error is not None:
            result["outcome"] = "failed"
            result["detail"] = f"handler {record.handler} ran and failed"
        else:
            result["outcome"] = "handled"
            result["detail"] = f"handled again by {record.handler}" if not edited else f"handled by {record.handler}"
    else:
        result["outcome"] = "answered"
        result["detail"] = f"the receiver answered {answer.status_code}"
    return result
