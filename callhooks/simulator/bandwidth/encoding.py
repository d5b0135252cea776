"""How Voice API v2 writes its callback requests: ``POST`` with a JSON body (or ``GET`` with the fields in the
query string), Basic credentials only in answer to a challenge, the reply read only for synchronous events."""

from __future__ import annotations

import json

from ...bandwidth.bxml import SYNCHRONOUS_EVENTS
from ...events import encode_query
from ..models import Delivery
from ..payloads import EventBody
from ..profile import CallbackRequest, DeliveryRules, basic_authorization, event_type

__all__ = ["RULES", "USER_AGENT", "BandwidthEncoding"]

USER_AGENT = "BandwidthAPI/v2 (callhooks-simulator)"
#: One retry to the same URL on a connection error; credentials sent after a 401 challenge.
RULES = DeliveryRules(connect_retries=1, basic_challenge=True)


class BandwidthEncoding:
    """v2's webhook requests."""

    def encode(
        self, url: str, event: EventBody, target: Delivery, credentials: tuple[str, str] | None
    ) -> CallbackRequest:
        """JSON by POST, or the query string by GET (nested objects JSON-encoded, as v1 did)."""
        headers = {"User-Agent": USER_AGENT}
        if credentials is not None:
            headers["Authorization"] = basic_authorization(*credentials)
        if target.method_for(url) == "GET":
            joiner = "&" if "?" in url else "?"
            return CallbackRequest("GET", url + joiner + encode_query(event), headers)
        headers["Content-Type"] = "application/json"
        return CallbackRequest("POST", url, headers, json.dumps(event).encode())

    def keeps_reply(self, event: EventBody, target: Delivery) -> bool:
        """Synchronous events are answered with BXML to run; the others' replies are ignored."""
        return event_type(event) in SYNCHRONOUS_EVENTS

    def event_name(self, event: EventBody) -> str:
        """The ``eventType``."""
        return event_type(event)
