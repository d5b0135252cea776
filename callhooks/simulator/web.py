"""Request plumbing shared by the REST and control APIs: auth, JSON bodies, error responses.

Bodies are JSON only: a request whose ``Content-Type`` is anything else (``text/plain``, a form, multipart),
or whose body comes without one, is refused with 415 before it is read. Those are the bodies a page on
another site can make a browser send without asking (a form, a "simple" ``fetch``); see :mod:`.origins`.
The one exception is a platform whose REST API takes forms (Twilio's): there the REST routes accept
``application/x-www-form-urlencoded`` too, still behind Basic credentials and the origin checks; the control API
never does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..signing import check_basic_auth as basic_auth_matches
from .errors import ApiError, validation_error

__all__ = [
    "Handler",
    "check_basic_auth",
    "check_content_type",
    "empty",
    "error_response",
    "guard",
    "http_error",
    "http_exception",
    "json_response",
    "read_capped",
    "read_json",
    "request_base",
]

Handler = Callable[[Request], Awaitable[Response]]
logger = logging.getLogger("callhooks.simulator")


def error_response(error: ApiError) -> Response:
    """The documented error body with the error's status and headers."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return JSONResponse(body, status_code=status, headers=headers)


def empty(status: int = 200, location: str | None = None) -> Response:
    """An empty answer, with ``Location`` for created resources."""
    return Response(b"", status_code=status, headers={"Location": location} if location else None)


async def http_exception(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods get the platform's JSON error shape too."""
    return error_response(http_error(request, exc))


def http_error(request: Request, exc: Exception) -> ApiError:
    """The error of an unknown path (404) or a wrong method (405)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return ApiError(405, "bad-request", "method-not-allowed", f"{request.method} is not allowed here")
    return ApiError(status, "not-found", "resource-not-found", f"No resource at {request.url.path}")


def request_base(request: Request) -> str:
    """The scheme and host the request was sent to, e.g. ``http://127.0.0.1:8900``."""
    return f"{request.url.scheme}://{request.url.netloc}"


def check_basic_auth(request: Request, token: str, secret: str) -> None:
    """Raise 401 unless the request carries Basic credentials ``token:secret``."""
    if not basic_auth_matches(request.headers.get("authorization"), (token, secret)):
        raise ApiError(
            401,
            "authentication",
            "unauthorized",
            "Basic authentication with the API token and secret is required",
            headers={"WWW-Authenticate": 'Basic realm="callhooks-simulator"'},
        )


def _not_json(content_type: str | None) -> ApiError:
    shown = "none" if content_type is None else repr(content_type[:100])
    message = f"Request bodies must be JSON (Content-Type: application/json), not {shown}"
    return ApiError(415, "bad-request", "unsupported-media-type", message, {"Content-Type": shown})


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _is_xml(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() in ("application/xml", "text/xml")


def check_content_type(request: Request, *, xml: bool = False, forms: bool = False) -> None:
    """415 for a request that declares a body of another type than JSON (or, with ``xml``, XML: a document
    such as v2's ``PUT …/bxml``; with ``forms``, an ``application/x-www-form-urlencoded`` body, for a platform
    whose API takes forms), whether it sends one or not."""
    content_type = request.headers.get("content-type")
    if content_type is None or request.method in ("GET", "HEAD") or _is_json(content_type):
        return
    if xml and _is_xml(content_type):
        return
    if forms and content_type.partition(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return
    raise _not_json(content_type)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request's body, or ``None`` once it is longer than ``limit`` bytes (the rest is not read)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object body (an empty body is ``{}``); 415 for a body without a JSON
    ``Content-Type``, 400 for anything but a JSON object."""
    raw = await request.body()
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type")
    if content_type is None or not _is_json(content_type):
        raise _not_json(content_type)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        sample = raw[:100].decode("utf-8", "replace")
        raise validation_error("body", sample, f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise validation_error("body", type(data).__name__, "Request body must be a JSON object")
    return data


def guard(
    handler: Handler,
    before: Callable[[Request], None],
    after: Callable[[], None],
    *,
    xml: bool = False,
    forms: bool = False,
    spoken: Callable[[ApiError], ApiError] | None = None,
) -> Handler:
    """Wrap ``handler``: run ``before`` (auth, limits...) and ``after`` it, turn ApiErrors into responses
    (``spoken`` rewrites them in a platform's words), never crash. Bodies must be JSON (or, with ``xml``, an
    XML document; with ``forms``, a form)."""

    async def guarded(request: Request) -> Response:
        try:
            check_content_type(request, xml=xml, forms=forms)
            before(request)
            response = await handler(request)
            after()
            return response
        except ApiError as error:
            return error_response(error if spoken is None else spoken(error))
        except Exception:  # a simulator bug must not take the server down; report it as the platform would
            logger.exception("simulator error on %s %s", request.method, request.url.path)
            return error_response(ApiError(500, "internal-server-error", "unexpected-error", "Simulator error"))

    return guarded
