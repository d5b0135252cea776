"""How the Twilio profile writes a webhook request: form-encoded and signed, as Twilio sends it.

* ``POST`` (the default; each URL has its ``*Method``): the parameters as an ``application/x-www-form-urlencoded``
  body; ``GET``: the same parameters appended to the URL's query, after any it already has.
* ``X-Twilio-Signature``: HMAC-SHA1 of the URL exactly as requested (without its ``#fragment``, which never
  reaches the server) followed by the sorted parameters of a POST, keyed with the account's auth token
  (:func:`callhooks.twilio.signature.compute_signature`, which twilio-python's ``RequestValidator`` agrees with).
* ``I-Twilio-Idempotency-Token``: the body's ``@token``, the same on every delivery of one request (a duplicate,
  a retry, the fallback URL), so a receiver that de-duplicates by it runs its handler once.
* The fallback URL gets ``ErrorCode`` (11200: the primary URL failed or timed out) and ``ErrorUrl`` on top, with
  the ``FallbackMethod``.
* Basic credentials, when a URL has them, go in an ``Authorization`` header.

The reply is kept for the TwiML runner when the request asks for TwiML (the Voice URL, Redirect and the actions of
Gather, Record and Dial); status and recording callbacks' replies are ignored, as Twilio ignores them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ...twilio.signature import compute_signature
from ..models import Delivery
from ..payloads import EventBody
from ..profile import CallbackRequest, basic_authorization
from .payloads import EVENT, TOKEN, event_name

__all__ = ["TWIML_REQUESTS", "USER_AGENT", "TwilioEncoding", "form_of", "sign_request"]

USER_AGENT = "TwilioProxy/1.1 (callhooks-simulator)"
#: The requests whose reply is TwiML to run.
TWIML_REQUESTS = frozenset({"call", "redirect", "gather", "record", "dial"})
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
_HTTP_RETRIEVAL_FAILURE = "11200"


def form_of(body: EventBody) -> dict[str, str]:
    """The wire parameters of a body: every entry but the private ``@`` ones, as text."""
    return {name: str(value) for name, value in body.items() if not name.startswith("@")}


def sign_request(
    url: str, body: EventBody, target: Delivery, auth_token: str, credentials: tuple[str, str] | None = None
) -> CallbackRequest:
    """The request delivering ``body`` to ``url`` (``target``'s URL or its fallback URL), signed with
    ``auth_token``."""
    params = form_of(body)
    method = target.method_for(url)
    if url != target.url and url == target.fallback_url and target.url:
        params["ErrorCode"] = _HTTP_RETRIEVAL_FAILURE
        params["ErrorUrl"] = target.url.partition("#")[0]
    url = url.partition("#")[0]
    headers = {"User-Agent": USER_AGENT, "I-Twilio-Idempotency-Token": str(body.get(TOKEN, ""))}
    if credentials is not None:
        headers["Authorization"] = basic_authorization(*credentials)
    if method == "GET":
        full = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}" if params else url
        headers["X-Twilio-Signature"] = compute_signature(full, None, auth_token)
        return CallbackRequest("GET", full, headers)
    headers["Content-Type"] = _FORM
    headers["X-Twilio-Signature"] = compute_signature(url, params, auth_token)
    return CallbackRequest("POST", url, headers, urlencode(params).encode())


class TwilioEncoding:
    """Twilio's webhook requests, signed with ``auth_token`` (module docstring)."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token

    def encode(
        self, url: str, event: EventBody, target: Delivery, credentials: tuple[str, str] | None
    ) -> CallbackRequest:
        """The signed request for ``event``."""
        return sign_request(url, event, target, self.auth_token, credentials)

    def keeps_reply(self, event: EventBody, target: Delivery) -> bool:
        """Whether the reply is TwiML to run (not for status and recording callbacks)."""
        return event.get(EVENT) in TWIML_REQUESTS

    def event_name(self, event: EventBody) -> str:
        """``call``, ``status``, ``gather``, ``record``, ``dial``, ``redirect``, ``recording-status``..."""
        return event_name(event)
