"""The transport shells every platform's client is built on: they run sans-I/O operations over httpx.

``BlockingShell`` (over ``httpx.Client``) and ``AsyncShell`` (over ``httpx.AsyncClient``) only move bytes:
the operation says what to send, ``perform`` (``retry``) decides what to retry, and the client's
``read_error`` says how its platform's non-2xx answers become typed errors. A client subclasses one shell
and sets ``http``, ``retry`` and its namespaces (``calls``, ...).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import anyio
import httpx
from typing_extensions import Self

from .errors import ApiError, PlatformUnreachableError
from .retry import Failure, RetryPolicy, Sleep, perform
from .wire import Operation, Page, Request, Response, error_from_response

__all__ = ["AsyncShell", "BlockingShell", "Shell", "http_options", "user_agent"]

T = TypeVar("T")
logger = logging.getLogger("callhooks.client")

# httpx raises these before a single byte of the request was written.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def user_agent() -> str:
    """``callhooks/<version>``, sent with every request."""
    try:
        return f"callhooks/{version('callhooks')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "callhooks/unknown"


def http_options(auth: httpx.Auth, timeout: float | httpx.Timeout) -> dict[str, Any]:
    """The httpx client options every platform's client uses: its auth, our User-Agent, JSON answers."""
    return {"auth": auth, "headers": {"User-Agent": user_agent(), "Accept": "application/json"}, "timeout": timeout}


def _sent(request: Request) -> dict[str, Any]:
    """What ``httpx``'s ``request`` is given of a :class:`Request` beside its method and URL (both shells)."""
    return {"params": request.params, "json": request.json, "content": request.content, "headers": request.headers}


def _unreachable(request: Request, error: httpx.ConnectError) -> PlatformUnreachableError:
    """``error`` typed, naming the host it could not reach (the token host, for an OAuth token request)."""
    try:
        url = error.request.url
        host = f"{url.host}:{url.port}" if url.port else url.host
    except RuntimeError:  # raised before httpx attached the request
        parts = httpx.URL(request.url)
        host = f"{parts.host}:{parts.port}" if parts.port else parts.host
    return PlatformUnreachableError(host, error)


class Shell:
    """What both shells share: the retry policy, error typing and the log lines of each exchange."""

    retry: RetryPolicy
    #: Whether call handles' methods are coroutines (what ``CallHooks.attach_client`` checks handlers against).
    asynchronous: ClassVar[bool]

    def _open(self, transport: Any, options: dict[str, Any]) -> None:
        """Open the connection pool ``self.http`` (``transport`` replaces httpx's network transport)."""
        raise NotImplementedError

    def read_error(self, request: Request, response: Response) -> ApiError:
        """The typed error for a non-2xx ``response`` (Catapult v1's by default; other platforms override)."""
        return error_from_response(request, response)

    @staticmethod
    def _response(request: Request, response: httpx.Response) -> Response:
        logger.debug("%s %s -> %s", request.method, request.path, response.status_code)
        return Response.from_pairs(response.status_code, response.headers.multi_items(), response.content)

    @staticmethod
    def _failure(request: Request, error: httpx.TransportError) -> Failure:
        logger.debug("%s %s failed: %s", request.method, request.path, type(error).__name__)
        sent = not isinstance(error, _NOT_SENT)
        if isinstance(error, httpx.ConnectError) and not isinstance(error, PlatformUnreachableError):
            return Failure(_unreachable(request, error), sent=sent)
        return Failure(error, sent=sent)

    @staticmethod
    def _sleeping(step: Sleep) -> float:
        logger.info("retrying %s %s in %.2fs", step.request.method, step.request.path, step.seconds)
        return step.seconds


class BlockingShell(Shell):
    """Runs operations over a blocking ``httpx.Client`` (``self.http``), for scripts."""

    http: httpx.Client
    asynchronous: ClassVar[bool] = False

    def _open(self, transport: httpx.BaseTransport | None, options: dict[str, Any]) -> None:
        self.http = httpx.Client(transport=transport, **options)

    def run(self, operation: Operation[T]) -> T:
        """Run a sans-I/O operation (from ``self.operations``), with retries."""
        steps = perform(operation, self.retry, time.time, self.read_error)
        outcome: Response | Failure | None = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Sleep):
                time.sleep(self._sleeping(step))
                outcome = None
            else:
                outcome = self._send(step.request)

    def _send(self, request: Request) -> Response | Failure:
        try:
            response = self.http.request(request.method, request.url, **_sent(request))
        except httpx.TransportError as error:
            return self._failure(request, error)
        return self._response(request, response)

    def iterate(self, operation: Operation[Page[T]] | None) -> Iterator[T]:
        """The items of a page operation's page and of every page after it."""
        while operation is not None:
            page = self.run(operation)
            yield from page.items
            operation = page.next_operation()

    def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page``, or ``None`` after the last."""
        operation = page.next_operation()
        return None if operation is None else self.run(operation)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class AsyncShell(Shell):
    """Runs operations over an ``httpx.AsyncClient`` (``self.http``), for receivers and async code."""

    http: httpx.AsyncClient
    asynchronous: ClassVar[bool] = True

    def _open(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]) -> None:
        self.http = httpx.AsyncClient(transport=transport, **options)

    async def run(self, operation: Operation[T]) -> T:
        """Run a sans-I/O operation (from ``self.operations``), with retries."""
        steps = perform(operation, self.retry, time.time, self.read_error)
        outcome: Response | Failure | None = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Sleep):
                await anyio.sleep(self._sleeping(step))
                outcome = None
            else:
                outcome = await self._send(step.request)

    async def _send(self, request: Request) -> Response | Failure:
        try:
            response = await self.http.request(request.method, request.url, **_sent(request))
        except httpx.TransportError as error:
            return self._failure(request, error)
        return self._response(request, response)

    async def iterate(self, operation: Operation[Page[T]] | None) -> AsyncIterator[T]:
        """The items of a page operation's page and of every page after it."""
        while operation is not None:
            page = await self.run(operation)
            for item in page.items:
                yield item
            operation = page.next_operation()

    async def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page``, or ``None`` after the last."""
        operation = page.next_operation()
        return None if operation is None else await self.run(operation)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()
