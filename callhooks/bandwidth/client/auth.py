"""Bandwidth credentials: OAuth2 client credentials (tokens cached and shared), or Basic for legacy API users.

``OAuth2ClientCredentials`` is an ``httpx.Auth``: the token request goes through the client's own connection
pool and transport. A token is reused until 60 s before it expires (as Bandwidth's SDKs do; 3600 s when the
endpoint gives no ``expires_in``). A ``401`` from the API drops the token and the request is sent once more
with a new one. Concurrent requests share one token request: a lock is held while a token is fetched, and
whoever waited on it uses the token that was fetched (a ``401`` refreshes only if nobody has since).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, field

import anyio
import httpx

from ...client.settings import from_arguments_or_env, require
from ...client.wire import FORM, Request, Response
from .errors import AuthenticationError, read_error

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TOKEN_URL", "OAuth2ClientCredentials", "Settings"]

DEFAULT_BASE_URL = "https://voice.bandwidth.com/api/v2"
DEFAULT_TOKEN_URL = "https://api.bandwidth.com/api/v1/oauth2/token"
_EARLY = 60.0  # seconds before expiry a token is no longer used
_DEFAULT_LIFETIME = 3600.0


@dataclass(frozen=True)
class _Token:
    value: str
    usable_until: float


class OAuth2ClientCredentials(httpx.Auth):
    """``Authorization: Bearer <token>`` from Bandwidth's OAuth2 token endpoint (client-credentials grant)."""

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.token_url = token_url
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._clock = clock
        self._token: _Token | None = None
        self._thread_lock = threading.Lock()
        self._async_lock = anyio.Lock()
        #: How many tokens were fetched (for tests and metrics).
        self.fetched = 0

    def _usable(self, refused: str | None) -> str | None:
        """The cached token, unless it is (nearly) expired or is the one the API just refused."""
        token = self._token
        if token is None or token.value == refused or self._clock() >= token.usable_until:
            return None
        return token.value

    def _token_request(self) -> httpx.Request:
        headers = {"Authorization": self._basic, "Content-Type": FORM, "Accept": "application/json"}
        return httpx.Request("POST", self.token_url, headers=headers, content=b"grant_type=client_credentials")

    def _store(self, response: httpx.Response) -> str:
        """The token in the endpoint's answer, cached; a refusal or an unreadable answer raises."""
        request = Request("POST", self.token_url)
        answer = Response.from_pairs(response.status_code, response.headers.multi_items(), response.content)
        if not answer.ok:
            raise read_error(request, answer)
        try:
            body = json.loads(response.content)
            value = body["access_token"]
            lifetime = body.get("expires_in")
        except (ValueError, KeyError, TypeError, AttributeError):
            value = None
        if not isinstance(value, str) or not value:
            raise AuthenticationError(
                response.status_code, message="no access_token in the token response", path=request.path, method="POST"
            )
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = _DEFAULT_LIFETIME
        self._token = _Token(value, self._clock() + float(lifetime) - _EARLY)
        self.fetched += 1
        return value

    @staticmethod
    def _authorized(request: httpx.Request, token: str) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        refused: str | None = None
        for _ in range(2):  # the second time only after a 401: one refresh
            with self._thread_lock:
                token = self._usable(refused)
                if token is None:
                    fetched = yield self._token_request()
                    fetched.read()
                    token = self._store(fetched)
            response = yield self._authorized(request, token)
            if response.status_code != 401:
                return
            refused = token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        refused: str | None = None
        for _ in range(2):  # the second time only after a 401: one refresh
            async with self._async_lock:
                token = self._usable(refused)
                if token is None:
                    fetched = yield self._token_request()
                    await fetched.aread()
                    token = self._store(fetched)
            response = yield self._authorized(request, token)
            if response.status_code != 401:
                return
            refused = token


@dataclass(frozen=True)
class Settings:
    """Account, hosts and credentials: OAuth2 (``client_id``/``client_secret``) or Basic (``username``/``password``).

    Arguments first, then ``BANDWIDTH_ACCOUNT_ID``, ``BANDWIDTH_CLIENT_ID``, ``BANDWIDTH_CLIENT_SECRET``,
    ``BANDWIDTH_USERNAME``, ``BANDWIDTH_PASSWORD``, ``BANDWIDTH_BASE_URL`` and ``BANDWIDTH_TOKEN_URL``; the hosts
    default to Bandwidth's production ones. OAuth2 is used when both its values are there.
    """

    account_id: str
    base_url: str = DEFAULT_BASE_URL
    token_url: str = DEFAULT_TOKEN_URL
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, given: Mapping[str, str | None], environ: Mapping[str, str] | None = None) -> Settings:
        """``given`` (``Settings``' field names) completed from the environment; missing credentials raise a
        ``ValueError`` naming their variables."""
        found = from_arguments_or_env("BANDWIDTH", given, environ)
        require("BANDWIDTH", found, "account_id")
        # Arguments choose the scheme before the environment does; OAuth2 when nothing says Basic.
        basic_given = bool(given.get("username") or given.get("password"))
        oauth_given = bool(given.get("client_id") or given.get("client_secret"))
        basic_found = bool(found.get("username") or found.get("password"))
        oauth_found = bool(found.get("client_id") or found.get("client_secret"))
        if oauth_given or (not basic_given and (oauth_found or not basic_found)):
            require("BANDWIDTH", found, "client_id", "client_secret")
            found["username"] = found["password"] = None
        else:
            require("BANDWIDTH", found, "username", "password")
            found["client_id"] = found["client_secret"] = None
        return cls(
            account_id=str(found["account_id"]),
            base_url=found.get("base_url") or DEFAULT_BASE_URL,
            token_url=found.get("token_url") or DEFAULT_TOKEN_URL,
            client_id=found.get("client_id"),
            client_secret=found.get("client_secret"),
            username=found.get("username"),
            password=found.get("password"),
        )

    def auth(self) -> httpx.Auth:
        """OAuth2 client credentials when configured, else Basic."""
        if self.client_id and self.client_secret:
            return OAuth2ClientCredentials(self.token_url, self.client_id, self.client_secret)
        return httpx.BasicAuth(str(self.username), str(self.password))
