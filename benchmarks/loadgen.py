"""The bundled load generator, for machines without wrk: replays a request file like ``wrk.lua`` does and
prints the same JSON line. HTTP/1.1 keep-alive over ``connections`` sockets on one event loop (uvloop).

It is slower than wrk (about one Python request/response cycle per request on the client side too), so with
it the fastest peers are limited by the client: their ratios understate the gaps. Prefer wrk.

    python -m benchmarks.loadgen --port 8001 --connections 32 --duration 5 requests.txt
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from pathlib import Path

import uvloop


def _encode(method: str, target: str, body: str, *headers: str, host: str) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n" + "".join(f"{header}\r\n" for header in headers)
    if method == "POST":
        payload = body.encode()
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        return head.encode() + payload
    return (head + "\r\n").encode()


#: workload.LAP_MARK: call ids start with it in the file; each pass through the file writes its number there.
_LAP_MARK = b"c-LAPX"


class _Passes:
    """The request file, with the pass number written into its call ids as each pass is reached, so a request
    replayed after a wrap is a new event (exactly-once handling would answer a repeat without running it)."""

    def __init__(self, marked: list[bytes]) -> None:
        self.marked = marked
        self.lap = -1
        self.requests: list[bytes] = []

    def __len__(self) -> int:
        return len(self.marked)

    def __getitem__(self, n: int) -> bytes:
        lap, index = divmod(n, len(self.marked))
        if lap != self.lap:  # the shared counter only grows: each pass is built once
            self.lap = lap
            self.requests = [r.replace(_LAP_MARK, b"c-%04d" % (lap % 10000)) for r in self.marked]
        return self.requests[index]


class _Results:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.non_2xx = 0
        self.socket_errors = 0


async def _connection(
    port: int, requests: _Passes, order: itertools.count[int], deadline: float, results: _Results, limit: float
) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        results.socket_errors += 1
        return
    try:
        while time.perf_counter() < deadline:
            n = next(order)
            if n >= limit:
                break
            request = requests[n]
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            results.latencies.append(time.perf_counter() - started)
            if not 200 <= status < 400:
                results.non_2xx += 1
    except (OSError, asyncio.IncompleteReadError):
        results.socket_errors += 1
    finally:
        writer.close()


async def load(
    port: int, path: Path, *, connections: int, duration: float, limit: float = float("inf")
) -> dict[str, int]:
    """Replay ``path`` against ``127.0.0.1:port`` for ``duration`` seconds, or until ``limit`` requests were sent
    (``benchmarks.instructions`` counts per request); wrk.lua's result fields."""
    host = f"127.0.0.1:{port}"
    # The file format of workload.py, read here without importing it (and callhooks): this process starts fast.
    lines = path.read_text().splitlines()
    requests = _Passes([_encode(*line.split("\t"), host=host) for line in lines])
    results = _Results()
    order = itertools.count()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_connection(port, requests, order, deadline, results, limit) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies = sorted(results.latencies) or [0.0]
    return {
        "requests": len(results.latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": int(statistics.median(latencies) * 1e6),
        "p99_us": int(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e6),
        "non_2xx": results.non_2xx,
        "socket_errors": results.socket_errors,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("requests", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    print(json.dumps(uvloop.run(load(args.port, args.requests, connections=args.connections, duration=args.duration))))


if __name__ == "__main__":
    main()
