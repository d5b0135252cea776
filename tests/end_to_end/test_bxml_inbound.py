"""Issue 24, bug 6: calling a BXML application from the phone takes one flag or one documented client call.

* ``callhooks simulate --incoming-call-url URL --incoming-call-method GET``: the page's Call button reaches the
  BXML app, which is heard (with POST, the default, its BXML reply was ignored and the call sat silent).
* ``client.applications.assign_number(app.id, number)`` (blocking and async): the simulator's ``/phoneNumbers``,
  without a raw request; ``client.applications.numbers()`` lists them.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from callhooks import CallHooks
from callhooks.client import AsyncClient, Client, PhoneNumber
from callhooks.testing import free_port, running_simulator, serve
from tests.end_to_end.test_cli_first_use import AUTH, simulate

APP, CUSTOMER = "+19195550100", "+19195551313"
MENU_WORDS = "Press 1"


@contextmanager
def bxml_ivr() -> Iterator[CallHooks]:
    """The BXML IVR example served on a free loopback port."""
    port = free_port()
    module = importlib.import_module("callhooks.examples.bxml_ivr")
    hooks: CallHooks = module.create_app(
        {"CALLHOOKS_SECRET": "inbound-secret", "CALLHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    )
    with serve(hooks, port=port):
        yield hooks


def heard_speech(get: Any, call_id: str, timeout: float = 10.0) -> list[str]:
    """Poll the call's phone view until its far end heard a sentence; the sentences heard."""
    deadline = time.monotonic() + timeout
    while True:
        view = get(call_id)
        spoken = [entry["text"] for entry in view["heard"] if entry["kind"] == "speak"]
        if spoken or time.monotonic() > deadline:
            return spoken
        time.sleep(0.02)  # polling interval, bounded by the deadline


def test_one_flag_makes_the_phone_page_reach_a_bxml_app() -> None:
    with bxml_ivr() as hooks:
        incoming = hooks.callback_url(max_age=None)
        with simulate("--incoming-call-url", incoming, "--incoming-call-method", "get", "-q", lines=5) as (url, banner):
            assert any("GET" in line and "BXML" in line for line in banner), banner
            with httpx.Client(base_url=url, auth=AUTH, headers={"Origin": url}, timeout=10) as page:
                dialled = page.post("/_sim/phone/dial", json={"from": CUSTOMER, "to": APP})
                assert dialled.status_code == 201, dialled.text
                call_id = dialled.json()["callId"]
                spoken = heard_speech(lambda cid: page.get(f"/_sim/calls/{cid}").json(), call_id)
                assert spoken and MENU_WORDS in spoken[0]
                page.post(f"/_sim/calls/{call_id}/hangup")


def test_the_client_gives_an_application_a_number_and_the_phone_reaches_it() -> None:
    with bxml_ivr() as hooks, running_simulator(speed=20) as phone:
        with Client(hooks=hooks, **phone.credentials) as client:
            app = client.applications.create("BXML IVR")
            number = client.applications.assign_number(app.id, APP)
            assert number == PhoneNumber(number=APP, application_id=app.id)
            assert list(client.applications.numbers()) == [number]
            with pytest.raises(ValueError, match="number"):
                client.applications.assign_number(app.id, "not a number")
        call_id = phone.dial(CUSTOMER, APP)
        spoken = heard_speech(phone.phone_view, call_id)
        assert spoken and MENU_WORDS in spoken[0]
        phone.hang_up(call_id)


@pytest.mark.anyio
async def test_the_async_client_assigns_and_lists_numbers() -> None:
    with bxml_ivr() as hooks, running_simulator(speed=20) as phone:
        async with AsyncClient(hooks=hooks, **phone.credentials) as client:
            app = await client.applications.create("async")
            assert await client.applications.assign_number(app.id, APP) == PhoneNumber(
                number=APP, application_id=app.id
            )
            assert [n.application_id async for n in client.applications.numbers()] == [app.id]
