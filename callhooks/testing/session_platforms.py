"""What a ``SimulatorSession`` does differently per platform: the random account the simulator plays, the paired
client pointed at it (Catapult's with user id, token and secret; Bandwidth v2's with OAuth2 client credentials;
Twilio's with the account sid and auth token), the environment variables that point an app's client there, and
whether a call has ended as that platform's REST API shows it.

The clients are imported when a session of their platform starts, never with the test kit.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Mapping
from typing import Any

__all__ = [
    "PLATFORMS",
    "check_platform",
    "client_options",
    "ended",
    "engine_id",
    "environ",
    "make_client",
    "random_account",
]

#: The platforms a session can play (``running_simulator(platform=...)``).
PLATFORMS = ("catapult", "bandwidth", "twilio")

# Each platform's client module, and its ``SimulatorProfile`` account settings' names for what the client takes.
_CLIENTS = {
    "catapult": "callhooks.client",
    "bandwidth": "callhooks.bandwidth.client",
    "twilio": "callhooks.twilio.client",
}
_ENVIRONMENT = {
    "catapult": {
        "user_id": "CATAPULT_USER_ID",
        "api_token": "CATAPULT_API_TOKEN",
        "api_secret": "CATAPULT_API_SECRET",
        "base_url": "CATAPULT_BASE_URL",
    },
    "bandwidth": {
        "account_id": "BANDWIDTH_ACCOUNT_ID",
        "client_id": "BANDWIDTH_CLIENT_ID",
        "client_secret": "BANDWIDTH_CLIENT_SECRET",
        "base_url": "BANDWIDTH_BASE_URL",
        "token_url": "BANDWIDTH_TOKEN_URL",
    },
    "twilio": {
        "account_sid": "TWILIO_ACCOUNT_SID",
        "auth_token": "TWILIO_AUTH_TOKEN",
        "base_url": "TWILIO_BASE_URL",
    },
}


def check_platform(platform: str) -> str:
    """``platform`` when a session can play it; ``ValueError`` naming the choices otherwise."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}")
    return platform


def random_account(platform: str, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Fresh credentials for the simulator's account of ``platform`` (Bandwidth v2, Twilio), ``given`` over them."""
    if platform == "bandwidth":
        account = {
            "client_id": "c-" + secrets.token_hex(8),
            "client_secret": secrets.token_urlsafe(16),
            "api_user": "u-" + secrets.token_hex(8),
            "api_password": secrets.token_urlsafe(16),
        }
    elif platform == "twilio":
        account = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": secrets.token_hex(16)}
    else:
        account = {}
    return {**account, **(given or {})}


def client_options(platform: str, account: Mapping[str, str], url: str) -> dict[str, str]:
    """Keyword arguments for ``platform``'s ``Client``/``AsyncClient`` to talk to the simulator at ``url``
    playing ``account``."""
    if platform == "bandwidth":
        from ..simulator.bandwidth.oauth import TOKEN_PATH
        from ..simulator.bandwidth.profile import DEFAULT_ACCOUNT_ID

        return {
            "account_id": account.get("account_id", DEFAULT_ACCOUNT_ID),
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
            "base_url": f"{url}/api/v2",
            "token_url": url + TOKEN_PATH,
        }
    if platform == "twilio":
        from ..twilio.client.auth import API_VERSION

        return {
            "account_sid": account["account_sid"],
            "auth_token": account["auth_token"],
            "base_url": f"{url}/{API_VERSION}",
        }
    return {
        "user_id": account["user_id"],
        "api_token": account["api_token"],
        "api_secret": account["api_secret"],
        "base_url": url,
    }


def make_client(platform: str, options: Mapping[str, str], *, hooks: Any = None, asynchronous: bool = False) -> Any:
    """``platform``'s ``Client`` (``AsyncClient`` when ``asynchronous``) with ``options``, paired with ``hooks``."""
    module = importlib.import_module(_CLIENTS[platform])
    cls = module.AsyncClient if asynchronous else module.Client
    return cls(hooks=hooks, **options)


def environ(platform: str, options: Mapping[str, str]) -> dict[str, str]:
    """The variables that point an app's client (configured from the environment) where ``options`` do."""
    return {variable: options[name] for name, variable in _ENVIRONMENT[platform].items() if name in options}


def ended(platform: str, client: Any, call_id: str) -> Any:
    """The call as ``client`` reads it once it has ended (None before): Catapult's ``state`` in its ended states,
    v2's ``disconnected``, Twilio's final ``status`` (``call_id``: the simulator's id or the ``CA…`` sid)."""
    if platform == "twilio":
        from ..simulator.twilio.legs import sid
        from ..twilio.events import ENDED_CALL_STATES as TWILIO_ENDED

        call = client.calls.get(call_id if call_id.startswith("CA") else sid("CA", call_id))
        return call if call.status in TWILIO_ENDED else None
    call = client.calls.get(call_id)
    if platform == "bandwidth":
        return call if call.state == "disconnected" else None
    from ..rules import ENDED_CALL_STATES

    return call if call.state in ENDED_CALL_STATES else None


def engine_id(simulator: Any, call_id: str) -> str:
    """The simulator's own id of a call named by ``call_id``: itself, or the call whose Twilio sid it is (the id a
    Twilio client reads)."""
    legs = getattr(simulator.profile, "legs", None)
    leg = legs.by_sid(call_id) if legs is not None and call_id.startswith("CA") else None
    return str(leg.call.id) if leg is not None else call_id
