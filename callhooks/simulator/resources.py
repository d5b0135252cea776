"""JSON views of calls and their sub-resources, as the REST API returns them
(docs/platforms/catapult-voice.md#call-resource and #rest-api)."""

from __future__ import annotations

import math

from .clock import SimClock
from .models import Call, Gather, LogEntry, Recording, Transcription
from .urls import Urls

__all__ = ["Resources"]

Json = dict[str, object]


class Resources:
    """Renders records with absolute URLs and ISO timestamps from the simulated clock."""

    def __init__(self, urls: Urls, clock: SimClock) -> None:
        self.urls = urls
        self.clock = clock

    def call(self, call: Call) -> Json:
        """``GET /calls/{id}``; times, bridge, tag and the like only once they exist."""
        uri = self.urls.call(call.base_url, call.id)
        body: Json = {
            "id": call.id,
            "direction": call.direction,
            "from": call.from_,
            "to": call.to,
            "state": call.state,
            "startTime": self.clock.iso(call.start),
        }
        if call.active is not None:
            body["activeTime"] = self.clock.iso(call.active)
        if call.end is not None:
            body["endTime"] = self.clock.iso(call.end)
        body.update(
            {
                "callTimeout": call.call_timeout,
                "callbackUrl": call.delivery.url or "",
                "callbackHttpMethod": call.delivery.method.lower(),
                "callbackTimeout": call.delivery.timeout_ms,
            }
        )
        if call.delivery.fallback_url:
            body["fallbackUrl"] = call.delivery.fallback_url
        body["chargeableDuration"] = self._chargeable(call)
        if call.bridge_id:
            body["bridgeId"] = call.bridge_id
            body["bridge"] = f"{call.base_url}{self.urls.root}/bridges/{call.bridge_id}"
        if call.conference_id:
            body["conferenceId"] = call.conference_id
            body["conference"] = f"{call.base_url}{self.urls.root}/conferences/{call.conference_id}"
        body.update(
            {
                "events": f"{uri}/events",
                "recordings": f"{uri}/recordings",
                "transcriptions": f"{uri}/transcriptions",
                "recordingEnabled": call.recording_enabled,
                "recordingFileFormat": call.recording_format,
                "recordingMaxDuration": call.recording_max,
                "transcriptionEnabled": call.transcription_enabled,
            }
        )
        optional = {
            "tag": call.tag,
            "sipHeaders": call.sip_headers,
            "transferTo": call.transfer_to,
            "transferCallerId": call.transfer_caller_id,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return body

    def _chargeable(self, call: Call) -> int:
        # whole seconds of talk time, rounded up; nothing for an unanswered call
        if call.active is None:
            return 0
        end = call.end if call.end is not None else self.clock.now()
        return math.ceil(round(end - call.active, 3))

    def gather(self, call: Call, gather: Gather) -> Json:
        """``GET …/gather/{id}``."""
        body: Json = {
            "id": gather.id,
            "state": gather.state,
            "digits": gather.digits,
            "call": self.urls.call(call.base_url, call.id),
            "createdTime": self.clock.iso(gather.created),
        }
        if gather.reason is not None:
            body["reason"] = gather.reason
        if gather.completed is not None:
            body["completedTime"] = self.clock.iso(gather.completed)
        return body

    def recording(self, call: Call, recording: Recording) -> Json:
        """An entry of ``GET …/recordings``."""
        body: Json = {
            "id": recording.id,
            "startTime": self.clock.iso(recording.start),
            "call": self.urls.call(call.base_url, call.id),
            "media": self.urls.media(call.base_url, f"{recording.id}.{recording.file_format}"),
            "state": recording.state,
        }
        if recording.end is not None:
            body["endTime"] = self.clock.iso(recording.end)
        return body

    def transcription(self, call: Call, transcription: Transcription) -> Json:
        """An entry of ``GET …/transcriptions``."""
        return {
            "id": transcription.id,
            "state": transcription.state,
            "text": transcription.text[:1026],
            "textSize": len(transcription.text),
            "textUrl": self.urls.media(call.base_url, transcription.id),
            "time": self.clock.iso(transcription.time),
            "chargeableDuration": math.ceil(round(transcription.duration, 3)),
        }

    def log_entry(self, entry: LogEntry) -> Json:
        """An entry of ``GET …/events``."""
        return {"id": entry.id, "time": self.clock.iso(entry.time), "name": entry.name, "data": entry.data}
