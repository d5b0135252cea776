"""What ``Client`` and ``AsyncClient`` share: settings, credentials and pairing (the transport is in ``transport``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from .operations import ApplicationOperations, CallOperations, PairedHooks
from .retry import RetryPolicy
from .transport import http_options, user_agent

__all__ = ["DEFAULT_BASE_URL", "RETIRED", "ClientBase", "Credentials", "user_agent"]

#: Catapult v1's public host. Retired: it has not resolved since 2024, so it is no longer a default; kept for
#: code that imports the name.
DEFAULT_BASE_URL = "https://api.catapult.inetwork.com"
RETIRED = (
    "Catapult v1 is retired (api.catapult.inetwork.com no longer exists): give base_url=... (or CATAPULT_BASE_URL) "
    "for a Catapult-compatible API such as the local simulator (`callhooks simulate`, callhooks.testing), or use "
    "callhooks.bandwidth.client for Bandwidth's Voice API v2"
)


@dataclass(frozen=True)
class Credentials:
    """User id, API token and secret, and the platform base URL."""

    user_id: str
    api_token: str
    api_secret: str
    base_url: str

    @classmethod
    def resolve(
        cls, user_id: str | None, api_token: str | None, api_secret: str | None, base_url: str | None
    ) -> Credentials:
        """Arguments first, then ``CATAPULT_USER_ID``/``_API_TOKEN``/``_API_SECRET``/``_BASE_URL``."""
        given = {"user_id": user_id, "api_token": api_token, "api_secret": api_secret}
        found = {name: value or os.environ.get(f"CATAPULT_{name.upper()}") for name, value in given.items()}
        missing = [name for name, value in found.items() if not value]
        if missing:
            names = ", ".join(f"{name} (or CATAPULT_{name.upper()})" for name in missing)
            raise ValueError(f"missing credentials: {names}")
        return cls(
            user_id=str(found["user_id"]),
            api_token=str(found["api_token"]),
            api_secret=str(found["api_secret"]),
            base_url=_base_url(base_url),
        )

    def __repr__(self) -> str:  # the token and secret stay out of reprs, tracebacks and logs
        return f"Credentials(user_id={self.user_id!r}, base_url={self.base_url!r})"


def _base_url(given: str | None) -> str:
    """The argument, else ``CATAPULT_BASE_URL``; there is no default since the public host was retired."""
    found = given or os.environ.get("CATAPULT_BASE_URL")
    if not found:
        raise ValueError(RETIRED)
    return found


TransportT = TypeVar("TransportT")


class ClientBase(Generic[TransportT]):
    """Construction, settings and pairing shared by ``Client`` and ``AsyncClient``.

    Credentials come from the arguments or ``CATAPULT_USER_ID``, ``CATAPULT_API_TOKEN``,
    ``CATAPULT_API_SECRET`` and ``CATAPULT_BASE_URL``. The base URL has no default: Catapult v1's public
    host is retired, so it is a Catapult-compatible API such as the local simulator.
    With ``hooks=`` (a ``callhooks.CallHooks``), created calls and transfer legs call back to that receiver;
    ``hooks.attach_client(client)`` is the other direction (handlers get this client's call handles).
    ``timeout`` is httpx's (seconds or ``httpx.Timeout``);
    ``retry`` the ``RetryPolicy``; ``transport`` replaces httpx's network transport (tests, proxies).
    """

    def __init__(
        self,
        user_id: str | None = None,
        api_token: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        hooks: PairedHooks | None = None,
        *,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        transport: TransportT | None = None,
    ) -> None:
        self.credentials = Credentials.resolve(user_id, api_token, api_secret, base_url)
        self.retry = retry or RetryPolicy()
        self.operations = CallOperations(self.credentials.base_url, self.credentials.user_id, hooks)
        self.application_operations = ApplicationOperations(self.credentials.base_url, self.credentials.user_id, hooks)
        self.hooks = hooks
        self._connect(transport, self._http_options(timeout))

    def _connect(self, transport: TransportT | None, options: dict[str, Any]) -> None:
        """Open the connection pool (``self.http``) and the ``calls`` and ``applications`` namespaces."""
        raise NotImplementedError

    def _http_options(self, timeout: float | httpx.Timeout) -> dict[str, Any]:
        return http_options(httpx.BasicAuth(self.credentials.api_token, self.credentials.api_secret), timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(user_id={self.credentials.user_id!r}, base_url={self.credentials.base_url!r})"
