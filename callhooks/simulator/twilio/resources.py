"""The Calls and Recordings resources as Twilio's 2010-04-01 API renders them, and its list envelope.

Numbers are strings (``"duration": "15"``), times RFC 2822, URIs path-only under ``/2010-04-01/Accounts/{Sid}``.
A list is ``{"<resource>": [...], "page", "page_size", "start", "end", "uri", "first_page_uri",
"next_page_uri", "previous_page_uri"}``; ``next_page_uri`` is ``null`` on the last page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from ...twilio.client.auth import API_VERSION
from .events import status_of
from .legs import Leg, RecordingInfo
from .payloads import TwilioPayloads, call_duration, recording_seconds

__all__ = ["TwilioResources"]

Json = dict[str, object]
_CALL_SUBRESOURCES = ("events", "notifications", "payments", "recordings", "siprec", "streams", "transcriptions")


class TwilioResources:
    """Renders calls, recordings and pages for the account of ``payloads``."""

    def __init__(self, payloads: TwilioPayloads) -> None:
        self.payloads = payloads

    @property
    def account_path(self) -> str:
        """``/2010-04-01/Accounts/{AccountSid}``."""
        return f"/{API_VERSION}/Accounts/{self.payloads.account_sid}"

    def _time(self, at: float | None) -> str | None:
        return None if at is None else self.payloads.timestamp(at)

    def call(self, leg: Leg, status: str | None = None) -> Json:
        """A call; ``status`` overrides the current one (``queued`` in the answer to its creation)."""
        call = leg.call
        uri = f"{self.account_path}/Calls/{leg.sid}"
        ended = call.ended
        updated = call.log[-1].time if call.log else call.start
        return {
            "account_sid": self.payloads.account_sid,
            "annotation": None,
            "answered_by": "human" if leg.machine_detection and call.active is not None else None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": self._time(call.start),
            "date_updated": self._time(updated),
            "direction": leg.direction,
            "duration": str(call_duration(call)) if ended else None,
            "end_time": self._time(call.end),
            "forwarded_from": None,
            "from": call.from_,
            "from_formatted": call.from_,
            "group_sid": None,
            "parent_call_sid": leg.parent_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": leg.sid,
            "start_time": self._time(call.active if call.active is not None else call.start),
            "status": status or status_of(leg),
            "subresource_uris": {name: f"{uri}/{name.capitalize()}.json" for name in _CALL_SUBRESOURCES},
            "to": call.to,
            "to_formatted": call.to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }

    def recording(self, info: RecordingInfo, leg: Leg) -> Json:
        """A recording (``processing`` until it stops)."""
        recording = info.recording
        uri = f"{self.account_path}/Recordings/{info.sid}"
        return {
            "account_sid": self.payloads.account_sid,
            "api_version": API_VERSION,
            "call_sid": info.call_sid,
            "channels": 1,
            "conference_sid": None,
            "date_created": self._time(recording.start),
            "date_updated": self._time(recording.end if recording.end is not None else recording.start),
            "duration": str(recording_seconds(info)) if recording.end is not None else "-1",
            "encryption_details": None,
            "error_code": None,
            "media_url": self.payloads.recording_url(leg.call, info),
            "price": None,
            "price_unit": "USD",
            "sid": info.sid,
            "source": info.source,
            "start_time": self._time(recording.start),
            "status": "completed" if recording.end is not None else "processing",
            "subresource_uris": {"transcriptions": f"{uri}/Transcriptions.json"},
            "track": "both",
            "uri": f"{uri}.json",
        }

    @staticmethod
    def page(key: str, path: str, items: Sequence[Json], query: Mapping[str, str], page: int, size: int) -> Json:
        """Page ``page`` (0-based) of ``size`` ``items`` at ``path``, keeping the filters in ``query``."""

        def uri(number: int) -> str:
            params = {**query, "PageSize": str(size), "Page": str(number)}
            if number > 0 and number * size <= len(items):  # Twilio's cursor: the last record of the page before
                params["PageToken"] = "PA" + str(items[number * size - 1]["sid"])
            return f"{path}?{urlencode(params)}"

        chunk = list(items[page * size : (page + 1) * size])
        more = (page + 1) * size < len(items)
        return {
            key: chunk,
            "end": page * size + len(chunk) - 1 if chunk else 0,
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 and (page - 1) * size < len(items) else None,
            "start": page * size,
            "uri": uri(page),
        }
