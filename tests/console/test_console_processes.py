"""Two receiver processes (two hosts, as far as the console can tell) on one SQLite or Redis store: each one's
console lists the calls the other answered, read from the store's shared journal."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks
from callhooks.testing.redis_server import RedisServer
from callhooks.testing.server import free_port
from tests.helpers.processes import server_process

from .support import CALLER, CONSOLE, SECRET


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/console.db"
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    server.flush()
    yield server.url


def test_each_processes_console_lists_every_processes_calls(store_url: str) -> None:
    env = {
        **os.environ,
        "CALLHOOKS_SECRET": SECRET,
        "CALLHOOKS_STORE": store_url,
        "CALLHOOKS_CONSOLE": ":".join(CONSOLE),
    }
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            command = [sys.executable, "-m", "uvicorn", "--factory", "tests.console.worker_app:create_app"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            stack.enter_context(server_process(command, env, port, quiet=True))
        signer = CallHooks(secret=SECRET, store=None)
        with httpx.Client(timeout=10) as client:
            for number, port in enumerate(ports):
                url = signer.callback_url(public_url=f"http://127.0.0.1:{port}")
                answer = {"eventType": "answer", "callId": f"c-host-{number}", "from": CALLER}
                assert client.post(url, json=answer).status_code == 200
            for port in ports:
                deadline = time.monotonic() + 15
                while True:
                    response = client.get(f"http://127.0.0.1:{port}/_console/api/calls", auth=CONSOLE)
                    assert response.status_code == 200
                    listed = sorted(call["callId"] for call in response.json()["calls"])
                    if listed == ["c-host-0", "c-host-1"]:
                        break
                    assert time.monotonic() < deadline, f"port {port}'s console lists {listed}"
                    time.sleep(0.1)  # polling another process, bounded by the deadline
