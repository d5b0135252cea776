"""Twilio's REST error body, ``{"code", "message", "more_info", "status"}``, as the simulator's API errors.

The codes: 20003 (authentication), 20404 (no such resource), 20429 (too many requests), 21201 (no ``To``), 21211
(invalid ``To``), 21212 (invalid ``From``), 21213 (no ``From``), 21205 (invalid or missing ``Url``), 21220 (the call
is not in progress). Any other invalid parameter (and a body of another type than a form or JSON) is 21218, the
simulator's choice (Twilio's own code for it was not confirmed).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ApiError

__all__ = ["INVALID_PARAMETER", "TwilioApiError", "authentication", "invalid", "not_found", "not_in_progress"]

_MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
INVALID_PARAMETER = 21218


class TwilioApiError(ApiError):
    """An error response in Twilio's shape: HTTP ``status`` and Twilio's numeric ``twilio_code``."""

    def __init__(self, status: int, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, "twilio", str(code), message, headers=headers)
        self.twilio_code = code

    def body(self) -> dict[str, object]:
        """Twilio's legacy error body."""
        more_info = _MORE_INFO.format(code=self.twilio_code)
        return {"code": self.twilio_code, "message": self.message, "more_info": more_info, "status": self.status}


def authentication() -> TwilioApiError:
    """401 / 20003, with the Basic challenge."""
    return TwilioApiError(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})


def not_found(path: str) -> TwilioApiError:
    """404 / 20404 for the resource at ``path``."""
    return TwilioApiError(404, 20404, f"The requested resource {path} was not found")


def invalid(name: str, message: str, code: int = INVALID_PARAMETER) -> TwilioApiError:
    """400 for the parameter ``name``."""
    return TwilioApiError(400, code, f"{message} ({name})")


def not_in_progress(call_sid: str) -> TwilioApiError:
    """400 / 21220: the call has ended, so it cannot be redirected."""
    return TwilioApiError(400, 21220, f"Call is not in-progress. Cannot redirect. ({call_sid})")
