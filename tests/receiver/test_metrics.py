"""``CallHooks(metrics=True)``: Prometheus text at ``<receiver path>/metrics``, counted through a real uvicorn on
127.0.0.1: the counters equal what the test sent, per event type and status; its own credentials; off by default;
a store that is down does not break the scrape."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import JSONResponse

from callhooks import CallEvent, CallHooks
from callhooks.receiver.background import BackgroundSettings
from callhooks.stores import Limits, RetryPolicy
from callhooks.stores.memory import MemoryStore
from callhooks.testing import latest
from callhooks.testing.server import serve
from tests.helpers.redis_server import new_redis_server

pytestmark = pytest.mark.timeout(60)

SECRET = "metrics-tests-secret"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape: (name, sorted labels) → value."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def by_label(found: Samples, name: str, *labels: str) -> Counter[tuple[str, ...]]:
    """The samples of ``name`` as a Counter keyed by the values of ``labels`` (zero samples left out)."""
    counted: Counter[tuple[str, ...]] = Counter()
    for (sample, pairs), value in found.items():
        if sample == name and value:
            as_dict = dict(pairs)
            counted[tuple(as_dict[label] for label in labels)] += int(value)
    return counted


def scrape_until(client: httpx.Client, path: str, name: str, total: int, **kwargs: Any) -> Samples:
    """Scrape until the counts of ``name`` add up to ``total`` (the monitor hears an answer right after it is
    sent), polling with a deadline; the last scrape either way, so a wrong count fails with its figures."""

    def scrape() -> Samples:
        response = client.get(path, **kwargs)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return samples(response.text)

    return latest(scrape, lambda found: sum(by_label(found, name).values()) >= total)


def path_of(url: str) -> str:
    return urlsplit(url).path


def metered_hooks(**kwargs: Any) -> CallHooks:
    hooks = CallHooks(secret=SECRET, metrics=True, **kwargs)

    @hooks.on("answer")
    def answered(event: CallEvent) -> JSONResponse:
        return JSONResponse({"ok": event.call_id})

    @hooks.on("hangup")
    async def hung_up(event: CallEvent) -> None:
        raise RuntimeError("handler bug")

    return hooks


def event(kind: str, call: str, **fields: str) -> dict[str, str]:
    return {"eventType": kind, "callId": call, **fields}


def test_counters_equal_the_callbacks_sent_per_event_type_and_status() -> None:
    hooks = metered_hooks(public_url="http://127.0.0.1/hooks")  # memory://: duplicates are suppressed
    sent: Counter[tuple[str, str]] = Counter()
    rejected: Counter[tuple[str, str]] = Counter()
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        path = path_of(hooks.callback_url())
        mix = [event("answer", f"c-{n}") for n in range(5)]  # 200
        mix += [event("hangup", f"c-{n}", cause="NORMAL_CLEARING") for n in range(3)]  # 500
        mix += [event("dtmf", "c-0", dtmfDigit="1")]  # no handler: 200
        mix += [event("answer", "c-0")]  # a duplicate of the first: 200, handler not run again
        for body in mix:
            response = client.post(path, json=body)
            sent[(body["eventType"], str(response.status_code))] += 1
        for forged in ("/hooks/" + "x" * 40, path[:-3] + "abc"):
            response = client.post(forged, json=event("answer", "c-9"))
            rejected[(response.json()["reason"], str(response.status_code))] += 1
        json_type = {"content-type": "application/json"}
        response = client.post(path, content=b'{"eventType": "answer", "callId": 5}', headers=json_type)
        assert response.status_code == 422
        rejected[("invalid-field", "422")] += 1  # the reason the monitors are told (test_monitoring.py)
        found = scrape_until(client, "/hooks/metrics", "callhooks_callbacks_total", len(mix))

    assert sent == {("answer", "200"): 6, ("hangup", "500"): 3, ("dtmf", "200"): 1}
    assert by_label(found, "callhooks_callbacks_total", "event", "status") == sent
    assert rejected == {("token-altered", "403"): 2, ("invalid-field", "422"): 1}
    assert by_label(found, "callhooks_rejections_total", "reason", "status") == rejected
    assert by_label(found, "callhooks_duplicates_suppressed_total", "event") == {("answer",): 1}
    runs = by_label(found, "callhooks_handler_duration_seconds_count", "handler")
    assert {handler.rpartition(".")[2]: count for (handler,), count in runs.items()} == {"answered": 5, "hung_up": 3}
    assert found[("callhooks_handlers_in_flight", ())] == 0


def test_memory_evictions_are_counted_and_are_where_exactly_once_lapses() -> None:
    # Issue 23, finding 8: over memory://'s key cap the soonest-expiring keys go, an event's record among them,
    # and a redelivery of that event ran its handler again without a trace. Now each is counted.
    store = MemoryStore(Limits(memory_max_keys=50))
    hooks = metered_hooks(public_url="http://127.0.0.1", store=store)
    ran: list[str] = []

    @hooks.on("dtmf")
    def pressed(event: CallEvent) -> None:
        ran.append(event.dtmf_digit or "")

    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        path = path_of(hooks.callback_url())
        first = event("dtmf", "c-1", dtmfDigit="0", time="2026-11-01T10:00:00.000Z")
        assert client.post(path, json=first).status_code == 200
        assert client.post(path, json=first).status_code == 200  # within the cap: a duplicate, not run
        before = samples(client.get("/metrics").text)[("callhooks_store_evictions_total", ())]
        for n in range(1, 60):  # one URL, one call, 59 more events: their records take the store over its cap
            later = event("dtmf", "c-1", dtmfDigit="1", time=f"2026-11-01T10:00:{n:02d}.000Z")
            assert client.post(path, json=later).status_code == 200
        assert client.post(path, json=first).status_code == 200  # its record was evicted: run again
        after = samples(client.get("/metrics").text)[("callhooks_store_evictions_total", ())]
    assert before == 0
    assert ran.count("0") == 2  # exactly-once lapsed for the evicted record ...
    assert after == store.stats().evictions >= 10  # ... and the evictions say so, in /metrics and the stats


def test_off_by_default_and_its_own_credentials() -> None:
    plain = CallHooks(secret=SECRET, basic_auth=("cb-user", "cb-pass"))
    guarded = metered_hooks(metrics_auth=("scraper", "scrape-pass"), basic_auth=("cb-user", "cb-pass"))
    with serve(plain) as off, serve(guarded) as on:
        response = httpx.get(f"{off.url}/metrics", timeout=10)
        assert response.status_code == 404 and "CALLHOOKS_METRICS=1" in response.json()["detail"]
        metrics = f"{on.url}/metrics"
        for auth in (None, ("scraper", "wrong"), ("cb-user", "cb-pass"), ("scraper", "scrape-pass" + "x")):
            response = httpx.get(metrics, auth=auth, timeout=10)
            assert response.status_code == 401, auth
            assert response.headers["www-authenticate"].startswith("Basic ")
            assert "callhooks_" not in response.text
        # A callback token opens no metrics either.
        token = path_of(guarded.callback_url(public_url=on.url))
        assert httpx.get(f"{on.url}{token}/metrics", timeout=10).status_code != 200
        response = httpx.get(metrics, auth=("scraper", "scrape-pass"), timeout=10)
        assert response.status_code == 200 and "callhooks_callbacks_total" in response.text
        assert httpx.post(metrics, auth=("scraper", "scrape-pass"), timeout=10).status_code == 405
        assert httpx.get(f"{metrics}/more", auth=("scraper", "scrape-pass"), timeout=10).status_code == 404


def test_two_apps_in_one_process_keep_their_own_figures() -> None:
    first, second = metered_hooks(store=None), metered_hooks(store=None)
    with serve(first) as one, serve(second) as two:
        path = path_of(first.callback_url(public_url="http://127.0.0.1"))
        assert httpx.post(f"{one.url}{path}", json=event("answer", "c-1"), timeout=10).status_code == 200
        with httpx.Client(base_url=one.url, timeout=10) as client:
            mine = scrape_until(client, "/metrics", "callhooks_callbacks_total", 1)
        assert by_label(mine, "callhooks_callbacks_total", "event") == {("answer",): 1}
        other = samples(httpx.get(f"{two.url}/metrics", timeout=10).text)
        assert by_label(other, "callhooks_callbacks_total") == Counter()


def test_from_env_and_a_clear_error_without_prometheus_client(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"CALLHOOKS_SECRET": SECRET, "CALLHOOKS_METRICS": "1", "CALLHOOKS_METRICS_AUTH": "scraper:pa:ss"}
    hooks = CallHooks.from_env(env)
    endpoint = hooks.transport.endpoints["metrics"]
    assert getattr(endpoint, "auth", None) == ("scraper", "pa:ss")
    assert "metrics" not in CallHooks.from_env({"CALLHOOKS_SECRET": SECRET}).transport.endpoints
    with pytest.raises(ValueError, match="metrics=True"):
        CallHooks(secret=SECRET, metrics_auth=("a", "b"))
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.delitem(sys.modules, "callhooks.metrics")
    with pytest.raises(ImportError, match=r"pip install 'callhooks\[metrics\]'") as caught:
        CallHooks(secret=SECRET, metrics=True)
    assert "\n" not in str(caught.value)


def test_background_retries_failures_and_queue_depth() -> None:
    settings = BackgroundSettings(retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01))
    hooks = CallHooks(secret=SECRET, metrics=True, background=settings)

    @hooks.on("recording", background=True)
    async def transcribe(event: CallEvent) -> None:
        raise RuntimeError("transcriber down")

    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        path = path_of(hooks.callback_url(public_url="http://127.0.0.1"))
        for n in range(2):
            assert client.post(path, json=event("recording", f"c-{n}", recordingId=f"r-{n}")).status_code == 200
        scrape_until(client, "/metrics", "callhooks_background_failed_total", 2)
        # The gauge is read as a scrape starts: scrape again, now that both events were failed before it did.
        found = scrape_until(client, "/metrics", "callhooks_background_failed_total", 2)
        retries = by_label(found, "callhooks_background_retries_total", "handler")
        assert [(handler.rpartition(".")[2], n) for (handler,), n in retries.items()] == [("transcribe", 4)]
        failed = by_label(found, "callhooks_background_failed_total", "handler")
        assert [(handler.rpartition(".")[2], n) for (handler,), n in failed.items()] == [("transcribe", 2)]
        # Both events are failed events now, not queued: the gauge, read from the store at this scrape, says so.
        assert found[("callhooks_background_queue_depth", ())] == 0
        # Every background run (3 attempts for each of the 2 events) is timed like an answered handler's.
        runs = by_label(found, "callhooks_handler_duration_seconds_count", "handler")
        assert [(handler.rpartition(".")[2], n) for (handler,), n in runs.items()] == [("transcribe", 6)]
        assert found[("callhooks_handlers_in_flight", ())] == 0


def test_a_store_that_is_down_does_not_break_the_scrape(tmp_path: Path) -> None:
    redis = new_redis_server(tmp_path)
    redis.start()
    try:
        hooks = CallHooks(secret=SECRET, metrics=True, store=redis.url)

        @hooks.on("recording", background=True)
        async def keep(event: CallEvent) -> None:
            pass

        with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
            path = path_of(hooks.callback_url(public_url="http://127.0.0.1"))
            assert client.post(path, json=event("recording", "c-1", recordingId="r-1")).status_code == 200
            scrape_until(client, "/metrics", "callhooks_callbacks_total", 1)
            redis.stop()
            response = client.get("/metrics")
            assert response.status_code == 200
            assert by_label(samples(response.text), "callhooks_callbacks_total", "event") == {("recording",): 1}
            assert client.post(path, json=event("recording", "c-2", recordingId="r-2")).status_code == 503
    finally:
        redis.stop()
