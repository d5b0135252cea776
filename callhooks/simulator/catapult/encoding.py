"""How Catapult v1 writes its callback requests (docs/platforms/catapult-voice.md#delivery)."""

from __future__ import annotations

import json

from ...events import encode_query
from ..models import Delivery
from ..payloads import EventBody
from ..profile import CallbackRequest, basic_authorization, event_type

__all__ = ["USER_AGENT", "CatapultEncoding"]

USER_AGENT = "BandwidthAPI/v1 (callhooks-simulator)"


class CatapultEncoding:
    """``POST`` with a JSON body, or ``GET`` with the fields in the query string, per ``callbackHttpMethod``;
    the reply of a GET callback may be BXML to run."""

    def encode(
        self, url: str, event: EventBody, target: Delivery, credentials: tuple[str, str] | None
    ) -> CallbackRequest:
        """The request for ``event`` (Catapult sends no credentials of its own)."""
        headers = {"User-Agent": USER_AGENT}
        method = target.method_for(url)
        if credentials is not None:
            headers["Authorization"] = basic_authorization(*credentials)
        if method == "GET":
            joiner = "&" if "?" in url else "?"
            return CallbackRequest("GET", url + joiner + encode_query(event), headers)
        headers["Content-Type"] = "application/json; charset=utf-8"
        return CallbackRequest("POST", url, headers, json.dumps(event).encode())

    def keeps_reply(self, event: EventBody, target: Delivery) -> bool:
        """GET-mode calls run the BXML their callbacks are answered with."""
        return target.method == "GET"

    def event_name(self, event: EventBody) -> str:
        """The ``eventType``."""
        return event_type(event)
