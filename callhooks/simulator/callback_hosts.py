"""Where the simulator may send callbacks: loopback by default, other hosts only when allowed.

Anyone who can create a call names the URL the simulator then sends requests to, so an open simulator
would be a way to reach the machine's network (an internal service, a cloud metadata endpoint). Hence:

* loopback addresses (``127.0.0.0/8``, ``::1``, ``0.0.0.0``) and ``localhost`` (and ``*.localhost``) are
  always allowed: the simulator's own test kit and demo send there;
* anything else only when allowed (``Simulator(allow_callback_hosts=...)``, ``callhooks simulate
  --allow-callback-host``): a host name, an IP address, a network (``10.0.0.0/8``) or ``*`` for every host;
* link-local and cloud metadata addresses (``169.254.0.0/16``, ``fe80::/10``, ``fd00:ec2::254``,
  ``100.100.100.200``) never, whatever is allowed.

URLs are checked when they are given (a 400 naming the field) and again before each delivery, where an
allowed host *name* is resolved first and refused if any of its addresses is link-local or metadata. Names
are never resolved to decide whether they are allowed: only the names you list (or ``*``) are.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpx

from .errors import ApiError, redact_url

__all__ = ["NEVER", "CallbackHosts"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never a callback destination: link-local (which holds AWS/GCP/Azure metadata at 169.254.169.254) and the
#: metadata addresses outside it (AWS over IPv6, Alibaba Cloud).
NEVER: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),
)


class CallbackHosts:
    """The callback-host policy of one simulator; ``allowed`` as described in the module docstring."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.any = False
        self.networks: list[IpNetwork] = []
        self.names: set[str] = set()
        for entry in allowed:
            text = entry.strip().lower().rstrip(".")
            if text == "*":
                self.any = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if not text or any(c in text for c in "/:@ ?#[]"):
                raise ValueError(f"not a host name, address or network: {entry!r}")
            self.names.add(text)

    def refusal(self, url: str) -> str | None:
        """Why a callback may not go to ``url`` (``None``: it may), without resolving any name."""
        host = _host(url)
        if not host:
            return "it has no host"
        address = _address(host)
        if address is not None:
            if _never(address):
                return f"{host} is a link-local or cloud metadata address, never a callback destination"
            if address.is_loopback or address.is_unspecified or self.any:
                return None
            if any(address in network for network in self.networks):
                return None
            return f"{host} is not a loopback address; {_HOW}"
        if host == "localhost" or host.endswith(".localhost") or self.any or host in self.names:
            return None
        return f"{host} is not an allowed callback host; {_HOW}"

    def check(self, field: str, url: str) -> None:
        """Raise 400 ``callback-host-not-allowed`` naming ``field`` unless a callback may go to ``url``."""
        reason = self.refusal(url)
        if reason is not None:
            message = f"'{field}' is refused: {reason}"
            raise ApiError(400, "bad-request", "callback-host-not-allowed", message, {field: redact_url(url)})

    async def delivery_refusal(self, url: str) -> str | None:
        """:meth:`refusal`, and for an allowed host name other than ``localhost``: its addresses, resolved now,
        must not be link-local or metadata (a name that does not resolve is left to fail on its own)."""
        reason = self.refusal(url)
        host = _host(url)
        if reason is not None or _address(host) is not None or host == "localhost" or host.endswith(".localhost"):
            return reason
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return None
        for *_, sockaddr in found:
            address = _address(str(sockaddr[0]))
            if address is not None and _never(address):
                return f"{host} resolves to {address}, a link-local or cloud metadata address"
        return None


_HOW = "allow it with --allow-callback-host (Simulator(allow_callback_hosts=...)), see SECURITY.md"


def _host(url: str) -> str:
    """The host the callback client would connect to: parsed by httpx itself, so no parser disagreement
    (``http://127.0.0.1\\@169.254.169.254/``) can send it elsewhere than what was checked."""
    try:
        return httpx.URL(url).host.lower().rstrip(".")
    except (httpx.InvalidURL, TypeError, ValueError):
        return ""


def _address(host: str) -> IpAddress | None:
    """``host`` as an IP address when it is one written the standard way (other numeric forms are names)."""
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def _never(address: IpAddress) -> bool:
    return any(address in network for network in NEVER if network.version == address.version)
