"""Receiving Bandwidth Voice API v2 callbacks: ``CallHooks(platform="bandwidth")``.

What the core does not already do the same way for every platform (``callhooks.receiver.receiving``):

- **Replies.** The synchronous callbacks (``bxml.SYNCHRONOUS_EVENTS``: ``initiate``, ``answer``, ``gather``,
  ``redirect``, ``transferAnswer``, ...) are answered with the handler's BXML v2 ``Response``; the others with an
  empty 200. A handler that returns BXML for an asynchronous callback is refused: at registration when its return
  annotation says so, else at its first such reply (a 500 naming it, and an error in the log), since Bandwidth
  would ignore the document.
- **Filling.** Every URL attribute the handler left out is this receiver's signed URL carrying the call's
  context: the event URLs of every verb and their fallbacks, a ``<PhoneNumber>``/``<SipUri>``'s
  ``transferAnswerUrl`` and ``transferDisconnectUrl`` (those also name the calling leg as ``session_from``, so
  the B-leg's session starts from its parent's); never a stream's or transcription's ``destination``.
- **Methods.** A receiver built with ``callback_http_method="GET"`` sets each filled URL's ``*Method`` to ``GET``
  (Bandwidth's default is POST).
- **Credentials.** With ``basic_auth``, v2 takes them in ``username``/``password`` (and ``fallbackUsername``/
  ``fallbackPassword``) attributes, not in the URL: they are set on a verb whose every URL they cover is one the
  receiver filled, so credentials never go to a server of someone else's. The core answers a request without
  them 401 with the ``WWW-Authenticate`` challenge Bandwidth waits for before sending them.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from starlette.responses import Response

from ..platform import Event, Platform, event_call_id
from ..receiver.guarantees import SESSION_FROM
from ..receiver.receiving import Receiving
from ..receiver.replies import handler_failed, render_reply
from ..receiver.routing import Handler
from ..xmldoc.model import Verb, attributes_of
from . import bxml
from .bxml.events import SYNCHRONOUS_EVENTS
from .events import BANDWIDTH_V2

__all__ = ["RECEIVING", "BandwidthReceiving"]

logger = logging.getLogger("callhooks")

# URL attributes that are not callbacks to this receiver: where a media stream or a transcription is sent.
_NOT_OURS = frozenset({"destination"})
# The verbs whose URLs report on a new call leg (the B-leg of a <Transfer>).
_NEW_LEG = frozenset({"PhoneNumber", "SipUri"})


def _fills(verb: Verb) -> tuple[list[str], list[str]]:
    """A verb's callback URL attributes (not its text: ``<PlayAudio>``'s audio), primary and fallback."""
    fields = [a.field for a in attributes_of(type(verb)) if a.url and a.field not in _NOT_OURS]
    return [f for f in fields if "fallback" not in f], [f for f in fields if "fallback" in f]


class BandwidthReceiving(Receiving):
    """Bandwidth v2's replies, URL filling and credentials (module docstring)."""

    platform: ClassVar[Platform[Any]] = BANDWIDTH_V2
    documents: ClassVar[tuple[type, ...]] = (bxml.Response,)
    credentials_in_url: ClassVar[bool] = False

    def check_handler(self, handler: Handler) -> None:
        """A handler for an asynchronous event whose return annotation is a BXML ``Response``: ``ValueError``."""
        event_type = handler.key.event_type
        if event_type is None or event_type in SYNCHRONOUS_EVENTS or event_type not in self.platform.event_types:
            return
        try:
            returns = typing.get_type_hints(handler.func).get("return")
        except Exception:  # an annotation that does not resolve says nothing either way
            return
        if returns is bxml.Response or bxml.Response in typing.get_args(returns):
            raise ValueError(_async_bxml(handler, event_type))

    def reply(self, handler: Handler, event: Event, method: str, document: Any) -> Response:
        """The BXML of a synchronous callback, its URLs filled; a 500 naming the handler for any other."""
        if event.event_route_type not in SYNCHRONOUS_EVENTS:
            message = _async_bxml(handler, event.event_route_type)
            logger.error("%s", message)
            return handler_failed(message)
        return render_reply(handler, event, document, self._filler(event), bxml.BXMLError, bxml.CONTENT_TYPE)

    def _filler(self, event: Event) -> Any:
        context: Mapping[str, Any] = event.context
        try:
            url = self.make_url(context)
        except ValueError:
            return None  # no public_url: the document names its URLs itself (str() says which are missing)
        call_id = event_call_id(event)
        leg_url = self.make_url({**context, SESSION_FROM: call_id}) if call_id else url
        credentials = self.basic_auth

        get = self.callback_method == "GET"

        def fill(verb: Verb, field: str) -> str | None:
            primary, fallback = _fills(verb)
            if field in primary or field in fallback:
                return leg_url if type(verb).__name__ in _NEW_LEG else url
            if field.endswith("_method"):  # a filled URL is called the way the receiver expects (POST: the default)
                filled = f"{field.removesuffix('_method')}_url"
                return "GET" if get and filled in primary + fallback and getattr(verb, filled) is None else None
            if credentials is None:
                return None
            covered = primary if field in ("username", "password") else fallback
            if field not in ("username", "password", "fallback_username", "fallback_password") or not covered:
                return None
            if any(getattr(verb, name) is not None for name in covered):
                return None  # a URL of the handler's own: its server gets none of our credentials
            return credentials[0] if field.endswith("username") else credentials[1]

        return fill


def _async_bxml(handler: Handler, event_type: str) -> str:
    return (
        f"handler {handler.name} returns BXML for {event_type}, an asynchronous callback: Bandwidth ignores its "
        f"reply; return None (BXML is read only from {', '.join(sorted(SYNCHRONOUS_EVENTS - {'recordingComplete'}))})"
    )


#: What ``CallHooks(platform="bandwidth")`` is served by (``callhooks.receiver.receiving.receiving_class``).
RECEIVING = BandwidthReceiving
