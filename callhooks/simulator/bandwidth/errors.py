"""Voice API v2 error bodies: ``{"type", "description", "id"}`` (the ``VoiceApiError`` shape), as an
:class:`~callhooks.simulator.errors.ApiError` the simulator's guard turns into a response."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ApiError

__all__ = ["V2Error", "conflict", "not_found", "unauthorized", "validation"]


class V2Error(ApiError):
    """An error answered with v2's body."""

    def __init__(self, status: int, kind: str, description: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, kind, kind, description, headers=headers)

    def body(self) -> dict[str, object]:
        """``{"type", "description", "id"}``."""
        return {"type": self.category, "description": self.message, "id": ""}


def validation(description: str) -> V2Error:
    """400: a malformed or invalid request."""
    return V2Error(400, "validation", description)


def not_found(what: str, ident: str) -> V2Error:
    """404: an unknown id, as ``Call [c-…] not found``."""
    return V2Error(404, "validation", f"{what} [{ident}] not found")


def conflict(call_id: str) -> V2Error:
    """409: the call cannot be modified now (ended, or not answered yet)."""
    return V2Error(409, "validation", f"Call [{call_id}] cannot be modified in its current state")


def unauthorized(description: str = "The credentials provided were invalid") -> V2Error:
    """401 with a Basic challenge."""
    return V2Error(401, "authentication-error", description, {"WWW-Authenticate": 'Basic realm="callhooks-simulator"'})
