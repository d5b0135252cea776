"""How the simulator delivers callbacks: POST/GET forms, headers, fallback, failure records, ordering."""

from __future__ import annotations

import json

from callhooks.events import encode_query as query_string
from callhooks.simulator import FarEnd
from tests.simulator.receiver import CALLEE, CALLER, USER, running


def test_post_callbacks_carry_the_platform_headers() -> None:
    with running() as env:
        env.create_call()
        env.receiver.wait_types("answer")
        (callback,) = env.receiver.callbacks
        assert callback.method == "POST"
        assert callback.headers["content-type"] == "application/json; charset=utf-8"
        assert callback.headers["user-agent"] == "BandwidthAPI/v1 (callhooks-simulator)"


def test_get_callbacks_put_percent_encoded_fields_in_the_query_string() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}) as env:
        call_id = env.create_call(callbackHttpMethod="get", tag="a b&c")
        env.receiver.wait_types("answer")
        callback = env.receiver.callbacks[0]
        assert callback.method == "GET" and callback.body == b""
        assert "from=%2B19195550100" in callback.raw_query  # '+' encoded, so form decoders keep it
        assert "callUri=http%3A%2F%2F127.0.0.1" in callback.raw_query
        assert "tag=a%20b%26c" in callback.raw_query
        assert callback.event["from"] == CALLER and callback.event["tag"] == "a b&c"
        assert env.get_call(call_id)["callbackHttpMethod"] == "get"


def test_query_string_renders_booleans_numbers_and_objects_as_text() -> None:
    encoded = query_string({"hold": False, "textSize": 39, "diversion": {"origTo": "+1", "counter": "1"}})
    assert encoded == "hold=false&textSize=39&diversion=%7B%22origTo%22%3A%22%2B1%22%2C%22counter%22%3A%221%22%7D"


def test_inbound_diversion_travels_as_a_json_string_in_get_callbacks() -> None:
    diversion = {"origTo": "+19195550142", "reason": "no-answer", "counter": "1"}
    with running(incoming_call_url="/in", incoming_call_method="get") as env:
        env.client.post("/_sim/inbound", json={"from": "+19195551111", "to": CALLER, "diversion": diversion})
        incoming, answer = env.receiver.wait_types("incomingcall", "answer")
        assert json.loads(incoming["diversion"]) == json.loads(answer["diversion"]) == diversion
        assert "diversion=%7B%22origTo%22%3A%22%2B19195550142%22" in env.receiver.callbacks[0].raw_query


def test_get_callback_keeps_the_urls_own_query() -> None:
    with running() as env:
        env.create_call(path="/cb?token=abc", callbackHttpMethod="GET")
        env.receiver.wait_types("answer")
        assert env.receiver.callbacks[0].raw_query.startswith("token=abc&eventType=answer")


def test_fallback_is_used_when_the_primary_answers_500() -> None:
    with running() as env:
        env.receiver.answers["/primary"] = (500, 0.0)
        call_id = env.create_call(path="/primary", fallbackUrl=env.receiver_url + "/fallback")
        env.receiver.wait_types("answer", path="/fallback")
        assert env.receiver.events("/primary")[0] == env.receiver.events("/fallback")[0]  # the same event
        env.settle()
        (sent,) = env.client.get("/_sim/events", params={"callId": call_id}).json()
        assert sent["outcome"] == "fallback"
        assert [a["status"] for a in sent["attempts"]] == [500, 200]
        (failure,) = env.client.get(f"/v1/users/{USER}/errors").json()
        assert (failure["category"], failure["code"]) == ("unavailable", "callback-failed")
        assert "HTTP 500" in failure["message"]
        details = {d["name"]: d["value"] for d in failure["details"]}
        assert details == {"callId": call_id, "eventType": "answer", "url": env.receiver_url + "/primary"}
        assert set(failure) == {"id", "time", "category", "code", "message", "details"}


def test_fallback_is_used_when_the_primary_times_out() -> None:
    with running() as env:
        env.receiver.answers["/slow"] = (200, 2.0)
        env.create_call(path="/slow", callbackTimeout=200, fallbackUrl=env.receiver_url + "/fallback")
        env.receiver.wait_types("answer", path="/fallback")
        env.settle()
        (failure,) = env.client.get("/_sim/failures").json()
        assert "no response within 200 ms" in failure["message"]


def test_failed_deliveries_without_fallback_are_recorded_and_later_events_still_go_out_in_order() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=5)}) as env:
        env.receiver.answers["/down"] = (503, 0.0)
        env.create_call(path="/down")
        env.advance(5)
        assert [e["eventType"] for e in env.receiver.events("/down")] == ["answer", "hangup"]
        sent = env.client.get("/_sim/events").json()
        assert [s["outcome"] for s in sent] == ["failed", "failed"]
        assert len(env.client.get("/_sim/failures").json()) == 2


def test_unreachable_callback_url_is_a_connection_failure() -> None:
    with running() as env:
        # a port nothing listens on (the receiver's port with a listener we just closed is not guaranteed)
        env.client.post(env.calls, json={"from": CALLER, "to": CALLEE, "callbackUrl": "http://127.0.0.1:9/cb"})
        env.settle()
        (failure,) = env.sim.failures
        assert failure["code"] == "callback-failed"
        assert "ConnectError" in str(failure["message"])


def test_a_call_without_callback_url_records_no_callback_for_call() -> None:
    with running() as env:
        created = env.client.post(env.calls, json={"from": CALLER, "to": CALLEE})
        call_id = created.headers["location"].rsplit("/", 1)[-1]
        errors = env.client.get(f"/v1/users/{USER}/errors").json()
        assert [(e["code"], e["details"][0]["value"]) for e in errors] == [("no-callback-for-call", call_id)]
        assert env.get_call(call_id)["callbackUrl"] == ""


def test_events_of_a_call_are_delivered_one_at_a_time_in_order() -> None:
    with running(numbers={CALLEE: FarEnd(digits="123456789#", digit_interval=0.1, hangup_after=2)}) as env:
        env.receiver.answers["/cb"] = (200, 0.02)  # each delivery takes a little while
        call_id = env.create_call()
        env.client.post(f"{env.calls}/{call_id}/gather", json={})
        # no settling: all the events are produced at once and queue up behind the slow receiver
        env.client.post("/_sim/clock/advance", json={"seconds": 3})
        events = env.receiver.wait_for(lambda events: len(events) >= 13)
        assert [e.get("dtmfDigit", e["eventType"]) for e in events] == ["answer", *"123456789#", "gather", "hangup"]
        times = [e["time"] for e in events]
        assert times == sorted(times)
