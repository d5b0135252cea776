"""The console's picture of a call (view.py) through the receiver: states that never go back, transfer legs
linked to their parent call."""

from __future__ import annotations

import httpx

from callhooks import CallHooks

from .support import APP, CALLER, CONSOLE, connected, make_hooks, path_of


def _post(client: httpx.Client, hooks: CallHooks, body: dict[str, object]) -> None:
    url = path_of(hooks.callback_url(public_url=str(client.base_url)))
    assert client.post(url, json=body).status_code in (200, 500)


def _summary(client: httpx.Client, call_id: str) -> dict[str, object]:
    found = client.get(f"/_console/api/calls/{call_id}", auth=CONSOLE)
    assert found.status_code == 200, found.text
    summary: dict[str, object] = found.json()["call"]
    return summary


def test_an_ended_call_stays_ended_when_a_later_event_says_active() -> None:
    # Catapult sends transferComplete (callState "active") to the A-leg when the B-leg hangs up; it can arrive
    # after the A-leg's own hangup. The list must not show the finished call as active again.
    hooks = make_hooks()
    with connected(hooks, "testclient") as client:
        parties = {"callId": "c-a", "from": APP, "to": CALLER}
        _post(client, hooks, {"eventType": "answer", **parties, "callState": "active"})
        _post(client, hooks, {"eventType": "hangup", **parties, "callState": "completed", "cause": "NORMAL_CLEARING"})
        late = {"eventType": "transferComplete", "callId": "c-a", "from": APP, "to": "+19195550199"}
        _post(client, hooks, {**late, "callState": "active"})
        summary = _summary(client, "c-a")
        assert summary["state"] == "completed"
        assert summary["events"] == 3
        listed = client.get("/_console/api/calls", auth=CONSOLE).json()["calls"]
        assert [call["state"] for call in listed] == ["completed"]


def test_a_transfer_leg_links_to_its_parent_call() -> None:
    hooks = make_hooks()
    sales = "+19195550199"
    with connected(hooks, "testclient") as client:
        # A call to the same number that started before the parent is not its leg.
        _post(client, hooks, {"eventType": "answer", "callId": "c-other", "from": APP, "to": sales})
        _post(client, hooks, {"eventType": "answer", "callId": "c-parent", "from": APP, "to": CALLER})
        _post(client, hooks, {"eventType": "answer", "callId": "c-leg", "from": APP, "to": sales})
        _post(
            client,
            hooks,
            {"eventType": "hangup", "callId": "c-leg", "from": APP, "to": sales, "callState": "completed"},
        )
        assert _summary(client, "c-leg")["parentCallId"] is None  # nothing says so before the transfer ends
        _post(client, hooks, {"eventType": "transferComplete", "callId": "c-parent", "from": APP, "to": sales})
        assert _summary(client, "c-leg")["parentCallId"] == "c-parent"
        assert _summary(client, "c-parent")["legs"] == ["c-leg"]
        assert _summary(client, "c-other")["parentCallId"] is None
        assert _summary(client, "c-parent")["parentCallId"] is None
