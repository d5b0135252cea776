"""Server settings for facing the internet: what ``callhooks run`` (and the Procfile) gives uvicorn.

uvicorn closes a connection that idles *between* requests (``timeout_keep_alive``) but not one that connects
and then sends nothing, or sends its request head a byte at a time: each such connection holds a file
descriptor for as long as the client likes, and a thousand of them exhaust the process's descriptors. The
protocols here close a connection whose request head has not fully arrived within ``head_timeout`` seconds
of its first byte being awaited (on connect, and on the first byte of each later request).

Every connection waiting for a request head counts against ``max_waiting``: a new one, and an idle keep-alive
one between requests (which uvicorn keeps ``timeout_keep_alive`` seconds, and whose slot under
``limit_concurrency`` it holds meanwhile). Past the cap the longest-waiting is closed, so one client opening
connections, or keeping them idle, cannot take every slot. A connection whose response went out before its
request body was read to its end is closed too (whatever the app: uvicorn's own 503, a mounted endpoint):
uvicorn would otherwise read and drop the rest of the body for as long as the client sends it. The body has
its own deadline in the app (``CallHooks(body_timeout=...)``, answered with 408).
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "DEFAULT_HEAD_TIMEOUT",
    "DEFAULT_LIMIT_CONCURRENCY",
    "DEFAULT_MAX_WAITING",
    "DEFAULT_TIMEOUT_KEEP_ALIVE",
    "HEAD_TIMEOUT_ENV",
    "MAX_WAITING_ENV",
    "H11HeadTimeout",
    "ServerLimits",
    "head_timeout_protocol",
]

#: Seconds a client has to send a whole request head (method, path, headers).
DEFAULT_HEAD_TIMEOUT: Final = 10.0
#: Connections plus requests in progress above which uvicorn answers 503 (per worker process).
DEFAULT_LIMIT_CONCURRENCY: Final = 512
#: Seconds an idle keep-alive connection is kept between requests.
DEFAULT_TIMEOUT_KEEP_ALIVE: Final = 5
#: How the head timeout reaches worker processes (uvicorn starts them from an import string, not objects).
HEAD_TIMEOUT_ENV: Final = "CALLHOOKS_HEAD_TIMEOUT"


#: Connections waiting for a request head (new or idle keep-alive) kept at once (per worker); beyond it the
#: longest-waiting is closed.
DEFAULT_MAX_WAITING: Final = 256
MAX_WAITING_ENV: Final = "CALLHOOKS_MAX_WAITING"


def _setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def _head_timeout() -> float:
    return _setting(HEAD_TIMEOUT_ENV, DEFAULT_HEAD_TIMEOUT)


# Connections of this process waiting for a request head (new, or idle between requests), oldest first. A
# client that opens connections, or leaves them idle, faster than the deadlines expire them would otherwise
# hold every descriptor (and every slot of limit_concurrency): past the cap, the connection that has waited
# longest is closed. A real client sends its head right after connecting, so it is never the oldest for long.
_waiting: OrderedDict[_HeadTimeout, None] = OrderedDict()


class _HeadTimeout:
    """Mixin for a uvicorn HTTP protocol: a connection waiting for a request head too long, or the oldest past
    the cap, is closed, and so is one answered before its request body was read to its end."""

    transport: asyncio.Transport
    cycle: Any
    #: Whether the current request's body has not fully arrived (its end not parsed): each protocol says.
    _body_unread: Callable[[], bool]
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        # Read once per connection, not on every request: the settings come from the environment (see below).
        self._head_deadline = _head_timeout()
        self._max_waiting = int(_setting(MAX_WAITING_ENV, DEFAULT_MAX_WAITING))
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and self._between_requests():
            self._arm()  # a new request head starts arriving: it gets head_timeout from now
        super().data_received(data)  # type: ignore[misc]
        if self._head_timer is not None and not self._between_requests():
            self._disarm()  # the head was complete: the request (and the app's body deadline) goes on

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self.transport.is_closing() or not self._between_requests():
            return  # closed, or a pipelined request started
        if self._body_unread():
            self.transport.close()  # rather than read and drop the rest of the body for as long as it comes
        else:
            self._wait()  # idle until the next request: uvicorn's keep-alive timer runs, the cap applies

    def _between_requests(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = asyncio.get_running_loop().call_later(self._head_deadline, self._expire)
        self._wait()

    def _wait(self) -> None:
        """Count this connection among those waiting for a head (newest), closing the oldest past the cap."""
        _waiting[self] = None
        while len(_waiting) > self._max_waiting:
            oldest, _ = _waiting.popitem(last=False)
            oldest._expire()

    def _disarm(self) -> None:
        _waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expire(self) -> None:
        self._disarm()
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()


class H11HeadTimeout(_HeadTimeout, H11Protocol):
    """uvicorn's h11 protocol with the request-head deadline and the cap on waiting connections."""

    def _body_unread(self) -> bool:
        return self.conn.their_state is h11.SEND_BODY


def head_timeout_protocol() -> str:
    """Import string of the fastest available protocol with the request-head deadline (httptools if installed)."""
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
        return "callhooks.commands.server_settings:H11HeadTimeout"
    return "callhooks.commands.server_settings:HttpToolsHeadTimeout"


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsHeadTimeout(_HeadTimeout, HttpToolsProtocol):
        """uvicorn's httptools protocol with the request-head deadline and the cap on waiting connections."""

        def _body_unread(self) -> bool:
            return bool(self.cycle.more_body)

    __all__ += ["HttpToolsHeadTimeout"]
except ImportError:  # pragma: no cover
    pass


@dataclass(frozen=True)
class ServerLimits:
    """The limits ``callhooks run`` sets, as uvicorn keyword arguments (``uvicorn.run(app, **limits.uvicorn())``)."""

    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    limit_concurrency: int = DEFAULT_LIMIT_CONCURRENCY
    timeout_keep_alive: int = DEFAULT_TIMEOUT_KEEP_ALIVE
    max_waiting: int = DEFAULT_MAX_WAITING

    def uvicorn(self) -> dict[str, Any]:
        # The protocol's settings travel in the environment so that --workers processes see them too.
        os.environ[HEAD_TIMEOUT_ENV] = repr(self.head_timeout)
        os.environ[MAX_WAITING_ENV] = str(self.max_waiting)
        return {
            "http": head_timeout_protocol(),
            "limit_concurrency": self.limit_concurrency,
            "timeout_keep_alive": self.timeout_keep_alive,
            "h11_max_incomplete_event_size": 16 * 1024,  # request head size limit (h11; httptools: 80 KB fixed)
        }
