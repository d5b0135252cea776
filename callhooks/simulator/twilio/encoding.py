"""How the Twilio profile writes a webhook request: form-encoded and signed, as Twilio sends it.

* ``POST`` (the default; each URL has its ``*Method``): the parameters as an ``application/x-www-form-urlencoded``
  body; ``GET``: the same parameters appended to the URL's query, after any it already has.
* ``X-Twilio-Signature``: HMAC-SHA1 of the URL exactly as requested (without its ``#fragment``, which never
  reaches the server) followed by the sorted parameters of a POST, keyed with the account's auth token
  (:func:`callhooks.twilio.signature.compute_signature`, which twilio-python's ``RequestValidator`` agrees with).
* ``I-Twilio-Idempotency-Token``: the body's ``@token``, the same on every delivery of one request (a duplicate,
  a retry, the fallback URL), so a receiver that de-duplicates by it runs its handler once.
* The fallback URL gets ``ErrorCode`` and ``ErrorUrl`` on top, with the ``FallbackMethod``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from ...twilio.signature import compute_signature
from ..models import Delivery
from ..payloads import EventBody
from .payloads import TOKEN

__all__ = ["ERROR_CODE", "FALLBACK_METHOD", "USER_AGENT", "Encoded", "form_of", "sign_request"]

USER_AGENT = "TwilioProxy/1.1 (callhooks-simulator)"
#: Private body entries: the Twilio error code a fallback request reports, and the method the fallback URL takes.
ERROR_CODE = "@errorCode"
FALLBACK_METHOD = "@fallbackMethod"
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
_HTTP_RETRIEVAL_FAILURE = "11200"


@dataclass(frozen=True)
class Encoded:
    """One request as it goes on the wire."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def form_of(body: EventBody) -> dict[str, str]:
    """The wire parameters of a body: every entry but the private ``@`` ones, as text."""
    return {name: str(value) for name, value in body.items() if not name.startswith("@")}


def sign_request(url: str, body: EventBody, target: Delivery, auth_token: str) -> Encoded:
    """The request delivering ``body`` to ``url`` (``target``'s URL or its fallback URL), signed with
    ``auth_token``."""
    params = form_of(body)
    method = target.method
    if url != target.url and url == target.fallback_url and target.url:
        params["ErrorCode"] = str(body.get(ERROR_CODE, _HTTP_RETRIEVAL_FAILURE))
        params["ErrorUrl"] = target.url.partition("#")[0]
        method = str(body.get(FALLBACK_METHOD, method))
    url = url.partition("#")[0]
    headers = {"User-Agent": USER_AGENT, "I-Twilio-Idempotency-Token": str(body.get(TOKEN, ""))}
    if method == "GET":
        full = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}" if params else url
        headers["X-Twilio-Signature"] = compute_signature(full, None, auth_token)
        return Encoded("GET", full, headers)
    headers["Content-Type"] = _FORM
    headers["X-Twilio-Signature"] = compute_signature(url, params, auth_token)
    return Encoded("POST", url, headers, urlencode(params).encode())
