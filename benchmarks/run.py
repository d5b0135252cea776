"""The HTTP benchmark: every peer under the same uvicorn flags, loaded in interleaved rounds, compared pairwise.

    python -m benchmarks                      # the full run (a few minutes)
    python -m benchmarks --smoke              # a fraction of a second per target: does everything still work?
    python -m benchmarks --modes post-per-call,get-per-call --rounds 7 --duration 10
    python -m benchmarks --peers callhooks --modes post-per-call,get-per-call --store memory,sqlite,redis
    python -m benchmarks --peers callhooks --modes post-per-call --store redis --workers 4
    python -m benchmarks --platform twilio    # Bandwidth v2 (bandwidth) or Twilio's callbacks, per-call URLs

For each round, for each mode, each peer in turn (A B C D A B C D …) gets a warm-up and a measured load from
the same request file. Server and load generator are pinned to separate cores when there are two or more.
Every measured load is checked against the peer's own count of handled events (read from ``serve.py``'s
control port), so nothing is counted that no handler saw. Absolute figures swing with the machine's load;
the paired ratios (same round, same mode, measured seconds apart) are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import uvloop

from callhooks.signing import CallbackSigner
from callhooks.testing.redis_server import RedisServer, find_redis_server
from callhooks.testing.server import free_port

from . import loadgen
from .apps import PLATFORM_PEERS
from .workload import MODES, PLATFORMS, SCRIPTS, Mode, Platform, build, write

ROOT = Path(__file__).resolve().parents[1]
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
SECRET = "benchmark-secret"
BASELINES = ("starlette", "raw-asgi")
#: The callhooks peer's store per ``--store`` (``redis``: a redis-server started by the driver on a free port).
# "none": store=None, the guarantees off (every delivery runs its handler), to show what they cost in the same run.
STORE_URLS = {"none": "none", "memory": "memory://", "sqlite": "sqlite:///{dir}/callhooks.db", "redis": ""}
WRK_MISSING = (
    "wrk is not installed, so the bundled Python load generator is used (it saturates before the fastest "
    "peers do). For the real figures install wrk: `sudo apt-get install wrk` (Debian/Ubuntu), `brew install wrk`."
)


class BenchmarkError(RuntimeError):
    """A peer did not start, answered errors, or handled a different number of events than were sent."""


@dataclass(frozen=True)
class Settings:
    peers: tuple[str, ...]
    modes: tuple[Mode, ...]
    rounds: int
    duration: float
    warmup: float
    connections: int
    calls: int  #: distinct calls in a per-call request file (more than the verified-token cache holds)
    in_flight: int  #: calls whose events are interleaved at any time
    worst_requests: int  #: distinct tokens in a worst-case request file
    loadgen: str  #: "wrk" or "python"
    #: The callhooks peer's stores (memory, sqlite, redis: a redis-server started here): one callhooks peer per
    #: store, named ``callhooks-<store>`` but for memory, interleaved with the others in every round.
    stores: tuple[str, ...] = ("memory",)
    workers: int = 1  #: processes serving each peer
    platform: Platform = "catapult"  #: whose callbacks are sent (workload.PLATFORMS)


@dataclass(frozen=True)
class Measurement:
    round: int
    mode: str
    peer: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    handled: int
    #: CPU seconds the peer's server processes took during the measured load (user + system; nan where the
    #: platform does not say): requests per CPU second compare peers, or stores, whatever else the machine runs.
    cpu_s: float = float("nan")

    @property
    def per_cpu_s(self) -> float:
        """Requests answered per second of the server's CPU."""
        return self.requests / self.cpu_s if self.cpu_s > 0 else float("nan")


def _pin(core: int | None) -> Callable[[], None] | None:
    if core is None:
        return None
    return lambda: os.sched_setaffinity(0, {core})


def _cores() -> tuple[int | None, int | None]:
    """(server core, load-generator core), or no pinning on a one-core machine."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return (available[0], available[1]) if len(available) >= 2 else (None, None)


class PeerServer:
    """One peer served by ``benchmarks.serve`` in ``workers`` processes sharing one port, pinned to the server
    core. ``store``: the callhooks peer's ``CALLHOOKS_STORE``."""

    def __init__(
        self,
        name: str,
        core: int | None,
        *,
        workers: int = 1,
        store: str = "memory://",
        wrapper: Sequence[str] = (),
        platform: Platform = "catapult",
    ) -> None:
        self.name = name
        self.port = free_port()
        env = {**os.environ, "CALLHOOKS_SECRET": SECRET, "CALLHOOKS_STORE": store, "PYTHONPATH": str(ROOT)}
        # ``wrapper``: a command the server runs under (benchmarks.instructions: valgrind).
        module = PLATFORM_PEERS[platform][name]
        command = [*wrapper, sys.executable, "-m", "benchmarks.serve", module, "--port", str(self.port)]
        if workers > 1:
            command.append("--shared")
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, preexec_fn=_pin(core))
            for _ in range(workers)
        ]
        self.control_ports: list[int] = []

    def wait_ready(self, timeout: float = 60.0) -> None:
        for process in self.processes:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], timeout)
            line = process.stdout.readline() if ready else b""
            if not line:
                self.stop()
                raise BenchmarkError(f"{self.name} did not start within {timeout:.0f} s (exit code {process.poll()})")
            self.control_ports.append(json.loads(line)["control"])

    def handled(self) -> int:
        """Events the peer's handlers saw, summed over its worker processes."""
        total = 0
        for port in self.control_ports:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                data = b""
                while chunk := conn.recv(64):
                    data += chunk
            total += int(data)
        return total

    def settled_count(self, timeout: float = 5.0) -> int:
        """The tally once requests still in flight when the load generator stopped have been handled."""
        deadline = time.monotonic() + timeout
        previous = self.handled()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            current = self.handled()
            if current == previous:
                return current
            previous = current
        raise BenchmarkError(f"{self.name} was still handling requests {timeout:.0f} s after the load stopped")

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the server processes have taken so far (Linux: ``/proc``; else nan)."""
        total = 0.0
        for process in self.processes:
            try:
                stat = Path(f"/proc/{process.pid}/stat").read_text()
            except OSError:
                return float("nan")
            fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        return total

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _load(settings: Settings, port: int, requests: Path, duration: float, core: int | None) -> dict[str, int]:
    if settings.loadgen == "wrk":
        seconds = max(1, round(duration))  # wrk takes whole seconds
        command = [
            "wrk", "-t1", f"-c{settings.connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", str(requests),
        ]  # fmt: skip
    else:  # in this process, which run() pinned to the load core
        return uvloop.run(loadgen.load(port, requests, connections=settings.connections, duration=duration))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, preexec_fn=_pin(core), check=False)
    results = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not results:
        raise BenchmarkError(f"load generator failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    result: dict[str, int] = json.loads(results[-1])
    return result


def _measure(
    settings: Settings, server: PeerServer, requests: Path, duration: float, core: int | None
) -> tuple[dict[str, int], int, float]:
    """Load ``server`` and check its handlers saw every request answered (wrk may also have a request in
    flight per connection when it stops: those reach the handler but are not counted as completed). Also the
    server's CPU seconds meanwhile."""
    before = server.settled_count()
    cpu_before = server.cpu_seconds()
    result = _load(settings, server.port, requests, duration, core)
    cpu = server.cpu_seconds() - cpu_before
    handled = server.settled_count() - before
    if result["non_2xx"] or result["socket_errors"]:
        raise BenchmarkError(
            f"{server.name}: {result['non_2xx']} non-2xx answers, {result['socket_errors']} socket errors"
        )
    slack = settings.connections if settings.loadgen == "wrk" else 0
    if not result["requests"] <= handled <= result["requests"] + slack:
        raise BenchmarkError(f"{server.name}: {result['requests']} requests answered but its handlers saw {handled}")
    return result, handled, cpu


def _request_files(settings: Settings, mode: Mode, round_number: int, directory: Path) -> tuple[Path, Path]:
    """(warm-up file, measured file): fresh calls every round, so no token was seen by the receiver before."""
    signer = CallbackSigner(SECRET)
    calls = settings.worst_requests // len(SCRIPTS[settings.platform]) if mode.urls == "worst" else settings.calls
    # Call numbers (and so contexts and tokens) never repeat across rounds, modes, or warm-up and measurement.
    first = (round_number * len(MODES) + list(MODES).index(mode.name)) * 10**8
    in_flight, platform = settings.in_flight, settings.platform
    measured = build(mode, signer, calls=calls, in_flight=in_flight, first_call=first, platform=platform)
    warmup_calls, warmup_first = max(1, calls // 8), first + 5 * 10**7
    warmup = build(mode, signer, calls=warmup_calls, in_flight=in_flight, first_call=warmup_first, platform=platform)
    name = f"{mode.name}-{round_number}"
    return write(warmup, directory / f"{name}-warmup.txt"), write(measured, directory / f"{name}.txt")


def run(settings: Settings, out: Callable[[str], None] = print) -> list[Measurement]:
    server_core, load_core = _cores()
    affinity = os.sched_getaffinity(0) if load_core is not None else None
    if load_core is not None:
        os.sched_setaffinity(0, {load_core})  # this process runs the Python load generator; servers get their own
    out(
        f"platform: {settings.platform}; load generator: {settings.loadgen};"
        f" cores: server {server_core}, load {load_core}"
        f" (of {os.cpu_count()}); {settings.connections} connections; {settings.rounds} round(s) of"
        f" {settings.duration:g} s per target after {settings.warmup:g} s warm-up"
    )
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="callhooks-bench-store-") as store_dir:
        redis = RedisServer(Path(store_dir)) if "redis" in settings.stores else None
        if redis is not None:
            redis.start()
        try:
            urls = {store: STORE_URLS[store].format(dir=store_dir) for store in settings.stores}
            if redis is not None:
                urls["redis"] = redis.url
            out(f"callhooks stores: {', '.join(urls.values())}; {settings.workers} worker process(es) per peer")
            _run_rounds(settings, urls, server_core, load_core, measurements, out)
        finally:
            if redis is not None:
                redis.stop()
            if affinity is not None:
                os.sched_setaffinity(0, affinity)
    return measurements


def _run_rounds(
    settings: Settings,
    store_urls: dict[str, str],
    server_core: int | None,
    load_core: int | None,
    measurements: list[Measurement],
    out: Callable[[str], None],
) -> None:
    servers: dict[str, PeerServer] = {}
    for name in settings.peers:
        for store, url in store_urls.items() if name == "callhooks" else [("memory", "memory://")]:
            label = name if store == "memory" else f"{name}-{store}"
            servers[label] = PeerServer(
                name, server_core, workers=settings.workers, store=url, platform=settings.platform
            )
    try:
        for server in servers.values():
            server.wait_ready()
        with tempfile.TemporaryDirectory(prefix="callhooks-bench-") as tmp:
            for round_number in range(1, settings.rounds + 1):
                for mode in settings.modes:
                    warmup_file, measured_file = _request_files(settings, mode, round_number, Path(tmp))
                    for name, server in servers.items():
                        if settings.warmup > 0:
                            _measure(settings, server, warmup_file, settings.warmup, load_core)
                        result, handled, cpu = _measure(settings, server, measured_file, settings.duration, load_core)
                        measurements.append(
                            Measurement(
                                round_number,
                                mode.name,
                                name,
                                rps=result["requests"] / (result["duration_us"] / 1e6),
                                p50_ms=result["p50_us"] / 1000,
                                p99_ms=result["p99_us"] / 1000,
                                requests=result["requests"],
                                handled=handled,
                                cpu_s=cpu,
                            )
                        )
                    out(_round_table(measurements, round_number, mode.name))
    finally:
        for server in servers.values():
            server.stop()


def _ratios(
    measurements: Sequence[Measurement], baseline: str, figure: Callable[[Measurement], float] = lambda m: m.rps
) -> dict[tuple[int, str, str], float]:
    """Each measurement's req/s (or another ``figure``) over the baseline's in the same round and mode."""
    base = {(m.round, m.mode): figure(m) for m in measurements if m.peer == baseline}
    return {
        (m.round, m.mode, m.peer): figure(m) / base[m.round, m.mode] for m in measurements if (m.round, m.mode) in base
    }


def _round_table(measurements: Sequence[Measurement], round_number: int, mode: str) -> str:
    rows = [m for m in measurements if m.round == round_number and m.mode == mode]
    ratios = {b: _ratios(rows, b) for b in BASELINES}
    lines = [f"round {round_number} {mode}"]
    for m in rows:
        paired = "  ".join(
            f"vs {b} {ratios[b][m.round, m.mode, m.peer]:.2f}"
            for b in BASELINES
            if (m.round, m.mode, m.peer) in ratios[b]
        )
        lines.append(
            f"  {m.peer:<10} {m.rps:>9.0f} req/s  {m.per_cpu_s:>9.0f} req/CPU-s  p50 {m.p50_ms:6.2f} ms"
            f"  p99 {m.p99_ms:6.2f} ms  {paired}"
            f"  (handled {m.handled})"
        )
    return "\n".join(lines)


def summary(measurements: Sequence[Measurement]) -> str:
    """The median over rounds of each figure, one row per mode and peer, as a Markdown table: requests per second
    against each baseline's, and per second of server CPU against bare Starlette's (the fairer one when the
    machine is shared: a peer's CPU time does not count the time the scheduler gave to others)."""
    ratios = {b: _ratios(measurements, b) for b in BASELINES}
    per_cpu = _ratios(measurements, "starlette", lambda m: m.per_cpu_s)
    lines = [
        "| mode | peer | req/s | p50 ms | p99 ms | vs bare Starlette | vs raw ASGI | per CPU-s vs bare Starlette |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    modes = list(dict.fromkeys(m.mode for m in measurements))
    peers = list(dict.fromkeys(m.peer for m in measurements))
    for mode in modes:
        for peer in peers:
            rows = [m for m in measurements if m.mode == mode and m.peer == peer]
            if not rows:
                continue
            paired = [
                [ratios[b][m.round, mode, peer] for m in rows if (m.round, mode, peer) in ratios[b]] for b in BASELINES
            ]
            paired.append([per_cpu[m.round, mode, peer] for m in rows if (m.round, mode, peer) in per_cpu])
            cells = [f"{statistics.median(values):.2f}" if values else "-" for values in paired]
            lines.append(
                f"| {mode} | {peer} | {statistics.median(m.rps for m in rows):.0f}"
                f" | {statistics.median(m.p50_ms for m in rows):.2f} | {statistics.median(m.p99_ms for m in rows):.2f}"
                f" | {cells[0]} | {cells[1]} | {cells[2]} |"
            )
    return "\n".join(lines)


def store_ratios(measurements: Sequence[Measurement]) -> str:
    """Each store's callhooks peer against the memory store's (``callhooks``), per mode: the median and range over
    rounds of the paired ratios of requests per second of the server's CPU (redis-server's own not counted:
    another process) and of requests per second. Empty when only one store ran."""
    memory = {(m.round, m.mode): m for m in measurements if m.peer == "callhooks"}
    lines = []
    for mode in dict.fromkeys(m.mode for m in measurements):
        for peer in dict.fromkeys(m.peer for m in measurements if m.peer.startswith("callhooks-")):
            pairs = [(m, memory[m.round, mode]) for m in measurements if m.peer == peer and m.mode == mode]
            pairs = [(m, base) for m, base in pairs if m.round == base.round]
            if not pairs:
                continue
            cpu = sorted(m.per_cpu_s / base.per_cpu_s for m, base in pairs)
            wall = sorted(m.rps / base.rps for m, base in pairs)
            lines.append(
                f"{mode} {peer} vs callhooks (memory): per server-CPU second {statistics.median(cpu):.2f}"
                f" ({cpu[0]:.2f}-{cpu[-1]:.2f}), per second {statistics.median(wall):.2f}"
                f" ({wall[0]:.2f}-{wall[-1]:.2f})"
            )
    return "\n".join(lines)


def _choose_loadgen(choice: str, out: Callable[[str], None]) -> str:
    if choice == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if choice == "wrk":
        raise BenchmarkError(WRK_MISSING.split(". ", 1)[1])
    out(WRK_MISSING)
    return "python"


def _csv(text: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in allowed]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown}: choose from {', '.join(allowed)}")
    return chosen


def platform_modes(platform: str) -> tuple[str, ...]:
    """The modes a platform's request files exist for (Bandwidth v2 and Twilio: per-call URLs only)."""
    return tuple(MODES) if platform == "catapult" else ("post-per-call", "get-per-call")


def _peers_and_modes(platform: str, peers: str | None, modes: str | None) -> tuple[tuple[str, ...], tuple[Mode, ...]]:
    """``--peers`` and ``--modes`` checked against what ``platform`` has (both: all of it when not given)."""
    known_peers, known_modes = list(PLATFORM_PEERS[platform]), platform_modes(platform)
    try:
        chosen_peers = _csv(peers, known_peers, f"{platform} peers") if peers else tuple(known_peers)
        chosen_modes = _csv(modes, known_modes, f"{platform} modes") if modes else known_modes
    except argparse.ArgumentTypeError as exc:
        raise BenchmarkError(str(exc)) from None
    return chosen_peers, tuple(MODES[m] for m in chosen_modes)


def parse_settings(
    argv: Sequence[str] | None = None, out: Callable[[str], None] = print
) -> tuple[Settings, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--platform", choices=PLATFORMS, default="catapult", help="whose callbacks are sent")
    parser.add_argument("--peers", help="comma-separated (default: every peer of the platform)")
    parser.add_argument("--modes", help="comma-separated (default: every mode of the platform)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of measured load per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--calls", type=int, default=8192, help="distinct calls in a per-call request file")
    parser.add_argument("--in-flight", type=int, default=512, help="calls interleaved at any time")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--store",
        type=lambda t: _csv(t, list(STORE_URLS), "stores"),
        default=("memory",),
        help="the callhooks peer's store, or several (memory,sqlite,redis): one callhooks peer per store",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes serving each peer (one port)")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--smoke", action="store_true", help="a fraction of a second per target")
    args = parser.parse_args(argv)
    peers, modes = _peers_and_modes(args.platform, args.peers, args.modes)
    if "redis" in args.store and find_redis_server() is None:
        raise BenchmarkError("--store redis needs redis-server: `sudo apt-get install redis-server`")
    if args.workers < 1:
        raise BenchmarkError("--workers must be 1 or more")
    if args.smoke:  # the Python load generator unless told otherwise: wrk runs whole seconds only
        loadgen = _choose_loadgen("python" if args.loadgen == "auto" else args.loadgen, out)
        settings = Settings(
            peers, modes, rounds=1, duration=0.25, warmup=0.0, connections=4,
            calls=64, in_flight=16, worst_requests=256, loadgen=loadgen, stores=args.store, workers=args.workers,
            platform=args.platform,
        )  # fmt: skip
    else:
        settings = Settings(
            peers, modes, args.rounds, args.duration, args.warmup,
            args.connections, args.calls, args.in_flight, worst_requests=max(16384, 2 * args.calls),
            loadgen=_choose_loadgen(args.loadgen, out), stores=args.store, workers=args.workers,
            platform=args.platform,
        )  # fmt: skip
    return settings, args.json


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings, json_path = parse_settings(argv)
        measurements = run(settings)
    except (BenchmarkError, OSError) as exc:  # OSError: a peer's control port went away (it crashed)
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print()
    print(summary(measurements))
    if ratios := store_ratios(measurements):
        print()
        print(ratios)
    if json_path is not None:
        json_path.write_text(json.dumps([m.__dict__ for m in measurements], indent=1))
    return 0
