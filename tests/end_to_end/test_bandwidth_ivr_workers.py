"""Done-when of the v2 simulator: the v2 IVR (answer -> menu -> gather -> transfer or record -> disconnect) end to
end against the simulator playing Voice API v2, served by ``callhooks run --workers 2`` on SQLite and on Redis,
with duplicated and reordered webhooks: each handler runs once per event and every call's session is intact."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections import Counter
from pathlib import Path

import pytest

from callhooks.bandwidth.client import Client
from callhooks.bandwidth.demo import create_app
from callhooks.simulator import FarEnd, Faults, Simulator
from callhooks.simulator.bandwidth import BandwidthProfile
from callhooks.stores import open_store
from callhooks.testing import free_port
from callhooks.testing.polling import wait_until
from callhooks.testing.server import serve
from tests.helpers.processes import ROOT, server_process
from tests.stores.support import SHARED_BACKENDS, backend_url

pytestmark = pytest.mark.timeout(240)

SALES = "+19195550199"
OURS = "+19195550100"
#: Customers and what each presses: 1 goes to sales, 2 leaves a message.
CUSTOMERS = {f"+1919555{n:04d}": "1" if n % 2 else "2" for n in range(1, 7)}
STEPS = {
    "1": ["answer", "gather:1", "transferComplete", "disconnect:hangup"],
    "2": ["answer", "gather:2", "recordComplete", "disconnect:hangup"],
}
FAULTS = Faults(duplicate=0.4, concurrent_duplicate=0.2, reorder_jitter=0.5, seed=2026)


@pytest.fixture(params=SHARED_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def test_the_v2_ivr_runs_each_handler_once_under_two_workers(store_url: str, tmp_path: Path) -> None:
    port = free_port()
    journal = tmp_path / "journal"
    journal.mkdir()
    env = {
        **os.environ,
        "CALLHOOKS_SECRET": secrets.token_urlsafe(24),
        "CALLHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CALLHOOKS_BASIC_AUTH": f"ivr:{secrets.token_urlsafe(12)}",
        "IVR_SALES_NUMBER": SALES,
        "IVR_JOURNAL_DIR": str(journal),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "callhooks", "run", "--factory", "tests.end_to_end.bandwidth_ivr_app:create_app"]
    command += ["--port", str(port), "--workers", "2", "--store", store_url, "-q"]
    numbers = {number: FarEnd(answer_after=1, digits=digit, press_on="prompt") for number, digit in CUSTOMERS.items()}
    numbers[SALES] = FarEnd(answer_after=2, hangup_after=10)
    profile = BandwidthProfile(client_secret=secrets.token_urlsafe(12))
    simulator = Simulator(platform=profile, speed=20, hold_clock=True, numbers=numbers, faults=FAULTS, seed=5)
    hooks = create_app({key: env[key] for key in ("CALLHOOKS_SECRET", "CALLHOOKS_PUBLIC_URL", "CALLHOOKS_BASIC_AUTH")})
    with serve(simulator) as sim, server_process(command, env, port, startup_timeout=60):
        client = Client(
            profile.account_id,
            client_id=profile.client_id,
            client_secret=profile.credentials.client[1] if profile.credentials.client else "",
            base_url=f"{sim.url}/api/v2",
            token_url=f"{sim.url}/api/v1/oauth2/token",
            hooks=hooks,
        )
        with client:
            calls = {
                client.calls.create(OURS, number, "ivr-app", context={"customer": number}).call_id: digit
                for number, digit in CUSTOMERS.items()
            }

            def all_ended() -> bool:
                return all(client.calls.get(call_id).state == "disconnected" for call_id in calls)

            wait_until(all_ended, timeout=120, interval=0.2, what="every call to end")
            wait_until(lambda: simulator.deliverer.sent and _idle(simulator), timeout=60, what="deliveries to finish")
        assert not simulator.errors
    applied = Counter(fault for sent in simulator.sent for fault in sent.faults)
    assert applied["duplicate"] + applied["concurrent_duplicate"] > 0 and applied["reorder"] > 0, applied

    handled = Counter(line for file in journal.iterdir() for line in file.read_text().splitlines())
    assert handled and max(handled.values()) == 1, [line for line, n in handled.items() if n > 1]
    by_call = Counter(line.split()[0] for line in handled)
    for call_id, digit in calls.items():
        assert by_call[call_id] == len(STEPS[digit]), (call_id, [line for line in handled if call_id in line])
    sessions = asyncio.run(_sessions(store_url, list(calls)))
    for call_id, digit in calls.items():
        assert sessions[call_id].get("steps") == STEPS[digit], (call_id, sessions[call_id])
        assert sessions[call_id].get("choices") == [digit]


def _idle(simulator: Simulator) -> bool:
    return all(sent.outcome != "pending" for sent in simulator.sent)


async def _sessions(store_url: str, call_ids: list[str]) -> dict[str, dict[str, object]]:
    store = await open_store(store_url)
    try:
        return {call_id: dict(await store.load_session(f"call:{call_id}")) for call_id in call_ids}
    finally:
        await store.close()
