"""The BXML IVR example (examples/bxml_ivr.py) against the simulator over loopback: real uvicorn for both, a
manual simulated clock moved with ``POST /_sim/clock/advance``, scripted far ends."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import pytest

from callhooks import CallHooks
from callhooks.app import Dispatched
from callhooks.client import AsyncClient, Client, NotFoundError
from callhooks.simulator import FarEnd, Simulator
from callhooks.testing import latest
from callhooks.testing.polling import DEFAULT_TIMEOUT
from callhooks.testing.server import free_port, serve

USER, TOKEN, SECRET = "u-bxml", "t-bxml", "s-bxml"
APP, CUSTOMER, SALES = "+19195550100", "+19195551313", "+19195550199"


@dataclass
class Running:
    sim: Simulator
    hooks: CallHooks
    api: httpx.Client
    handled: list[Dispatched]

    def call(self, **script: FarEnd) -> str:
        for number, far_end in script.items():
            self.sim.script({"customer": CUSTOMER, "sales": SALES}[number], far_end)
        body = {"from": APP, "to": CUSTOMER, "callbackUrl": self.hooks.callback_url(), "callbackHttpMethod": "GET"}
        response = self.api.post(f"/v1/users/{USER}/calls", json=body)
        assert response.status_code == 201, response.text
        assert self.api.post("/_sim/settle", json={}).json() == {"idle": True}
        response = self.api.post("/_sim/clock/advance", json={"seconds": 300, "settle": True})
        assert response.status_code == 200
        return str(self.handled[0].event.call_id)

    def seen(self, call_id: str, expected: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """The call's handled events; with ``expected``, polled until they are that or ``timeout`` passes
        (observers hear of an event just after its answer, so the simulator can settle a moment before)."""

        def found() -> list[str]:
            return [
                " ".join(filter(None, (r.event.event_type, getattr(r.event, "digits", None))))
                for r in list(self.handled)
                if r.event.call_id == call_id
            ]

        return latest(found, lambda now: expected is None or now == expected, timeout=timeout)


@contextmanager
def running() -> Iterator[Running]:
    module = importlib.import_module("callhooks.examples.bxml_ivr")
    port = free_port()
    hooks: CallHooks = module.create_app(
        {
            "CALLHOOKS_SECRET": "bxml-ivr-secret",
            "CALLHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "IVR_SALES_NUMBER": SALES,
        }
    )
    handled: list[Dispatched] = []
    hooks.add_observer(handled.append)
    sim = Simulator(user_id=USER, api_token=TOKEN, api_secret=SECRET, manual=True, seed=3)
    with ExitStack() as stack:
        stack.enter_context(serve(hooks, port=port))
        server = stack.enter_context(serve(sim))
        api = stack.enter_context(httpx.Client(base_url=server.url, auth=(TOKEN, SECRET), timeout=10))
        yield Running(sim, hooks, api, handled)
        assert sim.errors == []
        assert all(record.status == 200 for record in handled)


def test_pressing_1_transfers_to_sales_and_the_call_ends_when_sales_hangs_up() -> None:
    with running() as env:
        call_id = env.call(
            customer=FarEnd(digits="1", press_on="prompt", hangup_after=None),
            sales=FarEnd(answer_after=3, hangup_after=20),
        )
        expected = ["answer", "gather 1", "transferComplete", "hangup"]
        assert env.seen(call_id, expected) == expected
        transfer = next(r.event for r in env.handled if r.event.event_type == "transferComplete")
        assert (transfer.to, transfer.tag) == (SALES, "sales")
        log = [entry.name for entry in env.sim.engine.calls[call_id].log]
        assert log.count("bxml-Transfer") == 1 and "bridge" in log
        (leg,) = [call for call in env.sim.engine.calls.values() if call.id != call_id]
        assert (leg.to, leg.state) == (SALES, "completed")
        assert env.sim.failures == []


@pytest.mark.parametrize(("keys", "prompts"), [(["2"], 1), (["7", "2"], 2), (["4", "4", "2"], 3)])
def test_other_keys_hear_the_menu_again_and_2_says_goodbye(keys: list[str], prompts: int) -> None:
    with running() as env:
        call_id = env.call(customer=FarEnd(digits=keys, press_on="prompt", hangup_after=None))
        expected = ["answer", *(f"gather {key}" for key in keys), "hangup"]
        assert env.seen(call_id, expected) == expected
        log = env.sim.engine.calls[call_id].log
        assert [entry.name for entry in log].count("bxml-Gather") == prompts
        assert [entry.data for entry in log if entry.name == "bxml-SpeakSentence"] == ["Goodbye."]
        assert env.sim.call(call_id)["state"] == "completed"


def test_no_key_at_all_ends_the_document_and_the_call_30_s_later() -> None:
    with running() as env:
        call_id = env.call(customer=FarEnd(hangup_after=None))
        expected = ["answer", "hangup"]
        assert env.seen(call_id, expected) == expected
        log = env.sim.engine.calls[call_id].log
        (end,) = [e for e in log if e.name == "bxml-end"]
        assert log[-1].name == "hangup" and log[-1].time == end.time + 30


def test_an_application_made_by_the_paired_client_takes_inbound_calls_to_its_number() -> None:
    with running() as env, Client(USER, TOKEN, SECRET, base_url=str(env.api.base_url), hooks=env.hooks) as client:
        created = client.applications.create("BXML IVR", incoming_call_url_callback_timeout=5000)
        assert created.incoming_call_url is not None
        assert env.hooks.verify_callback_url(created.incoming_call_url) == {}
        stored = client.applications.get(created.id)
        assert (stored.name, stored.callback_http_method, stored.auto_answer) == ("BXML IVR", "get", True)
        assert stored.incoming_call_url == created.incoming_call_url
        assert stored.incoming_call_url_callback_timeout == 5000
        client.applications.update(created.id, name="Main line")
        assert [a.name for a in client.applications.list()] == ["Main line"]
        with pytest.raises(ValueError, match="incoming_call_url_callback_timeout"):
            client.applications.create("too slow", incoming_call_url_callback_timeout=20000)

        number = env.api.post(f"/v1/users/{USER}/phoneNumbers", json={"number": APP, "applicationId": created.id})
        assert number.status_code == 201, number.text
        env.sim.script(CUSTOMER, FarEnd(digits="2", press_on="prompt", hangup_after=None))
        placed = env.api.post("/_sim/inbound", json={"from": CUSTOMER, "to": APP})
        assert placed.status_code in (200, 201), placed.text
        assert env.api.post("/_sim/settle", json={}).json() == {"idle": True}
        env.api.post("/_sim/clock/advance", json={"seconds": 300, "settle": True})
        call_id = str(env.handled[0].event.call_id)
        expected = ["incomingcall", "answer", "gather 2", "hangup"]
        assert env.seen(call_id, expected) == expected
        assert getattr(env.handled[0].event, "application_id", None) == created.id
        assert all(sent.method == "GET" for sent in env.sim.sent)

        client.applications.delete(created.id)
        assert list(client.applications.list()) == []
        with pytest.raises(NotFoundError):
            client.applications.get(created.id)


@pytest.mark.anyio
async def test_the_async_client_manages_applications_too() -> None:
    with running() as env:
        async with AsyncClient(USER, TOKEN, SECRET, base_url=str(env.api.base_url), hooks=env.hooks) as client:
            created = await client.applications.create("async", auto_answer=False)
            assert created.callback_http_method == "GET" and created.auto_answer is False
            assert [a.id async for a in client.applications.list()] == [created.id]
            await client.applications.update(created.id, incoming_call_fallback_url="http://127.0.0.1:9/fallback")
            assert (
                await client.applications.get(created.id)
            ).incoming_call_fallback_url == "http://127.0.0.1:9/fallback"
            await client.applications.delete(created.id)
            with pytest.raises(NotFoundError):
                await client.applications.get(created.id)
