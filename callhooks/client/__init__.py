"""The paired platform client: create, read, list and control calls on the Catapult (v1) voice API.

``Client`` (blocking) and ``AsyncClient`` share everything but the transport: parameters are checked and
requests built by ``CallOperations`` (no I/O, see ``wire``), retries are decided by ``RetryPolicy``.
``client.calls`` and the call handles are derived from ``CallOperations`` (see ``facades``).

The platform-neutral parts (``transport``'s shells, ``retry``, ``errors.ApiError``, ``wire``'s paging and
``paired``) are what ``callhooks.bandwidth.client`` and ``callhooks.twilio.client`` are built on.
"""

from .aio import AsyncApplications, AsyncCallHandle, AsyncCalls, AsyncClient
from .errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PlatformError,
    PlatformUnreachableError,
    RateLimitError,
)
from .models import Application, Call, CallLogEvent, Gather, PhoneNumber, Recording, Transcription
from .operations import ApplicationOperations, CallOperations, PairedHooks
from .retry import RetryPolicy
from .sync import Applications, CallHandle, Calls, Client
from .wire import Page

__all__ = [
    "ApiError",
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
    "PhoneNumber",
    "PlatformError",
    "PlatformUnreachableError",
    "RateLimitError",
    "Recording",
    "RetryPolicy",
    "Transcription",
]
