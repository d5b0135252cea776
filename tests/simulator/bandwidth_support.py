"""Helpers for the Voice API v2 simulator tests: a simulator playing ``bandwidth``, the recording receiver of
:mod:`tests.simulator.receiver` and an HTTP client holding the API user's Basic credentials.

Not a test module; everything runs on real uvicorn servers on 127.0.0.1 and waits with deadlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from callhooks.simulator import Simulator
from callhooks.simulator.bandwidth import BandwidthProfile
from callhooks.testing.server import serve
from tests.simulator.receiver import DEADLINE, Receiver

ACCOUNT = "9901234"
CLIENT_ID, CLIENT_SECRET = "client-a", "client-secret-a"
API_USER, API_PASSWORD = "api-user", "api-password"
APPLICATION = "app-1"
OURS = "+19195550100"
CALLEE = "+19195551212"
AGENT = "+19195550199"


def response(*verbs: str) -> str:
    """A ``<Response>`` document of ``verbs`` (XML text)."""
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


@dataclass
class V2Env:
    """A running v2 simulator, a recording receiver and a client of the REST API."""

    sim: Simulator
    url: str
    receiver: Receiver
    receiver_url: str
    client: httpx.Client

    @property
    def calls(self) -> str:
        return f"/api/v2/accounts/{ACCOUNT}/calls"

    def create_call(self, path: str = "/answer", **body: Any) -> str:
        """Create a call whose answer goes to ``path`` on the receiver; returns its id."""
        payload = {
            "from": OURS,
            "to": CALLEE,
            "applicationId": APPLICATION,
            "answerUrl": self.receiver_url + path,
            **body,
        }
        reply = self.client.post(self.calls, json=payload)
        assert reply.status_code == 201, reply.text
        call_id: str = reply.json()["callId"]
        return call_id

    def get_call(self, call_id: str) -> dict[str, Any]:
        reply = self.client.get(f"{self.calls}/{call_id}")
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def advance(self, seconds: float) -> None:
        """Move the simulated clock, delivering each timer's callbacks before the next fires."""
        reply = self.client.post("/_sim/clock/advance", json={"seconds": seconds, "settle": True})
        assert reply.status_code == 200, reply.text

    def settle(self) -> None:
        """Wait until the simulator has delivered everything queued."""
        assert self.client.post("/_sim/settle", json={}).json() == {"idle": True}


@contextmanager
def running_v2(**options: Any) -> Iterator[V2Env]:
    """Serve a v2 simulator (manual clock unless ``speed`` is given) and a receiver; yield a :class:`V2Env`."""
    options.setdefault("manual", "speed" not in options)
    options.setdefault("seed", 7)
    receiver = Receiver()
    profile = BandwidthProfile(
        account_id=ACCOUNT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_user=API_USER,
        api_password=API_PASSWORD,
        token_lifetime=options.pop("token_lifetime", 3600.0),
    )
    with ExitStack() as stack:
        receiver_server = stack.enter_context(serve(receiver.app))
        if str(options.get("incoming_call_url", "")).startswith("/"):
            options["incoming_call_url"] = receiver_server.url + options["incoming_call_url"]
        sim = Simulator(platform=profile, **options)
        sim_server = stack.enter_context(serve(sim))
        client = stack.enter_context(
            httpx.Client(base_url=sim_server.url, auth=(API_USER, API_PASSWORD), timeout=DEADLINE)
        )
        yield V2Env(sim, sim_server.url, receiver, receiver_server.url, client)
