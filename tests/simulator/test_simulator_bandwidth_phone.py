"""v2 calls on the phone page (a person is the far end) and in the receiver's console."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from callhooks.bandwidth.client import Client
from callhooks.bandwidth.demo import MENU, create_app
from callhooks.simulator import Simulator
from callhooks.simulator.bandwidth import BandwidthProfile
from callhooks.testing import free_port
from callhooks.testing.polling import wait_until
from callhooks.testing.server import serve

OURS, PERSON, SALES = "+19195550100", "+19195551313", "+19195550199"
API = ("phone-user", "phone-password")


def test_a_person_answers_a_v2_call_on_the_phone_page_and_the_console_shows_it() -> None:
    port = free_port()
    console = ("console", secrets.token_urlsafe(8))
    hooks = create_app(
        {
            "CALLHOOKS_SECRET": secrets.token_urlsafe(24),
            "CALLHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CALLHOOKS_BASIC_AUTH": "ivr:ivr-password",
            "CALLHOOKS_CONSOLE": ":".join(console),
            "IVR_SALES_NUMBER": SALES,
        }
    )
    profile = BandwidthProfile(api_user=API[0], api_password=API[1])
    simulator = Simulator(platform=profile, speed=20, hold_clock=True)
    simulator.phone.claim(PERSON)
    with serve(simulator) as sim, serve(hooks, port=port), httpx.Client(base_url=sim.url, auth=API) as control:
        client = Client(profile.account_id, username=API[0], password=API[1], base_url=f"{sim.url}/api/v2", hooks=hooks)
        with client:
            call_id = client.calls.create(OURS, PERSON, "app-1").call_id
            assert control.get("/_sim/phone/state").status_code == 200
            ringing = control.get(f"/_sim/calls/{call_id}").json()
            assert (ringing["state"], ringing["phone"]) == ("started", True)
            assert control.post(f"/_sim/calls/{call_id}/answer", json={}).status_code == 200

            def heard_menu() -> dict[str, Any] | None:
                view: dict[str, Any] = control.get(f"/_sim/calls/{call_id}").json()
                return view if view["gather"] is not None else None

            view = wait_until(heard_menu, timeout=30, what="the menu's gather")
            assert MENU in [entry["text"] for entry in view["heard"]]
            assert control.post(f"/_sim/calls/{call_id}/dtmf", json={"digits": "2"}).status_code == 200
            wait_until(
                lambda: client.calls.get(call_id).state == "answered" and _recording(control, call_id), timeout=30
            )
            assert control.post(f"/_sim/calls/{call_id}/hangup", json={}).status_code == 200
            wait_until(lambda: client.calls.get(call_id).state == "disconnected", timeout=30, what="the hang-up")

        def timeline() -> list[str] | None:
            shown = httpx.get(f"http://127.0.0.1:{port}/_console/api/calls/{call_id}", auth=console)
            if shown.status_code != 200:
                return None
            types = [entry["eventType"] for entry in shown.json()["entries"] if entry.get("kind") == "event"]
            return types if "disconnect" in types else None

        types = wait_until(timeline, timeout=30, what="the console's timeline")
        assert types[:2] == ["answer", "gather"] and types[-1] in ("disconnect", "recordingAvailable")


def _recording(control: httpx.Client, call_id: str) -> bool:
    heard = control.get(f"/_sim/calls/{call_id}").json()["heard"]
    return any("Leave your message" in entry["text"] for entry in heard)
