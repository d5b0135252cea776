"""The Twilio IVR example (``examples/twilio_ivr.py``) under ``callhooks run --workers 2`` on SQLite and on Redis,
against the simulator playing Twilio with duplicated and reordered deliveries: answer → menu → gather → dial or
record → completed, and every request the simulator produced ran its handler exactly once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from callhooks.examples.twilio_ivr import create_app

from callhooks.simulator import FarEnd, Faults, Simulator
from callhooks.simulator.twilio.payloads import TOKEN
from callhooks.testing import free_port, serve, wait_until
from callhooks.twilio.client import Client
from tests.helpers.processes import ROOT, server_process
from tests.stores.support import SHARED_BACKENDS, backend_url

pytestmark = pytest.mark.timeout(240)

BIN = Path(sys.executable).parent
ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "ivr-workers-auth-token"
APP, SALES = "+15005550006", "+19195550199"
#: Who calls in (the far end of each outbound call): which key each presses.
CALLERS = {"+15550101": "1", "+15550102": "2", "+15550103": "1", "+15550104": "2"}
FAULTS = Faults(duplicate=0.4, concurrent_duplicate=0.4, reorder_jitter=1.0, seed=20)


@pytest.fixture(params=SHARED_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def _simulator() -> Simulator:
    numbers = {number: FarEnd(digits=key, speak_seconds=3, hangup_after=120) for number, key in CALLERS.items()}
    numbers[SALES] = FarEnd(answer_after=1, hangup_after=4)
    return Simulator(
        platform="twilio",
        account={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        speed=40,
        hold_clock=True,
        numbers=numbers,
        faults=FAULTS,
    )


@pytest.fixture
def workers(store: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """The example served by two worker processes on ``store``: its environment and its journal directory."""
    port = free_port()
    journal = tmp_path / "journal"
    journal.mkdir()
    env = {
        "CALLHOOKS_SECRET": "ivr-workers-secret-0123456789abcdef",
        "CALLHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLHOOKS_STORE": store,
        "IVR_LOG_DIR": str(journal),
    }
    command = [str(BIN / "callhooks"), "run", "callhooks.examples.twilio_ivr:create_app", "--factory", "--quiet"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with server_process(command, {**os.environ, **env, "PYTHONPATH": str(ROOT)}, port, quiet=True, startup_timeout=90):
        yield env, journal


def test_the_ivr_runs_each_handler_once_per_request_under_two_workers(
    workers: tuple[dict[str, str], Path],
) -> None:
    env, journal = workers
    simulator = _simulator()
    hooks = create_app(env)  # mints the same signed URLs as the workers: the client's calls run there
    with (
        serve(simulator) as sim,
        Client(ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=f"{sim.url}/2010-04-01", hooks=hooks) as client,
    ):
        sids = {client.calls.create(caller, APP).sid: caller for caller in CALLERS}

        def ended() -> bool:
            return all(client.calls.get(sid).status == "completed" for sid in sids)

        wait_until(ended, timeout=120, interval=0.05, what="every call to end")
        loop = simulator.clock.loop
        assert loop is not None
        assert asyncio.run_coroutine_threadsafe(simulator.settle(60), loop).result(70), "deliveries still running"
        recordings = client.recordings.list_page().items
    assert not simulator.errors

    lines = [line.split() for file in journal.iterdir() for line in file.read_text().splitlines()]
    runs = Counter(token for *_, token in lines)
    produced = {str(sent.event[TOKEN]) for sent in simulator.sent}
    applied = Counter(fault for sent in simulator.sent for fault in sent.faults)
    print(f"\n{len(lines)} handler runs in {len(list(journal.iterdir()))} workers; faults {dict(applied)}")
    assert applied["duplicate"] and applied["concurrent_duplicate"] and applied["reorder"], applied
    assert [token for token, n in runs.items() if n > 1] == []  # no request ran its handler twice
    assert set(runs) == produced  # and every request the simulator produced ran one
    for sid, caller in sids.items():
        handlers = Counter(handler for handler, _, call_sid, _ in lines if call_sid == sid)
        ending = "dialled" if CALLERS[caller] == "1" else "recorded"
        assert handlers["answered"] == handlers["menu_choice"] == handlers[ending] == 1, (caller, handlers)
        assert handlers["progressed"] == 4, handlers  # initiated, ringing, answered, completed
        assert handlers["stored"] == (1 if ending == "recorded" else 0)
    assert len(recordings) == sum(1 for key in CALLERS.values() if key == "2")
