"""The benchmarks still run: every peer served over loopback, every mode loaded briefly, every handled count
checked against the requests answered (no speed is asserted: this machine's timing is not a test)."""

from __future__ import annotations

import shutil

import pytest

from benchmarks import micro, run
from benchmarks.apps import PEERS
from benchmarks.workload import MODES


def test_every_peer_handles_every_mode_it_is_sent() -> None:
    settings, _ = run.parse_settings(["--smoke"], out=lambda _: None)
    measurements = run.run(settings, out=lambda _: None)
    assert {(m.mode, m.peer) for m in measurements} == {(mode, peer) for mode in MODES for peer in PEERS}
    for m in measurements:
        assert m.requests > 0, m
        assert m.handled == m.requests, m  # the Python load generator waits for every answer
    table = run.summary(measurements)
    assert len(table.splitlines()) == 2 + len(measurements)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (sudo apt-get install wrk)")
def test_wrk_script_replays_per_call_urls_and_counts_are_checked() -> None:
    settings, _ = run.parse_settings(
        ["--smoke", "--loadgen", "wrk", "--peers", "callhooks", "--modes", "get-per-call"], out=lambda _: None
    )
    (measurement,) = run.run(settings, out=lambda _: None)
    # wrk may leave one request per connection unanswered when it stops; the handler still saw it.
    assert measurement.requests <= measurement.handled <= measurement.requests + settings.connections


def test_micro_benchmarks_route_every_event_type_they_time() -> None:
    results = micro.report(micro.SMOKE)  # raises unless every timed request reached the handler with a 200
    assert set(results["asgi_us"]) == set(results["parse_us"]) and len(results["parse_us"]) == 18
    assert all(value > 0 for value in results["verify_us"].values())
    assert "token verification" in micro.render(results)
