"""The simulator's TwiML runner: Gather's digits, keys and timeouts, Dial's outcomes, Record (empty or not), Pause,
Reject, inline Twiml, and what happens to a reply that is not TwiML (the fallback URL, else an application error)."""

from __future__ import annotations

import logging

import pytest

from callhooks.simulator import FarEnd
from callhooks.simulator.delivery import SentEvent
from callhooks.simulator.models import Delivery
from callhooks.testing import wait_until
from tests.twilio.sim_support import FakeApp, running, twiml

APP, CALLER, SALES = "+15550100", "+15550123", "+19195550199"


def _call(sim: object, app: FakeApp, **options: str) -> str:
    created = sim.twilio.calls.create(to=CALLER, from_=APP, url=f"{app.url}/voice", **options)  # type: ignore[attr-defined]
    sim.wait_status(created.sid)  # type: ignore[attr-defined]
    sim.settle()  # type: ignore[attr-defined]
    return str(created.sid)


def test_gather_digits_finish_key_and_num_digits() -> None:
    app = FakeApp(
        replies={
            "voice": twiml('<Gather action="/first"><Say>Your PIN, then hash</Say></Gather>'),
            "first": twiml('<Gather numDigits="2" action="/second" finishOnKey=""/>'),
            "second": twiml("<Hangup/>"),
        }
    )
    with running(app, numbers={CALLER: FarEnd(digits=["12#", "345"])}) as sim:
        _call(sim, app)
    first, second = app.at("first")[0].params, app.at("second")[0].params
    assert (first["Digits"], first["FinishedOnKey"]) == ("12", "#")
    assert (second["Digits"], second["FinishedOnKey"]) == ("34", "")  # numDigits ended it: the 5 is never heard


def test_a_gather_without_input_runs_the_next_verb_unless_told_to_post() -> None:
    app = FakeApp(
        replies={
            "voice": twiml(
                '<Gather timeout="2" action="/never"/>',
                '<Gather timeout="1" actionOnEmptyResult="true" action="/empty"/>',
            ),
            "empty": twiml("<Say>Nothing?</Say>"),
        }
    )
    with running(app) as sim:
        sid = _call(sim, app)
        assert "twiml-gather-empty" in sim.log(sid)
    assert app.at("never") == []
    assert app.at("empty")[0].params["Digits"] == ""


def test_dial_outcomes_reach_the_action_and_no_action_goes_on() -> None:
    app = FakeApp(
        replies={
            "voice": twiml(f'<Dial timeout="5" action="/busy">{"+15550001"}</Dial>'),
            "busy": twiml(f'<Dial timeout="5" action="/unanswered"><Number>{SALES}</Number></Dial>'),
            "unanswered": twiml('<Dial timeout="5"><Number>+15550003</Number></Dial><Redirect>/after</Redirect>'),
            "after": twiml("<Hangup/>"),
        }
    )
    numbers = {"+15550001": FarEnd.busy(), SALES: FarEnd.never_answers(), "+15550003": FarEnd(hangup_after=2)}
    with running(app, numbers=numbers) as sim:
        _call(sim, app)
        busy, unanswered = app.at("busy")[0].params, app.at("unanswered")[0].params
        assert (busy["DialCallStatus"], busy["DialBridged"], busy["DialCallDuration"]) == ("busy", "false", "0")
        assert unanswered["DialCallStatus"] == "no-answer"
        children = sim.twilio.calls.list(parent_call_sid=busy["CallSid"])
        assert {child.direction for child in children} == {"outbound-dial"} and len(children) == 3
        assert len(app.at("after")) == 1  # the bridged leg hung up, no action: the document went on


def test_record_posts_what_was_said_and_an_empty_recording_goes_on() -> None:
    app = FakeApp(
        replies={
            "voice": twiml('<Record action="/silent" timeout="2"/>', "<Redirect>/speak</Redirect>"),
            "speak": twiml('<Record action="/message" maxLength="3" playBeep="false"/>', "<Say>unreached</Say>"),
            "message": twiml("<Hangup/>"),
        }
    )
    with running(app, numbers={CALLER: FarEnd(speak_seconds=10)}) as sim:
        created = sim.twilio.calls.create(to="+15550009", from_=APP, url=f"{app.url}/voice")  # silent far end
        sim.wait_status(created.sid)
        assert "twiml-record-empty" in sim.log(created.sid) and app.at("silent") == []
        talker = sim.twilio.calls.create(to=CALLER, from_=APP, url=f"{app.url}/speak")  # talks 10 s: maxLength stops it
        sim.wait_status(talker.sid)
        sim.settle()
    message = app.at("message")[0].params
    assert (message["RecordingDuration"], message["Digits"], message["CallStatus"]) == ("3", "", "in-progress")


def test_a_caller_hanging_up_mid_record_gets_the_action_before_the_completed_status_callback() -> None:
    app = FakeApp(replies={"voice": twiml('<Record action="/message" recordingStatusCallback="/stored"/>')})
    with running(app, numbers={CALLER: FarEnd(speak_seconds=3)}) as sim:  # talks 3 s, then hangs up
        sid = _call(sim, app, status_callback=f"{app.url}/status", status_callback_event=["completed"])
    message, status = app.at("message")[0].params, app.at("status")[0].params
    assert (message["CallSid"], message["Digits"], message["RecordingDuration"]) == (sid, "hangup", "3")
    assert status["CallStatus"] == "completed"
    order = [request.path for request in app.received if request.path in ("message", "status")]
    assert order == ["message", "status"]  # Twilio requests the Record action first


def test_the_recording_status_callback_comes_after_the_record_action_even_when_its_reply_redirects() -> None:
    # Twilio requests the action as the recording stops; the recordingStatusCallback follows, once it is stored.
    app = FakeApp(
        replies={
            "voice": twiml('<Record action="/message" maxLength="3" recordingStatusCallback="/stored"/>'),
            "message": twiml("<Redirect>/next</Redirect>"),
            "next": twiml('<Record action="/last" maxLength="2" recordingStatusCallback="/stored"/>'),
            "last": twiml("<Hangup/>"),
        }
    )
    with running(app, numbers={CALLER: FarEnd(speak_seconds=30)}) as sim:
        sid = _call(sim, app)
    order = [request.path for request in app.received if request.path in ("message", "next", "last", "stored")]
    assert order == ["message", "stored", "next", "last", "stored"]
    first, second = (request.params for request in app.at("stored"))
    assert (first["CallSid"], first["RecordingSid"]) == (sid, app.at("message")[0].params["RecordingSid"])
    assert (second["RecordingSid"], second["RecordingDuration"]) == (app.at("last")[0].params["RecordingSid"], "2")


def test_a_rest_redirect_mid_record_requests_no_action_but_the_recording_status_callback() -> None:
    app = FakeApp(
        replies={
            "voice": twiml('<Record action="/message" recordingStatusCallback="/stored"/>'),
            "moved": twiml("<Hangup/>"),
        }
    )
    with running(app, numbers={CALLER: FarEnd(speak_seconds=3000)}) as sim:  # records for 30 s at speed 100
        created = sim.twilio.calls.create(to=CALLER, from_=APP, url=f"{app.url}/voice")
        wait_until(lambda: "twiml-Record" in sim.log(created.sid), timeout=30, what="the Record to start")
        sim.twilio.calls(created.sid).update(url=f"{app.url}/moved", method="POST")
        sim.wait_status(created.sid)
        sim.settle()
    assert [request.path for request in app.received] == ["voice", "stored", "moved"]
    assert app.at("stored")[0].params["CallSid"] == created.sid


def test_the_far_end_presses_finish_on_key_to_end_a_recording() -> None:
    app = FakeApp(
        replies={
            "voice": twiml('<Record action="/first" finishOnKey="#"/>'),
            "first": twiml('<Record action="/second"/>'),  # finishOnKey defaults to any key
            "second": twiml("<Hangup/>"),
        }
    )
    far_end = FarEnd(speak_seconds=30, digits=["1ww#", "7"], digit_interval=2)  # 1 is not #: it records on
    with running(app, numbers={CALLER: far_end}) as sim:
        sid = _call(sim, app)
        ended = sim.twilio.calls(sid).fetch()
    first, second = app.at("first")[0].params, app.at("second")[0].params
    assert (first["Digits"], first["RecordingDuration"], first["CallStatus"]) == ("#", "5", "in-progress")
    assert (second["Digits"], second["RecordingDuration"]) == ("7", "2")
    assert ended.status == "completed" and int(ended.duration) < 30  # the keys, not the far end's hangup, ended them


def test_pause_takes_its_length_and_inline_twiml_runs() -> None:
    with running() as sim:
        created = sim.twilio.calls.create(to=CALLER, from_=APP, twiml='<Response><Pause length="7"/></Response>')
        ended = sim.wait_status(created.sid)
        assert ended.duration == "7"


def test_reject_ends_an_inbound_call_unanswered() -> None:
    app = FakeApp(replies={"voice": twiml('<Reject reason="busy"/>'), "plain": twiml("<Reject/>")})
    with running(app, voice_path="voice") as sim:
        sid = sim.place_inbound(CALLER, APP)
        rejected = sim.wait_status(sid)
        assert (rejected.status, rejected.duration, rejected.direction) == ("busy", "0", "inbound")
        app.replies["voice"] = app.replies["plain"]
        assert sim.wait_status(sim.place_inbound(CALLER, APP)).status == "no-answer"
    first = app.at("voice")[0].params
    assert (first["CallStatus"], first["Direction"], first["To"]) == ("ringing", "inbound", APP)


def test_a_reply_that_is_not_twiml_goes_to_the_fallback_url_then_ends_the_call() -> None:
    app = FakeApp(
        replies={
            "voice": twiml("<Sing>la la</Sing>"),
            "fallback": twiml("<Say>Sorry</Say><Hangup/>"),
            "broken": "not xml at all",
        }
    )
    with running(app) as sim:
        _call(sim, app, fallback_url=f"{app.url}/fallback")
        fallback = app.at("fallback")[0].params
        assert (fallback["ErrorCode"], fallback["ErrorUrl"]) == ("12100", f"{app.url}/voice")
        assert (
            app.at("voice")[0].headers["i-twilio-idempotency-token"]
            != app.at("fallback")[0].headers["i-twilio-idempotency-token"]
        )
        failures = [failure["code"] for failure in sim.simulator.failures]
        assert failures == ["invalid-twiml"]
        app.replies["voice"] = app.replies["broken"]
        sid = _call(sim, app)  # no fallback URL: an application error, and the call ends
        assert "twiml-error" in sim.log(sid)
        heard = sim.simulator.profile.legs.by_sid(sid).call.heard  # type: ignore[attr-defined]
        assert any("application error" in entry.text for entry in heard)


def test_a_reply_that_fails_to_run_is_logged_and_kept_and_the_calls_next_request_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Deliverer.request: what every document runner (BXML, v2 BXML, TwiML) sends the requests whose reply it runs.
    app = FakeApp(replies={"first": twiml(), "second": twiml(), "third": twiml()})
    ran: list[SentEvent] = []

    def broken(record: SentEvent) -> None:
        raise IndexError("a bug running the reply")

    with running(app) as sim, caplog.at_level(logging.ERROR, logger="callhooks.simulator"):
        deliverer, loop = sim.simulator.deliverer, sim.simulator.clock.loop
        assert loop is not None
        body = {"@event": "call", "CallSid": "CA" + "5" * 32}

        def requests() -> None:  # on the simulator's loop, as the runners send them
            deliverer.request("c-1", body, Delivery(f"{app.url}/first"), broken, wanted=lambda: True)
            deliverer.request("c-1", body, Delivery(f"{app.url}/second"), ran.append, wanted=lambda: True)
            deliverer.request("c-1", body, Delivery(f"{app.url}/third"), ran.append, wanted=lambda: False)

        loop.call_soon_threadsafe(requests)
        wait_until(lambda: len(app.received) == 3, timeout=30, what="the three requests")
        sim.settle()
        errors = sim.simulator.clock.errors
        assert [type(error) for error in errors] == [IndexError]
        errors.clear()  # seen: running() checks that no other went unnoticed
    assert [request.path for request in app.received] == ["first", "second", "third"]
    assert [record.attempts[-1].url.rpartition("/")[2] for record in ran] == ["second"]  # the third: not wanted
    assert "the simulation goes on" in caplog.text
