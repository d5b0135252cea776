"""How the receiver core serves one platform: the small neutral hook a platform package fills in.

The core (``app.py``, ``inbound.py``, ``guarantees.py``, ``routing.py``) verifies the path token and the Basic
credentials, reads the body, runs the guarantees and the handler for any ``Platform``. What differs between
platforms is here, as one ``Receiving`` object per receiver:

- ``platform``: parsing, identity, call key, state, the known event types and states (``callhooks.platform``);
- ``verify``: a check of the platform's own after the token's (Twilio's ``X-Twilio-Signature``);
- ``documents`` and ``reply``: the call-control documents handlers return, and the HTTP answer one becomes (its
  left-out callback URLs filled with this receiver's signed URLs);
- ``check_handler``: what registration refuses beyond unknown types and states.

Catapult v1's behaviour is this base class's; ``callhooks.bandwidth.receiving`` and ``callhooks.twilio.receiving``
subclass it. ``receiving_class`` finds one by the name ``CallHooks(platform=...)`` takes.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from starlette.responses import Response

from .. import bxml
from ..catapult import CATAPULT
from ..platform import Event, Platform
from .replies import BxmlReplies
from .routing import Handler

__all__ = ["PLATFORM_NAMES", "Inbound", "Receiving", "UrlMaker", "receiving_class"]

#: The names ``CallHooks(platform=...)`` takes, and the module whose ``RECEIVING`` class serves each.
PLATFORM_NAMES: dict[str, str] = {
    "catapult": "callhooks.receiver.receiving",
    "bandwidth": "callhooks.bandwidth.receiving",
    "bandwidth-v2": "callhooks.bandwidth.receiving",
    "twilio": "callhooks.twilio.receiving",
}


class UrlMaker(Protocol):
    """The receiver's ``callback_url``: a signed URL carrying ``context`` (and the ``kind`` and ``tag`` it is made
    for); ``ValueError`` when the receiver has no ``public_url``."""

    def __call__(
        self, context: Mapping[str, Any] | None = None, *, kind: str | None = None, tag: str | None = None
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class Inbound:
    """One request as a platform's ``verify`` sees it, once the token and credentials were accepted."""

    method: str
    #: The public URL it was sent to: ``public_url``, the path below it and the query as received (None without
    #: a ``public_url``).
    url: str | None
    headers: Mapping[str, str]  #: by lower-case name
    media_type: str  #: of a POST body (``application/json``, ``application/x-www-form-urlencoded``)
    body: bytes
    form: Sequence[tuple[str, str]] | None  #: a form POST's decoded pairs, in order, repeats kept


class Receiving:
    """Catapult v1's receiving, and the base of every platform's (module docstring)."""

    #: The platform served.
    platform: ClassVar[Platform[Any]] = CATAPULT
    #: The document types a handler may return (a ``bxml.Response`` on Catapult).
    documents: ClassVar[tuple[type, ...]] = (bxml.Response,)
    #: Whether the Basic credentials travel inside the callback URLs (Catapult, Twilio) or elsewhere (Bandwidth
    #: v2's ``username``/``password`` attributes and fields).
    credentials_in_url: ClassVar[bool] = True
    #: Whether ``verify`` and ``parse`` need every request header and the public URL (``Inbound``,
    #: ``Delivery.headers``); else only the head's few headers are read.
    wants_request: ClassVar[bool] = False
    #: The kind of a request whose URL names none (Twilio's Voice URL of a phone number: ``call``).
    default_kind: ClassVar[str | None] = None
    #: Whether ``nothing`` has an answer of its own for some events (else: the empty 200, at no cost).
    answers_nothing: ClassVar[bool] = False

    def __init__(
        self,
        make_url: UrlMaker,
        *,
        auth_token: str | Sequence[str] | None = None,
        shared_keys: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        callback_method: str = "POST",
    ) -> None:
        """``make_url``: the receiver's ``callback_url``; ``auth_token`` and ``shared_keys``: what signs the
        platform's requests (Twilio's); ``basic_auth``: the credentials callbacks must carry; ``callback_method``:
        how the receiver expects them (``GET`` or ``POST``)."""
        for name, value in (("auth_token", auth_token), ("shared_keys", shared_keys)):
            if value is not None:
                raise ValueError(f"{name} is Twilio's: platform={self.platform.name!r} takes none")
        self.make_url = make_url
        self.basic_auth = basic_auth
        self.callback_method = callback_method
        self._replies = BxmlReplies(make_url)

    def verify(self, inbound: Inbound) -> None:
        """Check what the platform signs beyond the token; raise ``inbound.CallbackRejected`` to refuse."""

    def check_handler(self, handler: Handler) -> None:
        """Refuse at registration (``ValueError``) what ``build_handler`` cannot know is wrong."""

    def nothing(self, event: Event) -> Response | None:
        """The answer when no handler answered ``event`` (None, no handler, a duplicate); None: an empty 200."""
        return None

    def reply(self, handler: Handler, event: Event, method: str, document: Any) -> Response:
        """The HTTP answer for a document of ``documents`` the handler returned for ``event``."""
        return self._replies.reply(handler, event, method, document)


#: The class ``receiving_class("catapult")`` finds (each platform module names its own so).
RECEIVING = Receiving


def receiving_class(name: str) -> type[Receiving]:
    """The ``Receiving`` class serving the platform ``name`` (``catapult``, ``bandwidth``, ``twilio``)."""
    module = PLATFORM_NAMES.get(name.strip().lower()) if isinstance(name, str) else None
    if module is None:
        raise ValueError(f"unknown platform {name!r}: use one of {', '.join(sorted(PLATFORM_NAMES))}")
    found: type[Receiving] = importlib.import_module(module).RECEIVING
    return found
