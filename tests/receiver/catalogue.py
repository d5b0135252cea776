# ruff: noqa: E501
"""The event examples of docs/platforms/catapult-voice.md#events, copied verbatim, with what each should parse to.

Each sample holds the page's JSON example and/or its GET-form request line exactly as printed there (do not
reformat them: the point is that the documented bytes parse), the class the receiver must pick, and a few
attribute values it must produce. ``query`` is the part of the GET line after ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from callhooks import events


def _t(year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Sample:
    name: str
    section: str
    event_type: str  # the wire eventType
    cls: type[events.CallEvent]
    json: str | None
    get: str | None
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def query(self) -> str:
        assert self.get is not None
        return self.get.split("?", 1)[1]


SAMPLES: tuple[Sample, ...] = (
    Sample(
        name="incomingcall",
        section="3.1",
        event_type="incomingcall",
        cls=events.IncomingCallEvent,
        json='{"eventType": "incomingcall", "from": "+19195551212", "to": "+19195550100", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "callState": "active", "applicationId": "a-5tnw2hqx", "time": "2019-03-14T15:09:26.535Z"}',
        get="GET /cb/voice?eventType=incomingcall&from=%2B19195551212&to=%2B19195550100&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&callState=active&applicationId=a-5tnw2hqx&time=2019-03-14T15%3A09%3A26.535Z",
        expected={
            "call_id": "c-abc123",
            "from_": "+19195551212",
            "to": "+19195550100",
            "call_state": "active",
            "application_id": "a-5tnw2hqx",
            "time": _t(2019, 3, 14, 15, 9, 26, 535000),
            "diversion": None,
        },
    ),
    Sample(
        name="incomingcall-diversion",
        section="3.1",
        event_type="incomingcall",
        cls=events.IncomingCallEvent,
        json=None,
        get="GET /cb/voice?eventType=incomingcall&from=%2B19195551212&to=%2B19195550100&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&callState=active&applicationId=a-5tnw2hqx&time=2019-03-14T15%3A09%3A26.535Z&diversion=%7B%22origTo%22%3A%22%2B19195550142%22%2C%22reason%22%3A%22no-answer%22%2C%22screen%22%3A%22no%22%2C%22privacy%22%3A%22off%22%2C%22counter%22%3A%221%22%2C%22limit%22%3A%225%22%7D",
        expected={
            "call_id": "c-abc123",
            "from_": "+19195551212",
            "application_id": "a-5tnw2hqx",
            "diversion": events.Diversion(
                orig_to="+19195550142", reason="no-answer", screen="no", privacy="off", counter=1, limit=5
            ),
        },
    ),
    Sample(
        name="answer",
        section="3.2",
        event_type="answer",
        cls=events.AnswerEvent,
        json='{"eventType": "answer", "from": "+19195550100", "to": "+19195551212", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "callState": "active", "tag": "order-4411", "time": "2019-03-14T15:09:31.002Z"}',
        get="GET /cb/voice?eventType=answer&from=%2B19195550100&to=%2B19195551212&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&callState=active&tag=order-4411&time=2019-03-14T15%3A09%3A31.002Z",
        expected={
            "call_id": "c-abc123",
            "from_": "+19195550100",
            "to": "+19195551212",
            "call_state": "active",
            "tag": "order-4411",
            "time": _t(2019, 3, 14, 15, 9, 31, 2000),
        },
    ),
    Sample(
        name="hangup",
        section="3.3",
        event_type="hangup",
        cls=events.HangupEvent,
        json='{"eventType": "hangup", "from": "+19195550100", "to": "+19195551212", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "callState": "completed", "cause": "NORMAL_CLEARING", "time": "2019-03-14T15:11:02.718Z"}',
        get="GET /cb/voice?eventType=hangup&from=%2B19195550100&to=%2B19195551212&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&callState=completed&cause=NORMAL_CLEARING&time=2019-03-14T15%3A11%3A02.718Z",
        expected={
            "call_id": "c-abc123",
            "call_state": "completed",
            "cause": "NORMAL_CLEARING",
            "time": _t(2019, 3, 14, 15, 11, 2, 718000),
        },
    ),
    Sample(
        name="reject",
        section="3.3",
        event_type="hangup",
        cls=events.RejectEvent,
        json='{"eventType": "hangup", "from": "+19195551212", "to": "+19195550100", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "callState": "completed", "cause": "CALL_REJECTED", "time": "2019-03-14T15:09:28.140Z"}',
        get=None,
        expected={
            "event_type": "hangup",
            "call_id": "c-abc123",
            "from_": "+19195551212",
            "call_state": "completed",
            "cause": "CALL_REJECTED",
            "event_route_type": "reject",
        },
    ),
    Sample(
        name="timeout",
        section="3.4",
        event_type="timeout",
        cls=events.TimeoutEvent,
        json='{"eventType": "timeout", "from": "+19195550100", "to": "+19195551212", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "tag": "order-4411", "time": "2019-03-14T15:10:26.540Z"}',
        get="GET /cb/voice?eventType=timeout&from=%2B19195550100&to=%2B19195551212&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&tag=order-4411&time=2019-03-14T15%3A10%3A26.540Z",
        expected={
            "call_id": "c-abc123",
            "tag": "order-4411",
            "call_state": "completed",
            "to": "+19195551212",
            "time": _t(2019, 3, 14, 15, 10, 26, 540000),
        },
    ),
    Sample(
        name="playback",
        section="3.5",
        event_type="playback",
        cls=events.PlaybackEvent,
        json='{"eventType": "playback", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "status": "started", "tag": "greeting", "time": "2019-03-14T15:09:32.110Z"}',
        get="GET /cb/voice?eventType=playback&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&status=started&tag=greeting&time=2019-03-14T15%3A09%3A32.110Z",
        expected={
            "call_id": "c-abc123",
            "status": "started",
            "tag": "greeting",
            "call_state": "active",
            "time": _t(2019, 3, 14, 15, 9, 32, 110000),
        },
    ),
    Sample(
        name="speak",
        section="3.6",
        event_type="speak",
        cls=events.SpeakEvent,
        json='{"eventType": "speak", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "status": "done", "state": "PLAYBACK_STOP", "tag": "menu", "time": "2019-03-14T15:09:40.871Z"}',
        get="GET /cb/voice?eventType=speak&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&status=done&state=PLAYBACK_STOP&tag=menu&time=2019-03-14T15%3A09%3A40.871Z",
        expected={"status": "done", "state": "PLAYBACK_STOP", "tag": "menu", "call_state": "active"},
    ),
    Sample(
        name="dtmf",
        section="3.7",
        event_type="dtmf",
        cls=events.DtmfEvent,
        json='{"eventType": "dtmf", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "dtmfDigit": "5", "dtmfDuration": "160", "time": "2019-03-14T15:09:44.305Z"}',
        get="GET /cb/voice?eventType=dtmf&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&dtmfDigit=5&dtmfDuration=160&time=2019-03-14T15%3A09%3A44.305Z",
        expected={
            "call_id": "c-abc123",
            "dtmf_digit": "5",
            "dtmf_duration": 160,
            "call_state": "active",
            "time": _t(2019, 3, 14, 15, 9, 44, 305000),
        },
    ),
    Sample(
        name="gather",
        section="3.8",
        event_type="gather",
        cls=events.GatherEvent,
        json='{"eventType": "gather", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "gatherId": "g-3mhq7xzt", "state": "completed", "reason": "terminating-digit", "digits": "1234", "terminatingDigit": "#", "tag": "pin-entry", "time": "2019-03-14T15:09:51.920Z"}',
        get="GET /cb/voice?eventType=gather&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&gatherId=g-3mhq7xzt&state=completed&reason=terminating-digit&digits=1234&terminatingDigit=%23&tag=pin-entry&time=2019-03-14T15%3A09%3A51.920Z",
        expected={
            "gather_id": "g-3mhq7xzt",
            "state": "completed",
            "reason": "terminating-digit",
            "digits": "1234",
            "terminating_digit": "#",
            "tag": "pin-entry",
            "call_state": "active",
        },
    ),
    Sample(
        name="recording",
        section="3.9",
        event_type="recording",
        cls=events.RecordingEvent,
        json='{"eventType": "recording", "callId": "c-abc123", "recordingId": "rec-6fzq2kxw", "recordingUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/recordings/rec-6fzq2kxw", "state": "complete", "status": "complete", "startTime": "2019-03-14T15:09:52.004Z", "endTime": "2019-03-14T15:10:20.551Z"}',
        get="GET /cb/voice?eventType=recording&callId=c-abc123&recordingId=rec-6fzq2kxw&recordingUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Frecordings%2Frec-6fzq2kxw&state=complete&status=complete&startTime=2019-03-14T15%3A09%3A52.004Z&endTime=2019-03-14T15%3A10%3A20.551Z",
        expected={
            "call_id": "c-abc123",
            "recording_id": "rec-6fzq2kxw",
            "recording_uri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/recordings/rec-6fzq2kxw",
            "state": "complete",
            "status": "complete",
            "start_time": _t(2019, 3, 14, 15, 9, 52, 4000),
            "end_time": _t(2019, 3, 14, 15, 10, 20, 551000),
            "time": None,
        },
    ),
    Sample(
        name="transcription",
        section="3.10",
        event_type="transcription",
        cls=events.TranscriptionEvent,
        json='{"eventType": "transcription", "transcriptionId": "tr-4kzq7mxw", "recordingId": "rec-6fzq2kxw", "transcriptionUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/recordings/rec-6fzq2kxw/transcriptions/tr-4kzq7mxw", "state": "completed", "status": "completed", "text": "Hi, please call me back about my order.", "textSize": 39, "textUrl": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/media/tr-4kzq7mxw"}',
        get="GET /cb/voice?eventType=transcription&transcriptionId=tr-4kzq7mxw&recordingId=rec-6fzq2kxw&transcriptionUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Frecordings%2Frec-6fzq2kxw%2Ftranscriptions%2Ftr-4kzq7mxw&state=completed&status=completed&text=Hi%2C%20please%20call%20me%20back%20about%20my%20order.&textSize=39&textUrl=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fmedia%2Ftr-4kzq7mxw",
        expected={
            "transcription_id": "tr-4kzq7mxw",
            "recording_id": "rec-6fzq2kxw",
            "state": "completed",
            "text": "Hi, please call me back about my order.",
            "text_size": 39,
            "text_url": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/media/tr-4kzq7mxw",
            "call_id": None,
        },
    ),
    Sample(
        name="conference",
        section="3.11",
        event_type="conference",
        cls=events.ConferenceEvent,
        json='{"eventType": "conference", "conferenceId": "conf-7wq3kzx2", "conferenceUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/conferences/conf-7wq3kzx2", "status": "completed", "createdTime": "2019-03-14T15:00:00.120Z", "completedTime": "2019-03-14T15:30:41.009Z"}',
        get="GET /cb/voice?eventType=conference&conferenceId=conf-7wq3kzx2&conferenceUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fconferences%2Fconf-7wq3kzx2&status=completed&createdTime=2019-03-14T15%3A00%3A00.120Z&completedTime=2019-03-14T15%3A30%3A41.009Z",
        expected={
            "conference_id": "conf-7wq3kzx2",
            "status": "completed",
            "created_time": _t(2019, 3, 14, 15, 0, 0, 120000),
            "completed_time": _t(2019, 3, 14, 15, 30, 41, 9000),
        },
    ),
    Sample(
        name="conference-member",
        section="3.12",
        event_type="conference-member",
        cls=events.ConferenceMemberEvent,
        json='{"eventType": "conference-member", "conferenceId": "conf-7wq3kzx2", "callId": "c-abc123", "memberId": "member-2hq6xzk7", "memberUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/conferences/conf-7wq3kzx2/members/member-2hq6xzk7", "state": "active", "hold": false, "mute": true, "activeMembers": 3, "time": "2019-03-14T15:05:12.330Z"}',
        get="GET /cb/voice?eventType=conference-member&conferenceId=conf-7wq3kzx2&callId=c-abc123&memberId=member-2hq6xzk7&memberUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fconferences%2Fconf-7wq3kzx2%2Fmembers%2Fmember-2hq6xzk7&state=active&hold=false&mute=true&activeMembers=3&time=2019-03-14T15%3A05%3A12.330Z",
        expected={
            "conference_id": "conf-7wq3kzx2",
            "call_id": "c-abc123",
            "member_id": "member-2hq6xzk7",
            "state": "active",
            "hold": False,
            "mute": True,
            "active_members": 3,
        },
    ),
    Sample(
        name="conference-playback",
        section="3.13",
        event_type="conference-playback",
        cls=events.ConferencePlaybackEvent,
        json='{"eventType": "conference-playback", "conferenceId": "conf-7wq3kzx2", "conferenceUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/conferences/conf-7wq3kzx2", "status": "done", "time": "2019-03-14T15:06:02.874Z"}',
        get="GET /cb/voice?eventType=conference-playback&conferenceId=conf-7wq3kzx2&conferenceUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fconferences%2Fconf-7wq3kzx2&status=done&time=2019-03-14T15%3A06%3A02.874Z",
        expected={"conference_id": "conf-7wq3kzx2", "status": "done", "time": _t(2019, 3, 14, 15, 6, 2, 874000)},
    ),
    Sample(
        name="conference-speak",
        section="3.14",
        event_type="conference-speak",
        cls=events.ConferenceSpeakEvent,
        json='{"eventType": "conference-speak", "conferenceId": "conf-7wq3kzx2", "conferenceUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/conferences/conf-7wq3kzx2", "status": "started", "time": "2019-03-14T15:06:10.015Z"}',
        get="GET /cb/voice?eventType=conference-speak&conferenceId=conf-7wq3kzx2&conferenceUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fconferences%2Fconf-7wq3kzx2&status=started&time=2019-03-14T15%3A06%3A10.015Z",
        expected={"conference_id": "conf-7wq3kzx2", "status": "started", "time": _t(2019, 3, 14, 15, 6, 10, 15000)},
    ),
    Sample(
        name="redirect",
        section="3.15",
        event_type="redirect",
        cls=events.RedirectEvent,
        json='{"eventType": "redirect", "from": "+19195551212", "to": "+19195550100", "callId": "c-abc123", "callState": "active"}',
        get="GET /cb/voice?eventType=redirect&from=%2B19195551212&to=%2B19195550100&callId=c-abc123&callState=active",
        expected={
            "call_id": "c-abc123",
            "call_state": "active",
            "from_": "+19195551212",
            "to": "+19195550100",
            "time": None,
        },
    ),
    Sample(
        name="transferComplete",
        section="3.16",
        event_type="transferComplete",
        cls=events.TransferCompleteEvent,
        json='{"eventType": "transferComplete", "from": "+19195550100", "to": "+19195550199", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "callState": "active", "time": "2019-03-14T15:12:40.447Z"}',
        get="GET /cb/voice?eventType=transferComplete&from=%2B19195550100&to=%2B19195550199&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&callState=active&time=2019-03-14T15%3A12%3A40.447Z",
        expected={"call_id": "c-abc123", "from_": "+19195550100", "to": "+19195550199", "call_state": "active"},
    ),
    Sample(
        name="error",
        section="3.17",
        event_type="error",
        cls=events.ErrorEvent,
        json='{"eventType": "error", "from": "+19195550100", "to": "+19195551212", "callId": "c-abc123", "callUri": "https://api.catapult.inetwork.com/v1/users/u-8fk2q7xa/calls/c-abc123", "callState": "error", "time": "2019-03-14T15:09:27.002Z"}',
        get="GET /cb/voice?eventType=error&from=%2B19195550100&to=%2B19195551212&callId=c-abc123&callUri=https%3A%2F%2Fapi.catapult.inetwork.com%2Fv1%2Fusers%2Fu-8fk2q7xa%2Fcalls%2Fc-abc123&callState=error&time=2019-03-14T15%3A09%3A27.002Z",
        expected={
            "call_id": "c-abc123",
            "call_state": "error",
            "from_": "+19195550100",
            "time": _t(2019, 3, 14, 15, 9, 27, 2000),
        },
    ),
)

JSON_SAMPLES = tuple(s for s in SAMPLES if s.json is not None)
GET_SAMPLES = tuple(s for s in SAMPLES if s.get is not None)
