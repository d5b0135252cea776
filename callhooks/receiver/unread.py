"""A response sent before the request's body was read to its end closes the connection.

Otherwise the server goes on reading the rest of the body, and throws it away, for as long as the client
sends it: one client refused with a ``403`` can then stream gigabytes into the process, or drip a byte now
and then to hold a connection slot forever. ``Connection: close`` on such a response makes uvicorn (h11 and
httptools alike) and other servers close the connection once the response is out. A body that has already
arrived whole (a small one comes with its head) is taken and dropped instead: nothing more can follow it, and
the connection is kept for the client's next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import CoroutineType
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CLOSE", "body_pending", "closing_unread", "has_body"]

#: The header that asks the server to close the connection after this response.
CLOSE: Final = (b"connection", b"close")


def has_body(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a request with these (lower-case) headers carries a body (RFC 9112, 6.3)."""
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
            return True
    return False


def body_pending(scope: Scope, receive: Receive) -> bool:
    """Whether the request has a body that is not all with the server yet, found without waiting: the server's
    ``receive()`` is stepped once by hand (a server whose ``receive()`` is not a coroutine: pending). A request
    that expects ``100 Continue`` is pending as it is: ``receive()`` would invite its body."""
    headers = scope["headers"]
    if not has_body(headers):
        return False
    if any(name == b"expect" for name, _ in headers):
        return True
    pending = receive()
    if not isinstance(pending, CoroutineType):
        return True
    try:
        pending.send(None)
    except StopIteration as returned:
        message: Message = returned.value
        return message["type"] == "http.request" and bool(message.get("more_body", False))
    pending.close()  # it would have to wait: the rest is still on its way
    return True


async def closing_unread(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app``; when it starts its response before reading the request body while the rest of the body is
    still on its way, add ``Connection: close``."""
    if not has_body(scope["headers"]):
        await app(scope, receive, send)
        return
    read = False

    async def tracked() -> Message:
        nonlocal read
        message = await receive()
        read = read or message["type"] != "http.request" or not message.get("more_body", False)
        return message

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start" and not read and body_pending(scope, receive):
            message = {**message, "headers": [*message.get("headers", ()), CLOSE]}
        await send(message)

    await app(scope, tracked, closing)
