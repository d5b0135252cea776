"""Where a served callhooks receiver spends its time under load: py-spy samples the server process while the
load generator replays a request file, and the samples are summed per function.

    python -m benchmarks.profile                          # per-call URLs, POST, 10 s
    python -m benchmarks.profile --mode get-worst --seconds 20 --top 40

Needs py-spy (``pip install -e '.[bench]'``) and permission to read another process's memory (root, or
``kernel.yama.ptrace_scope=0``). The shares are of the server's samples, idle time included ("idle": the
event loop waiting in epoll), so they read as "of the wall-clock time of one core".
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from callhooks.signing import CallbackSigner

from .run import ROOT, SECRET, PeerServer, Settings, _cores, _load
from .workload import MODES, build, write


def _function(frame: str) -> str:
    # py-spy's raw frames look like "verify (callhooks/signing.py:118)": keep the name and the file.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path.removeprefix(str(ROOT) + '/')})"


def summarise(raw: str, top: int) -> str:
    """Inclusive and self shares per function from py-spy's collapsed stacks (``frame;frame;… count``)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_function(frame) for frame in stack.split(";")]
        for function in set(frames):
            inclusive[function] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive  self  function"]
    for function, count in inclusive.most_common(top):
        lines.append(f"{100 * count / total:8.1f}% {100 * own[function] / total:5.1f}%  {function}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--mode", choices=list(MODES), default="post-per-call")
    parser.add_argument("--peer", default="callhooks")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--store", default="memory://", help="the callhooks peer's store (none: no guarantees)")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 1
    server_core, load_core = _cores()
    loadgen = "wrk" if shutil.which("wrk") else "python"
    settings = Settings((args.peer,), (MODES[args.mode],), 1, args.seconds, 0, 32, 8192, 512, 16384, loadgen)
    server = PeerServer(args.peer, server_core, store=args.store)
    try:
        server.wait_ready()
        with tempfile.TemporaryDirectory(prefix="callhooks-profile-") as tmp:
            mode = MODES[args.mode]
            calls = 2048 if mode.urls == "worst" else 8192
            requests = write(build(mode, CallbackSigner(SECRET), calls=calls, in_flight=512), Path(tmp) / "r.txt")
            _load(settings, server.port, requests, 1, load_core)  # warm up
            output = Path(tmp) / "profile.txt"
            record = [
                py_spy, "record", "--pid", str(server.processes[0].pid), "--duration", str(args.seconds),
                "--rate", "250", "--format", "raw", "--idle", "--output", str(output),
            ]  # fmt: skip
            spy = subprocess.Popen(
                record,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            result = _load(settings, server.port, requests, args.seconds, load_core)
            _, errors = spy.communicate(timeout=args.seconds + 30)
            if spy.returncode != 0:
                print(f"py-spy failed: {errors.decode().strip()[-500:]}", file=sys.stderr)
                return 1
            rps = result["requests"] / (result["duration_us"] / 1e6)
            print(f"{args.peer} {args.mode}: {rps:.0f} req/s with {loadgen} while sampled")
            print(summarise(output.read_text(), args.top))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
