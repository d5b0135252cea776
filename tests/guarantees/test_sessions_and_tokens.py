"""Call sessions and token binding through a real uvicorn server, on memory://, sqlite:/// and redis://."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest

from callhooks import CallEvent, CallHooks
from callhooks.receiver.guarantees import SESSION_FROM
from callhooks.stores import open_store
from callhooks.testing import serve
from tests.guarantees.support import SECRET, dtmf, hangup, token_path
from tests.stores.support import BACKENDS, backend_url

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


def counting_app(store: str, seen: list[tuple[str | None, dict[str, Any]]], **options: Any) -> CallHooks:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=store, **options)

    @hooks.on("dtmf")
    def count(event: CallEvent) -> None:
        seen.append((event.call_id, copy.deepcopy(event.session)))
        event.session["count"] = event.session.get("count", 0) + 1
        event.session.setdefault("digits", []).append(event.dtmf_digit)  # type: ignore[attr-defined]

    @hooks.on("hangup")
    def bye(event: CallEvent) -> None:
        seen.append((event.call_id, copy.deepcopy(event.session)))

    return hooks


async def test_a_calls_session_is_loaded_before_and_saved_after_each_handler(url: str) -> None:
    seen: list[tuple[str | None, dict[str, Any]]] = []
    hooks = counting_app(url, seen)
    path = token_path(hooks)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        for seq, digit in enumerate("123", start=1):
            assert http.post(path, json=dtmf("c-1", seq, digit)).status_code == 200
        assert http.post(path, json=dtmf("c-2", 1, "9")).status_code == 200
    assert [s for call, s in seen if call == "c-1"] == [
        {},
        {"count": 1, "digits": ["1"]},
        {"count": 2, "digits": ["1", "2"]},
    ]
    assert [s for call, s in seen if call == "c-2"] == [{}]  # one session per call
    if url != "memory://":  # the session outlives the server's process
        store = await open_store(url)
        assert await store.load_session("call:c-1") == {"count": 3, "digits": ["1", "2", "3"]}
        await store.close()


async def test_a_session_value_that_is_not_json_is_a_500_naming_the_key(url: str) -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=url)
    runs: list[int] = []

    @hooks.on("dtmf")
    def bad(event: CallEvent) -> None:
        runs.append(1)
        event.session["when"] = {1, 2}  # a set is not JSON

    path = token_path(hooks)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        first = http.post(path, json=dtmf("c-1", 1))
        again = http.post(path, json=dtmf("c-1", 1))  # failed, so the platform's next delivery runs it again
    assert first.status_code == 500
    assert first.json()["error"] == "session-not-json" and first.json()["key"] == "when"
    assert "'when'" in first.json()["detail"]
    assert again.status_code == 500 and len(runs) == 2


async def test_a_session_ends_the_configured_time_after_the_call_completes(url: str) -> None:
    seen: list[tuple[str | None, dict[str, Any]]] = []
    hooks = counting_app(url, seen, session_end=0)  # removed as soon as the call completed
    path = token_path(hooks)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        assert http.post(path, json=dtmf("c-1", 1)).status_code == 200
        assert http.post(path, json=hangup("c-1", 2)).status_code == 200
        assert http.post(path, json=dtmf("c-1", 3)).status_code == 200  # a late event: the session is gone
    assert seen == [("c-1", {}), ("c-1", {"count": 1, "digits": ["5"]}), ("c-1", {})]


async def test_a_transfer_leg_starts_with_a_copy_of_its_parents_session(url: str) -> None:
    seen: list[tuple[str | None, dict[str, Any]]] = []
    hooks = counting_app(url, seen)
    parent = token_path(hooks)
    leg = token_path(hooks, context={SESSION_FROM: "c-1"}, bind=True)  # the transfer's callback_context
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        assert http.post(parent, json=dtmf("c-1", 1, "7")).status_code == 200
        assert http.post(leg, json=dtmf("c-leg", 2, "8")).status_code == 200
        assert http.post(leg, json=dtmf("c-leg", 3, "9")).status_code == 200  # its own session from then on
        assert http.post(parent, json=dtmf("c-1", 4, "0")).status_code == 200
    assert seen == [
        ("c-1", {}),
        ("c-leg", {"count": 1, "digits": ["7"]}),
        ("c-leg", {"count": 2, "digits": ["7", "8"]}),
        ("c-1", {"count": 1, "digits": ["7"]}),  # the copy did not change the parent's
    ]


async def test_a_per_call_token_is_bound_to_the_first_call_id_it_arrives_with(url: str) -> None:
    seen: list[tuple[str | None, dict[str, Any]]] = []
    hooks = counting_app(url, seen)
    per_call = token_path(hooks, bind=True)
    application = token_path(hooks, max_age=None)  # an application's incomingCallUrl: every call uses it
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        assert http.post(per_call, json=dtmf("c-1", 1)).status_code == 200
        injected = http.post(per_call, json=dtmf("c-other", 1))
        assert http.get(per_call, params=dtmf("c-1", 2)).status_code == 200  # its own call still gets through
        assert http.post(application, json=dtmf("c-3", 1)).status_code == 200
        assert http.post(application, json=dtmf("c-4", 1)).status_code == 200
    assert injected.status_code == 403
    assert injected.json() == {
        "error": "forbidden",
        "detail": "this callback URL was made for another call",
        "reason": "token-bound-to-another-call",
    }
    assert [call for call, _ in seen] == ["c-1", "c-1", "c-3", "c-4"]


def test_the_paired_client_makes_bound_urls_and_users_make_unbound_ones_by_default() -> None:
    from callhooks.client.operations import CallOperations

    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks")
    calls = CallOperations("https://api.example", "u-1", hooks)

    def sent_url(operation: Any) -> str:
        body = next(operation).json  # an operation first yields the request it would send
        return str(body["callbackUrl"])

    made = sent_url(calls.create("+19195550100", "+19195550101"))
    transferred = sent_url(calls.transfer("c-1", "+19195550102"))
    signer = hooks.signer
    assert signer is not None
    assert signer.binds(made.rsplit("/", 1)[1]) and signer.binds(transferred.rsplit("/", 1)[1])
    assert made != sent_url(calls.create("+19195550100", "+19195550101"))  # one token per call, even in one second
    assert not signer.binds(hooks.callback_url().rsplit("/", 1)[1])


async def test_conference_events_share_one_session_per_conference(url: str) -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=url)
    joined: list[list[str]] = []

    @hooks.on("conference-member")
    def member(event: CallEvent) -> None:
        members = event.session.setdefault("members", [])
        joined.append(list(members))
        members.append(event.call_id)

    def member_event(call_id: str, conference_id: str) -> dict[str, Any]:
        return {
            "eventType": "conference-member",
            "conferenceId": conference_id,
            "callId": call_id,
            "memberId": f"m-{call_id}",
            "state": "active",
            "time": "2026-11-01T10:00:00.000Z",
        }

    path = token_path(hooks)
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=20) as http:
        for call_id, conference_id in [("c-1", "conf-1"), ("c-2", "conf-1"), ("c-3", "conf-2"), ("c-4", "conf-1")]:
            assert http.post(path, json=member_event(call_id, conference_id)).status_code == 200
    assert joined == [[], ["c-1"], [], ["c-1", "c-2"]]  # keyed by conference, not by the member's call
