"""Valid callbacks served per 10 s while one anonymous client attacks the receiver (issue 7, findings 1, 2, 4;
issue 23, findings 4 and 5).

Runs ``callhooks run`` from the source tree given by ``--source`` (a checkout of ``main`` for "before", this
branch for "after") on loopback, starts the attack, and counts the valid signed callbacks a well-behaved
client gets answered with 200 in 10 seconds; the same server also counts them for 10 seconds without the
attack just before and just after it (``baseline_before_after``, ``share_of_baseline``). The client and the
attackers use this interpreter; the server imports ``callhooks`` from ``--source``.

    python benchmarks/attacks/valid_under_attack.py --source /path/to/main-checkout --attack all
    python benchmarks/attacks/valid_under_attack.py --source . --attack all

Attacks:
  none        baseline, no attack
  log-path    2 connections sending GETs with a 54,000-character path (the access-log redaction regex)
  zip-token   2 connections at ~7 req/s each with a forged compressed token that inflates to 40 MB
  slow-conn   1,100 idle connections held open, server limited to 1,024 file descriptors
  body-after-403   4 connections posting a chunked body with a forged token, sending 64 KiB chunks flat out
              after the 403 (and connecting again when the server closes)
  forged-requests  for comparison: 4 keep-alive connections sending forged-token POSTs (a 200-byte body each)
              back to back, the request rate any client can reach
  drip-after-403   1,500 connections refused with a 403, each sending a 64-byte chunk a second afterwards
  idle-keep-alive  1,500 connections that made one request (GET /healthz) and stay idle
  (both open at most 300 new connections a second, replacing the ones the server closed, and get 6 s to
  build up before the count: the same attacker before and after a fix, not a connection flood)

Each line also gives the other statuses the valid client got (503: over --limit-concurrency), and the CPU
seconds the server process used in the window (on this shared machine the attacker's own CPU, kernel copies
included, competes with the server and the valid client: the server's share tells the two apart).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from base64 import urlsafe_b64encode
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

SECRET = "bench-secret"
WINDOW = 10.0
APP = f"""
from callhooks import CallHooks
hooks = CallHooks(secret={SECRET!r}, public_url="http://127.0.0.1")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def valid_token() -> str:
    from itsdangerous import URLSafeSerializer

    # The callhooks token format (salt and payload), made here so the client works against any version.
    return URLSafeSerializer(SECRET, salt="callhooks.callback-url").dumps({"k": _key_id(SECRET)})


def _key_id(secret: str) -> str:
    import hashlib

    return hashlib.sha256(f"callhooks.callback-url:{secret}".encode()).hexdigest()[:8]


def zip_bomb_token(inflated: int = 40_000_000) -> str:
    payload = b'{"k":"deadbeef","c":{"x":"' + b"A" * inflated + b'"}}'
    return "." + urlsafe_b64encode(zlib.compress(payload, 9)).decode().rstrip("=") + "." + "x" * 27


def start_server(source: Path, port: int, workdir: Path, fd_limit: int | None) -> subprocess.Popen[bytes]:
    (workdir / "bench_app.py").write_text(APP)
    env = {**os.environ, "PYTHONPATH": f"{workdir}{os.pathsep}{source}"}

    def limit() -> None:
        if fd_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    command = [sys.executable, "-c", "from callhooks.cli import main; raise SystemExit(main())"]
    command += ["run", "bench_app:hooks", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=limit
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def count_valid(port: int, seconds: float) -> Counter[str]:
    """The statuses (and transport errors) a well-behaved client gets for valid callbacks in ``seconds``."""
    url = f"http://127.0.0.1:{port}/{valid_token()}"
    body = {"eventType": "answer", "callId": "c-bench", "to": "+19195551313"}
    outcomes: Counter[str] = Counter()
    end = time.monotonic() + seconds
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < end:
            try:
                outcomes[str(client.post(url, json=body).status_code)] += 1
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1
    return outcomes


def _raw(port: int, request: bytes, stop: threading.Event, rate: float | None) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(request)
                while sock.recv(65536):
                    pass
        except OSError:
            pass
        if rate is not None:
            stop.wait(max(0.0, 1 / rate - (time.monotonic() - started)))


def attack_threads(kind: str, port: int, stop: threading.Event) -> list[threading.Thread]:
    if kind == "log-path":
        request = b"GET /" + b"a" * 54_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        return [threading.Thread(target=_raw, args=(port, request, stop, None)) for _ in range(2)]
    if kind == "zip-token":
        token = zip_bomb_token().encode()
        request = b"GET /" + token + b"?eventType=answer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        return [threading.Thread(target=_raw, args=(port, request, stop, 7.0)) for _ in range(2)]
    if kind == "slow-conn":
        return [threading.Thread(target=_hold, args=(port, stop, 1100))]
    if kind == "body-after-403":
        return [threading.Thread(target=_stream_after_refusal, args=(port, stop)) for _ in range(4)]
    if kind == "forged-requests":
        body = b'{"eventType":"answer","callId":"c-x","to":"+19195551313","pad":"' + b"p" * 140 + b'"}'
        request = _forged_head(f"Content-Length: {len(body)}") + body
        return [threading.Thread(target=_back_to_back, args=(port, request, stop)) for _ in range(4)]
    if kind == "drip-after-403":
        drip = b"40\r\n" + b"d" * 64 + b"\r\n"
        return [threading.Thread(target=_hold, args=(port, stop, 1500, _forged_chunked_head(), drip, 1.0, 300))]
    if kind == "idle-keep-alive":
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        return [threading.Thread(target=_hold, args=(port, stop, 1500, request, b"", 1.0, 300))]
    return []


def _forged_head(framing: str) -> bytes:
    forged = valid_token()[:-4] + "AAAA"
    return f"POST /{forged} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode()


def _forged_chunked_head() -> bytes:
    return _forged_head("Transfer-Encoding: chunked")


def _back_to_back(port: int, request: bytes, stop: threading.Event) -> None:
    """Send ``request`` on one keep-alive connection, read its answer, again, until ``stop``."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                while not stop.is_set():
                    sock.sendall(request)
                    answer = b""
                    while b"}" not in answer:  # the JSON refusal's end
                        got = sock.recv(65536)
                        if not got:
                            raise ConnectionResetError
                        answer += got
        except OSError:
            pass


def _stream_after_refusal(port: int, stop: threading.Event) -> None:
    """Post a chunked body with a forged token and keep sending 64 KiB chunks, whatever the server answers."""
    chunk = b"10000\r\n" + b"y" * 65536 + b"\r\n"
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(_forged_chunked_head())
                while not stop.is_set():
                    sock.sendall(chunk)
        except OSError:
            pass  # closed by the server: connect again


def _hold(
    port: int,
    stop: threading.Event,
    count: int,
    first: bytes = b"",
    drip: bytes = b"",
    every: float = 0.2,
    new_per_round: int | None = None,
) -> None:
    """Keep ``count`` connections open, each having sent ``first`` and then ``drip`` every ``every`` seconds;
    replace the ones the server closed, at most ``new_per_round`` each round."""
    held: list[socket.socket] = []
    while not stop.is_set():
        # Keep `count` connections open; replace the ones the server closed.
        alive = []
        for sock in held:
            try:
                sock.setblocking(False)
                if sock.recv(65536) == b"":
                    sock.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                sock.close()
                continue
            try:
                if drip:
                    sock.send(drip)
            except OSError:
                sock.close()
                continue
            alive.append(sock)
        held = alive
        target = count if new_per_round is None else min(count, len(held) + new_per_round)
        while len(held) < target and not stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                sock.sendall(first)
                held.append(sock)
            except OSError:
                break
        stop.wait(every)
    for sock in held:
        sock.close()


def measure(source: Path, kind: str) -> dict[str, object]:
    """Valid callbacks in a window under attack ``kind``, on a server that also serves a window without it just
    before and just after (the machine's load drifts: the baseline is taken beside the attack, not in
    another run)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(source, port, Path(workdir), 1024 if kind == "slow-conn" else None)
        # The attacker is a process of its own: its threads would otherwise hold the valid client's GIL.
        stop = multiprocessing.get_context("fork").Event()
        attacker = multiprocessing.get_context("fork").Process(target=_attack, args=(kind, port, stop))
        baseline: list[int] = []
        try:
            if kind != "none":
                baseline.append(count_valid(port, WINDOW)["200"])
                attacker.start()
                stop.wait(WARMUP.get(kind, 2.0))  # let the attack reach its steady state
            used = _cpu_seconds(server.pid)
            outcomes = count_valid(port, WINDOW)
            used = _cpu_seconds(server.pid) - used
            if kind != "none":
                stop.set()
                attacker.join(60)
                baseline.append(count_valid(port, WINDOW)["200"])
        finally:
            stop.set()
            if attacker.is_alive():
                attacker.kill()
            server.terminate()
            server.wait(15)
    served = outcomes.pop("200", 0)
    result: dict[str, object] = {"source": str(source), "attack": kind, "valid_callbacks_per_10s": served}
    if baseline:
        result["baseline_before_after"] = baseline
        result["share_of_baseline"] = round(served / max(1.0, sum(baseline) / len(baseline)), 3)
    return {**result, "other": dict(outcomes), "server_cpu_seconds": round(used, 2)}


def _attack(kind: str, port: int, stop: Any) -> None:
    """The attacker process: the attack's threads, until ``stop`` (a multiprocessing event) is set."""
    done = threading.Event()
    threads = attack_threads(kind, port, done)
    for thread in threads:
        thread.start()
    stop.wait()
    done.set()
    for thread in threads:
        thread.join(30)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


WARMUP = {"drip-after-403": 6.0, "idle-keep-alive": 6.0}
ATTACKS = (
    "none",
    "log-path",
    "zip-token",
    "slow-conn",
    "body-after-403",
    "forged-requests",
    "drip-after-403",
    "idle-keep-alive",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="source tree whose callhooks the server runs")
    parser.add_argument("--attack", choices=[*ATTACKS, "all"], nargs="+", default=["all"], help="one or more")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    kinds = list(ATTACKS) if "all" in args.attack else args.attack
    for kind in kinds:
        print(json.dumps(measure(args.source.resolve(), kind)), flush=True)


if __name__ == "__main__":
    main()
