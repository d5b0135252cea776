"""OAuth2 client credentials as Bandwidth's identity service grants them (``POST /api/v1/oauth2/token``), and
the check of every Voice API request's ``Authorization``: a Bearer token not yet expired, or Basic with an API
user's username and password.

Tokens expire ``token_lifetime`` *simulated* seconds after they were issued (the platform's clock), so a test
on a manual clock can let one expire with ``advance``.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...signing import check_basic_auth
from ..clock import SimClock
from ..web import read_capped
from .errors import unauthorized

__all__ = ["TOKEN_PATH", "Credentials", "Tokens"]

TOKEN_PATH = "/api/v1/oauth2/token"
MAX_FORM_BYTES = 4096  #: a token request is ``grant_type=client_credentials``: anything much longer is refused


class Credentials:
    """The account's OAuth2 client and its API user (either may be ``None``: that scheme is refused)."""

    def __init__(
        self,
        client: tuple[str, str] | None,
        api_user: tuple[str, str] | None,
    ) -> None:
        self.client = client
        self.api_user = api_user


class Tokens:
    """Issues Bearer tokens for the client credentials and checks them; ``lifetime`` in simulated seconds."""

    def __init__(self, credentials: Credentials, clock: SimClock | None, lifetime: float) -> None:
        self.credentials = credentials
        self.clock = clock
        self.lifetime = lifetime
        self._expiry: dict[str, float] = {}

    def _now(self) -> float:
        return 0.0 if self.clock is None else self.clock.now()

    async def token(self, request: Request) -> Response:
        """``POST /api/v1/oauth2/token``: Basic ``client_id:client_secret`` and ``grant_type=client_credentials``
        → ``{"access_token", "token_type", "expires_in"}``; 401 ``invalid_client`` otherwise."""
        client = self.credentials.client
        if client is None or not check_basic_auth(request.headers.get("authorization"), client):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        raw = await read_capped(request, MAX_FORM_BYTES)
        try:
            form = parse_qs(raw.decode("utf-8")) if raw is not None else {}
        except UnicodeDecodeError:
            form = {}
        if form.get("grant_type") != ["client_credentials"]:
            return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if self.clock is not None:
            self.clock.catch_up()
        token = secrets.token_urlsafe(24)
        self._expiry[token] = self._now() + self.lifetime
        body = {"access_token": token, "token_type": "Bearer", "expires_in": int(self.lifetime)}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def authenticate(self, request: Request) -> None:
        """A 401 unless ``request`` has a live Bearer token or the API user's Basic credentials."""
        header = request.headers.get("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            expiry = self._expiry.get(value.strip())
            if expiry is None:
                raise unauthorized("The access token is not valid")
            if self._now() >= expiry:
                raise unauthorized("The access token has expired")
            return
        api_user = self.credentials.api_user
        if api_user is None or not check_basic_auth(header, api_user):
            raise unauthorized()


def _oauth_error(status: int, error: str, description: str) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="oauth2"'} if status == 401 else None
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)
