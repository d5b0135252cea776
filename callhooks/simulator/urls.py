"""Absolute and path-only URLs of the simulated resources (``…/v1/users/{userId}/…``)."""

from __future__ import annotations

__all__ = ["Urls"]


class Urls:
    """URL builder for one user; ``base`` is the scheme and host, e.g. ``http://127.0.0.1:8080``."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.root = f"/v1/users/{user_id}"

    def call_path(self, call_id: str) -> str:
        """Path-only call URL: the form the platform puts in ``Location``."""
        return f"{self.root}/calls/{call_id}"

    def call(self, base: str, call_id: str) -> str:
        """``callUri``."""
        return base + self.call_path(call_id)

    def gather_path(self, call_id: str, gather_id: str) -> str:
        """Path-only gather URL (``Location`` of a new gather)."""
        return f"{self.call_path(call_id)}/gather/{gather_id}"

    def recording(self, base: str, recording_id: str) -> str:
        """``recordingUri``."""
        return f"{base}{self.root}/recordings/{recording_id}"

    def transcription(self, base: str, recording_id: str, transcription_id: str) -> str:
        """``transcriptionUri``."""
        return f"{self.recording(base, recording_id)}/transcriptions/{transcription_id}"

    def media(self, base: str, name: str) -> str:
        """A media file (recording audio, full transcription text)."""
        return f"{base}{self.root}/media/{name}"
