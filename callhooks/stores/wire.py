"""One pipelined connection to a Redis server, for the Redis store's scripts (its hot path: ``redis.py``).

Each command is written to the socket at once and its reply is read in the order sent (RESP2, parsed by hiredis's
``Reader``), so the callbacks a worker serves together share one connection and their scripts are pipelined.
redis-py's client takes ~300k CPU instructions per EVALSHA (a connection checked out of a pool and back, its
locks, a stream reader, retry and maintenance-notification wrappers); this takes ~30k. Only public APIs are used
(asyncio's ``Protocol``, hiredis's ``Reader`` and ``pack_command``); redis-py stays the store's client for
everything else, and for the scripts whenever this cannot serve (``Wire.for_pool``: TLS, RESP3, no hiredis).

Guarantees as redis-py's: every reply goes to its own command, also when its caller gave up waiting (a
cancelled waiter's reply is read and dropped); a command unanswered for ``timeout`` seconds closes the connection
and fails every command waiting on it (``redis.exceptions.TimeoutError``); a connection the server closed (it
stopped or restarted) fails the commands waiting on it (``ConnectionError``) and the next command opens a new one.
A command is never sent twice: one whose connection failed may or may not have run.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

try:
    import hiredis
except ImportError:  # pragma: no cover - redis[hiredis] brings it; without it redis-py serves the scripts too
    hiredis = None  # type: ignore[assignment]

__all__ = ["Script", "Wire"]

#: The pool's connection classes this serves (by name: plain TCP and Unix sockets; TLS stays with redis-py).
_PLAIN = {"Connection": "tcp", "UnixDomainSocketConnection": "unix"}
#: Connection settings of a redis-py pool this understands; any other one set (TLS, RESP3, a credential
#: provider...) leaves the scripts to redis-py, which honours it.
_UNDERSTOOD = {"host", "port", "path", "db", "username", "password", "client_name", "socket_timeout"}
_UNDERSTOOD |= {"socket_connect_timeout"}
#: Settings redis-py adds to every pool itself, with no bearing on a plain connection.
_IGNORED = {"himport_registry", "maint_notifications_pool_handler", "maint_notifications_config"}
_IGNORED |= {"orig_host_address", "orig_socket_timeout", "orig_socket_connect_timeout", "retry"}


@dataclass(frozen=True)
class Script:
    """A Lua script, by the SHA-1 the server knows it under and its text (sent once when the server has not)."""

    source: str
    sha: str

    @classmethod
    def of(cls, source: str) -> Script:
        return cls(source, hashlib.sha1(source.encode()).hexdigest())  # how Redis names scripts


class _Protocol(asyncio.Protocol):
    """The connection's two halves: commands written as they come, replies handed to their waiters in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, where: str) -> None:
        self.loop = loop
        self.where = where
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader(replyError=ResponseError)
        #: (waiter, time by which its reply is due), in the order the commands were written
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.lost: Exception | None = None  #: why the connection can no longer be used (None while it can)
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, command: bytes, timeout: float) -> asyncio.Future[Any]:
        loop = self.loop
        waiter = loop.create_future()
        due = loop.time() + timeout
        self.waiting.append((waiter, due))
        if self.timer is None:
            self.timer = loop.call_at(due, self._check_due)
        self.transport.write(command)  # type: ignore[union-attr]
        return waiter

    def data_received(self, data: bytes) -> None:
        reader, waiting = self.reader, self.waiting
        reader.feed(data)
        try:
            reply = reader.gets()
            while reply is not False:
                waiter = waiting.popleft()[0]
                if not waiter.done():  # done: its caller gave up (cancelled); the reply is dropped
                    waiter.set_result(reply)
                reply = reader.gets()
        except (hiredis.ProtocolError, IndexError) as exc:  # garbage, or a reply nobody asked for
            self.abort(RedisConnectionError(f"{self.where}: protocol error ({exc or 'unexpected reply'})"))

    def _check_due(self) -> None:
        """Once per ``timeout`` while commands wait: close the connection when the oldest is overdue."""
        self.timer = None
        if not self.waiting:
            return
        due = self.waiting[0][1]
        if due <= self.loop.time():
            self.abort(RedisTimeoutError(f"{self.where}: no reply in time"))
        else:
            self.timer = self.loop.call_at(due, self._check_due)

    def abort(self, why: Exception) -> None:
        self._fail(why)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        why = f"{self.where}: connection lost ({exc})" if exc else f"{self.where}: connection closed by the server"
        self._fail(RedisConnectionError(why))

    def _fail(self, why: Exception) -> None:
        if self.lost is None:
            self.lost = why
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.waiting:
            waiter = self.waiting.popleft()[0]
            if not waiter.done():
                waiter.set_exception(self.lost)


class Wire:
    """Commands and scripts over one pipelined connection, opened when first needed and again after it failed.
    Bound to the event loop that first uses it (``serves_here``)."""

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 6379,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        client_name: str | None = None,
        timeout: float = 2.0,
        connect_timeout: float | None = None,
    ) -> None:
        if hiredis is None:
            raise RuntimeError("hiredis is not installed")
        self.host, self.port, self.path = host, port, path
        self.db, self.username, self.password, self.client_name = db, username, password, client_name
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.where = f"unix socket {path}" if path else f"{host}:{port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._protocol: _Protocol | None = None
        self._opening: asyncio.Lock | None = None

    @classmethod
    def for_pool(cls, connection_class: type, kwargs: Mapping[str, Any], timeout: float) -> Wire | None:
        """A ``Wire`` to the server a redis-py pool connects to, or None when the pool asks for anything this
        does not do (TLS, RESP3, ...) or hiredis is missing: redis-py serves the scripts then."""
        if hiredis is None or connection_class.__name__ not in _PLAIN:
            return None
        if any(name not in _UNDERSTOOD | _IGNORED for name, value in kwargs.items() if value is not None):
            return None
        named = ("host", "port", "path", "db", "username", "password")
        settings = {name: kwargs[name] for name in named if name in kwargs}
        return cls(
            **settings,
            client_name=kwargs.get("client_name"),
            timeout=kwargs.get("socket_timeout") or timeout,
            connect_timeout=kwargs.get("socket_connect_timeout") or timeout,
        )

    def serves_here(self) -> bool:
        """Whether the running event loop may use this (the first loop that did, or any when none did yet)."""
        loop = asyncio.get_running_loop()
        return self._loop is None or self._loop is loop

    async def call(self, *command: Any) -> Any:
        """The server's reply to ``command`` (an error reply is returned as a ``ResponseError`` with the server's
        text, not raised)."""
        protocol = self._protocol
        if protocol is None or protocol.lost is not None:
            protocol = await self._connected()
        return await protocol.send(hiredis.pack_command(command), self.timeout)

    async def run_script(self, script: Script, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """EVALSHA, and EVAL once when the server does not know the script (restarted, or ``SCRIPT FLUSH``);
        an error reply is raised as the ``ResponseError`` redis-py raises."""
        protocol = self._protocol
        if protocol is None or protocol.lost is not None:
            protocol = await self._connected()
        command = hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args))
        reply = await protocol.send(command, self.timeout)  # ``call``, written out: this is every callback's path
        if isinstance(reply, ResponseError):
            if str(reply).startswith("NOSCRIPT"):
                reply = await self.call("EVAL", script.source, len(keys), *keys, *args)
            if isinstance(reply, ResponseError):
                raise ResponseError(str(reply).removeprefix("ERR "))  # as redis-py words it
        return reply

    async def _connected(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        self._loop = self._loop or loop
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:  # callers arriving while it opens share the new connection
            protocol = self._protocol
            if protocol is None or protocol.lost is not None:
                protocol = self._protocol = await self._open(loop)
        return protocol

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Protocol:
        def made() -> _Protocol:
            return _Protocol(loop, self.where)

        try:
            if self.path:
                opening = loop.create_unix_connection(made, self.path)
            else:
                opening = loop.create_connection(made, self.host, self.port)
            _, protocol = await asyncio.wait_for(opening, self.connect_timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            reason = str(exc) or "no answer in time"
            raise RedisConnectionError(f"Error connecting to {self.where}: {reason}") from None
        greeting: list[tuple[Any, ...]] = []
        if self.password is not None:
            auth = ("AUTH", self.username, self.password) if self.username else ("AUTH", self.password)
            greeting.append(auth)
        if self.client_name:
            greeting.append(("CLIENT", "SETNAME", self.client_name))
        if self.db:
            greeting.append(("SELECT", self.db))
        replies = [protocol.send(hiredis.pack_command(command), self.timeout) for command in greeting]
        for reply in replies:
            answer = await reply
            if isinstance(answer, ResponseError):
                protocol.abort(RedisConnectionError(f"{self.where}: {answer}"))
                raise RedisConnectionError(f"{self.where}: {answer}")
        return protocol

    def close(self) -> None:
        """Close the connection (commands still waiting fail); a later command opens a new one."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.abort(RedisConnectionError(f"{self.where}: the store was closed"))
