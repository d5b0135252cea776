"""What ``Client`` and ``AsyncClient`` share: settings, credentials, pairing, and the httpx adapter."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Generic, TypeVar

import httpx

from .operations import ApplicationOperations, CallOperations, PairedHooks
from .retry import Failure, RetryPolicy, Sleep
from .wire import Request, Response

__all__ = ["DEFAULT_BASE_URL", "ClientBase", "Credentials", "user_agent"]

DEFAULT_BASE_URL = "https://api.catapult.inetwork.com"
logger = logging.getLogger("callhooks.client")


def user_agent() -> str:
    """``callhooks/<version>``, sent with every request."""
    try:
        return f"callhooks/{version('callhooks')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "callhooks/unknown"


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
            base_url=base_url or os.environ.get("CATAPULT_BASE_URL") or DEFAULT_BASE_URL,
        )

    def __repr__(self) -> str:  # the token and secret stay out of reprs, tracebacks and logs
        return f"Credentials(user_id={self.user_id!r}, base_url={self.base_url!r})"


# httpx raises these before a single byte of the request was written.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


TransportT = TypeVar("TransportT")


class ClientBase(Generic[TransportT]):
    """Construction, settings and pairing shared by ``Client`` and ``AsyncClient``.

    Credentials come from the arguments or ``CATAPULT_USER_ID``, ``CATAPULT_API_TOKEN``,
    ``CATAPULT_API_SECRET`` and ``CATAPULT_BASE_URL`` (default ``https://api.catapult.inetwork.com``).
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
        return {
            "auth": httpx.BasicAuth(self.credentials.api_token, self.credentials.api_secret),
            "headers": {"User-Agent": user_agent(), "Accept": "application/json"},
            "timeout": timeout,
        }

    @staticmethod
    def _response(request: Request, response: httpx.Response) -> Response:
        logger.debug("%s %s -> %s", request.method, request.path, response.status_code)
        return Response.from_pairs(response.status_code, response.headers.multi_items(), response.content)

    @staticmethod
    def _failure(request: Request, error: httpx.TransportError) -> Failure:
        logger.debug("%s %s failed: %s", request.method, request.path, type(error).__name__)
        return Failure(error, sent=not isinstance(error, _NOT_SENT))

    @staticmethod
    def _sleeping(step: Sleep) -> float:
        logger.info("retrying %s %s in %.2fs", step.request.method, step.request.path, step.seconds)
        return step.seconds

    def __repr__(self) -> str:
        return f"{type(self).__name__}(user_id={self.credentials.user_id!r}, base_url={self.credentials.base_url!r})"
