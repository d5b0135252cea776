"""Call flows through the simulator, checked event by event as a receiver gets them over real sockets.

Most tests run the simulator on a manual clock and move it with ``POST /_sim/clock/advance`` (settling
deliveries after each timer), so every timestamp is exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from callhooks.simulator import FarEnd
from tests.simulator.receiver import CALLEE, CALLER, USER, Env, running

EPOCH = datetime(2019, 3, 14, 15, 9, 26, 535000, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    """The event timestamp ``seconds`` after the test epoch."""
    moment = EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"] for e in events]


def call_fields(env: Env, call_id: str) -> dict[str, str]:
    return {"callId": call_id, "callUri": f"{env.url}/v1/users/{USER}/calls/{call_id}"}


def test_answer_speak_gather_hangup_sequence_has_exact_fields() -> None:
    script = {CALLEE: FarEnd(digits="12#", hangup_after=30)}
    with running(numbers=script, epoch=EPOCH) as env:
        call_id = env.create_call(tag="order-4411")
        ids = call_fields(env, call_id)
        (answer,) = env.receiver.wait_types("answer")
        assert answer == {
            "eventType": "answer",
            "from": CALLER,
            "to": CALLEE,
            **ids,
            "callState": "active",
            "tag": "order-4411",
            "time": at(0),
        }

        speak = env.client.post(f"{env.calls}/{call_id}/audio", json={"sentence": "Welcome!", "tag": "greeting"})
        assert (speak.status_code, speak.content) == (200, b"")
        env.advance(1)  # a short sentence takes one simulated second
        gather = env.client.post(
            f"{env.calls}/{call_id}/gather", json={"maxDigits": "5", "interDigitTimeout": "10", "tag": "menu"}
        )
        assert gather.status_code == 201
        gather_id = gather.headers["location"].rsplit("/", 1)[-1]
        assert gather.headers["location"] == f"/v1/users/{USER}/calls/{call_id}/gather/{gather_id}"
        env.advance(5)
        env.advance(30)

        events = env.receiver.events()
        assert types(events) == ["answer", "speak", "speak", "dtmf", "dtmf", "dtmf", "gather", "hangup"]
        assert events[1] == {
            "eventType": "speak",
            **ids,
            "status": "started",
            "state": "PLAYBACK_START",
            "tag": "greeting",
            "time": at(0),
        }
        assert events[2] == {**events[1], "status": "done", "state": "PLAYBACK_STOP", "time": at(1)}
        assert [e["dtmfDigit"] for e in events[3:6]] == ["1", "2", "#"]
        assert events[3] == {
            "eventType": "dtmf",
            **ids,
            "dtmfDigit": "1",
            "dtmfDuration": "160",
            "tag": "order-4411",
            "time": at(1.5),
        }
        assert events[6] == {
            "eventType": "gather",
            **ids,
            "gatherId": gather_id,
            "state": "completed",
            "reason": "terminating-digit",
            "digits": "12",
            "terminatingDigit": "#",
            "tag": "menu",
            "time": at(2.5),
        }
        assert events[7] == {
            "eventType": "hangup",
            "from": CALLER,
            "to": CALLEE,
            **ids,
            "callState": "completed",
            "cause": "NORMAL_CLEARING",
            "tag": "order-4411",
            "time": at(30),
        }

        got = env.client.get(f"{env.calls}/{call_id}/gather/{gather_id}").json()
        assert got == {
            "id": gather_id,
            "state": "completed",
            "digits": "12",
            "call": ids["callUri"],
            "createdTime": at(1),
            "reason": "terminating-digit",
            "completedTime": at(2.5),
        }
        resource = env.get_call(call_id)
        assert resource["state"] == "completed"
        assert (resource["startTime"], resource["activeTime"], resource["endTime"]) == (at(0), at(0), at(30))
        assert resource["chargeableDuration"] == 30
        assert resource["events"] == ids["callUri"] + "/events"
        log = env.client.get(f"{env.calls}/{call_id}/events").json()
        assert [e["name"] for e in log][:3] == ["create", "answer", "speak"]
        assert set(log[0]) == {"id", "time", "name", "data"}
        assert env.client.get(f"{env.calls}/{call_id}/events/{log[1]['id']}").json() == log[1]
        assert env.client.get(f"{env.calls}/{call_id}/events/ce-nope").status_code == 404


@pytest.mark.parametrize(
    ("far_end", "cause", "state"),
    [(FarEnd.busy(), "USER_BUSY", "completed"), (FarEnd.rejects(after=2), "CALL_REJECTED", "rejected")],
)
def test_busy_and_rejecting_far_ends_end_the_call_with_their_cause(far_end: FarEnd, cause: str, state: str) -> None:
    with running(numbers={CALLEE: far_end}, epoch=EPOCH) as env:
        call_id = env.create_call(tag="t1")
        env.advance(5)
        (hangup,) = env.receiver.wait_types("hangup")
        assert hangup["cause"] == cause
        assert hangup["callState"] == "completed"
        assert hangup["time"] == at(far_end.answer_after)
        resource = env.get_call(call_id)
        assert resource["state"] == state
        assert "activeTime" not in resource and resource["chargeableDuration"] == 0


def test_unanswered_call_times_out_then_hangs_up_with_no_answer() -> None:
    with running(numbers={CALLEE: FarEnd.never_answers()}, epoch=EPOCH) as env:
        call_id = env.create_call(callTimeout=20, tag="t2")
        env.advance(19)
        assert env.receiver.events() == []
        env.advance(1)
        timeout, hangup = env.receiver.wait_types("timeout", "hangup")
        assert timeout == {
            "eventType": "timeout",
            "from": CALLER,
            "to": CALLEE,
            **call_fields(env, call_id),
            "tag": "t2",
            "time": at(20),
        }
        assert (hangup["cause"], hangup["time"]) == ("NO_ANSWER", at(20))
        assert env.get_call(call_id)["state"] == "completed"


def test_far_end_answering_after_the_call_timeout_times_out() -> None:
    with running(numbers={CALLEE: FarEnd(answer_after=30)}) as env:
        env.create_call(callTimeout=30)
        env.advance(40)
        assert types(env.receiver.events()) == ["timeout", "hangup"]


def test_app_hanging_up_before_answer_is_an_originator_cancel() -> None:
    with running(numbers={CALLEE: FarEnd(answer_after=10)}, epoch=EPOCH) as env:
        call_id = env.create_call()
        env.advance(3)
        assert env.client.post(f"{env.calls}/{call_id}", json={"state": "completed"}).status_code == 200
        env.advance(20)
        (hangup,) = env.receiver.wait_types("hangup")
        assert (hangup["cause"], hangup["time"]) == ("ORIGINATOR_CANCEL", at(3))
        assert "tag" not in hangup


def test_app_hanging_up_an_answered_call_is_normal_clearing_and_stops_a_running_gather() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}) as env:
        call_id = env.create_call()
        env.client.post(f"{env.calls}/{call_id}/audio", json={"fileUrl": "http://x.test/a.wav", "loopEnabled": True})
        env.client.post(f"{env.calls}/{call_id}/gather", json={"tag": "g"})
        env.advance(1)
        env.client.post(f"{env.calls}/{call_id}", json={"state": "completed"})
        env.settle()
        events = env.receiver.events()
        assert types(events) == ["answer", "playback", "playback", "gather", "hangup"]
        assert [e["status"] for e in events[1:3]] == ["started", "done"]
        assert (events[3]["reason"], events[3]["digits"], events[3]["tag"]) == ("hung-up", "", "g")
        assert "terminatingDigit" not in events[3]
        assert events[4]["cause"] == "NORMAL_CLEARING"


def test_updating_the_callback_url_redirects_later_events() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=5)}) as env:
        call_id = env.create_call(path="/first")
        env.receiver.wait_types("answer", path="/first")
        update = env.client.post(f"{env.calls}/{call_id}", json={"callbackUrl": env.receiver_url + "/second"})
        assert update.status_code == 200
        env.advance(5)
        assert types(env.receiver.events("/second")) == ["hangup"]
        assert env.get_call(call_id)["callbackUrl"] == env.receiver_url + "/second"


def test_gather_ends_on_max_digits_and_on_inter_digit_timeout() -> None:
    with running(numbers={CALLEE: FarEnd(digits=["123", "4"], hangup_after=None)}, epoch=EPOCH) as env:
        call_id = env.create_call()
        env.client.post(f"{env.calls}/{call_id}/gather", json={"maxDigits": 2})
        env.advance(3)
        env.client.post(f"{env.calls}/{call_id}/gather", json={"maxDigits": 3, "interDigitTimeout": 4})
        env.advance(10)
        gathers = [e for e in env.receiver.events() if e["eventType"] == "gather"]
        assert [(g["reason"], g["digits"]) for g in gathers] == [("max-digits", "12"), ("inter-digit-timeout", "4")]
        assert gathers[1]["time"] == at(3 + 0.5 + 4)


def test_stopping_a_gather_completes_it_with_reason_cancelled() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}) as env:
        call_id = env.create_call()
        location = env.client.post(f"{env.calls}/{call_id}/gather", json={"tag": "pin"}).headers["location"]
        stop = env.client.post(location, json={"state": "completed"})
        assert (stop.status_code, stop.content) == (200, b"")
        env.settle()
        gather = env.receiver.events()[-1]
        assert (gather["eventType"], gather["reason"], gather["tag"]) == ("gather", "cancelled", "pin")
        assert env.client.get(location).json()["state"] == "completed"


def test_far_end_pressing_after_a_prompt_finishes() -> None:
    with running(numbers={CALLEE: FarEnd(digits="7", press_on="prompt", hangup_after=None)}, epoch=EPOCH) as env:
        call_id = env.create_call()
        env.client.post(f"{env.calls}/{call_id}/audio", json={"sentence": "x" * 30})
        env.advance(5)
        dtmf = [e for e in env.receiver.events() if e["eventType"] == "dtmf"]
        assert [(e["dtmfDigit"], e["time"]) for e in dtmf] == [("7", at(2.5))]


def test_far_end_hanging_up_after_the_first_prompt_it_hears_whenever_that_comes() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=1, hangup_on="prompt")}, epoch=EPOCH) as env:
        call_id = env.create_call()
        env.advance(120)  # no prompt yet: the far end stays however long the application takes
        assert env.get_call(call_id)["state"] == "active"
        env.client.post(f"{env.calls}/{call_id}/audio", json={"sentence": "x" * 30, "tag": "whisper"})
        env.advance(5)
        kinds = [(e["eventType"], e.get("status"), e["time"]) for e in env.receiver.events()[1:]]
        assert kinds == [("speak", "started", at(120)), ("speak", "done", at(122)), ("hangup", None, at(123))]
        with pytest.raises(ValueError, match="hangup_on must be 'answer' or 'prompt'"):
            FarEnd(hangup_on="later")  # type: ignore[arg-type]


def test_transfer_creates_a_b_leg_bridges_it_and_reports_transfer_complete() -> None:
    b_number = "+19195550199"
    script = {CALLEE: FarEnd(hangup_after=None), b_number: FarEnd(answer_after=2, hangup_after=10)}
    with running(numbers=script, epoch=EPOCH) as env:
        a_id = env.create_call(path="/a", tag="a-tag")
        env.receiver.wait_types("answer", path="/a")
        transfer = env.client.post(
            f"{env.calls}/{a_id}",
            json={"state": "transferring", "transferTo": b_number, "callbackUrl": env.receiver_url + "/b"},
        )
        assert (transfer.status_code, transfer.content) == (201, b"")
        b_id = transfer.headers["location"].rsplit("/", 1)[-1]
        assert transfer.headers["location"] == f"/v1/users/{USER}/calls/{b_id}"
        a_leg = env.get_call(a_id)
        assert (a_leg["state"], a_leg["transferTo"]) == ("transferring", b_number)
        b_leg = env.get_call(b_id)
        assert (b_leg["direction"], b_leg["from"], b_leg["to"], b_leg["state"]) == ("out", CALLER, b_number, "started")

        env.advance(2)
        a_leg, b_leg = env.get_call(a_id), env.get_call(b_id)
        assert a_leg["state"] == b_leg["state"] == "active"
        assert a_leg["bridgeId"] == b_leg["bridgeId"] and a_leg["bridgeId"].startswith("brg-")
        bridged = env.client.get(env.calls, params={"bridgeId": a_leg["bridgeId"]}).json()
        assert sorted(c["id"] for c in bridged) == sorted([a_id, b_id])

        env.advance(10)
        b_events = env.receiver.wait_types("answer", "hangup", path="/b")
        assert (b_events[1]["cause"], b_events[1]["time"]) == ("NORMAL_CLEARING", at(12))
        a_events = env.receiver.wait_types("answer", "transferComplete", "hangup", path="/a")
        assert a_events[1] == {
            "eventType": "transferComplete",
            "from": CALLER,
            "to": b_number,
            **call_fields(env, a_id),
            "callState": "active",
            "tag": "a-tag",
            "time": at(12),
        }
        assert a_events[2]["cause"] == "NORMAL_CLEARING"
        assert env.get_call(a_id)["state"] == env.get_call(b_id)["state"] == "completed"


def test_transfer_to_a_busy_number_returns_the_a_leg_to_active() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None), "+19195550199": FarEnd.busy()}) as env:
        a_id = env.create_call(path="/a")
        transfer = env.client.post(f"{env.calls}/{a_id}", json={"state": "transferring", "transferTo": "+19195550199"})
        b_id = transfer.headers["location"].rsplit("/", 1)[-1]
        env.advance(1)
        assert env.get_call(a_id)["state"] == "active"
        assert env.get_call(b_id)["state"] == "completed"
        assert types(env.receiver.events("/a")) == ["answer"]
        # the B-leg had no callbackUrl: its events are recorded as failures
        codes = {f["code"] for f in env.client.get(f"/v1/users/{USER}/errors").json()}
        assert codes == {"no-callback-for-call"}


def test_app_hanging_up_the_a_leg_hangs_up_the_b_leg() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None), "+19195550199": FarEnd(hangup_after=None)}) as env:
        a_id = env.create_call(path="/a")
        transfer = env.client.post(
            f"{env.calls}/{a_id}",
            json={"state": "transferring", "transferTo": "+19195550199", "callbackUrl": env.receiver_url + "/b"},
        )
        env.advance(1)
        env.client.post(f"{env.calls}/{a_id}", json={"state": "completed"})
        env.settle()
        assert types(env.receiver.events("/a")) == ["answer", "hangup"]
        assert types(env.receiver.events("/b")) == ["answer", "hangup"]
        b_id = transfer.headers["location"].rsplit("/", 1)[-1]
        assert env.get_call(b_id)["state"] == "completed"


def test_recording_and_transcription_follow_the_hangup() -> None:
    script = {CALLEE: FarEnd(speak_seconds=4, says="Hi, please call me back about my order.")}
    with running(numbers=script, epoch=EPOCH) as env:
        call_id = env.create_call(recordingEnabled="true", transcriptionEnabled=True, recordingFileFormat="mp3")
        env.advance(10)
        events = env.receiver.wait_types("answer", "hangup", "recording", "transcription")
        recording, transcription = events[2], events[3]
        recording_id = recording["recordingId"]
        assert recording == {
            "eventType": "recording",
            "callId": call_id,
            "recordingId": recording_id,
            "recordingUri": f"{env.url}/v1/users/{USER}/recordings/{recording_id}",
            "state": "complete",
            "status": "complete",
            "startTime": at(0),
            "endTime": at(4),
        }
        transcription_id = transcription["transcriptionId"]
        recording_uri = recording["recordingUri"]
        assert transcription == {
            "eventType": "transcription",
            "transcriptionId": transcription_id,
            "recordingId": recording_id,
            "transcriptionUri": f"{recording_uri}/transcriptions/{transcription_id}",
            "state": "completed",
            "status": "completed",
            "text": "Hi, please call me back about my order.",
            "textSize": 39,
            "textUrl": f"{env.url}/v1/users/{USER}/media/{transcription_id}",
        }
        (listed,) = env.client.get(f"{env.calls}/{call_id}/recordings").json()
        assert (listed["id"], listed["state"], listed["endTime"]) == (recording_id, "complete", at(4))
        assert listed["media"].endswith(".mp3")
        (text,) = env.client.get(f"{env.calls}/{call_id}/transcriptions").json()
        assert (text["id"], text["textSize"], text["chargeableDuration"], text["time"]) == (
            transcription_id,
            39,
            4,
            at(6),
        )


def test_stopping_recording_by_update_sends_the_recording_event() -> None:
    with running(numbers={CALLEE: FarEnd(hangup_after=None)}, epoch=EPOCH) as env:
        call_id = env.create_call()
        env.client.post(f"{env.calls}/{call_id}", json={"recordingEnabled": True})
        env.advance(3)
        assert env.client.post(f"{env.calls}/{call_id}", json={"recordingEnabled": "false"}).status_code == 200
        env.settle()
        recording = env.receiver.events()[-1]
        assert (recording["eventType"], recording["startTime"], recording["endTime"]) == ("recording", at(0), at(3))


def test_inbound_call_placed_over_the_control_api_is_auto_answered() -> None:
    with running(incoming_call_url="/inbound", epoch=EPOCH, application_id="a-app") as env:
        placed = env.client.post("/_sim/inbound", json={"from": "+19195551111", "to": CALLER})
        assert placed.status_code == 201
        call_id = placed.json()["callId"]
        incoming, answer = env.receiver.wait_types("incomingcall", "answer", path="/inbound")
        assert incoming == {
            "eventType": "incomingcall",
            "from": "+19195551111",
            "to": CALLER,
            **call_fields(env, call_id),
            "callState": "active",
            "applicationId": "a-app",
            "time": at(0),
        }
        assert "tag" not in answer and answer["callState"] == "active"
        assert env.get_call(call_id)["direction"] == "in"


def test_app_rejecting_an_inbound_call() -> None:
    with running(incoming_call_url="/inbound") as env:
        placed = env.client.post("/_sim/inbound", json={"from": "+19195551111", "to": CALLER, "autoAnswer": False})
        call_id = placed.json()["callId"]
        env.receiver.wait_types("incomingcall", path="/inbound")
        assert env.get_call(call_id)["state"] == "started"
        assert env.client.post(f"{env.calls}/{call_id}", json={"state": "rejected"}).status_code == 200
        _, hangup = env.receiver.wait_types("incomingcall", "hangup", path="/inbound")
        assert hangup["cause"] == "CALL_REJECTED"
        assert env.get_call(call_id)["state"] == "rejected"


def test_speed_mode_plays_a_minute_long_call_quickly_with_exact_simulated_times() -> None:
    with running(speed=200, epoch=EPOCH) as env:
        env.create_call()
        answer, hangup = env.receiver.wait_types("answer", "hangup")
        start = datetime.fromisoformat(answer["time"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(hangup["time"].replace("Z", "+00:00"))
        assert end - start == timedelta(seconds=60)  # the default far end hangs up after 60 s
