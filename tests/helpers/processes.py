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
def running(
    command: list[str], env: dict[str, str], port: int, health: str = "/healthz", auth: tuple[str, str] | None = None
) -> Iterator[str]:
    """Start ``command`` and wait (polling with a deadline) until it answers ``health`` on ``port``."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"{command!r} exited with {process.returncode}: {output}")
            try:
                if httpx.get(f"{base}{health}", auth=auth, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command!r} did not answer on port {port} within 20 s")
            time.sleep(0.05)  # polling interval while waiting for a separate process, bounded by the deadline
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
