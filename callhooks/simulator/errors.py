"""The platform's error bodies, as an exception the API layer turns into a response.

Shape (docs/platforms/catapult-voice.md#errors-and-status-codes):
``{"category", "code", "message", "details": [{"name", "value"}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..logs import redact_url, redact_urls_in

__all__ = [
    "ApiError",
    "conflict",
    "invalid_state",
    "not_found",
    "redact_url",
    "redact_urls_in",
    "validation_error",
]


class ApiError(Exception):
    """An error response: HTTP ``status`` plus the documented JSON body, and optional extra headers."""

    def __init__(
        self,
        status: int,
        category: str,
        code: str,
        message: str,
        details: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # Messages and details may quote a callback URL (its token, its password): masked everywhere.
        message = redact_urls_in(message)
        super().__init__(message)
        self.status = status
        self.category = category
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        """The JSON body the platform sends; detail values are always strings, as in the docs."""
        return {
            "category": self.category,
            "code": self.code,
            "message": self.message,
            "details": [{"name": name, "value": _text(value)} for name, value in self.details.items()],
        }


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return redact_urls_in(str(value))


def validation_error(field: str, value: object, message: str) -> ApiError:
    """400 ``validation-error`` naming the offending field (``details`` carry its name and value)."""
    return ApiError(400, "bad-request", "validation-error", message, {field: value})


def not_found(call_id: str, what: str = "call", code: str = "call-not-found") -> ApiError:
    """404 for an unknown call (or one of its sub-resources)."""
    return ApiError(404, "not-found", code, f"The {what} {call_id} could not be found", {"callId": call_id})


def invalid_state(call_id: str, state: str, message: str | None = None) -> ApiError:
    """403 ``call-invalid-state``; the default message is the one the docs quote."""
    text = message or f"You can't update the call's state after being set to {state}"
    return ApiError(403, "forbidden", "call-invalid-state", text, {"callId": call_id, "state": state})


def conflict(call_id: str, gather_id: str) -> ApiError:
    """409 ``call-duplicate-gather-error``: a gather is already running on the call."""
    return ApiError(
        409,
        "conflict",
        "call-duplicate-gather-error",
        f"The call {call_id} already has a gather in progress ({gather_id})",
        {"callId": call_id, "gatherId": gather_id},
    )
