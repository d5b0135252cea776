"""The paired platform client: create, read, list and control calls on the Catapult (v1) voice API.

``Client`` (blocking) and ``AsyncClient`` share everything but the transport: parameters are checked and
requests built by ``CallOperations`` (no I/O, see ``wire``), retries are decided by ``RetryPolicy``.
``client.calls`` and the call handles are derived from ``CallOperations`` (see ``facades``).
"""

from .aio import AsyncApplications, AsyncCallHandle, AsyncCalls, AsyncClient
from .errors import AuthenticationError, ConflictError, NotFoundError, PlatformError, RateLimitError
from .models import Application, Call, CallLogEvent, Gather, Recording, Transcription
from .operations import ApplicationOperations, CallOperations, PairedHooks
from .retry import RetryPolicy
from .sync import Applications, CallHandle, Calls, Client
from .wire import Page

__all__ = [
    "Application",
    "ApplicationOperations",
    "Applications",
    "AsyncApplications",
    "AsyncCallHandle",
    "AsyncCalls",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "CallHandle",
    "CallLogEvent",
    "CallOperations",
    "Calls",
    "Client",
    "ConflictError",
    "Gather",
    "NotFoundError",
    "Page",
    "PairedHooks",
    "PlatformError",
    "RateLimitError",
    "Recording",
    "RetryPolicy",
    "Transcription",
]
