"""A real ``redis-server`` on a free loopback port with a temporary directory and no persistence (unless asked
for), for tests and benchmarks of the ``redis://`` store (``apt-get install redis-server`` provides the binary)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from .server import free_port

__all__ = ["RedisServer", "find_redis_server"]


def find_redis_server() -> str | None:
    """The path of ``redis-server``, or None when it is not installed."""
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


class RedisServer:
    """``start()`` waits (polling with a deadline) until the server answers PING; ``stop()`` ends it; it can be
    started again on the same port: empty, or with ``persistent=True`` with what it had (an append-only file in
    ``directory``, synced every write)."""

    def __init__(self, directory: Path, binary: str | None = None, *, persistent: bool = False) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise FileNotFoundError("redis-server is not installed: apt-get install redis-server")
        self.binary = found
        self.directory = directory
        self.port = free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while not self._command(b"PING", b"+PONG"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.01)  # polling a child process's readiness, with a deadline

    def _command(self, command: bytes, expect: bytes) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(command + b"\r\n")
                return sock.recv(64).startswith(expect)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def flush(self) -> None:
        """Empty every database (between tests)."""
        if not self._command(b"FLUSHALL", b"+OK"):
            raise RuntimeError(f"redis-server on port {self.port} did not flush")
