"""The paired REST client for Bandwidth's Voice API v2 (Programmable Voice).

``Client`` (blocking) and ``AsyncClient`` are built on the same core as the Catapult v1 client
(``callhooks.client``): sans-I/O operations (``operations``), the shared retry rules, the transport shells,
and pairing with a receiver, which fills callback URLs with its signed URL. Credentials: OAuth2 client
credentials or Basic for legacy API users (``Settings``), from arguments or ``BANDWIDTH_*`` variables.
"""

from .auth import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, OAuth2ClientCredentials, Settings
from .clients import AsyncClient, CallHandle, Calls, Client, Conferences, Recordings, Transcriptions
from .errors import (
    AuthenticationError,
    BandwidthError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
)
from .models import (
    CallState,
    Conference,
    ConferenceMember,
    ConferenceRecording,
    CreatedCall,
    RealTimeTranscription,
    Recording,
    RecordingTranscriptions,
    TranscriptionMetadata,
)
from .operations import CallOperations, ConferenceOperations, RecordingOperations, TranscriptionOperations

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "AsyncClient",
    "AuthenticationError",
    "BandwidthError",
    "CallHandle",
    "CallOperations",
    "CallState",
    "Calls",
    "Client",
    "Conference",
    "ConferenceMember",
    "ConferenceOperations",
    "ConferenceRecording",
    "Conferences",
    "ConflictError",
    "CreatedCall",
    "ForbiddenError",
    "NotFoundError",
    "OAuth2ClientCredentials",
    "RateLimitError",
    "RealTimeTranscription",
    "Recording",
    "RecordingOperations",
    "RecordingTranscriptions",
    "Recordings",
    "Settings",
    "TranscriptionMetadata",
    "TranscriptionOperations",
    "Transcriptions",
]
