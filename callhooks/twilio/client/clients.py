"""``Client`` (blocking) and ``AsyncClient`` for Twilio's Calls and Recordings: the shared shells, its operations.

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
from .errors import TwilioError, read_error
from .operations import CallOperations, RecordingOperations, TwilioAccount

__all__ = ["AsyncClient", "CallHandle", "Calls", "Client", "Recordings"]


class Calls(Namespace[ClientT]):
    """``client.calls``: create, fetch, list, redirect and end calls; ``bind`` makes a handle for one call."""

    def bind(self, call_sid: str) -> CallHandle[ClientT]:
        """A handle for one call: the control methods without the ``call_sid`` argument."""
        return CallHandle(self, call_sid)

    create = Run(CallOperations.create)
    get = Run(CallOperations.get)
    list = Iterate(CallOperations.list_page)
    list_page = Run(CallOperations.list_page)
    update = Run(CallOperations.update)
    redirect = Run(CallOperations.redirect)
    hangup = Run(CallOperations.hangup)
    cancel = Run(CallOperations.cancel)
    delete = Run(CallOperations.delete)


class CallHandle(Handle[ClientT]):
    """One call: ``handle.hangup()`` is ``client.calls.hangup(handle.id)``."""

    get = OnCall(CallOperations.get)
    update = OnCall(CallOperations.update)
    redirect = OnCall(CallOperations.redirect)
    hangup = OnCall(CallOperations.hangup)
    cancel = OnCall(CallOperations.cancel)
    delete = OnCall(CallOperations.delete)


class Recordings(Namespace[ClientT]):
    """``client.recordings``: list, fetch and delete recordings."""

    list = Iterate(RecordingOperations.list_page)
    list_page = Run(RecordingOperations.list_page)
    of_call = Iterate(RecordingOperations.of_call_page)
    get = Run(RecordingOperations.get)
    delete = Run(RecordingOperations.delete)


TwilioT = TypeVar("TwilioT", bound="_Twilio")


class _Twilio(Shell, FromEnv):
    """Construction shared by ``Client`` and ``AsyncClient``.

    Credentials and the API's URL: see ``Settings`` (arguments, else ``TWILIO_*`` variables). With ``hooks=``
    (a ``callhooks.CallHooks``), created calls run and report to that receiver, signed. ``timeout`` is httpx's;
    ``retry`` the ``RetryPolicy`` (the same rules as every callhooks client); ``transport`` replaces httpx's
    network transport (tests, proxies).
    """

    calls: Calls[Self]
    recordings: Recordings[Self]

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        edge: str | None = None,
        region: str | None = None,
        hooks: PairedHooks | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        transport: Any = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        given = {
            "account_sid": account_sid,
            "auth_token": auth_token,
            "api_key": api_key,
            "api_secret": api_secret,
            "base_url": base_url,
            "edge": edge,
            "region": region,
        }
        self.settings = Settings.resolve(given, environ)
        self.retry = retry or RetryPolicy()
        self.hooks = hooks
        self._open(transport, http_options(self.settings.auth(), timeout))
        self._namespaces(TwilioAccount(self.settings.base_url, self.settings.account_sid, hooks))

    def _namespaces(self: TwilioT, account: TwilioAccount) -> None:
        self.calls = Calls(self, CallOperations(account))
        self.recordings = Recordings(self, RecordingOperations(account))

    def read_error(self, request: Request, response: Response) -> TwilioError:
        """Twilio's error body as a typed ``TwilioError``."""
        return read_error(request, response)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account_sid={self.settings.account_sid!r}, base_url={self.settings.base_url!r})"


class Client(BlockingShell, _Twilio):
    """Blocking client for Twilio's Calls and Recordings (see ``_Twilio`` for the arguments); ``with`` closes it."""


class AsyncClient(AsyncShell, _Twilio):
    """Async client for Twilio's Calls and Recordings: ``Client``'s API, awaited; ``async with`` closes it."""
