"""Bandwidth Voice API v2 errors: its error body ``{"type", "description", "id"}`` as typed exceptions.

::

    BandwidthError           any non-2xx answer (``type``, ``description``, ``error_id``)
    ├── AuthenticationError  401, or a token request refused by the OAuth endpoint
    ├── ForbiddenError       403: the user lacks the Voice API role
    ├── NotFoundError        404: unknown or expired (calls are kept 7 days) id
    ├── ConflictError        409: the call or conference cannot be modified in its current state
    └── RateLimitError       429: call creation rate or queue limit; ``reset_at`` from ``Retry-After``

A platform that cannot be reached is ``callhooks.client.PlatformUnreachableError``, as for every client.
"""

from __future__ import annotations

from typing import Any

from ...client.errors import ApiError
from ...client.wire import Request, Response, error_fields, retry_after_ms

__all__ = [
    "AuthenticationError",
    "BandwidthError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "read_error",
]


class BandwidthError(ApiError):
    """Bandwidth answered with a status outside 2xx: ``type`` (e.g. ``validation``), ``description`` (also
    ``message``) and ``error_id`` come from the error body."""

    def __init__(self, status: int, *, type: str | None = None, error_id: str | None = None, **fields: Any) -> None:
        self.type = type
        self.error_id = error_id
        super().__init__(status, **fields)

    @property
    def description(self) -> str:
        """The body's ``description``."""
        return self.message

    @property
    def label(self) -> str:
        """The body's ``type``."""
        return self.type or ""


class AuthenticationError(BandwidthError):
    """401: the credentials (or the OAuth token) were refused."""


class ForbiddenError(BandwidthError):
    """403: the credentials are valid but may not use the Voice API (or this account)."""


class NotFoundError(BandwidthError):
    """404: no such call, recording, transcription, conference or member (or it has expired)."""


class ConflictError(BandwidthError):
    """409: the call or conference cannot be modified now (ended, or not yet answered)."""


class RateLimitError(BandwidthError):
    """429: the account's call creation rate or queue is full; ``reset_at`` says when to try again, if known."""


_BY_STATUS: dict[int, type[BandwidthError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) else None


def read_error(request: Request, response: Response) -> BandwidthError:
    """The typed exception for a non-2xx response of the Voice API (or of the OAuth token endpoint)."""
    fields, body = error_fields(request, response)
    if body is not None:
        # The OAuth endpoint answers in OAuth's own words (error, error_description).
        fields["message"] = _string(body, "description") or _string(body, "error_description") or ""
        fields.update(type=_string(body, "type") or _string(body, "error"), error_id=_string(body, "id") or None)
    error = _BY_STATUS.get(response.status, BandwidthError)(response.status, **fields)
    if response.status in (429, 503):
        error.reset_at_ms = retry_after_ms(response)
    return error
