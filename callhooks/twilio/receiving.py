"""Receiving Twilio Programmable Voice webhooks: ``CallHooks(platform="twilio", auth_token=...)``.

What the core does not already do the same way for every platform (``callhooks.receiver.receiving``):

- **Kind and tag.** Twilio sends no event type and no tag: the kind of a request follows from the URL it was
  sent to. Every URL the receiver hands out names the kind it is for, signed into its token with the tag
  (``callback_url(kind="gather", tag="main-menu")``). A URL naming no kind (a phone number's Voice URL made with
  ``callback_url(max_age=None)``) is the kind ``call``; the paired client's new call asks for its TwiML on a URL of
  the kind ``answer``, and its status callbacks on one of ``status``.
- **Verification.** ``X-Twilio-Signature`` as twilio-python's ``RequestValidator`` computes it
  (``signature.SignatureVerifier``), over the configured ``public_url`` followed by the path and query the request
  was sent to (never the ``Host`` header), with either of two auth tokens during a rotation, after the core
  checked the path token. A missing, malformed or wrong signature is a 403 naming the reason.
- **Replies.** Handlers return a TwiML ``Response``, or ``Reply(response, tag="...")`` to name the tag the
  URLs filled in it carry. Every callback URL the handler left out is filled with this receiver's signed URL
  carrying the call's context, the kind of request it will receive (``KIND_OF``) and the tag: ``<Gather>``'s
  ``action`` comes back as ``gather``, a ``statusCallback`` as ``status``, a ``recordingStatusCallback`` as
  ``recording-status``, ... A dialled leg's ``statusCallback`` also names the calling leg as ``session_from``, so
  the leg's session starts from its parent's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

from starlette.responses import Response

from ..platform import Event, Platform
from ..receiver.guarantees import SESSION_FROM
from ..receiver.inbound import JSON, CallbackRejected
from ..receiver.receiving import Inbound, Receiving, UrlMaker
from ..receiver.replies import render_reply
from ..receiver.routing import Handler
from ..xmldoc.model import Verb
from . import twiml
from .events import TWILIO
from .signature import SignatureRejected, SignatureVerifier

__all__ = ["CONTENT_TYPE", "KIND_OF", "RECEIVING", "Reply", "TwilioReceiving", "kind_of"]

logger = logging.getLogger("callhooks")

#: The media type of a TwiML reply.
CONTENT_TYPE: Final = "text/xml; charset=utf-8"

#: The kind of request each verb's callback URL receives, by ``(verb, field)``; ``(None, field)`` for any verb.
KIND_OF: Final[Mapping[tuple[str | None, str], str]] = {
    ("Gather", "action"): "gather",
    ("Record", "action"): "record",
    ("Dial", "action"): "dial",
    ("Enqueue", "action"): "enqueue",
    ("Pay", "action"): "pay",
    ("Connect", "action"): "connect",
    ("Refer", "action"): "refer",
    ("Start", "action"): "start",
    ("Conference", "status_callback"): "conference",
    ("Conference", "event_callback_url"): "conference",
    ("Stream", "status_callback"): "stream",
    ("Pay", "status_callback"): "pay-status",
    ("Redirect", "url"): "redirect",
    (None, "status_callback"): "status",
    (None, "recording_status_callback"): "recording-status",
    (None, "amd_status_callback"): "amd",
    (None, "transcribe_callback"): "transcription",
    (None, "partial_result_callback"): "gather-partial",
}

# The nouns of <Dial> that start a new call leg: their status callbacks report on that leg.
_NEW_LEG: Final = frozenset({"Number", "Client", "Sip", "Application", "WhatsApp"})
# The kinds whose reply Twilio runs as TwiML: an empty body there is a document parse failure (an application error
# heard by the caller), so no answer is the empty document, which ends the call as Twilio ends it after the last verb.
_TWIML_KINDS: Final = frozenset(
    {
        "call",
        "answer",
        "redirect",
        "fallback",
        "whisper",
        "gather",
        "record",
        "dial",
        "enqueue",
        "queue-wait",
        "dequeue",
    }
    | {"connect", "pay", "refer"}
)
_EMPTY_TWIML: Final = b'<?xml version="1.0" encoding="UTF-8"?><Response />'
# The kinds whose reply Twilio does not run as TwiML.
_NOTIFICATIONS: Final = frozenset(
    {"status", "recording-status", "transcription", "amd", "conference", "stream", "gather-partial", "pay-status"}
)


def kind_of(verb: str, field: str) -> str | None:
    """The kind of request the callback URL ``field`` of a ``verb`` receives (``KIND_OF``), None if not one."""
    return KIND_OF.get((verb, field)) or KIND_OF.get((None, field))


@dataclass(frozen=True)
class Reply:
    """A TwiML ``response`` whose filled callback URLs carry ``tag`` (``@hooks.on("gather", tag=...)`` then
    routes the requests they bring)."""

    response: twiml.Response
    tag: str | None = None


class TwilioReceiving(Receiving):
    """Twilio's signature check, kinds and TwiML replies (module docstring)."""

    platform: ClassVar[Platform[Any]] = TWILIO
    documents: ClassVar[tuple[type, ...]] = (twiml.Response, Reply)
    wants_request: ClassVar[bool] = True
    default_kind: ClassVar[str | None] = "call"
    answers_nothing: ClassVar[bool] = True

    def __init__(
        self,
        make_url: UrlMaker,
        *,
        auth_token: str | Sequence[str] | None = None,
        shared_keys: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        callback_method: str = "POST",
    ) -> None:
        tokens = (auth_token,) if isinstance(auth_token, str) else tuple(auth_token or ())
        if not tokens or not all(isinstance(token, str) and token for token in tokens):
            raise ValueError(
                "platform='twilio' needs auth_token: the account's auth token (two while it is rotated), which "
                "signs every request (CallHooks(auth_token=...) or TWILIO_AUTH_TOKEN)"
            )
        super().__init__(make_url, basic_auth=basic_auth, callback_method=callback_method)
        self.auth_tokens = tokens
        #: A Webhooks Setting's SharedKeys by id: their secrets sign in HMAC-SHA256 instead of the auth token.
        self.shared_keys: dict[str, str] = dict(shared_keys or {})
        if not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in self.shared_keys.items()):
            raise ValueError("shared_keys maps each SharedKey's id to its secret, both non-empty strings")
        self._warned: set[str] = set()

    def verify(self, inbound: Inbound) -> None:
        """``X-Twilio-Signature`` over the public URL requested and the form parameters; 403 with the reason."""
        if inbound.url is None:
            raise CallbackRejected(
                403, "forbidden", "no public_url to check the signature with", reason="no-public-url"
            )
        parts = urlsplit(inbound.url)
        verifier = SignatureVerifier(f"{parts.scheme}://{parts.netloc}", self.auth_tokens, self.shared_keys)
        json_body = inbound.body if inbound.method == "POST" and inbound.media_type == JSON else None
        try:
            verifier.verify_url(inbound.url, inbound.headers, form=inbound.form, json_body=json_body)
        except SignatureRejected as exc:
            raise CallbackRejected(403, "forbidden", exc.detail, reason=exc.reason) from None

    def nothing(self, event: Event) -> Response | None:
        """An empty TwiML document for a request whose reply Twilio runs; None (an empty 200) for the others."""
        if event.event_route_type in _TWIML_KINDS:
            return Response(_EMPTY_TWIML, status_code=200, headers={"content-type": CONTENT_TYPE})
        return None

    def reply(self, handler: Handler, event: Event, method: str, document: Any) -> Response:
        """The TwiML, with every callback URL left out filled for its kind and the reply's tag."""
        reply = document if isinstance(document, Reply) else Reply(document)
        if event.event_route_type in _NOTIFICATIONS and handler.name not in self._warned:
            self._warned.add(handler.name)
            logger.warning(
                "handler %s returned TwiML for a %s request, whose reply Twilio does not run",
                handler.name,
                event.event_route_type,
            )
        return render_reply(
            handler, event, reply.response, self._filler(event, reply.tag), twiml.TwiMLError, CONTENT_TYPE
        )

    def _filler(self, event: Event, tag: str | None) -> Any:
        context: Mapping[str, Any] = event.context
        call_sid = getattr(event, "call_sid", None)
        make_url = self.make_url
        try:
            make_url(context)
        except ValueError:
            return None  # no public_url: the document names its URLs itself (str() says which are missing)

        def fill(verb: Verb, field: str) -> str | None:
            name = type(verb).__name__
            kind = kind_of(name, field)
            if kind is None or field not in verb._fillable_urls():
                return None
            leg = {SESSION_FROM: call_sid} if name in _NEW_LEG and call_sid else {}
            return make_url({**context, **leg}, kind=kind, tag=tag)

        return fill


#: What ``CallHooks(platform="twilio")`` is served by (``callhooks.receiver.receiving.receiving_class``).
RECEIVING = TwilioReceiving
