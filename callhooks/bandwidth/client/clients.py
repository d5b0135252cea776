"""``Client`` (blocking) and ``AsyncClient`` for Bandwidth's Voice API v2: the shared shells, its operations.

Each namespace method is derived from one operation (``callhooks.client.facades``): the blocking client
returns results, the async one awaitables, with the operation's signature and docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from typing_extensions import Self

from ...client.facades import ClientT, Handle, Iterate, Namespace, OnCall, Run
from ...client.paired import PairedHooks
from ...client.retry import RetryPolicy
from ...client.settings import FromEnv
from ...client.transport import AsyncShell, BlockingShell, Shell, http_options
from ...client.wire import Request, Response
from .auth import Settings
from .errors import BandwidthError, read_error
from .operations import Account, CallOperations, ConferenceOperations, RecordingOperations, TranscriptionOperations

__all__ = ["AsyncClient", "CallHandle", "Calls", "Client", "Conferences", "Recordings", "Transcriptions"]


class Calls(Namespace[ClientT]):
    """``client.calls``: create, read, list and control calls; ``bind`` makes a handle for one call."""

    def bind(self, call_id: str) -> CallHandle[ClientT]:
        """A handle for one call: the control methods without the ``call_id`` argument."""
        return CallHandle(self, call_id)

    create = Run(CallOperations.create)
    get = Run(CallOperations.get)
    list = Iterate(CallOperations.list_page)
    list_page = Run(CallOperations.list_page)
    redirect = Run(CallOperations.redirect)
    hangup = Run(CallOperations.hangup)
    set_tag = Run(CallOperations.set_tag)
    replace_bxml = Run(CallOperations.replace_bxml)
    pause_recording = Run(CallOperations.pause_recording)
    resume_recording = Run(CallOperations.resume_recording)


class CallHandle(Handle[ClientT]):
    """One call: ``handle.hangup()`` is ``client.calls.hangup(handle.id)``."""

    get = OnCall(CallOperations.get)
    redirect = OnCall(CallOperations.redirect)
    hangup = OnCall(CallOperations.hangup)
    set_tag = OnCall(CallOperations.set_tag)
    replace_bxml = OnCall(CallOperations.replace_bxml)
    pause_recording = OnCall(CallOperations.pause_recording)
    resume_recording = OnCall(CallOperations.resume_recording)


class Recordings(Namespace[ClientT]):
    """``client.recordings``: call recordings, their media and their transcriptions."""

    list = Iterate(RecordingOperations.list_page)
    of_call = Iterate(RecordingOperations.of_call_page)
    get = Run(RecordingOperations.get)
    download = Run(RecordingOperations.download)
    delete = Run(RecordingOperations.delete)
    delete_media = Run(RecordingOperations.delete_media)
    transcribe = Run(RecordingOperations.transcribe)
    get_transcription = Run(RecordingOperations.get_transcription)
    delete_transcription = Run(RecordingOperations.delete_transcription)


class Transcriptions(Namespace[ClientT]):
    """``client.transcriptions``: real-time transcriptions of calls."""

    list = Iterate(TranscriptionOperations.list_page)
    get = Run(TranscriptionOperations.get)
    delete = Run(TranscriptionOperations.delete)


class Conferences(Namespace[ClientT]):
    """``client.conferences``: conferences, their members and their recordings."""

    list = Iterate(ConferenceOperations.list_page)
    list_page = Run(ConferenceOperations.list_page)
    get = Run(ConferenceOperations.get)
    redirect = Run(ConferenceOperations.redirect)
    end = Run(ConferenceOperations.end)
    replace_bxml = Run(ConferenceOperations.replace_bxml)
    get_member = Run(ConferenceOperations.get_member)
    update_member = Run(ConferenceOperations.update_member)
    recordings = Iterate(ConferenceOperations.recordings_page)
    get_recording = Run(ConferenceOperations.get_recording)
    download_recording = Run(ConferenceOperations.download_recording)


VoiceT = TypeVar("VoiceT", bound="_Voice")


class _Voice(Shell, FromEnv):
    """Construction shared by ``Client`` and ``AsyncClient``.

    Credentials and hosts: see ``Settings`` (arguments, else ``BANDWIDTH_*`` variables; hosts default to
    Bandwidth's production ones). With ``hooks=`` (a ``callhooks.CallHooks``), the callback URLs of created
    calls, redirects and transcriptions default to that receiver, signed. ``timeout`` is httpx's; ``retry`` the
    ``RetryPolicy`` (the same rules as every callhooks client); ``transport`` replaces httpx's network
    transport (tests, proxies).
    """

    calls: Calls[Self]
    recordings: Recordings[Self]
    transcriptions: Transcriptions[Self]
    conferences: Conferences[Self]

    def __init__(
        self,
        account_id: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        username: str | None = None,
        password: str | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        hooks: PairedHooks | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        transport: Any = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        given = {
            "account_id": account_id,
            "client_id": client_id,
            "client_secret": client_secret,
            "username": username,
            "password": password,
            "base_url": base_url,
            "token_url": token_url,
        }
        self.settings = Settings.resolve(given, environ)
        self.retry = retry or RetryPolicy()
        self.hooks = hooks
        self.auth = self.settings.auth()
        self._open(transport, http_options(self.auth, timeout))
        self._namespaces(Account(self.settings.base_url, self.settings.account_id, hooks))

    def _namespaces(self: VoiceT, account: Account) -> None:
        self.calls = Calls(self, CallOperations(account))
        self.recordings = Recordings(self, RecordingOperations(account))
        self.transcriptions = Transcriptions(self, TranscriptionOperations(account))
        self.conferences = Conferences(self, ConferenceOperations(account))

    def read_error(self, request: Request, response: Response) -> BandwidthError:
        """The Voice API's error body as a typed ``BandwidthError``."""
        return read_error(request, response)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account_id={self.settings.account_id!r}, base_url={self.settings.base_url!r})"


class Client(BlockingShell, _Voice):
    """Blocking client for Bandwidth's Voice API v2 (see ``_Voice`` for the arguments); ``with`` closes it."""


class AsyncClient(AsyncShell, _Voice):
    """Async client for Bandwidth's Voice API v2: ``Client``'s API, awaited; ``async with`` closes it."""
