"""The Voice API v2 under ``/api/v2/accounts/{accountId}``: calls (create, get, list, update, replace BXML),
their recordings (list, get, media, delete, transcription) and conferences (list, get), with v2's bodies,
statuses and ``{"type", "description", "id"}`` errors (docs/platforms/bandwidth-v2-simulator.md#rest-api)."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...bandwidth import bxml
from ..callback_hosts import CallbackHosts
from ..engine import Engine
from ..models import Call, Delivery
from ..profile import Guard
from ..web import Handler, json_response, read_capped, read_json
from .calls import V2Call, V2Calls, V2Events, V2Recording, duration
from .errors import conflict, not_found, validation
from .runner import ConferenceRoom, V2Runner

__all__ = ["V2Api", "render_call"]

Json = dict[str, Any]
_METHODS = ("GET", "POST")
MAX_URL = 2048
CALLS_PER_SECOND = 5  #: the account's default dequeue rate
MAX_TAG = 4096


class _Body:
    """Validating reads of a JSON request body; a bad field is a 400 naming it."""

    def __init__(self, data: Mapping[str, Any], hosts: CallbackHosts) -> None:
        self.data = data
        self.hosts = hosts

    def given(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, *, required: bool = False, limit: int = 1024) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise validation(f"Invalid {name}: it is required")
            return None
        if not isinstance(value, str):
            raise validation(f"Invalid {name}: must be a string")
        if len(value) > limit:
            raise validation(f"Invalid {name}: at most {limit} characters")
        return value

    def url(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, limit=MAX_URL)
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise validation(f"Invalid {name}: must be an absolute http or https URL")
        refusal = self.hosts.refusal(value)
        if refusal is not None:
            raise validation(f"Invalid {name}: {refusal}")
        return value

    def method(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and value.upper() not in _METHODS:
            raise validation(f"Invalid {name}: must be GET or POST")
        return None if value is None else value.upper()

    def number(self, name: str, low: float, high: float, default: float) -> float:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise validation(f"Invalid {name}: must be a number from {low:g} to {high:g}")
        return float(value)

    def pair(self, user: str, password: str) -> tuple[str, str] | None:
        username, secret = self.text(user), self.text(password)
        return (username, secret) if username is not None and secret is not None else None

    def delivery(self, url: str, method: str, fallback: str, fallback_method: str, timeout_ms: int) -> Delivery:
        """A webhook's URL, method, fallback and credentials (``username``/``password``, ``fallback…``)."""
        return Delivery(
            self.url(url),
            self.method(method) or "POST",
            timeout_ms,
            self.url(fallback),
            self.pair("username", "password"),
            self.pair("fallbackUsername", "fallbackPassword"),
            self.method(fallback_method),
        )


def render_call(calls: V2Calls, record: V2Call) -> Json:
    """``CallState``."""
    call, clock = record.call, calls.clock
    return {
        "applicationId": record.application_id,
        "accountId": record.account_id,
        "callId": call.id,
        "parentCallId": record.parent_call_id,
        "to": call.to,
        "from": call.from_,
        "direction": "inbound" if call.direction == "in" else "outbound",
        "state": record.state,
        "stirShaken": None,
        "identity": None,
        "enqueuedTime": clock.iso(record.enqueued) if record.enqueued is not None else None,
        "startTime": None if record.queued else clock.iso(call.start),
        "answerTime": clock.iso(call.active) if call.active is not None else None,
        "endTime": clock.iso(call.end) if call.end is not None else None,
        "disconnectCause": record.cause if call.ended else None,
        "errorMessage": record.error_message,
        "errorId": None,
        "lastUpdate": clock.iso(record.last_update),
    }


class V2Api:
    """HTTP adapter over the engine and the BXML v2 runner."""

    def __init__(
        self,
        *,
        engine: Engine,
        calls: V2Calls,
        events: V2Events,
        runner: Callable[[], V2Runner],
        hosts: CallbackHosts,
        base_of: Callable[[Request], str],
    ) -> None:
        self.engine = engine
        self.calls = calls
        self.events = events
        self.runner = runner
        self.hosts = hosts
        self.base_of = base_of
        self._dequeue_at = 0.0  # when the last call created leaves the outbound queue (simulated seconds)

    def routes(self, guard: Guard, prefix: str) -> list[BaseRoute]:
        """The routes under ``prefix`` (``/api/v2/accounts/{account_id}``), each wrapped by ``guard``."""
        call = prefix + "/calls/{call_id}"
        recording = call + "/recordings/{recording_id}"
        table: list[tuple[str, str, Handler, str]] = [
            ("POST", prefix + "/calls", self.create_call, "create"),
            ("GET", prefix + "/calls", self.list_calls, "request"),
            ("GET", call, self.get_call, "request"),
            ("POST", call, self.update_call, "request"),
            ("PUT", call + "/bxml", self.replace_bxml, "document"),
            ("GET", prefix + "/recordings", self.account_recordings, "request"),
            ("GET", call + "/recordings", self.call_recordings, "request"),
            ("GET", recording, self.get_recording, "request"),
            ("DELETE", recording, self.delete_recording, "request"),
            ("GET", recording + "/media", self.media, "request"),
            ("DELETE", recording + "/media", self.delete_media, "request"),
            ("GET", recording + "/transcription", self.transcription, "request"),
            ("GET", prefix + "/conferences", self.list_conferences, "request"),
            ("GET", prefix + "/conferences/{conference_id}", self.get_conference, "request"),
        ]
        return [Route(path, guard(handler, kind), methods=[method]) for method, path, handler, kind in table]

    # -- calls ----------------------------------------------------------------------------------------------

    def _record(self, request: Request) -> V2Call:
        call_id = request.path_params["call_id"]
        record = self.calls.by_id.get(call_id)
        if record is None:
            raise not_found("Call", call_id)
        return record

    async def create_call(self, request: Request) -> Response:
        """``POST /calls`` → 201 ``CreateCallResponse`` + ``Location``."""
        body = _Body(await read_json(request), self.hosts)
        from_ = body.text("from", required=True)
        to = body.text("to", required=True)
        application_id = body.text("applicationId", required=True)
        body.url("answerUrl", required=True)
        call_timeout = body.number("callTimeout", 1, 300, 30)
        callback_timeout = body.number("callbackTimeout", 1, 25, 15)
        tag = body.text("tag", limit=MAX_TAG)
        priority = body.number("priority", 1, 5, 5)
        if body.given("machineDetection") and not isinstance(body.data["machineDetection"], dict):
            raise validation("Invalid machineDetection: must be an object")
        timeout_ms = round(callback_timeout * 1000)
        answer = body.delivery("answerUrl", "answerMethod", "answerFallbackUrl", "answerFallbackMethod", timeout_ms)
        disconnect_url = body.url("disconnectUrl")
        disconnect = None
        if disconnect_url is not None:
            method = body.method("disconnectMethod") or "POST"
            disconnect = Delivery(disconnect_url, method, timeout_ms, None, answer.credentials)
        assert from_ is not None and to is not None and application_id is not None
        now = self.engine.clock.now()
        # Dequeued one after another at the account's calls per second (priority is not simulated).
        self._dequeue_at = max(now, self._dequeue_at) + 1 / CALLS_PER_SECOND
        queued_for = self._dequeue_at - now
        call = self.engine.dial(
            from_, to, self.base_of(request), answer, math.ceil(call_timeout), tag or None, queued_for
        )
        record = V2Call(call, self.calls.account_id, application_id, answer, disconnect, timeout_ms, int(priority), now)
        self.calls.add(record)
        url = self.calls.call_url(call)
        created: Json = {
            "applicationId": application_id,
            "accountId": self.calls.account_id,
            "callId": call.id,
            "to": to,
            "from": from_,
            "enqueuedTime": self.engine.clock.iso(now),
            "callUrl": url,
            "callTimeout": call_timeout,
            "callbackTimeout": callback_timeout,
            "tag": tag,
            "answerMethod": answer.method,
            "answerUrl": answer.url,
            "answerFallbackMethod": answer.fallback_method or "POST",
            "answerFallbackUrl": answer.fallback_url,
            "disconnectMethod": disconnect.method if disconnect is not None else "POST",
            "disconnectUrl": disconnect_url,
            "priority": int(priority),
        }
        return json_response(created, 201, {"Location": url})

    async def get_call(self, request: Request) -> Response:
        """``GET /calls/{id}`` → ``CallState``."""
        return json_response(render_call(self.calls, self._record(request)))

    async def list_calls(self, request: Request) -> Response:
        """``GET /calls``: every call, oldest first, filtered by ``to``/``from``/``disconnectCause``."""
        wanted = {name: request.query_params.get(name) for name in ("to", "from", "disconnectCause")}
        found = []
        for record in sorted(self.calls.by_id.values(), key=lambda r: r.call.seq):
            state = render_call(self.calls, record)
            if all(value is None or state[name] == value for name, value in wanted.items()):
                found.append(state)
        return json_response(found)

    async def update_call(self, request: Request) -> Response:
        """``POST /calls/{id}``: ``state=completed`` hangs up (or cancels, or rejects); ``redirectUrl`` redirects;
        ``tag`` sets the tag. 409 for an ended call, or a redirect of one not answered yet."""
        record = self._record(request)
        call = record.call
        body = _Body(await read_json(request), self.hosts)
        state = body.text("state") or "active"
        if state not in ("active", "completed"):
            raise validation("Invalid state: must be active or completed")
        if call.ended:
            raise conflict(call.id)
        if state == "completed":
            for name in ("redirectUrl", "redirectMethod", "tag"):
                if body.given(name):
                    raise validation(f"Invalid {name}: not allowed with state completed")
            self.engine.end(call, _ending(call))
            return Response(status_code=200)
        tag = body.text("tag", limit=MAX_TAG)
        redirect_url = body.url("redirectUrl")
        if redirect_url is None and tag is None:
            raise validation("Invalid redirectUrl: it is required when state is active")
        if redirect_url is not None and call.state == "started":
            raise conflict(call.id)
        if tag is not None:
            call.tag = tag or None
        if redirect_url is not None:
            target = body.delivery(
                "redirectUrl",
                "redirectMethod",
                "redirectFallbackUrl",
                "redirectFallbackMethod",
                record.callback_timeout_ms,
            )
            self.runner().redirect(call, target)
        return Response(status_code=200)

    async def replace_bxml(self, request: Request) -> Response:
        """``PUT /calls/{id}/bxml`` with a ``<Bxml>`` document → 204; 409 for an ended or unanswered call."""
        record = self._record(request)
        raw = await read_capped(request, bxml.MAX_DOCUMENT_BYTES)
        if raw is None:
            raise validation(f"Invalid BXML: the document is larger than {bxml.MAX_DOCUMENT_BYTES} bytes")
        try:
            document = bxml.parse(raw)
        except bxml.BXMLError as exc:
            raise validation(f"Invalid BXML: {exc}") from None
        if not isinstance(document, bxml.Bxml):
            raise validation("Invalid BXML: the root must be <Bxml> (not <Response>)")
        if record.call.ended or record.call.state == "started":
            raise conflict(record.call.id)
        self.runner().replace(record.call, document)
        return Response(status_code=204)

    # -- recordings -----------------------------------------------------------------------------------------

    def _recordings(self, record: V2Call) -> list[V2Recording]:
        return [kept for kept in record.recordings.values() if not kept.deleted and kept.recording.end is not None]

    def _recording(self, request: Request) -> tuple[V2Call, V2Recording]:
        record = self._record(request)
        recording_id = request.path_params["recording_id"]
        kept = record.recordings.get(recording_id)
        if kept is None or kept.deleted or kept.recording.end is None:
            raise not_found("Recording", recording_id)
        return record, kept

    def _metadata(self, record: V2Call, kept: V2Recording) -> Json:
        call, rec, clock = record.call, kept.recording, self.calls.clock
        assert rec.end is not None
        return {
            "applicationId": record.application_id,
            "accountId": record.account_id,
            "callId": call.id,
            "parentCallId": record.parent_call_id,
            "recordingId": rec.id,
            "to": call.to,
            "from": call.from_,
            "transferCallerId": record.transfer_caller_id,
            "transferTo": record.transfer_to,
            "duration": duration(rec.end - rec.start),
            "direction": "inbound" if call.direction == "in" else "outbound",
            "channels": kept.channels,
            "startTime": clock.iso(rec.start),
            "endTime": clock.iso(rec.end),
            "fileFormat": rec.file_format,
            "status": "complete",
            "mediaUrl": None if kept.media_deleted else self.events.media_url(call, rec.id),
            "transcription": self.events.transcription_info(call, kept),
        }

    async def account_recordings(self, request: Request) -> Response:
        """``GET /recordings``: every call's."""
        return json_response(
            [self._metadata(record, kept) for record in self.calls.by_id.values() for kept in self._recordings(record)]
        )

    async def call_recordings(self, request: Request) -> Response:
        """``GET /calls/{id}/recordings``."""
        record = self._record(request)
        return json_response([self._metadata(record, kept) for kept in self._recordings(record)])

    async def get_recording(self, request: Request) -> Response:
        """``GET /calls/{id}/recordings/{recordingId}``."""
        return json_response(self._metadata(*self._recording(request)))

    async def delete_recording(self, request: Request) -> Response:
        """``DELETE …/recordings/{recordingId}`` → 204; metadata, media and transcription go at once."""
        _, kept = self._recording(request)
        kept.deleted = True
        return Response(status_code=204)

    async def media(self, request: Request) -> Response:
        """``GET …/media``: a silent recording of the right length (8 kHz, 16-bit mono WAV)."""
        _, kept = self._recording(request)
        if kept.media_deleted:
            raise not_found("Recording media", kept.recording.id)
        rec = kept.recording
        assert rec.end is not None
        if rec.file_format == "mp3":
            return Response(b"", media_type="audio/mpeg")
        return Response(_silence(rec.end - rec.start), media_type="audio/vnd.wave")

    async def delete_media(self, request: Request) -> Response:
        """``DELETE …/media`` → 204."""
        _, kept = self._recording(request)
        kept.media_deleted = True
        return Response(status_code=204)

    async def transcription(self, request: Request) -> Response:
        """``GET …/transcription`` → ``RecordingTranscriptions``; 404 before there is one."""
        _, kept = self._recording(request)
        if kept.transcription is None:
            raise not_found("Transcription of recording", kept.recording.id)
        text = kept.transcription.text
        return json_response({"transcripts": [{"text": text, "confidence": 0.9}]})

    # -- conferences ----------------------------------------------------------------------------------------

    def _conference(self, conference_id: str) -> Json:
        for conference in self.runner().conferences():
            if conference.id == conference_id:
                return self._render_conference(conference, members=True)
        raise not_found("Conference", conference_id)

    def _render_conference(self, conference: ConferenceRoom, *, members: bool) -> Json:
        body: Json = {
            "id": conference.id,
            "name": conference.name,
            "createdTime": self.calls.clock.iso(conference.created),
            "completedTime": None,
            "conferenceEventUrl": conference.delivery.url,
            "conferenceEventMethod": conference.delivery.method,
            "tag": conference.tag,
        }
        if members:
            base = (
                f"{conference.members[0].base_url}/api/v2/accounts/{self.calls.account_id}"
                if conference.members
                else ""
            )
            body["activeMembers"] = [
                {
                    "callId": member.id,
                    "conferenceId": conference.id,
                    "memberUrl": f"{base}/conferences/{conference.id}/members/{member.id}",
                    "mute": False,
                    "hold": False,
                    "callIdsToCoach": None,
                }
                for member in conference.members
            ]
        return body

    async def list_conferences(self, request: Request) -> Response:
        """``GET /conferences``: those in progress (without members)."""
        return json_response([self._render_conference(c, members=False) for c in self.runner().conferences()])

    async def get_conference(self, request: Request) -> Response:
        """``GET /conferences/{id}`` with its ``activeMembers``."""
        return json_response(self._conference(request.path_params["conference_id"]))


def _ending(call: Call) -> str:
    """The cause of ``state=completed``: cancel a ringing outbound call, reject a ringing inbound one."""
    if call.state == "started":
        return "cancel" if call.direction == "out" else "rejected"
    return "hangup"


def _silence(seconds: float, rate: int = 8000) -> bytes:
    """A WAV file of ``seconds`` of silence (capped at ten minutes)."""
    frames = int(min(seconds, 600.0) * rate)
    data = bytes(2 * frames)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(data))
    return header + data
