"""Twilio credentials: HTTP Basic with the Account SID and auth token, or an API key (``SK...``) and its secret.

Arguments first, then ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_API_KEY``, ``TWILIO_API_SECRET``,
``TWILIO_BASE_URL``, ``TWILIO_EDGE`` and ``TWILIO_REGION``. The API is ``https://api.twilio.com/2010-04-01``;
an edge and/or region move it to ``api.{edge}.{region}.twilio.com`` as twilio-python does (region ``us1``
when only an edge is given).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from ...client.settings import from_arguments_or_env, require

__all__ = ["API_VERSION", "DEFAULT_BASE_URL", "Settings"]

API_VERSION = "2010-04-01"
DEFAULT_BASE_URL = f"https://api.twilio.com/{API_VERSION}"


def _regional(edge: str | None, region: str | None) -> str:
    """The API URL for an edge and/or region (``None`` both: the default)."""
    if not edge and not region:
        return DEFAULT_BASE_URL
    host = ".".join(part for part in ("api", edge, region or "us1") if part)
    return f"https://{host}.twilio.com/{API_VERSION}"


@dataclass(frozen=True)
class Settings:
    """The account, the API's URL, and the Basic credentials (the auth token, or an API key and secret)."""

    account_sid: str
    base_url: str = DEFAULT_BASE_URL
    auth_token: str | None = field(default=None, repr=False)
    api_key: str | None = None
    api_secret: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, given: Mapping[str, str | None], environ: Mapping[str, str] | None = None) -> Settings:
        """``given`` (``Settings``' field names, ``edge`` and ``region``) completed from the environment;
        missing credentials raise a ``ValueError`` naming their variables."""
        found = from_arguments_or_env("TWILIO", given, environ)
        require("TWILIO", found, "account_sid")
        # Arguments choose the credentials before the environment does; the auth token when nothing says key.
        key_given = bool(given.get("api_key") or given.get("api_secret"))
        token_given = bool(given.get("auth_token"))
        key_found = bool(found.get("api_key") or found.get("api_secret"))
        if key_given or (not token_given and key_found):
            require("TWILIO", found, "api_key", "api_secret")
            found["auth_token"] = None
        else:
            require("TWILIO", found, "auth_token")
            found["api_key"] = found["api_secret"] = None
        return cls(
            account_sid=str(found["account_sid"]),
            base_url=found.get("base_url") or _regional(found.get("edge"), found.get("region")),
            auth_token=found.get("auth_token"),
            api_key=found.get("api_key"),
            api_secret=found.get("api_secret"),
        )

    def auth(self) -> httpx.Auth:
        """Basic: ``api_key:api_secret`` when given, else ``account_sid:auth_token``."""
        if self.api_key and self.api_secret:
            return httpx.BasicAuth(self.api_key, self.api_secret)
        return httpx.BasicAuth(self.account_sid, str(self.auth_token))
