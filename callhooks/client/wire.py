"""Requests and responses as plain values, and the pure functions between them and our models.

Nothing here does I/O. An *operation* is a generator that yields ``Request`` objects, is sent back the
matching (2xx) ``Response`` and finally returns its result; ``Client`` and ``AsyncClient`` only move bytes.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

from pydantic import BaseModel, ValidationError

from .errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PlatformError,
    RateLimitError,
)

__all__ = [
    "Operation",
    "Page",
    "Request",
    "Response",
    "error_fields",
    "error_from_response",
    "exchange",
    "form",
    "id_from_location",
    "link_next_url",
    "next_link",
    "page",
    "read_bytes",
    "read_model",
    "read_models",
    "read_nothing",
    "retry_after_ms",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Request:
    """One HTTP request to make: absolute ``url``, query ``params``, JSON body ``json``.

    ``idempotent`` says whether sending it twice does no more than sending it once; only such requests
    are retried once they may have reached the platform. A body that is not JSON (a form, an XML document)
    is ``content`` with its ``Content-Type`` in ``headers``.
    """

    method: str
    url: str
    # Left out of repr: a body may hold a callbackUrl with its token and Basic-auth password.
    params: Mapping[str, str] | None = field(default=None, repr=False)
    json: Mapping[str, Any] | None = field(default=None, repr=False)
    idempotent: bool = False
    content: bytes | None = field(default=None, repr=False)
    headers: Mapping[str, str] | None = None

    @property
    def path(self) -> str:
        """The URL path, safe for messages and logs (no query, no credentials)."""
        return urlsplit(self.url).path


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, headers (names lower-cased, repeated ones joined by ``, ``), body."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    @classmethod
    def from_pairs(cls, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Response:
        """Build from raw header pairs, as any HTTP library can give them."""
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return cls(status, merged, body)

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


Operation = Generator[Request, Response, T]

FORM = "application/x-www-form-urlencoded"


def form(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``Request`` keyword arguments for a form body; a name may repeat (one pair per value)."""
    return {"content": urlencode(pairs).encode(), "headers": {"Content-Type": FORM}}


def exchange(request: Request, read: Callable[[Request, Response], T]) -> Operation[T]:
    """The operation that sends one request and reads its answer with ``read``."""
    response = yield request
    return read(request, response)


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def error_fields(request: Request, response: Response) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What every platform's error starts from: ``ApiError``'s keyword arguments (the body's text as the
    message) and the body as a JSON object, or ``None`` when it is not one."""
    text = _text(response.body)
    try:
        body = json.loads(response.body)
    except ValueError:
        body = None
    fields: dict[str, Any] = {"text": text, "message": text.strip(), "method": request.method, "path": request.path}
    return fields, body if isinstance(body, dict) else None


def _json(request: Request, response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        raise PlatformError(
            response.status,
            code="invalid-response",
            message="response body is not JSON",
            text=_text(response.body),
            method=request.method,
            path=request.path,
        ) from None


def _unreadable(request: Request, response: Response, problem: str) -> PlatformError:
    return PlatformError(
        response.status,
        code="invalid-response",
        message=problem,
        text=_text(response.body),
        method=request.method,
        path=request.path,
    )


def read_model(model: type[M]) -> Callable[[Request, Response], M]:
    """A reader for a JSON object body, validated as ``model``."""

    def read(request: Request, response: Response) -> M:
        try:
            return model.model_validate(_json(request, response))
        except ValidationError as exc:
            raise _unreadable(request, response, f"unexpected {model.__name__}: {exc}") from None

    return read


def read_models(model: type[M], key: str | None = None) -> Callable[[Request, Response], list[M]]:
    """A reader for a JSON array body of ``model`` objects; with ``key``, the array under that key of an
    object body (a list envelope)."""

    def read(request: Request, response: Response) -> list[M]:
        items = _json(request, response)
        if key is not None:
            items = items.get(key) if isinstance(items, dict) else None
        if not isinstance(items, list):
            raise _unreadable(request, response, "expected a JSON array" if key is None else f"no {key!r} list")
        try:
            return [model.model_validate(item) for item in items]
        except ValidationError as exc:
            raise _unreadable(request, response, f"unexpected {model.__name__}: {exc}") from None

    return read


def read_nothing(request: Request, response: Response) -> None:
    """A reader for answers whose body carries nothing we need."""


def read_bytes(request: Request, response: Response) -> bytes:
    """A reader for a binary body (a recording's media), as it came."""
    return response.body


def id_from_location(request: Request, response: Response) -> str:
    """The created resource's id: the last path segment of ``Location`` (path-only or absolute URL)."""
    location = response.header("location")
    segment = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1] if location else ""
    if not segment:
        raise _unreadable(request, response, "no resource id in the Location header")
    return segment


# One link-value: <url> then ;-separated parameters, whose quoted values may contain ',' and ';'.
_LINK = re.compile(r"""<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"[^"]*"|'[^']*'|[^;,\s]*))?)*)""")
_REL = re.compile(r"""\brel\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^;,\s]+))""", re.IGNORECASE)


def next_link(link_header: str | None) -> str | None:
    """The URL of the ``rel="next"`` entry of an RFC 8288 ``Link`` header, or ``None``."""
    for match in _LINK.finditer(link_header or ""):
        rel = _REL.search(match["params"])
        if rel and "next" in (rel["dq"] or rel["sq"] or rel["bare"] or "").lower().split():
            return match["url"].strip()
    return None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default


def link_next_url(request: Request, response: Response) -> str | None:
    """The next page's URL from the ``Link`` header (``rel="next"``), relative ones resolved."""
    found = next_link(response.header("link"))
    return None if found is None else urljoin(request.url, found)


NextUrl = Callable[[Request, Response], "str | None"]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its ``items`` and the URL of the next page (``None`` on the last)."""

    items: list[T]
    next_url: str | None
    _request: Request = field(repr=False)
    _read: Callable[[Request, Response], list[T]] = field(repr=False)
    _next: NextUrl | None = field(default=None, repr=False)

    def next_operation(self) -> Operation[Page[T]] | None:
        """The operation fetching the next page, or ``None`` on the last page."""
        if self.next_url is None:
            return None
        # The next URL already holds the query; it is requested as-is, but only from the origin we were
        # configured with, since the request carries our credentials.
        if _origin(self.next_url) != _origin(self._request.url):
            raise PlatformError(
                0,
                code="invalid-response",
                message="refusing to follow a Link to another origin with our credentials",
                method=self._request.method,
                path=self._request.path,
            )
        return page(Request("GET", self.next_url, idempotent=True), self._read, self._next)


def page(
    request: Request, read: Callable[[Request, Response], list[T]], next_url: NextUrl | None = None
) -> Operation[Page[T]]:
    """The operation fetching one page of a list with ``request``; ``next_url`` finds the next page's URL
    (default: the ``Link`` header's ``rel="next"`` as it is)."""

    def read_page(request: Request, response: Response) -> Page[T]:
        following = next_link(response.header("link")) if next_url is None else next_url(request, response)
        return Page(read(request, response), following, request, read, next_url)

    return exchange(request, read_page)


def _details(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, Mapping):
        return [{"name": name, "value": item} for name, item in value.items()]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


# Epoch milliseconds a datetime can hold (up to the end of year 9999): anything else is not a reset time.
_LATEST_RESET_MS = 253_402_300_799_999


def _reset_ms(response: Response, error: PlatformError) -> int | None:
    """``X-RateLimit-Reset`` or the body's ``rateLimitResetTime`` in epoch ms; ``None`` when neither is a
    usable time (garbage, ``inf``, ``nan``, ``1e400``, negative, beyond year 9999)."""
    for candidate in (response.header("x-ratelimit-reset"), error.detail("rateLimitResetTime")):
        if candidate is None or isinstance(candidate, bool):
            continue
        try:
            number = float(str(candidate)[:64])  # a 64-character number is already far out of range
        except ValueError:
            continue
        if math.isfinite(number) and 0 <= number <= _LATEST_RESET_MS:
            return int(number)
    return None


def retry_after_ms(response: Response, now: float | None = None) -> int | None:
    """``Retry-After`` (seconds or an HTTP date) as epoch milliseconds, or ``None`` when absent or unusable."""
    value = (response.header("retry-after") or "").strip()[:64]
    if not value:
        return None
    now = time.time() if now is None else now
    try:
        seconds = float(value)
    except ValueError:
        try:
            return int(parsedate_to_datetime(value).timestamp() * 1000)
        except (TypeError, ValueError, OverflowError):
            return None
    if not math.isfinite(seconds) or not 0 <= seconds <= _LATEST_RESET_MS / 1000 - now:
        return None
    return int((now + seconds) * 1000)


_BY_STATUS: dict[int, type[PlatformError]] = {
    401: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_from_response(request: Request, response: Response) -> PlatformError:
    """The typed exception for a non-2xx response."""
    text = _text(response.body)
    try:
        body = json.loads(response.body)
    except ValueError:
        body = None
    fields: dict[str, Any] = {"text": text, "method": request.method, "path": request.path}
    if isinstance(body, dict):
        fields.update(
            category=body.get("category") if isinstance(body.get("category"), str) else None,
            code=body.get("code") if isinstance(body.get("code"), str) else None,
            message=str(body.get("message") or ""),
            details=_details(body.get("details")),
        )
    else:
        fields["message"] = text.strip()
    cls = _BY_STATUS.get(response.status, PlatformError)
    # Outbound call creation is throttled with 403, not 429.
    if response.status == 403 and "call-rate-limit" in (fields.get("code"), fields.get("category")):
        cls = RateLimitError
    if cls is RateLimitError:
        plain = PlatformError(response.status, **fields)
        return RateLimitError(response.status, reset_at_ms=_reset_ms(response, plain), **fields)
    return cls(response.status, **fields)
