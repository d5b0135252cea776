"""Which web pages may drive the simulator: its own, and those allowed; and by which names it may be reached.

A browser lets any web page send a form or a "simple" ``fetch`` to ``http://127.0.0.1:8900`` with the Basic
credentials it cached for the phone page (or the documented defaults in the URL), and a name the attacker
controls can be re-pointed at 127.0.0.1 after the page loaded (DNS rebinding) to make those requests
same-origin. Every request is therefore checked before any route runs:

* ``Host`` must be an IP address (no page can be served from an address it does not own), ``localhost``
  (or ``*.localhost``), the host of the simulator's ``base_url``, or a name in ``allow_hosts`` (``*``: any).
  Otherwise 403 ``host-not-allowed``.
* ``Origin``, when the browser sends one, must be the simulator's own (the origin its ``Host`` names, which
  is how the phone page calls it) or one in ``allow_origins`` (``scheme://host[:port]``; ``*``: any).
  Otherwise 403 ``origin-not-allowed``. Requests without ``Origin`` (curl, the client, tests) pass.

Bodies must be JSON besides (:func:`.web.read_json`), so a cross-site form could not be read as one anyway.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

from .errors import ApiError

__all__ = ["Origins"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class Origins:
    """The simulator's ``Host``/``Origin`` policy; ``base_url`` is its configured public URL, if any."""

    def __init__(
        self, allow_hosts: Iterable[str] = (), allow_origins: Iterable[str] = (), base_url: str | None = None
    ) -> None:
        self.hosts = {_bare_host(entry) for entry in allow_hosts}
        self.origins = {entry.strip().lower().rstrip("/") for entry in allow_origins}
        if base_url:
            self.hosts.add(_bare_host(urlsplit(base_url).netloc))
            self.origins.add(base_url.lower().rstrip("/"))

    def refusal(self, scope: Scope) -> ApiError | None:
        """The 403 for an HTTP request from a foreign page or to a foreign name; ``None`` when it may proceed."""
        headers = {name: value.decode("latin-1") for name, value in scope.get("headers", ()) if name in _CHECKED}
        host = headers.get(b"host")
        if host is not None and not self._host_allowed(_bare_host(host)):
            return ApiError(
                403,
                "forbidden",
                "host-not-allowed",
                f"The simulator is not served as {_short(host)} (a DNS-rebinding page?); "
                "allow the name with --allow-host (Simulator(allow_hosts=...))",
                {"host": _short(host)},
            )
        origin = headers.get(b"origin")
        if origin is not None and not self._origin_allowed(origin, host, scope.get("scheme", "http")):
            return ApiError(
                403,
                "forbidden",
                "origin-not-allowed",
                f"Requests from pages at {_short(origin)} are refused; "
                "allow it with --allow-origin (Simulator(allow_origins=...))",
                {"origin": _short(origin)},
            )
        return None

    def _host_allowed(self, host: str) -> bool:
        if host == "localhost" or host.endswith(".localhost") or "*" in self.hosts or host in self.hosts:
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True

    def _origin_allowed(self, origin: str, host: str | None, scheme: str) -> bool:
        origin = origin.strip().lower()
        if "*" in self.origins or origin.rstrip("/") in self.origins:
            return True
        parts = urlsplit(origin)
        if host is None or parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return False  # "null" (a sandboxed frame, a file: page) and anything unparsable
        served = urlsplit(f"{scheme}://{host.lower()}")
        try:
            origin_port = parts.port or _DEFAULT_PORTS[parts.scheme]
            served_port = served.port  # None: the Host header names no port, so it is the page's default
        except ValueError:
            return False
        return parts.hostname == served.hostname and served_port in (None, origin_port)


_CHECKED = (b"host", b"origin")


def _bare_host(netloc: str) -> str:
    """The host of ``host[:port]`` (``[v6]:port`` too), lower case, without a trailing dot or brackets."""
    text = netloc.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0].rstrip(".") if text.count(":") == 1 else text.rstrip(".")


def _short(value: str) -> str:
    """A header value quoted in an error: bounded, so a huge header cannot make a huge answer."""
    return value if len(value) <= 200 else value[:200] + "…"
