"""Exceptions for platform responses outside 2xx.

::

    PlatformError            any non-2xx answer, or a 2xx answer we cannot read
    ├── AuthenticationError  401
    ├── RateLimitError       429, and 403 ``call-rate-limit`` (call creation is throttled with 403)
    ├── NotFoundError        404
    └── ConflictError        409

Connection problems are left as ``httpx.TransportError`` subclasses. Exception text is built only from
the status, the platform's category/code/message and the request method and path: never from
credentials, and URLs in the message have any ``user:password@`` part masked.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

__all__ = ["AuthenticationError", "ConflictError", "NotFoundError", "PlatformError", "RateLimitError"]

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
_MAX_TEXT_IN_MESSAGE = 200


def redact(text: str) -> str:
    """Mask the ``user:password@`` part of any URL in ``text``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


class PlatformError(Exception):
    """The platform answered with a status outside 2xx (or with a 2xx body we could not read).

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
        self.status = status
        self.category = category
        self.code = code
        self.message = redact(message)
        self.details = details or []
        self.text = text
        self.method = method
        self.path = path
        super().__init__(str(self))

    def detail(self, name: str) -> Any:
        """The value of the ``{"name": ..., "value": ...}`` detail called ``name``, or ``None``."""
        return next((item.get("value") for item in self.details if item.get("name") == name), None)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        label = " ".join(part for part in (self.category, self.code) if part)
        message = self.message[:_MAX_TEXT_IN_MESSAGE]
        return f"{where}{self.status}{' ' + label if label else ''}{': ' + message if message else ''}"


class AuthenticationError(PlatformError):
    """401: the credentials were refused (or the user may not use that resource)."""


class RateLimitError(PlatformError):
    """429, or 403 ``call-rate-limit``; ``reset_at`` says when requests are accepted again, if known."""

    def __init__(self, status: int, *, reset_at_ms: int | None = None, **fields: Any) -> None:
        self.reset_at_ms = reset_at_ms
        super().__init__(status, **fields)

    @property
    def reset_at(self) -> datetime | None:
        """``X-RateLimit-Reset`` (epoch milliseconds) as an aware UTC datetime."""
        if self.reset_at_ms is None:
            return None
        return datetime.fromtimestamp(self.reset_at_ms / 1000, tz=timezone.utc)


class NotFoundError(PlatformError):
    """404: no such call, recording, transcription or resource."""


class ConflictError(PlatformError):
    """409: a concurrent update, or a second gather on the same call."""
