"""End to end over real sockets: client → simulator → callbacks → receiver → handler → client → more callbacks.

Every test serves a real ``CallHooks`` app (``callhooks_simulator.receiver``) whose handlers control the call
through the handle they are given; the simulator (speed x100) plays the far end. Handlers write what they saw
into a ``Journal`` before they answer, so once the simulator has delivered a callback, the journal has it.
Every wait has a deadline; nothing sleeps to synchronise.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from callhooks import AsyncCallHandle, CallHooks, events
from callhooks.events import wire_fields
from callhooks.simulator import FarEnd
from callhooks.testing import SimulatorSession, dtmf_event
from tests.end_to_end.flows import (
    A_LEG_FLOW,
    APP,
    B_LEG_FLOW,
    CAUSE_REJECTED,
    CUSTOMER,
    LONG_PROMPT,
    SALES,
    Journal,
    hangup_cause,
    load_example_ivr,
    menu_app,
    new_hooks,
    paired_client,
    place_inbound,
    run_menu_call,
    script_menu_far_ends,
    wait_for_journal,
)


def test_menu_choice_transfers_and_both_legs_complete(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    script_menu_far_ends(session)
    hooks = new_hooks()
    journal, a_leg, b_leg = run_menu_call(session, hooks)

    assert journal.of(a_leg) == A_LEG_FLOW
    assert journal.of(b_leg) == B_LEG_FLOW
    assert all(event.context == {"order": 4411} for event in journal.typed(a_leg))
    assert all(event.context == {"leg": "sales", "menu": "main"} for event in journal.typed(b_leg))
    client = session.client
    a_call, b_call = client.calls.get(a_leg), client.calls.get(b_leg)
    assert (a_call.state, b_call.state) == ("completed", "completed")
    assert (hangup_cause(client, a_leg), hangup_cause(client, b_leg)) == ("NORMAL_CLEARING", "NORMAL_CLEARING")
    assert (b_call.direction, b_call.from_, b_call.to) == ("out", APP, SALES)
    assert a_call.bridge_id is not None and a_call.bridge_id == b_call.bridge_id
    # the B-leg got its own signed callback URL, carrying the transfer's context
    assert a_call.callback_url and b_call.callback_url and a_call.callback_url != b_call.callback_url
    assert hooks.verify_callback_url(b_call.callback_url) == {"leg": "sales", "menu": "main"}
    assert all(sent.outcome == "delivered" for sent in session.sent())


def test_example_ivr_transfers_to_sales(callhooks_simulator: SimulatorSession, monkeypatch: pytest.MonkeyPatch) -> None:
    session = callhooks_simulator
    for name, value in session.environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CALLHOOKS_SECRET", secrets.token_urlsafe(24))
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", "http://127.0.0.1:9")  # session.receiver points it at its port
    monkeypatch.setenv("IVR_SALES_NUMBER", SALES)
    hooks = load_example_ivr()
    journal = Journal()
    hooks.add_observer(lambda dispatched: journal.record(dispatched.event))  # the example's own handlers run
    script_menu_far_ends(session)

    with session.receiver(hooks), paired_client(session, hooks) as client:
        a_leg = client.calls.create(APP, CUSTOMER).id
        session.wait_until_ended(a_leg)
        (b_leg,) = {sent.call_id for sent in session.sent()} - {a_leg}
        wait_for_journal(session, journal, a_leg, A_LEG_FLOW)
        wait_for_journal(session, journal, b_leg, B_LEG_FLOW)

    assert journal.typed(b_leg)[0].context == {"leg": "sales", "from_call": a_leg}
    assert [session.client.calls.get(leg).state for leg in (a_leg, b_leg)] == ["completed", "completed"]
    assert hangup_cause(session.client, a_leg) == hangup_cause(session.client, b_leg) == "NORMAL_CLEARING"


# ---------------------------------------------------------------------------- calls that are never answered


def ending_app(journal: Journal, *event_types: str) -> tuple[CallHooks, list[str | None]]:
    """Handlers for ``event_types`` that read the call back through their handle; returns the app and the
    call states they read."""
    hooks = new_hooks()
    states: list[str | None] = []

    async def read_back(event: events.CallEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        states.append((await call.get()).state)

    for event_type in event_types:
        hooks.add_handler(read_back, event_type)
    journal.catch_all(hooks)
    return hooks, states


def test_busy_line_hangs_up_with_user_busy_and_no_answer(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd.busy())
    journal = Journal()
    hooks, states = ending_app(journal, "hangup")

    with session.receiver(hooks), paired_client(session, hooks) as client:
        call_id = client.calls.create(APP, CUSTOMER).id
        call = session.wait_until_ended(call_id)

    assert journal.of(call_id) == ["hangup USER_BUSY"]
    assert states == ["completed"]
    assert (call.state, call.active_time) == ("completed", None)
    assert hangup_cause(session.client, call_id) == "USER_BUSY"


def test_unanswered_call_times_out_then_hangs_up_no_answer(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd.never_answers())
    journal = Journal()
    hooks, states = ending_app(journal, "timeout", "hangup")

    with session.receiver(hooks), paired_client(session, hooks) as client:
        call_id = client.calls.create(APP, CUSTOMER, call_timeout=5).id
        call = session.wait_until_ended(call_id)

    assert journal.of(call_id) == ["timeout", "hangup NO_ANSWER"]
    assert [type(event) for event in journal.typed(call_id)] == [events.TimeoutEvent, events.HangupEvent]
    assert states == ["completed", "completed"]
    assert (call.state, call.active_time) == ("completed", None)
    assert hangup_cause(session.client, call_id) == "NO_ANSWER"


def test_callee_rejecting_reaches_the_reject_handler(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd.rejects(after=2))
    journal, hangups = Journal(), Journal()
    hooks, states = ending_app(journal, "reject")

    @hooks.on("hangup")
    async def hung_up(event: events.HangupEvent) -> None:
        hangups.record(event)

    with session.receiver(hooks), paired_client(session, hooks) as client:
        call_id = client.calls.create(APP, CUSTOMER).id
        call = session.wait_until_ended(call_id)

    assert journal.of(call_id) == [f"hangup {CAUSE_REJECTED}"]
    assert isinstance(journal.typed(call_id)[0], events.RejectEvent)
    assert hangups.received == []  # the reject handler wins over the hangup handler
    assert states == ["rejected"]
    assert call.state == "rejected"
    assert hangup_cause(session.client, call_id) == CAUSE_REJECTED


def test_app_rejecting_inbound_call_reaches_the_hangup_handler(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    journal = Journal()
    hooks, states = ending_app(journal, "hangup")  # no "reject" handler: "hangup" receives rejects

    @hooks.on("incomingcall")
    async def ringing(event: events.IncomingCallEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        await call.reject()

    with session.receiver(hooks):
        call_id = place_inbound(session, hooks.callback_url(max_age=None), autoAnswer=False)
        call = session.wait_until_ended(call_id)

    assert journal.of(call_id) == ["incomingcall", f"hangup {CAUSE_REJECTED}"]
    assert isinstance(journal.typed(call_id)[1], events.RejectEvent)
    assert states == ["rejected"]
    assert (call.state, call.direction) == ("rejected", "in")
    assert hangup_cause(session.client, call_id) == CAUSE_REJECTED


# ------------------------------------------------------------------------------ hang-ups, recordings, GET


def test_caller_hanging_up_mid_prompt_ends_speech_and_gather(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd(hangup_after=45))  # greeting and prompt last over a minute: the caller leaves
    journal = Journal()
    hooks = new_hooks()

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        await call.speak(LONG_PROMPT, tag="greeting")

    @hooks.on("speak", tag="greeting")
    async def greeting(event: events.SpeakEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        if event.status == "started":  # menu keys barge in over the greeting
            await call.gather(max_digits=1, prompt=LONG_PROMPT, tag="main-menu")

    journal.catch_all(hooks)
    with session.receiver(hooks), paired_client(session, hooks) as client:
        call_id = client.calls.create(APP, CUSTOMER).id
        call = session.wait_until_ended(call_id)

    assert journal.of(call_id) == [
        "answer",
        "speak started greeting",
        "speak done greeting",
        "gather main-menu digits= hung-up",
        "hangup NORMAL_CLEARING",
    ]
    assert call.state == "completed"
    assert hangup_cause(session.client, call_id) == "NORMAL_CLEARING"


def test_recorded_message_is_transcribed(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    said = "Hi, it is Sam, please call me back about the order"
    session.script(CUSTOMER, FarEnd(hangup_after=None, speak_seconds=30, says=said))
    journal = Journal()
    listed: list[str] = []
    hooks = new_hooks()

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        await call.speak("Leave a message after the tone.", tag="voicemail")

    @hooks.on("recording")
    async def recorded(event: events.RecordingEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        listed.extend([recording.id async for recording in call.recordings()])

    @hooks.on("transcription")
    async def transcribed(event: events.TranscriptionEvent) -> None:
        journal.record(event)

    journal.catch_all(hooks)
    with session.receiver(hooks), paired_client(session, hooks) as client:
        call_id = client.calls.create(APP, CUSTOMER, recording_enabled=True, transcription_enabled=True).id
        call = session.wait_until_ended(call_id)
        (transcription,) = session.wait_for(lambda: journal.typed(None), what="the transcription callback")

    assert journal.of(call_id) == [
        "answer",
        "speak started voicemail",
        "speak done voicemail",
        "hangup NORMAL_CLEARING",
        "recording complete",
    ]
    recording_event = journal.typed(call_id)[-1]
    assert isinstance(recording_event, events.RecordingEvent)
    assert isinstance(transcription, events.TranscriptionEvent)
    assert transcription.text == said and transcription.recording_id == recording_event.recording_id
    assert call.state == "completed" and hangup_cause(session.client, call_id) == "NORMAL_CLEARING"
    recordings = list(session.client.calls.recordings(call_id))
    assert [recording.id for recording in recordings] == listed == [recording_event.recording_id]
    assert recordings[0].state == "complete"
    transcriptions = list(session.client.calls.transcriptions(call_id))
    assert [(t.id, t.text) for t in transcriptions] == [(transcription.transcription_id, said)]


def comparable(event: events.CallEvent) -> tuple[type[events.CallEvent], dict[str, Any], dict[str, Any]]:
    """An event without what differs from one call to the next (ids, times): its class, fields and context."""
    fields = event.model_dump(exclude={"call_id", "call_uri", "time", "gather_id"}, exclude_unset=True)
    return type(event), fields, event.context


def test_get_callbacks_deliver_the_same_typed_events_as_post(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    script_menu_far_ends(session)
    post_journal, post_a, post_b = run_menu_call(session, new_hooks())
    get_journal, get_a, get_b = run_menu_call(session, new_hooks(callback_http_method="GET"))

    assert get_journal.of(get_a) == A_LEG_FLOW
    for post_leg, get_leg in ((post_a, get_a), (post_b, get_b)):
        assert [sent.method for sent in session.sent(post_leg)] == ["POST"] * len(session.sent(post_leg))
        assert [sent.method for sent in session.sent(get_leg)] == ["GET"] * len(session.sent(get_leg))
        assert all(sent.outcome == "delivered" for sent in session.sent(get_leg))
        assert session.client.calls.get(get_leg).callback_http_method == "get"
        assert [comparable(e) for e in get_journal.typed(get_leg)] == [
            comparable(e) for e in post_journal.typed(post_leg)
        ]
    answer = get_journal.typed(get_a)[0]
    assert (answer.from_, answer.to) == (APP, CUSTOMER)  # the "+" survived the query string
    assert [session.client.calls.get(leg).state for leg in (get_a, get_b)] == ["completed", "completed"]


# ------------------------------------------------------------------------------------------------ fallback


def test_event_refused_with_500_is_resent_to_the_fallback_url(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd(hangup_after=None))
    primary_journal, fallback_journal = Journal(), Journal()
    secret = secrets.token_urlsafe(24)
    primary, fallback = CallHooks(secret=secret), CallHooks(secret=secret)

    @primary.on("answer")
    async def broken(event: events.AnswerEvent) -> None:
        primary_journal.record(event)
        raise RuntimeError("the database is down")

    @fallback.on("answer")
    async def standby(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        fallback_journal.record(event)
        await call.hangup()

    primary_journal.catch_all(primary)
    with session.receiver(primary), session.receiver(fallback), paired_client(session, primary) as client:
        call_id = client.calls.create(APP, CUSTOMER, fallback_url=fallback.callback_url()).id
        call = session.wait_until_ended(call_id)

    assert primary_journal.of(call_id) == ["answer", "hangup NORMAL_CLEARING"]
    assert fallback_journal.of(call_id) == ["answer"]
    answer, hangup = session.sent(call_id)
    assert answer.outcome == "fallback" and [a.status for a in answer.attempts] == [500, 200]
    assert hangup.outcome == "delivered"
    assert [failure["code"] for failure in session.simulator.failures] == ["callback-failed"]
    assert call.state == "completed" and hangup_cause(session.client, call_id) == "NORMAL_CLEARING"


def test_event_timing_out_at_the_primary_is_resent_to_the_fallback_url(
    callhooks_simulator: SimulatorSession,
) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd(hangup_after=None))
    primary_journal, fallback_journal = Journal(), Journal()
    fallback_ran = threading.Event()
    secret = secrets.token_urlsafe(24)
    primary, fallback = CallHooks(secret=secret), CallHooks(secret=secret)

    @primary.on("answer")
    def stuck(event: events.AnswerEvent) -> None:  # sync: runs in a worker thread, so it may block
        primary_journal.record(event)
        fallback_ran.wait(timeout=10)  # held past the callback timeout until the fallback has taken over

    @fallback.on("answer")
    async def standby(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        fallback_journal.record(event)
        fallback_ran.set()
        await call.hangup()

    primary_journal.catch_all(primary)
    with session.receiver(primary), session.receiver(fallback), paired_client(session, primary) as client:
        options: dict[str, Any] = {"fallback_url": fallback.callback_url(), "callback_timeout": 200}
        call_id = client.calls.create(APP, CUSTOMER, **options).id
        call = session.wait_until_ended(call_id)

    assert primary_journal.of(call_id) == ["answer", "hangup NORMAL_CLEARING"]
    assert fallback_journal.of(call_id) == ["answer"]
    answer, hangup = session.sent(call_id)
    assert answer.outcome == "fallback"
    assert [(a.status, a.error) for a in answer.attempts] == [(None, "no response within 200 ms"), (200, None)]
    assert hangup.outcome == "delivered"
    assert call.state == "completed" and hangup_cause(session.client, call_id) == "NORMAL_CLEARING"


# ------------------------------------------------------------------------------------- forged callbacks


def forged_urls(base: str, secret: str, real_url: str) -> dict[str, str]:
    """Callback URLs an attacker might try, keyed by the reason the receiver should give for refusing each."""
    prefix, token = real_url.rsplit("/", 1)
    # change the signed payload's first character (the signature's last one may only carry padding bits)
    tampered = ("B" if token[0] == "A" else "A") + token[1:]
    two_days_ago = time.time() - 2 * 24 * 3600
    return {
        "token-missing": f"{base}/",
        "token-unknown-key": CallHooks(secret="someone-else", public_url=base).callback_url(),
        "token-altered": f"{prefix}/{tampered}",
        "token-expired": CallHooks(secret=secret, public_url=base, clock=lambda: two_days_ago).callback_url(),
    }


def test_forged_callbacks_are_refused_while_real_ones_pass(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd(hangup_after=None))
    journal = Journal()
    secret = secrets.token_urlsafe(24)
    hooks = CallHooks(secret=secret)

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        await call.hangup()

    journal.catch_all(hooks)
    with session.receiver(hooks) as base, paired_client(session, hooks) as client:
        call_id = client.calls.create(APP, CUSTOMER).id
        call = session.wait_until_ended(call_id)
        real_url = call.callback_url
        assert real_url is not None
        body = wire_fields(dtmf_event(call_id=call_id, dtmf_digit="5"))  # a key press that never happened
        refused = {}
        for reason, url in forged_urls(base, secret, real_url).items():
            response = httpx.post(url, json=body, timeout=30)
            refused[reason] = (response.status_code, response.json()["reason"])
        assert journal.of(call_id) == ["answer", "hangup NORMAL_CLEARING"]  # the forgeries ran no handler
        replayed = httpx.post(real_url, json=body, timeout=30)  # the same body on the real URL is accepted

    assert refused == {reason: (403, reason) for reason in refused}
    assert len(refused) == 4
    assert all(sent.outcome == "delivered" for sent in session.sent(call_id))
    assert replayed.status_code == 200
    assert journal.of(call_id) == ["answer", "hangup NORMAL_CLEARING", "dtmf 5"]
    assert call.state == "completed" and hangup_cause(session.client, call_id) == "NORMAL_CLEARING"


def test_inbound_call_on_a_static_url_is_answered_by_its_handler(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    session.script(CUSTOMER, FarEnd(hangup_after=5))
    journal = Journal()
    hooks = new_hooks()

    @hooks.on("incomingcall")
    async def ringing(event: events.IncomingCallEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        await call.answer()

    journal.catch_all(hooks)
    with session.receiver(hooks):
        call_id = place_inbound(session, hooks.callback_url(max_age=None), autoAnswer=False)
        call = session.wait_until_ended(call_id)

    assert journal.of(call_id) == ["incomingcall", "answer", "hangup NORMAL_CLEARING"]
    incoming = journal.typed(call_id)[0]
    assert (incoming.from_, incoming.to) == (CUSTOMER, APP)
    assert (call.state, call.direction) == ("completed", "in")
    assert hangup_cause(session.client, call_id) == "NORMAL_CLEARING"


# ---------------------------------------------------------------------------------- every event, typed

EXPECTED_CLASS: dict[str, type[events.CallEvent]] = {
    "incomingcall": events.IncomingCallEvent,
    "answer": events.AnswerEvent,
    "hangup": events.HangupEvent,
    "timeout": events.TimeoutEvent,
    "playback": events.PlaybackEvent,
    "speak": events.SpeakEvent,
    "dtmf": events.DtmfEvent,
    "gather": events.GatherEvent,
    "recording": events.RecordingEvent,
    "transcription": events.TranscriptionEvent,
    "transferComplete": events.TransferCompleteEvent,
}


def expected_class(body: dict[str, object]) -> type[events.CallEvent]:
    if body["eventType"] == "hangup" and body.get("cause") == CAUSE_REJECTED:
        return events.RejectEvent
    return EXPECTED_CLASS[str(body["eventType"])]


def test_every_event_the_simulator_sends_arrives_typed(callhooks_simulator: SimulatorSession) -> None:
    session = callhooks_simulator
    script_menu_far_ends(session)
    busy, away, declines, voicemail, caller = (f"+1919555000{n}" for n in range(1, 6))
    session.script(busy, FarEnd.busy())
    session.script(away, FarEnd.never_answers())
    session.script(declines, FarEnd.rejects())
    session.script(voicemail, FarEnd(hangup_after=None, speak_seconds=30, says="call me back"))
    session.script(caller, FarEnd(hangup_after=30))
    journal, legs = Journal(), list[str]()
    hooks = menu_app(new_hooks(), journal, legs)  # every answered call hears the menu

    @hooks.on("incomingcall")
    async def ringing(event: events.IncomingCallEvent, call: AsyncCallHandle) -> None:
        journal.record(event)
        await call.play("https://example.com/jingle.mp3", tag="jingle")

    with session.receiver(hooks), paired_client(session, hooks) as client:
        calls = [client.calls.create(APP, number, call_timeout=5).id for number in (CUSTOMER, busy, away, declines)]
        calls.append(client.calls.create(APP, voicemail, recording_enabled=True, transcription_enabled=True).id)
        calls.append(place_inbound(session, hooks.callback_url(max_age=None), caller=caller))
        for call_id in calls:
            session.wait_until_ended(call_id)
        session.wait_for(lambda: journal.typed(None), what="the transcription callback")
        session.settle()

    sent = session.sent()
    assert all(record.outcome == "delivered" for record in sent)
    received = Counter(type(event) for event in journal.received)
    assert received == Counter(expected_class(record.event) for record in sent)
    assert set(received) == {*EXPECTED_CLASS.values(), events.RejectEvent}  # so no UnknownEvent either
