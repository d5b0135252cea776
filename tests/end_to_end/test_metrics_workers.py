"""``/metrics`` under ``callhooks run --workers 2`` with ``PROMETHEUS_MULTIPROC_DIR``: whichever worker answers
the scrape, the counters add up every worker's callbacks, equal to what the test sent per event and status."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from callhooks import CallHooks
from callhooks.testing import free_port
from tests.helpers.processes import ROOT, server_process
from tests.receiver.test_metrics import by_label, path_of, samples

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

SECRET = "metrics-workers-secret"
BIN = Path(sys.executable).parent
ROUNDS = 40  # at most: sending stops once both workers answered some and at least 5 rounds went
PER_ROUND = 8  # answers sent at once, each on its own connection


async def _send_round(base: str, path: str, round_no: int, sent: Counter[tuple[str, str]], pids: set[int]) -> None:
    async def one(body: dict[str, str]) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:  # a new connection each time
            response = await http.post(path, json=body)
        sent[(body["eventType"], str(response.status_code))] += 1
        if response.status_code == 200 and body["eventType"] == "answer":
            pids.add(response.json()["pid"])

    bodies = [{"eventType": "answer", "callId": f"c-{round_no}-{n}"} for n in range(PER_ROUND)]
    bodies.append({"eventType": "hangup", "callId": f"c-{round_no}-0", "cause": "NORMAL_CLEARING"})
    await asyncio.gather(*(one(body) for body in bodies))


async def test_two_workers_counters_add_up(tmp_path: Path) -> None:
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left from an earlier run")  # `callhooks run` clears it
    env = {
        **os.environ,
        "CALLHOOKS_SECRET": SECRET,
        "CALLHOOKS_METRICS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PYTHONPATH": str(ROOT),
    }
    command = [str(BIN / "callhooks"), "run", "tests.end_to_end.metrics_app:hooks", "--quiet"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    path = path_of(CallHooks(secret=SECRET).callback_url(public_url="http://127.0.0.1"))
    sent: Counter[tuple[str, str]] = Counter()
    pids: set[int] = set()
    with server_process(command, env, port, quiet=True, startup_timeout=90):
        base = f"http://127.0.0.1:{port}"
        for round_no in range(ROUNDS):
            await _send_round(base, path, round_no, sent, pids)
            if len(pids) == 2 and round_no >= 4:
                break
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            forged = await http.post("/" + "x" * 40, json={"eventType": "answer", "callId": "c-x"})
            assert forged.status_code == 403
            total = sent.total()
            deadline = time.monotonic() + 10
            while True:  # each answer is counted right after it is sent: poll for the last ones, with a deadline
                scrapes = [samples((await http.get("/metrics")).text) for _ in range(4)]
                counted = [by_label(found, "callhooks_callbacks_total", "event", "status") for found in scrapes]
                if all(c.total() == total for c in counted) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)  # polling interval, bounded by the deadline
        live_gauges = {pid: (metrics_dir / f"gauge_livesum_{pid}.db").exists() for pid in pids}

    print(f"\n2 workers: {total} callbacks, pids {sorted(pids)}, sent {dict(sent)}")
    assert len(pids) == 2, f"one worker took every answer: {pids}"
    assert sent == {("answer", "200"): total - total // (PER_ROUND + 1), ("hangup", "500"): total // (PER_ROUND + 1)}
    for found, by_event in zip(scrapes, counted, strict=True):  # every scrape, whichever worker answered it
        assert by_event == sent
        assert by_label(found, "callhooks_rejections_total", "reason", "status") == {("token-altered", "403"): 1}
        runs = by_label(found, "callhooks_handler_duration_seconds_count", "handler")
        assert {h.rpartition(".")[2]: n for (h,), n in runs.items()} == {
            "answered": sent[("answer", "200")],
            "hung_up": sent[("hangup", "500")],
        }
    assert not (metrics_dir / "counter_999999.db").exists()
    # A worker that stopped marked itself dead: its live gauges are gone, its counters stay (they still count).
    assert live_gauges == dict.fromkeys(pids, True)
    assert not [pid for pid in pids if (metrics_dir / f"gauge_livesum_{pid}.db").exists()]
    assert all((metrics_dir / f"counter_{pid}.db").exists() for pid in pids)
