"""The errors a store raises: the receiver turns ``StoreUnavailable`` into a 503 with a JSON reason."""

from __future__ import annotations

__all__ = ["SessionValueError", "StoreUnavailable", "TurnTimeout"]


class StoreUnavailable(Exception):
    """The store cannot be reached or written (Redis down, SQLite file not writable or locked too long).

    ``backend`` names the engine (``"redis"``, ``"sqlite"``, ``"memory"``) and ``reason`` says why, in one line
    that can go in a 503 body or a start-up error.
    """

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend} store unavailable: {reason}")
        self.backend = backend
        self.reason = reason


class SessionValueError(TypeError):
    """A call session holds a value that is not JSON (or is too large): ``key`` names the offending entry."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"session value for key {key!r} {problem}")
        self.key = key


class TurnTimeout(TimeoutError):
    """An event waited longer than allowed for its turn in its call's queue (or for another delivery's outcome)."""
