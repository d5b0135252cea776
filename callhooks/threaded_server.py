"""Run an ASGI app under a real uvicorn server on a free loopback port, in a background thread.

Used by ``callhooks demo``, by our own tests and offered to users' tests (``callhooks.testing.server``): the app
is reached over a real socket, exactly as the platform (or the simulator) would reach it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped at once when the ``with`` block of :func:`serve` ends: uvicorn looks at
    ``should_exit`` every 0.1 s (its ``main_loop``), a tenth of a second per server that a test suite starting
    hundreds of them waits for nothing. The loop below is uvicorn's own, waking early when told to stop."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with suppress(asyncio.TimeoutError):  # woken by stop(), else uvicorn's own tick
                await asyncio.wait_for(self._stop.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def stop(self) -> None:
        """Ask the server to shut down gracefully, from any thread."""
        self.should_exit = True
        if self._loop is not None and self._stop is not None:
            with suppress(RuntimeError):  # the loop already closed: it stopped by itself
                self._loop.call_soon_threadsafe(self._stop.set)


@contextmanager
def serve(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    startup_timeout: float = 30.0,
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
    server = _PromptServer(uv_config)
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
            server.stop()
            raise RuntimeError(f"server on {host}:{chosen_port} did not start within {startup_timeout}s")
        time.sleep(0.005)
    try:
        yield RunningServer(host, chosen_port, server)
    finally:
        server.stop()
        thread.join(timeout=startup_timeout)
