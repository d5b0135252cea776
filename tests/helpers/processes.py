"""Start a server command in a separate process for end-to-end tests, waiting for it with a deadline."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def server_process(
    command: list[str],
    env: dict[str, str],
    port: int,
    *,
    cwd: Path = ROOT,
    health: str = "/healthz",
    auth: tuple[str, str] | None = None,
    quiet: bool = False,
    startup_timeout: float = 20,
) -> Iterator[subprocess.Popen[str]]:
    """Start ``command`` and wait (polling with a deadline) until it answers ``health`` on ``port``; stop it
    afterwards. ``quiet`` sends its output nowhere: a server logging every request of a long test would fill a
    pipe nobody reads and stall (otherwise the output is shown when it fails to start). ``startup_timeout``:
    seconds it gets to answer (several worker processes start slowly on a loaded machine)."""
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                shown = process.stdout.read() if process.stdout else ""
                pytest.fail(f"{command!r} exited with {process.returncode}: {shown}")
            try:
                if httpx.get(f"{base}{health}", auth=auth, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command!r} did not answer on port {port} within {startup_timeout:g} s")
            time.sleep(0.05)  # polling interval while waiting for a separate process, bounded by the deadline
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(
    command: list[str], env: dict[str, str], port: int, health: str = "/healthz", auth: tuple[str, str] | None = None
) -> Iterator[str]:
    """``server_process`` for tests that only need the server's base URL."""
    with server_process(command, env, port, health=health, auth=auth):
        yield f"http://127.0.0.1:{port}"
