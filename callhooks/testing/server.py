"""Run an ASGI app under a real uvicorn server on a free loopback port, in a background thread.

Used by our own tests and offered to users' tests: the app is reached over a real socket, exactly as the
platform (or the simulator) would reach it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

__all__ = ["RunningServer", "free_port", "serve"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    server: uvicorn.Server

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:43211``."""
        return f"http://{self.host}:{self.port}"


@contextmanager
def serve(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    startup_timeout: float = 10.0,
    log_level: str = "warning",
    **config: object,
) -> Iterator[RunningServer]:
    """Serve ``app`` with uvicorn on ``host`` until the ``with`` block ends.

    Waits (polling with a deadline, not sleeping blindly) until the server accepts connections, and shuts it
    down gracefully afterwards. Raises ``RuntimeError`` when it does not start within ``startup_timeout``.
    """
    chosen_port = port or free_port(host)
    uv_config = uvicorn.Config(
        app,
        host=host,
        port=chosen_port,
        log_level=log_level,
        lifespan="auto",
        **config,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(uv_config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"callhooks-serve-{chosen_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"server on {host}:{chosen_port} failed to start: {failure[:1]!r}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"server on {host}:{chosen_port} did not start within {startup_timeout}s")
        time.sleep(0.005)
    try:
        yield RunningServer(host, chosen_port, server)
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
