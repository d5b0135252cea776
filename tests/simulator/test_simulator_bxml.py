"""BXML applications run by the simulator: each verb's timing and callbacks, document replacement, endings and
invalid replies (docs/platforms/catapult-bxml.md#execution and #choices), over real sockets with a manual clock moved
by ``POST /_sim/clock/advance``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from callhooks import bxml
from callhooks.simulator import FarEnd, FaultRule, Faults
from tests.simulator.receiver import CALLEE, CALLER, Env, running

EPOCH = datetime(2019, 3, 14, 15, 4, 0, tzinfo=timezone.utc)
HELPER = "+19195550111"
SUPPORT = "+19195550122"


def at(seconds: float) -> str:
    moment = EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"] for e in events]


def start(env: Env, document: bxml.Response | str, **body: Any) -> str:
    """A GET-mode outbound call whose answer is replied to with ``document``; returns its id."""
    env.receiver.bodies["/cb"] = str(document)
    call_id = env.create_call(callbackHttpMethod="GET", **body)
    env.settle()
    return call_id


def verbs_logged(env: Env, call_id: str) -> list[str]:
    return [entry.name for entry in env.sim.engine.calls[call_id].log if entry.name.startswith("bxml-")]


def test_menu_gather_sends_digits_to_its_url_and_runs_the_reply() -> None:
    with running(numbers={CALLEE: FarEnd(digits="2", hangup_after=None)}, epoch=EPOCH) as env:
        menu = f"{env.receiver_url}/menu"
        env.receiver.bodies["/menu"] = str(
            bxml.Response(bxml.SpeakSentence("You chose support. Goodbye."), bxml.Hangup())
        )
        call_id = start(
            env,
            bxml.Response(
                bxml.Gather(
                    bxml.SpeakSentence("Press 1 for sales or 2 for support."),
                    request_url=menu,
                    max_digits=1,
                    tag="menu-1",
                )
            ),
        )
        env.advance(60)
        (gather,) = env.receiver.events("/menu")
        assert {k: gather[k] for k in ("eventType", "state", "digits", "reason", "callId", "tag")} == {
            "eventType": "gather",
            "state": "completed",
            "digits": "2",
            "reason": "max-digits",
            "callId": call_id,
            "tag": "menu-1",
        }
        assert gather["time"] == at(0.5)  # the far end presses its key after digit_interval
        events = env.receiver.events("/cb")
        assert types(events) == ["answer", "hangup"]
        # "You chose support. Goodbye." is 27 characters at 15 per second: 1.8 s after the key press.
        assert (events[-1]["cause"], events[-1]["time"]) == ("NORMAL_CLEARING", at(0.5 + 1.8))
        assert verbs_logged(env, call_id) == [
            "bxml-document",
            "bxml-Gather",
            "bxml-document",
            "bxml-SpeakSentence",
            "bxml-Hangup",
        ]
        assert env.sim.failures == [] and env.sim.errors == []


def test_gather_not_last_goes_on_at_once_and_without_digits_sends_nothing() -> None:
    with running(numbers={CALLEE: FarEnd(digits=["12#", ""], hangup_after=None)}, epoch=EPOCH) as env:
        pin = f"{env.receiver_url}/pin"
        env.receiver.bodies["/pin"] = str(bxml.Response(bxml.Hangup()))  # discarded: the Gather is not last
        call_id = start(
            env,
            bxml.Response(
                bxml.Gather(request_url=pin, max_digits=4),
                bxml.Gather(request_url=pin, max_digits=4, inter_digit_timeout=2),
                bxml.Pause(length=3),
            ),
            callTimeout=30,
        )
        env.advance(100)
        (first,) = env.receiver.events("/pin")
        assert (first["digits"], first["reason"], first["terminatingDigit"]) == ("12", "terminating-digit", "#")
        hangup = env.receiver.events("/cb")[-1]
        # keys at 0.5, 1.0, 1.5; second gather: nothing for 2 s; pause 3 s; end of document: 30 s, then hangup
        assert (hangup["eventType"], hangup["time"]) == ("hangup", at(1.5 + 2 + 3 + 30))
        assert "bxml-gather-empty" in verbs_logged(env, call_id)


def test_redirect_keeps_its_query_and_replaces_the_document() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH, bxml_idle_hangup=0) as env:
        env.receiver.bodies["/next"] = str(
            bxml.Response(bxml.Pause(length=3), bxml.SendDtmf("1W2w#"), bxml.Pause(length=2), bxml.Hangup())
        )
        redirect = bxml.Redirect(request_url=f"{env.receiver_url}/next?step=2&lang=en", request_url_timeout=10000)
        call_id = start(env, bxml.Response(bxml.SpeakSentence("Please hold."), redirect, bxml.SpeakSentence("Never")))
        env.advance(60)
        (callback,) = [c for c in env.receiver.callbacks if c.path == "/next"]
        assert callback.method == "GET" and callback.raw_query.startswith("step=2&lang=en&eventType=redirect")
        assert callback.event == {
            "step": "2",
            "lang": "en",
            "eventType": "redirect",
            "callId": call_id,
            "callState": "active",
            "from": CALLER,
            "to": CALLEE,
        }
        hangup = env.receiver.events("/cb")[-1]
        # 1 s of speech, 3 s pause, DTMF 1W2w# = 0.1 + 1 + 0.1 + 0.5 + 0.1, 2 s pause
        assert hangup["time"] == at(1 + 3 + 1.8 + 2)
        assert "Never" not in str(env.sim.engine.calls[call_id].log)
        assert [e.data for e in env.sim.engine.calls[call_id].log if e.name == "dtmf-out"] == ["1W2w#"]


def test_transfer_rings_all_targets_whispers_bridges_and_reports_transfer_complete() -> None:
    script = {
        CALLEE: FarEnd(hangup_after=None),
        HELPER: FarEnd(outcome="no-answer"),
        SUPPORT: FarEnd(answer_after=2, hangup_after=10),
    }
    with running(numbers=script, epoch=EPOCH) as env:
        transferred = f"{env.receiver_url}/transferred"
        document = bxml.Response(
            bxml.Transfer(
                bxml.PhoneNumber(HELPER),
                bxml.PhoneNumber(SUPPORT),
                bxml.SpeakSentence("Support call from the main line.", gender="male"),
                transfer_caller_id=CALLER,
                call_timeout=20,
                request_url=transferred,
                tag="support",
            ),
            bxml.SpeakSentence("Nobody is available. Goodbye."),
            bxml.Hangup(),
        )
        call_id = start(env, document)
        env.advance(60)
        (complete,) = env.receiver.events("/transferred")
        # Answered at 2; the whisper (32 characters: 2.13 s) then the bridge; the callee hangs up 10 s after answer.
        assert {k: complete[k] for k in ("eventType", "from", "to", "callId", "callState", "tag", "time")} == {
            "eventType": "transferComplete",
            "from": CALLER,
            "to": SUPPORT,
            "callId": call_id,
            "callState": "active",
            "tag": "support",
            "time": at(12),
        }
        events = env.receiver.events("/cb")
        assert types(events) == ["answer", "hangup"] and events[-1]["time"] == at(12)
        legs = [c for c in env.sim.engine.calls.values() if c.id != call_id]
        assert sorted((leg.to, leg.state) for leg in legs) == [(HELPER, "completed"), (SUPPORT, "completed")]
        assert "Nobody" not in str(env.sim.engine.calls[call_id].log)
        assert env.sim.failures == []  # the targets' legs send no events


def test_unanswered_transfer_goes_on_with_the_next_verb() -> None:
    script = {CALLEE: FarEnd(hangup_after=None), SUPPORT: FarEnd(outcome="no-answer")}
    with running(numbers=script, epoch=EPOCH) as env:
        document = bxml.Response(
            bxml.Transfer(transfer_to=SUPPORT, call_timeout=20), bxml.SpeakSentence("Goodbye."), bxml.Hangup()
        )
        call_id = start(env, document)
        env.advance(60)
        assert env.receiver.events("/cb")[-1]["time"] == at(20 + 1)
        assert "bxml-transfer-unanswered" in verbs_logged(env, call_id)
        assert env.sim.call(call_id)["state"] == "completed"


def test_record_sends_recording_to_its_url_and_transcription_by_post() -> None:
    talker = FarEnd(speak_seconds=8, says="Hi, call me back.", hangup_after=None)
    with running(numbers={CALLEE: talker}, epoch=EPOCH) as env:
        document = bxml.Response(
            bxml.Record(
                request_url=f"{env.receiver_url}/recorded",
                transcribe=True,
                transcribe_callback_url=f"{env.receiver_url}/transcribed",
                silence_timeout=5,
            ),
            bxml.Hangup(),
        )
        start(env, document)
        env.advance(60)
        (recording,) = env.receiver.events("/recorded")
        assert (recording["eventType"], recording["status"]) == ("recording", "complete")
        assert (recording["startTime"], recording["endTime"]) == (at(0), at(8))
        (callback,) = [c for c in env.receiver.callbacks if c.path == "/transcribed"]
        assert callback.method == "POST" and callback.event["text"] == "Hi, call me back."


def test_record_stops_on_silence_and_the_next_verb_runs() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        call_id = start(env, bxml.Response(bxml.Record(request_url=f"{env.receiver_url}/recorded"), bxml.Hangup()))
        env.advance(60)
        (recording,) = env.receiver.events("/recorded")
        assert recording["endTime"] == at(3)
        assert env.receiver.events("/cb")[-1]["time"] == at(3)
        assert verbs_logged(env, call_id)[-2:] == ["bxml-Record", "bxml-Hangup"]


@pytest.mark.parametrize("idle", [30, 0])
def test_an_empty_document_hangs_up_after_the_idle_time(idle: int) -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH, bxml_idle_hangup=idle) as env:
        start(env, "<Response/>")
        env.advance(60)
        hangup = env.receiver.events("/cb")[-1]
        assert (hangup["eventType"], hangup["time"]) == ("hangup", at(idle))


BIG = "<Response>" + "<Pause length='1'/>" * 1000 + "</Response>"
INVALID = {
    "not XML": (200, "this is not XML"),
    "wrong root": (200, "<Document><Hangup/></Document>"),
    "unknown verb": (200, "<Response><Dance/></Response>"),
    "bad nesting": (200, "<Response><Gather requestUrl='http://h/x'><Hangup/></Gather></Response>"),
    "over 16 KB": (200, BIG),
    "non-2xx": (503, "<Response><Hangup/></Response>"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_reply_goes_to_the_fallback_once_then_errors_and_hangs_up(case: str) -> None:
    status, body = INVALID[case]
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        env.receiver.answers["/cb"] = (status, 0.0)
        env.receiver.answers["/fallback"] = (status, 0.0)
        env.receiver.bodies["/fallback"] = body
        call_id = start(env, body, fallbackUrl=f"{env.receiver_url}/fallback")
        env.advance(1)
        assert types(env.receiver.events("/fallback")).count("answer") == 1  # the fallback is tried once
        assert env.sim.call(call_id)["state"] == "completed"
        failures = [f for f in env.sim.failures if {"name": "eventType", "value": "answer"} in f["details"]]
        assert len(failures) == 2 and {f["code"] for f in failures} <= {"invalid-bxml", "callback-failed"}
        assert all(f["category"] == "unavailable" for f in failures)
        assert env.sim.errors == []


def test_invalid_reply_with_a_valid_fallback_runs_the_fallback() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        env.receiver.bodies["/fallback"] = str(bxml.Response(bxml.Pause(length=4), bxml.Hangup()))
        start(env, "<Response><Dance/></Response>", fallbackUrl=f"{env.receiver_url}/fallback")
        env.advance(10)
        assert env.receiver.events("/cb")[-1]["time"] == at(4)
        (failure,) = env.sim.failures
        assert failure["code"] == "invalid-bxml" and "Dance" in str(failure["message"])


def test_a_verb_url_that_times_out_errors_and_hangs_up() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        env.receiver.answers["/slow"] = (200, 1.0)
        redirect = bxml.Redirect(request_url=f"{env.receiver_url}/slow", request_url_timeout=100)
        call_id = start(env, bxml.Response(redirect))
        env.settle()
        assert env.sim.call(call_id)["state"] == "completed"
        (failure,) = env.sim.failures
        assert failure["code"] == "callback-failed" and "100 ms" in str(failure["message"])


def test_post_mode_calls_ignore_reply_bodies() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        env.receiver.bodies["/cb"] = str(bxml.Response(bxml.Hangup()))
        call_id = env.create_call()
        env.advance(60)
        assert env.sim.call(call_id)["state"] == "active"
        assert verbs_logged(env, call_id) == []


def test_inbound_get_call_runs_the_answer_reply_not_the_incomingcall_reply() -> None:
    with running(epoch=EPOCH, incoming_call_url="/in", incoming_call_method="GET") as env:
        env.receiver.bodies["/in"] = str(bxml.Response(bxml.Pause(length=2), bxml.Hangup()))
        env.sim.script(CALLEE, FarEnd(hangup_after=None))
        response = env.client.post("/_sim/inbound", json={"from": CALLEE, "to": CALLER})
        assert response.status_code in (200, 201), response.text
        env.settle()
        env.advance(10)
        events = env.receiver.events("/in")
        assert types(events) == ["incomingcall", "answer", "hangup"] and events[-1]["time"] == at(2)


def test_a_caller_hanging_up_during_a_gather_sends_it_with_reason_hung_up() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=4)}, epoch=EPOCH) as env:
        env.receiver.bodies["/menu"] = str(bxml.Response(bxml.Hangup()))
        start(env, bxml.Response(bxml.Gather(request_url=f"{env.receiver_url}/menu", inter_digit_timeout=30)))
        env.advance(60)
        (gather,) = env.receiver.events("/menu")
        assert (gather["reason"], gather["digits"], gather["time"]) == ("hung-up", "", at(4))
        hangup = env.receiver.events("/cb")[-1]
        assert (hangup["eventType"], hangup["time"]) == ("hangup", at(4))


def test_a_record_inside_a_transfer_records_until_a_party_hangs_up() -> None:
    script = {CALLEE: FarEnd(hangup_after=None), SUPPORT: FarEnd(answer_after=1, hangup_after=9)}
    with running(numbers=script, epoch=EPOCH) as env:
        record = bxml.Record(request_url=f"{env.receiver_url}/recorded", max_duration=2)
        start(env, bxml.Response(bxml.Transfer(record, transfer_to=SUPPORT)))
        env.advance(60)
        (recording,) = env.receiver.events("/recorded")
        # maxDuration is ignored inside a Transfer: bridged at 1 s, the callee hangs up at 10 s.
        assert (recording["startTime"], recording["endTime"]) == (at(1), at(10))
        assert types(env.receiver.events("/cb")) == ["answer", "transferComplete", "hangup"]


def test_a_relative_url_is_resolved_against_the_url_that_served_the_document() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        env.receiver.bodies["/next"] = "<Response><Hangup/></Response>"
        call_id = start(env, '<Response><Redirect requestUrl="next" requestUrlTimeout="1000"/></Response>')
        env.advance(1)
        assert types(env.receiver.events("/next")) == ["redirect"]
        assert env.sim.call(call_id)["state"] == "completed"
        assert "bxml-warning" in verbs_logged(env, call_id)


def test_a_duplicated_answer_runs_its_document_once() -> None:
    faults = Faults(rules=[FaultRule("duplicate", event_type="answer")])
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH, faults=faults) as env:
        call_id = start(env, bxml.Response(bxml.Pause(length=2), bxml.Hangup()))
        env.advance(10)
        assert types(env.receiver.events("/cb")) == ["answer", "answer", "hangup"]  # the platform sent it twice
        assert verbs_logged(env, call_id).count("bxml-Pause") == 1
        assert env.receiver.events("/cb")[-1]["time"] == at(2)


def test_an_answer_lost_after_the_handler_goes_to_the_fallback() -> None:
    faults = Faults(rules=[FaultRule("drop_after_handler", event_type="answer")])
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH, faults=faults) as env:
        env.receiver.bodies["/fallback"] = str(bxml.Response(bxml.Pause(length=3), bxml.Hangup()))
        start(env, bxml.Response(bxml.Hangup()), fallbackUrl=f"{env.receiver_url}/fallback")
        env.advance(10)
        assert types(env.receiver.events("/fallback")) == ["answer"]
        assert env.receiver.events("/cb")[-1]["time"] == at(3)  # the fallback's document ran
