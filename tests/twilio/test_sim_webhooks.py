"""Every webhook the simulator sends as Twilio: twilio-python's ``RequestValidator`` validates it (POST and GET,
queries, the fallback URL), it carries ``I-Twilio-Idempotency-Token``, and its parameters say what Twilio's say."""

from __future__ import annotations

from collections import Counter

from twilio.request_validator import RequestValidator

from callhooks.simulator import FarEnd, FaultRule, Faults
from tests.twilio.sim_support import AUTH_TOKEN, FakeApp, Received, running, twiml

CUSTOMER, APP, SALES = "+15550111", "+15550100", "+19195550199"
VALIDATOR = RequestValidator(AUTH_TOKEN)


def _valid(request: Received) -> bool:
    signature = request.headers.get("x-twilio-signature")
    assert signature, request.url
    params = {} if request.method == "GET" else dict(request.form)
    return bool(VALIDATOR.validate(request.url, params, signature))


def _assert_all_signed(requests: list[Received]) -> None:
    assert requests
    for request in requests:
        assert _valid(request), (request.method, request.url, request.form)
        assert request.headers.get("i-twilio-idempotency-token"), request.url
        altered = Received(request.method, request.url + ("&" if "?" in request.url else "?") + "x=1", request.form, {})
        altered.headers = request.headers
        assert not _valid(altered)  # and the signature covers the URL


def test_a_whole_call_posts_every_webhook_signed() -> None:
    app = FakeApp()
    app.replies = {
        "voice": twiml('<Gather numDigits="1" action="/menu"><Say>Press 1</Say></Gather><Say>No input</Say>'),
        "menu": twiml("<Say>One moment</Say>", "<Redirect>/next?step=2&amp;name=caf%C3%A9</Redirect>"),
        "next": twiml(
            '<Dial action="/dialed" timeout="10">'
            f'<Number statusCallback="/leg" statusCallbackEvent="initiated ringing answered completed">{SALES}</Number>'
            "</Dial>"
        ),
        "dialed": twiml('<Record action="/recorded" recordingStatusCallback="/rec-status" maxLength="20"/>'),
        "recorded": twiml("<Hangup/>"),
    }
    numbers = {CUSTOMER: FarEnd(digits="1", speak_seconds=2), SALES: FarEnd(answer_after=1, hangup_after=3)}
    with running(app, numbers=numbers) as sim:
        call = sim.twilio.calls.create(
            to=CUSTOMER,
            from_=APP,
            url=f"{app.url}/voice",
            status_callback=f"{app.url}/status",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
        sim.wait_status(call.sid)
        sim.settle()
    _assert_all_signed(app.received)
    paths = Counter(request.path for request in app.received)
    assert paths == {
        "status": 4,
        "voice": 1,
        "menu": 1,
        "next": 1,
        "dialed": 1,
        "recorded": 1,
        "rec-status": 1,
        "leg": 4,
    }
    statuses = [
        (r.params["SequenceNumber"], r.params["StatusCallbackEvent"], r.params["CallStatus"]) for r in app.at("status")
    ]
    assert sorted(statuses) == [
        ("0", "initiated", "initiated"),
        ("1", "ringing", "ringing"),
        ("2", "answered", "in-progress"),
        ("3", "completed", "completed"),
    ]
    completed = app.at("status")[-1].params
    assert int(completed["CallDuration"]) > 0 and completed["Duration"] == "1" and completed["CallbackSource"]
    voice = app.at("voice")[0].params
    assert (voice["CallSid"], voice["CallStatus"], voice["Direction"]) == (call.sid, "in-progress", "outbound-api")
    assert (voice["From"], voice["To"], voice["ApiVersion"], voice["AccountSid"]) == (
        APP,
        CUSTOMER,
        "2010-04-01",
        call.account_sid,
    )
    assert (app.at("menu")[0].params["Digits"], app.at("menu")[0].params["FinishedOnKey"]) == ("1", "")
    assert app.at("next")[0].url.endswith("/next?step=2&name=caf%C3%A9")  # the query as written, resolved
    dialed = app.at("dialed")[0].params
    assert (dialed["DialCallStatus"], dialed["DialBridged"]) == ("completed", "true")
    assert dialed["DialCallSid"].startswith("CA") and dialed["DialCallSid"] != call.sid
    leg = [r.params for r in app.at("leg")]
    assert [(p["SequenceNumber"], p["StatusCallbackEvent"], p["CallStatus"]) for p in leg] == [
        ("0", "initiated", "initiated"),
        ("1", "ringing", "ringing"),
        ("2", "answered", "in-progress"),
        ("3", "completed", "completed"),
    ]
    assert {(p["CallSid"], p["ParentCallSid"], p["Direction"]) for p in leg} == {
        (dialed["DialCallSid"], call.sid, "outbound-dial")
    }
    recorded = app.at("recorded")[0].params
    assert recorded["RecordingSid"].startswith("RE") and recorded["Digits"] == "hangup"
    assert recorded["RecordingUrl"].endswith(f"/Recordings/{recorded['RecordingSid']}")
    stored = app.at("rec-status")[0].params
    assert (stored["RecordingSid"], stored["RecordingStatus"], stored["RecordingSource"]) == (
        recorded["RecordingSid"],
        "completed",
        "RecordVerb",
    )
    tokens = [request.headers["i-twilio-idempotency-token"] for request in app.received]
    assert len(set(tokens)) == len(tokens)


def test_get_webhooks_and_the_fallback_url_with_its_own_method_are_signed_too() -> None:
    app = FakeApp()
    app.replies = {
        "voice": (500, "down"),
        "fallback": twiml('<Gather numDigits="2" method="GET" action="/pick?lang=fr&amp;who=Jos%C3%A9"/>'),
        "pick": twiml("<Say>Merci</Say>"),
    }
    with running(app, numbers={CUSTOMER: FarEnd(digits="42")}) as sim:
        call = sim.twilio.calls.create(
            to=CUSTOMER,
            from_=APP,
            url=f"{app.url}/voice?tenant=acme",
            method="POST",
            fallback_url=f"{app.url}/fallback",
            fallback_method="GET",
            status_callback=f"{app.url}/status",
            status_callback_method="GET",
            record=True,
            recording_status_callback=f"{app.url}/call-recording",
            recording_status_callback_method="GET",
        )
        sim.wait_status(call.sid)
        sim.settle()
    _assert_all_signed(app.received)
    assert [(request.method, request.path) for request in app.received] == [
        ("POST", "voice"),
        ("GET", "fallback"),
        ("GET", "pick"),
        ("GET", "status"),
        ("GET", "call-recording"),
    ]
    fallback = app.at("fallback")[0].params
    assert (fallback["ErrorCode"], fallback["ErrorUrl"]) == ("11200", f"{app.url}/voice?tenant=acme")
    pick = app.at("pick")[0]
    assert pick.url.startswith(f"{app.url}/pick?lang=fr&who=Jos%C3%A9&")  # Twilio's parameters after the URL's own
    assert pick.params["Digits"] == "42"
    assert app.at("status")[0].params["CallStatus"] == "completed"  # only completed when no events are named
    assert app.at("call-recording")[0].params["RecordingSource"] == "OutboundAPI"  # Record=true on create


def test_a_timed_out_or_lost_twiml_request_goes_to_the_fallback_url_with_its_token() -> None:
    app = FakeApp(
        replies={
            "voice": twiml('<Gather numDigits="1" action="/menu"/>'),
            "fallback": twiml('<Gather numDigits="1" action="/menu"/>'),
            "menu": twiml("<Hangup/>"),
        }
    )
    faults = Faults(
        rules=(FaultRule("fallback_first", event_type="call"), FaultRule("drop_after_handler", event_type="gather"))
    )
    with running(app, numbers={CUSTOMER: FarEnd(digits="5")}, faults=faults) as sim:
        call = sim.twilio.calls.create(
            to=CUSTOMER, from_=APP, url=f"{app.url}/voice", fallback_url=f"{app.url}/fallback"
        )
        sim.wait_status(call.sid)
        sim.settle()
        applied = {fault for sent in sim.simulator.sent for fault in sent.faults}
        log = sim.log(call.sid)
    _assert_all_signed(app.received)
    assert applied == {"fallback_first", "drop_after_handler"}
    voice, fallback = app.at("voice")[0], app.at("fallback")[0]
    assert (fallback.params["ErrorCode"], fallback.params["ErrorUrl"]) == ("11200", f"{app.url}/voice")
    token = voice.headers["i-twilio-idempotency-token"]
    assert fallback.headers["i-twilio-idempotency-token"] == token  # the same request, delivered again
    assert {k: v for k, v in fallback.params.items() if not k.startswith("Error")} == voice.params
    # The Gather action's answer is lost on the way back and it has no fallback URL: an application error ends it.
    assert [r.params["Digits"] for r in app.at("menu")] == ["5"] and "twiml-error" in log
