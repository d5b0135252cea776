"""BXML replies: turn a ``bxml.Response`` a handler returned into the HTTP answer the platform runs.

Pairing, as for the client: a verb URL the handler left out is filled with this receiver's signed callback URL carrying
the current call's context, so the ``gather`` (``redirect``, ``recording``...) that follows comes back verified, to the
same app, with the same context. The platform runs BXML only from the reply to ``answer``, ``gather`` and ``redirect``
of a call whose callbacks come by GET (docs/platforms/catapult-bxml.md#requests-and-replies and #execution); any other
reply is ignored by it, which is worth a warning (once per handler) since the handler's author surely meant otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Final

from starlette.responses import Response

from .. import bxml
from ..platform import Event, event_call_id
from ..xmldoc import Document
from ..xmldoc.model import Filler
from .routing import Handler

__all__ = ["BXML_EVENTS", "BxmlReplies", "handler_failed", "render_reply"]

logger = logging.getLogger("callhooks")

#: The events whose reply (to a GET callback) the platform executes as BXML.
BXML_EVENTS: Final = frozenset({"answer", "gather", "redirect"})


class BxmlReplies:
    """Writes handlers' BXML replies; ``callback_url(context)`` makes the URL that fills left-out verb URLs."""

    def __init__(self, callback_url: Callable[[dict[str, Any]], str]) -> None:
        self._callback_url = callback_url
        self._warned: set[str] = set()

    def reply(self, handler: Handler, event: Event, method: str, document: bxml.Response) -> Response:
        """200 with the document, or a 500 (logged, naming the handler) when it cannot be written."""
        if method != "GET" or event.event_route_type not in BXML_EVENTS:
            self._warn_ignored(handler, event, method)
        try:
            default = self._callback_url(event.context)
        except ValueError:
            default = None  # no public_url: the document must name its URLs itself (str() says which)
        return render_reply(handler, event, document, default, bxml.BXMLError, bxml.CONTENT_TYPE)

    def _warn_ignored(self, handler: Handler, event: Event, method: str) -> None:
        if handler.name in self._warned:
            return
        self._warned.add(handler.name)
        why = "a POST callback (REST control)" if method != "GET" else f"the {event.event_type} event"
        logger.warning(
            "handler %s returned BXML for %s, whose reply the platform ignores: only the replies to answer, gather "
            "and redirect callbacks delivered by GET are executed",
            handler.name,
            why,
        )


def render_reply(
    handler: Handler,
    event: Event,
    document: Document,
    fill: str | Filler | None,
    invalid: type[Exception],
    content_type: str,
) -> Response:
    """200 with ``document``, its left-out URLs filled by ``fill`` (``Document.with_default_urls``; None: as it
    is); a 500 (logged, naming the handler) when it cannot be written (``invalid``: the dialect's error)."""
    try:
        if fill is not None:
            document = document.with_default_urls(fill)
        text = str(document)
    except invalid as exc:
        logger.error(
            "handler %s returned a document that cannot be sent for call %s event %s: %s",
            handler.name,
            event_call_id(event),
            event.event_type,
            exc,
        )
        return handler_failed("the handler for this event returned an invalid document")
    return Response(text.encode("utf-8"), status_code=200, headers={"content-type": content_type})


def handler_failed(detail: str) -> Response:
    """The 500 of a handler whose answer cannot be sent (the platform retries, or delivers to its fallback)."""
    body = {"error": "handler-failed", "detail": detail}
    return Response(json.dumps(body), status_code=500, media_type="application/json")
