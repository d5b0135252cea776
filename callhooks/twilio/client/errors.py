"""Twilio REST errors: its error body ``{"code", "message", "more_info", "status"}`` as typed exceptions.

::

    TwilioError              any non-2xx answer (``code``: Twilio's error code, e.g. 21220; ``more_info``)
    ├── AuthenticationError  401 (code 20003)
    ├── ForbiddenError       403
    ├── NotFoundError        404 (code 20404)
    └── RateLimitError       429 (code 20429): not processed, safe to send again later

A platform that cannot be reached is ``callhooks.client.PlatformUnreachableError``, as for every client.
"""

from __future__ import annotations

from typing import Any

from ...client.errors import ApiError
from ...client.wire import Request, Response, error_fields, retry_after_ms

__all__ = ["AuthenticationError", "ForbiddenError", "NotFoundError", "RateLimitError", "TwilioError", "read_error"]


class TwilioError(ApiError):
    """Twilio answered with a status outside 2xx: ``code`` (Twilio's error code, or ``None``), ``message`` and
    ``more_info`` (the error's documentation page) come from the error body."""

    def __init__(self, status: int, *, code: int | None = None, more_info: str | None = None, **fields: Any) -> None:
        self.code = code
        self.more_info = more_info
        super().__init__(status, **fields)

    @property
    def label(self) -> str:
        """Twilio's error code."""
        return "" if self.code is None else str(self.code)


class AuthenticationError(TwilioError):
    """401: the Account SID and auth token (or API key and secret) were refused."""


class ForbiddenError(TwilioError):
    """403: the credentials may not do this."""


class NotFoundError(TwilioError):
    """404: no such call or recording."""


class RateLimitError(TwilioError):
    """429: too many concurrent requests; the request was not processed."""


_BY_STATUS: dict[int, type[TwilioError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitError,
}


def read_error(request: Request, response: Response) -> TwilioError:
    """The typed exception for a non-2xx response."""
    fields, body = error_fields(request, response)
    if body is not None:
        code = body.get("code")
        more_info = body.get("more_info")
        fields.update(
            message=str(body.get("message") or ""),
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            more_info=more_info if isinstance(more_info, str) else None,
        )
    error = _BY_STATUS.get(response.status, TwilioError)(response.status, **fields)
    if response.status in (429, 503):
        error.reset_at_ms = retry_after_ms(response)
    return error
