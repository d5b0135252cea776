"""The benchmarks still run: every peer served over loopback, every mode loaded briefly, every handled count
checked against the requests answered (no speed is asserted: this machine's timing is not a test)."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest

from benchmarks import instructions, memory, micro, run
from benchmarks.apps import PEERS, PLATFORM_PEERS
from benchmarks.workload import MODES, SCRIPTS
from callhooks.stores import Limits
from callhooks.testing.redis_server import find_redis_server


def test_every_peer_handles_every_mode_it_is_sent() -> None:
    settings, _ = run.parse_settings(["--smoke"], out=lambda _: None)
    measurements = run.run(settings, out=lambda _: None)
    assert {(m.mode, m.peer) for m in measurements} == {(mode, peer) for mode in MODES for peer in PEERS}
    for m in measurements:
        assert m.requests > 0, m
        assert m.handled == m.requests, m  # the Python load generator waits for every answer
    table = run.summary(measurements)
    assert len(table.splitlines()) == 2 + len(measurements)


@pytest.mark.parametrize("platform", ["bandwidth", "twilio"])
def test_every_peer_of_a_platform_handles_its_callbacks(platform: str) -> None:
    # Bandwidth v2's JSON with the Basic credentials, Twilio's signed forms: the callhooks peer answers 401/403
    # (a non-2xx fails the run) unless the load generator sends what it checks.
    settings, _ = run.parse_settings(["--smoke", "--platform", platform], out=lambda _: None)
    measurements = run.run(settings, out=lambda _: None)
    assert {(m.mode, m.peer) for m in measurements} == {
        (mode, peer) for mode in ("post-per-call", "get-per-call") for peer in PLATFORM_PEERS[platform]
    }
    for m in measurements:
        assert m.requests > 0 and m.handled == m.requests, m
    assert "per CPU-s vs bare Starlette" in run.summary(measurements)


def test_a_platform_refuses_modes_and_peers_it_has_no_request_files_for() -> None:
    with pytest.raises(run.BenchmarkError, match="post-single"):
        run.parse_settings(["--platform", "twilio", "--modes", "post-single"], out=lambda _: None)
    with pytest.raises(run.BenchmarkError, match="fastapi"):
        run.parse_settings(["--platform", "bandwidth", "--peers", "fastapi"], out=lambda _: None)


@pytest.mark.skipif(  # .ci/run installs wrk: in CI its absence fails the test
    shutil.which("wrk") is None and not os.environ.get("CI"), reason="wrk not installed (sudo apt-get install wrk)"
)
@pytest.mark.parametrize(("platform", "mode"), [("catapult", "get-per-call"), ("twilio", "post-per-call")])
def test_wrk_script_replays_per_call_urls_and_counts_are_checked(platform: str, mode: str) -> None:
    # Twilio: the script sends each line's headers (the signature, the form's media type, the idempotency token
    # whose lap mark it rewrites), else the peer answers 403 and the run fails.
    argv = ["--smoke", "--loadgen", "wrk", "--peers", "callhooks", "--modes", mode, "--platform", platform]
    settings, _ = run.parse_settings(argv, out=lambda _: None)
    (measurement,) = run.run(settings, out=lambda _: None)
    # wrk may leave one request per connection unanswered when it stops; the handler still saw it.
    assert measurement.requests <= measurement.handled <= measurement.requests + settings.connections


def test_micro_benchmarks_route_every_event_type_they_time() -> None:
    results = micro.report(micro.SMOKE)  # raises unless every timed request reached the handler with a 200
    assert set(results["asgi_us"]) == set(results["parse_us"]) and len(results["parse_us"]) == 18
    assert all(value > 0 for value in results["verify_us"].values())
    assert "token verification" in micro.render(results)


@pytest.mark.parametrize("platform", ["bandwidth", "twilio"])
def test_micro_benchmarks_of_a_platform_route_every_event_of_its_call(platform: str) -> None:
    results = micro.platform_report(platform, micro.SMOKE)  # raises unless each request was routed and got a 200
    assert [name.split(" ", 1)[1] for name in results] == list(SCRIPTS[platform])
    assert all(value > 0 for row in results.values() for value in row.values())
    assert "**median**" in micro.render_platform(platform, results)


@pytest.mark.parametrize(
    ("store", "workers"),
    [
        ("memory,sqlite", 1),
        pytest.param(
            "redis",
            2,
            marks=pytest.mark.skipif(
                find_redis_server() is None and not os.environ.get("CI"),
                reason="redis-server not installed (sudo apt-get install redis-server)",
            ),
        ),
    ],
)
def test_store_modes_run_every_event_once_with_one_or_more_workers(store: str, workers: int) -> None:
    # Every request is a distinct event, so with the guarantees on each one reaches a handler exactly once, also
    # when several worker processes share the port (their tallies are summed).
    argv = ["--smoke", "--peers", "callhooks", "--modes", "post-per-call,get-single", "--store", store]
    settings, _ = run.parse_settings([*argv, "--workers", str(workers)], out=lambda _: None)
    lines: list[str] = []
    measurements = run.run(settings, out=lines.append)
    assert f"{workers} worker process(es)" in lines[1] and store.split(",")[-1] in lines[1]
    peers = ["callhooks" if name == "memory" else f"callhooks-{name}" for name in store.split(",")]
    assert [(m.mode, m.peer) for m in measurements] == [
        (mode, p) for mode in ("post-per-call", "get-single") for p in peers
    ]
    for m in measurements:
        assert m.requests > 0 and m.handled == m.requests, m


def test_memory_bounds_hold_with_more_events_and_urls_than_they_keep() -> None:
    # benchmarks/memory.py with small numbers: more distinct tokens than the verified-token cache holds and more
    # records than memory:// may keep. Counts entries, never time or bytes.
    bounds = asyncio.run(memory.push(5000, 5000, in_flight=64, limits=Limits(memory_max_keys=700)))
    assert bounds.events == 5000  # one event per call: 5,000 tokens
    assert 0 < bounds.store_keys <= 700
    assert bounds.token_cache == bounds.token_cache_max < 5000


@pytest.mark.skipif(  # .ci/run installs valgrind: in CI its absence fails the test
    shutil.which("valgrind") is None and not os.environ.get("CI"),
    reason="valgrind not installed (sudo apt-get install valgrind)",
)
@pytest.mark.timeout(300)  # the peer starts twice under callgrind, about 50 times slower than without
def test_instruction_counts_come_from_two_served_runs_of_a_peer() -> None:
    lines: list[str] = []
    (counted,) = instructions.run(["raw-asgi"], [MODES["post-single"]], ["memory"], 12, lines.append)
    # The raw-ASGI peer under uvicorn: its own work is tens of thousands of instructions, uvicorn's more.
    assert (counted.mode, counted.peer) == ("post-single", "raw-asgi")
    assert 20_000 < counted.instructions < 2_000_000, counted
    assert "raw-asgi" in lines[0] and f"{counted.instructions:,}" in instructions.table([counted])
