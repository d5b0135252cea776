"""CPU instructions per served request, per peer: figures the machine's load does not change.

    python -m benchmarks.instructions                          # every peer, post-per-call and get-per-call
    python -m benchmarks.instructions --peers callhooks --store none,memory,sqlite --modes post-per-call
    python -m benchmarks.instructions --platform twilio      # Bandwidth v2 (bandwidth) or Twilio's callbacks

Each peer is served by ``benchmarks.serve`` (the same uvicorn flags as the timed runs) under valgrind's callgrind,
which counts the instructions the server process runs: uvicorn, uvloop and httptools included, the kernel not.
It is served twice, answering ``requests`` and then twice as many requests of the same request file from the
bundled load generator (after the same warm-up), and the difference of the two totals over the difference of
the requests is what one request costs, start-up and shutdown cancelling out. The handlers' tally is checked
against the requests sent, as in the timed runs. callgrind runs a program about 50 times slower, so each peer
takes about a minute. Needs valgrind (``sudo apt-get install valgrind``). Throughput on a saturated core goes
about as the inverse of these counts (the kernel's share, the same for every peer, comes on top).
With the Redis store, redis-server's own instructions are not counted (it is another process).
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import uvloop

from callhooks.signing import CallbackSigner
from callhooks.testing.redis_server import RedisServer

from . import loadgen
from .run import SECRET, STORE_URLS, BenchmarkError, PeerServer, _csv, _peers_and_modes
from .workload import PLATFORMS, Mode, Platform, build, write

VALGRIND_MISSING = "valgrind is not installed: `sudo apt-get install valgrind` (Debian/Ubuntu)"
_CONNECTIONS = 8
_STARTUP_TIMEOUT = 600.0  # a peer's imports run under callgrind too


@dataclass(frozen=True)
class Count:
    mode: str
    peer: str
    instructions: int  #: per request


def _served_total(
    peer: str, store: str, requests: Path, warmup: Path, sent: int, directory: Path, platform: Platform
) -> int:
    """Serve ``peer`` under callgrind for the warm-up and ``sent`` requests of ``requests``; its instructions."""
    out_file = directory / f"callgrind.{peer}.{sent}.out"
    log = directory / f"valgrind.{peer}.{sent}.log"
    wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", f"--log-file={log}"]
    server = PeerServer(peer, None, store=store, wrapper=wrapper, platform=platform)
    try:
        server.wait_ready(timeout=_STARTUP_TIMEOUT)
        total = 0
        for path, count in ((warmup, _warmup_requests(sent)), (requests, sent)):
            result = uvloop.run(
                loadgen.load(server.port, path, connections=_CONNECTIONS, duration=_STARTUP_TIMEOUT, limit=count)
            )
            if result["requests"] != count or result["non_2xx"] or result["socket_errors"]:
                raise BenchmarkError(f"{peer}: {result} for {count} requests")
            total += count
        if server.settled_count() != total:
            raise BenchmarkError(f"{peer}: {total} requests answered but its handlers saw {server.handled()}")
    finally:
        server.stop(timeout=_STARTUP_TIMEOUT)  # callgrind writes its counts as the server exits
    return _callgrind_total(out_file)


def _warmup_requests(sent: int) -> int:
    return max(8, sent // 4)


def _callgrind_total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise BenchmarkError(f"no instruction count in {path}")


def count(
    peer: str,
    mode: Mode,
    fresh_store: Callable[[], str],
    requests: int,
    directory: Path,
    platform: Platform = "catapult",
) -> int:
    """Instructions per request of ``peer`` serving ``mode``, from runs of ``requests`` and ``2 * requests``, each
    on an empty store from ``fresh_store`` (the runs send the same events: a kept store would call them
    duplicates)."""
    signer = CallbackSigner(SECRET)
    calls = max(8, 3 * requests // 8)  # more calls than the longer run reaches: every event is new to the peer
    measured = write(build(mode, signer, calls=calls, in_flight=64, platform=platform), directory / f"{mode.name}.txt")
    warmup_requests = build(mode, signer, calls=calls, in_flight=64, first_call=10**8, platform=platform)
    warmup = write(warmup_requests, directory / f"{mode.name}-w.txt")
    first = _served_total(peer, fresh_store(), measured, warmup, requests, directory, platform)
    second = _served_total(peer, fresh_store(), measured, warmup, 2 * requests, directory, platform)
    extra = 2 * requests + _warmup_requests(2 * requests) - requests - _warmup_requests(requests)
    return (second - first) // extra


def run(
    peers: Sequence[str],
    modes: Sequence[Mode],
    stores: Sequence[str],
    requests: int,
    out: Callable[[str], None],
    platform: Platform = "catapult",
) -> list[Count]:
    if shutil.which("valgrind") is None:
        raise BenchmarkError(VALGRIND_MISSING)
    counts: list[Count] = []
    with tempfile.TemporaryDirectory(prefix="callhooks-instructions-") as tmp:
        directory = Path(tmp)
        redis = RedisServer(directory) if "redis" in stores and "callhooks" in peers else None
        if redis is not None:
            redis.start()
        try:
            for mode in modes:
                for peer in peers:
                    for store in stores if peer == "callhooks" else ["memory"]:
                        label = peer if store == "memory" else f"{peer}-{store}"
                        fresh = functools.partial(_fresh_store, store, directory, redis)
                        counted = count(peer, mode, fresh, requests, directory, platform)
                        counts.append(Count(mode.name, label, counted))
                        out(f"{mode.name:14} {label:18} {counts[-1].instructions:>9,} instructions per request")
        finally:
            if redis is not None:
                redis.stop()
    return counts


def _fresh_store(store: str, directory: Path, redis: RedisServer | None) -> str:
    """The URL of an empty store of the kind named (an in-process one is empty in every new server anyway)."""
    if store == "redis":
        assert redis is not None
        redis.flush()
        return redis.url
    where = Path(tempfile.mkdtemp(dir=directory))
    return STORE_URLS[store].format(dir=where)


def table(counts: Sequence[Count]) -> str:
    """Markdown, with each count's ratio to bare Starlette's in the same mode (when it ran)."""
    lines = ["| mode | peer | instructions per request | vs bare Starlette |", "|---|---|---:|---:|"]
    baseline = {c.mode: c.instructions for c in counts if c.peer == "starlette"}
    for c in counts:
        ratio = f"{c.instructions / baseline[c.mode]:.2f}" if c.mode in baseline else "-"
        lines.append(f"| {c.mode} | {c.peer} | {c.instructions:,} | {ratio} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--platform", choices=PLATFORMS, default="catapult", help="whose callbacks are sent")
    parser.add_argument("--peers", help="comma-separated (default: every peer of the platform)")
    parser.add_argument("--modes", default="post-per-call,get-per-call", help="comma-separated")
    parser.add_argument("--store", type=lambda t: _csv(t, list(STORE_URLS), "stores"), default=("memory",))
    parser.add_argument("--requests", type=int, default=1000, help="requests of the shorter run (the other: twice)")
    args = parser.parse_args(argv)
    try:
        peers, modes = _peers_and_modes(args.platform, args.peers, args.modes)
        counts = run(peers, modes, args.store, args.requests, print, args.platform)
    except BenchmarkError as exc:
        print(f"error: {exc}")
        return 1
    print(table(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
