"""Bandwidth Voice API v2 as the simulator plays it (``Simulator(platform="bandwidth")``): the v2 REST API with
OAuth2 client credentials or an API user's Basic credentials, v2 webhooks (JSON, per-event URLs, the Basic-auth
challenge, one retry on a connection error, then the fallback URL) and calls run by BXML v2."""

from .profile import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_API_PASSWORD,
    DEFAULT_API_USER,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    BandwidthProfile,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_API_PASSWORD",
    "DEFAULT_API_USER",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "BandwidthProfile",
]
