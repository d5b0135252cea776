"""Exceptions for platform responses outside 2xx, and for a platform that cannot be reached.

::

    ApiError                     what every platform's errors share (status, message, method, path)
    └── PlatformError            any non-2xx answer of Catapult v1, or a 2xx answer (of any platform) we cannot read
        ├── AuthenticationError  401
        ├── RateLimitError       429, and 403 ``call-rate-limit`` (call creation is throttled with 403)
        ├── NotFoundError        404
        └── ConflictError        409
    httpx.ConnectError
    └── PlatformUnreachableError no connection to the platform's host (down, or a name that does not resolve)

``callhooks.bandwidth.client`` and ``callhooks.twilio.client`` derive their own trees from ``ApiError``.
Other connection problems are left as ``httpx.TransportError`` subclasses. Exception text is built only from
the status, the platform's error fields and the request method and path: never from credentials, and URLs
in the message have any ``user:password@`` part masked.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PlatformError",
    "PlatformUnreachableError",
    "RateLimitError",
]

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
_MAX_TEXT_IN_MESSAGE = 200


def redact(text: str) -> str:
    """Mask the ``user:password@`` part of any URL in ``text``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


class ApiError(Exception):
    """A platform answered with a status outside 2xx (or with a 2xx body we could not read).

    ``message`` comes from the error body (or is the start of its text); ``text`` is the whole raw body.
    ``reset_at_ms`` is when the platform said requests are accepted again (epoch milliseconds), if it did:
    the retry policy waits until then. Subclasses add their platform's error fields and name them in
    ``label``.
    """

    reset_at_ms: int | None = None

    def __init__(
        self,
        status: int,
        *,
        message: str = "",
        text: str = "",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.message = redact(message)
        self.text = text
        self.method = method
        self.path = path
        super().__init__(str(self))

    @property
    def reset_at(self) -> datetime | None:
        """``reset_at_ms`` as an aware UTC datetime."""
        if self.reset_at_ms is None:
            return None
        return datetime.fromtimestamp(self.reset_at_ms / 1000, tz=timezone.utc)

    @property
    def label(self) -> str:
        """The platform's name for the error (category, type or code), shown after the status."""
        return ""

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        message = self.message[:_MAX_TEXT_IN_MESSAGE]
        return f"{where}{self.status}{' ' + self.label if self.label else ''}{': ' + message if message else ''}"


class PlatformError(ApiError):
    """Catapult v1 answered with a status outside 2xx, or a platform sent a 2xx body we could not read.

    ``category``, ``code``, ``message`` and ``details`` come from the JSON error body; when the body is not
    JSON, ``message`` is (the start of) its text. ``text`` is the whole raw body.
    """

    def __init__(
        self,
        status: int,
        *,
        category: str | None = None,
        code: str | None = None,
        message: str = "",
        details: list[dict[str, Any]] | None = None,
        text: str = "",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.category = category
        self.code = code
        self.details = details or []
        super().__init__(status, message=message, text=text, method=method, path=path)

    @property
    def label(self) -> str:
        """``category`` and ``code``."""
        return " ".join(part for part in (self.category, self.code) if part)

    def detail(self, name: str) -> Any:
        """The value of the ``{"name": ..., "value": ...}`` detail called ``name``, or ``None``."""
        return next((item.get("value") for item in self.details if item.get("name") == name), None)


class AuthenticationError(PlatformError):
    """401: the credentials were refused (or the user may not use that resource)."""


class RateLimitError(PlatformError):
    """429, or 403 ``call-rate-limit``; ``reset_at`` says when requests are accepted again, if known."""

    def __init__(self, status: int, *, reset_at_ms: int | None = None, **fields: Any) -> None:
        self.reset_at_ms = reset_at_ms
        super().__init__(status, **fields)


class NotFoundError(PlatformError):
    """404: no such call, recording, transcription or resource."""


class ConflictError(PlatformError):
    """409: a concurrent update, or a second gather on the same call."""


class PlatformUnreachableError(httpx.ConnectError):
    """No connection could be made to the platform's ``host``: it is down, unreachable, or its name does not
    resolve. An ``httpx.ConnectError`` (what was raised before it was typed), caused by the original one."""

    def __init__(self, host: str, cause: Exception) -> None:
        self.host = host
        super().__init__(f"cannot connect to {host} (down, unreachable, or no such host): {cause}")
        self.__cause__ = cause
