"""The paired REST client for Twilio Programmable Voice: Calls and Recordings of the 2010-04-01 API.

``Client`` (blocking) and ``AsyncClient`` are built on the same core as the other callhooks clients
(``callhooks.client``): sans-I/O operations (``operations``) sent form-encoded, the shared retry rules, the
transport shells, and pairing with a receiver, which fills ``Url``/``StatusCallback`` with its signed URL.
Credentials: the Account SID with its auth token or an API key and secret (``Settings``), from arguments or
``TWILIO_*`` variables.
"""

from .auth import DEFAULT_BASE_URL, Settings
from .clients import AsyncClient, CallHandle, Calls, Client, Recordings
from .errors import AuthenticationError, ForbiddenError, NotFoundError, RateLimitError, TwilioError
from .models import Call, Recording
from .operations import CallOperations, RecordingOperations

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "CallHandle",
    "CallOperations",
    "Calls",
    "Client",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "Recording",
    "RecordingOperations",
    "Recordings",
    "Settings",
    "TwilioError",
]
