"""Valid callbacks served per 10 s while anonymous clients flood the receiver with forged GETs (issue 23, finding 2).

The receiver runs with its console on and its guarantees on SQLite or Redis, where the console's shared journal
lives. Each forged request carries an 8 KB query string and a token that does not verify. Before the fix every
one of them was written to the journal; now they are only counted (and a few kept in memory). One run measures
a baseline (no flood) and the flood, on the same server, and how much the store grew during each.

    python benchmarks/attacks/store_flood.py --source /path/to/main-checkout --store sqlite
    python benchmarks/attacks/store_flood.py --source . --store redis

Runs ``callhooks run`` from the source tree given by ``--source`` on loopback, like valid_under_attack.py (whose
client and attack loop it reuses).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from callhooks.testing.redis_server import RedisServer, find_redis_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere
from benchmarks.attacks.valid_under_attack import SECRET, WINDOW, _raw, count_valid, free_port

APP = """
from callhooks import CallHooks
hooks = CallHooks(secret={secret!r}, public_url="http://127.0.0.1", store={store!r}, console=("admin", "bench-pw"))

@hooks.on("answer")
def answered(event):
    return None
"""
#: Connections sending forged requests back to back, each with an 8 KB query string.
FLOODERS = 4
FORGED = b"GET /" + b"x" * 40 + b"." + b"y" * 27 + b"?eventType=answer&callId=c-forged&x=" + b"A" * 8192
FORGED += b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def start_server(source: Path, port: int, workdir: Path, store: str) -> subprocess.Popen[bytes]:
    (workdir / "flood_app.py").write_text(APP.format(secret=SECRET, store=store))
    env = {**os.environ, "PYTHONPATH": f"{workdir}{os.pathsep}{source}"}
    command = [sys.executable, "-c", "from callhooks.cli import main; raise SystemExit(main())"]
    command += ["run", "flood_app:hooks", "--port", str(port)]
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)  # polling a child's start-up, with a deadline
    process.kill()
    raise SystemExit("server did not start")


@contextmanager
def store_of(kind: str, workdir: Path) -> Iterator[tuple[str, Callable[[], int]]]:
    """The store's URL and a function giving its size in bytes (the SQLite file and its WAL; Redis keys' memory)."""
    if kind == "sqlite":
        path = workdir / "flood.db"
        yield f"sqlite:///{path}", lambda: sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        return
    binary = find_redis_server()
    if binary is None:
        raise SystemExit("redis-server is not installed")
    server = RedisServer(workdir / "redis", binary)
    (workdir / "redis").mkdir()
    server.start()
    client = redis.Redis.from_url(server.url)
    try:
        yield server.url, lambda: sum(int(client.memory_usage(k) or 0) for k in client.scan_iter("callhooks:*"))
    finally:
        client.close()
        server.stop()


def flood(port: int) -> None:
    """Send forged requests from ``FLOODERS`` connections until this process is terminated."""
    stop = threading.Event()
    threads = [threading.Thread(target=_raw, args=(port, FORGED, stop, None)) for _ in range(FLOODERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure(source: Path, kind: str) -> list[dict[str, object]]:
    port = free_port()
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as directory, store_of(kind, Path(directory)) as (url, size):
        server = start_server(source, port, Path(directory), url)
        try:
            for attack in ("none", "forged-get-8kb"):
                # The flood from a process of its own: threads here would share the valid client's interpreter.
                flooder = multiprocessing.Process(target=flood, args=(port,), daemon=True) if attack != "none" else None
                before = size()
                if flooder is not None:
                    flooder.start()
                    time.sleep(2.0)  # let the flood reach its steady state
                served = count_valid(port, WINDOW)
                if flooder is not None:
                    flooder.terminate()
                    flooder.join(30)
                time.sleep(1.0)  # the console's journal task writes what it queued (every 0.5 s)
                results.append(
                    {
                        "source": str(source),
                        "store": kind,
                        "attack": attack,
                        "valid_callbacks_per_10s": served,
                        "store_growth_bytes": size() - before,
                    }
                )
        finally:
            server.terminate()
            server.wait(15)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="source tree whose callhooks the server runs")
    parser.add_argument("--store", choices=["sqlite", "redis", "both"], default="both")
    args = parser.parse_args()
    for kind in ["sqlite", "redis"] if args.store == "both" else [args.store]:
        for result in measure(args.source.resolve(), kind):
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
