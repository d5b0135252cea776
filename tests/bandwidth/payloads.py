"""A realistic POST body for every Bandwidth Voice API v2 callback: the documented examples where the reference
sheet has one, else built from its field matrix (the fields each event always or sometimes carries)."""

from __future__ import annotations

from typing import Any

ACCOUNT = "55555555"
APP = "7fc9698a-b04a-468b-9e8f-91238c0d0086"
CALL = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
PARENT = "c-2a913f94-6a486f3a-3cae-4034-bcc3-f0c9fa77ca2f"
CALL_URL = f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/calls/{CALL}"
RECORDING = "r-115da407-e3d9-4ea7-889f-5f4ad7386a80"
MEDIA_URL = f"{CALL_URL}/recordings/{RECORDING}/media"
CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"

_COMMON: dict[str, Any] = {
    "accountId": ACCOUNT,
    "applicationId": APP,
    "from": "+15551112222",
    "to": "+15553334444",
    "direction": "outbound",
    "callId": CALL,
    "callUrl": CALL_URL,
    "startTime": "2019-06-20T15:54:22.234Z",
    "answerTime": "2019-06-20T15:54:25.432Z",
}


def _call(event_type: str, event_time: str, **fields: Any) -> dict[str, Any]:
    return {"eventType": event_type, "eventTime": event_time, **_COMMON, **fields}


def _without(payload: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in payload.items() if name not in names}


_RECORDING_FIELDS: dict[str, Any] = {
    "recordingId": RECORDING,
    "mediaUrl": MEDIA_URL,
    "startTime": "2019-09-13T16:48:29.235Z",
    "endTime": "2019-09-13T16:48:48.890Z",
    "duration": "PT20.056S",
    "fileFormat": "wav",
}

#: One payload per event type (the routing name), as Bandwidth POSTs it.
PAYLOADS: dict[str, dict[str, Any]] = {
    "initiate": {
        "eventType": "initiate",
        "eventTime": "2019-06-20T15:56:11.554Z",
        "accountId": ACCOUNT,
        "applicationId": APP,
        "from": "+15551112222",
        "to": "+15553334444",
        "direction": "inbound",
        "callId": CALL,
        "callUrl": CALL_URL,
        "startTime": "2019-06-20T15:54:22.234Z",
        "diversion": {"origTo": "+15558884444", "reason": "unavailable", "privacy": "off", "unknown": "unknownValue"},
        "stirShaken": {"verstat": "TN-Verification-Passed", "attestationIndicator": "A", "originatingId": "abc123"},
        "uui": "bXktdXVp;encoding=base64",
        "sipCallId": "c95ac8d6e@sbc.bandwidth.com",
        "sipHeaders": {"x-custom-header": "value"},
        "privacy": False,
        "callerDisplayName": "",
    },
    "answer": {
        **_call("answer", "2019-06-20T15:54:25.435Z", enqueuedTime="2019-06-20T15:53:10.212Z", tag="example-tag"),
        "machineDetectionResult": {"value": "human", "duration": "PT5.045329368S"},
    },
    "disconnect": {
        **_call("disconnect", "2019-06-20T15:55:55.533Z"),
        "endTime": "2019-06-20T15:55:54.123Z",
        "cause": "busy",
        "errorMessage": "Callee is busy",
        "errorId": "4642074b-7b58-478b-96e4-3a60955c6765",
        "sipResponseCode": 486,
    },
    "redirect": _call("redirect", "2019-06-20T15:54:22.807Z", tag="example-tag"),
    "gather": _call("gather", "2019-06-20T15:56:11.554Z", digits="123", terminatingDigit="#"),
    "dtmf": _call(
        "dtmf",
        "2019-06-20T15:56:12.001Z",
        digit="2",
        parentCallId=PARENT,
        transferCallerId="+15551115555",
        transferTo="+15556667777",
        tag="menu",
    ),
    "recordComplete": _call("recordComplete", "2019-09-13T16:48:48.905Z", **_RECORDING_FIELDS, channels=1),
    "recordingAvailable": _without(
        _call("recordingAvailable", "2019-09-13T16:49:30.000Z", **_RECORDING_FIELDS, status="complete", channels=2),
        "answerTime",
    ),
    "transcriptionAvailable": {
        **_without(
            _call("transcriptionAvailable", "2019-09-13T16:49:30.012Z", **_RECORDING_FIELDS), "answerTime", "channels"
        ),
        "transcription": {
            "id": "t-387bd648-18f3-4823-9d16-746bca0003c9",
            "url": f"{CALL_URL}/recordings/{RECORDING}/transcription",
            "status": "available",
            "completedTime": "2019-09-13T16:49:28.883Z",
        },
    },
    "machineDetectionComplete": _call(
        "machineDetectionComplete",
        "2021-11-10T11:20:07.709Z",
        tag="example-tag",
        machineDetectionResult={"value": "answering-machine", "duration": "PT4.9891287S"},
    ),
    "transferAnswer": _call(
        "transferAnswer",
        "2019-06-20T15:57:22.477Z",
        parentCallId=PARENT,
        transferTo="+15556667777",
        transferCallerId="+15551112222",
    ),
    "transferComplete": _call(
        "transferComplete",
        "2019-07-31T13:20:39.810Z",
        transferCallerId="+15551115555",
        transferTo="+15556667777",
        cause="busy",
        errorMessage="Callee is busy",
        errorId="4642074b-7b58-478b-96e4-3a60955c6765",
    ),
    "transferDisconnect": _call(
        "transferDisconnect",
        "2019-12-27T19:19:28.003Z",
        parentCallId=PARENT,
        transferCallerId="+15551115555",
        transferTo="+15556667777",
        endTime="2019-12-27T19:19:27.987Z",
        cause="hangup",
    ),
    "bridgeComplete": _call(
        "bridgeComplete",
        "2019-07-31T13:15:35.121Z",
        cause="busy",
        errorMessage=f"Call {PARENT} is already bridged with another call",
        errorId="4642074b-7b58-478b-96e4-3a60955c6765",
    ),
    "bridgeTargetComplete": _call("bridgeTargetComplete", "2019-07-31T13:15:35.121Z", tag="bridge"),
    "conferenceCreated": {
        "eventType": "conferenceCreated",
        "eventTime": "2019-07-31T13:16:00.001Z",
        "conferenceId": CONFERENCE,
        "name": "thisConference",
        "tag": "conferenceTag",
    },
    "conferenceMemberJoin": {
        "conferenceId": CONFERENCE,
        "name": "thisConference",
        "eventType": "conferenceMemberJoin",
        "eventTime": "2019-07-31T13:16:01.324Z",
        "callId": CALL,
        "to": "+15551112345",
        "from": "+15559998765",
        "tag": "conferenceTag",
    },
    "conferenceMemberExit": {
        "conferenceId": CONFERENCE,
        "name": "thisConference",
        "eventType": "conferenceMemberExit",
        "eventTime": "2019-07-31T13:19:01.324Z",
        "callId": CALL,
        "to": "+15551112345",
        "from": "+15559998765",
    },
    "conferenceRedirect": {
        "eventType": "conferenceRedirect",
        "eventTime": "2019-07-31T13:17:00.000Z",
        "conferenceId": CONFERENCE,
        "name": "thisConference",
    },
    "conferenceCompleted": {
        "eventType": "conferenceCompleted",
        "eventTime": "2019-07-31T13:20:00.000Z",
        "conferenceId": CONFERENCE,
        "name": "thisConference",
        "tag": "conferenceTag",
    },
    "conferenceRecordingAvailable": {
        "eventType": "conferenceRecordingAvailable",
        "eventTime": "2019-07-31T13:21:00.000Z",
        "conferenceId": CONFERENCE,
        "name": "thisConference",
        "accountId": ACCOUNT,
        "recordingId": RECORDING,
        "channels": 1,
        "startTime": "2019-07-31T13:16:02.000Z",
        "endTime": "2019-07-31T13:19:58.000Z",
        "duration": "PT3M56S",
        "fileFormat": "wav",
        "mediaUrl": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/conferences/{CONFERENCE}/recordings/{RECORDING}/media",
        "status": "complete",
    },
    "mediaStreamStarted": {
        **_call("mediaStreamStarted", "2022-06-30T18:55:02.489Z"),
        "mediaStream": {
            "destination": "wss://websocket.myapp.example",
            "id": "s-95ac90b3-bfc81595-35fc-4b64-8265-fab6855b74a2",
            "name": "example_stream",
            "startTime": "2022-06-30T18:55:02.489Z",
            "tracks": ["inbound", "outbound"],
            "type": "WebSocket",
        },
    },
    "mediaStreamRejected": {
        **_call("mediaStreamRejected", "2022-06-30T18:55:03.000Z", cause="duplicate", errorMessage="duplicate"),
        "mediaStream": {"id": "s-2", "name": "example_stream", "tracks": ["inbound"], "type": "WebSocket"},
        "originalMediaStream": {"id": "s-1", "name": "example_stream", "tracks": ["inbound"], "type": "WebSocket"},
    },
    "mediaStreamStopped": {
        **_call("mediaStreamStopped", "2022-06-30T18:56:03.000Z", cause="closed"),
        "mediaStream": {"id": "s-1", "name": "example_stream", "tracks": ["inbound"], "duration": "PT1M0.5S"},
    },
    "realTimeTranscriptionStarted": {
        **_call("realTimeTranscriptionStarted", "2022-06-30T18:55:02.489Z"),
        "realTimeTranscription": {"id": "t-1", "name": "live", "tracks": ["inbound"], "stabilized": "true"},
    },
    "realTimeTranscriptionRejected": {
        **_call("realTimeTranscriptionRejected", "2022-06-30T18:55:03.000Z", cause="track-limit", errorMessage="x"),
        "transcription": {"id": "t-2", "name": "live", "tracks": ["inbound"]},
        "originalTranscription": {"id": "t-1", "name": "live"},
    },
    "realTimeTranscriptionStopped": {
        **_call("realTimeTranscriptionStopped", "2022-06-30T18:58:03.000Z", cause="closed"),
        "transcription": {"id": "t-1", "name": "live", "duration": "PT3M"},
    },
    "realTimeTranscriptionAvailable": {
        **_call("realTimeTranscriptionAvailable", "2022-06-30T18:59:03.000Z"),
        "realTimeTranscription": {
            "id": "t-1",
            "status": "available",
            "url": f"{CALL_URL}/transcriptions/t-1",
            "completedTime": "2022-06-30T18:59:02.000Z",
        },
    },
}

#: The SDK's model (``bandwidth.models``) for each event type it models.
SDK_MODELS: dict[str, str] = {
    "initiate": "InitiateCallback",
    "answer": "AnswerCallback",
    "disconnect": "DisconnectCallback",
    "redirect": "RedirectCallback",
    "gather": "GatherCallback",
    "dtmf": "DtmfCallback",
    "recordComplete": "RecordingCompleteCallback",
    "recordingAvailable": "RecordingAvailableCallback",
    "transcriptionAvailable": "TranscriptionAvailableCallback",
    "machineDetectionComplete": "MachineDetectionCompleteCallback",
    "transferAnswer": "TransferAnswerCallback",
    "transferComplete": "TransferCompleteCallback",
    "transferDisconnect": "TransferDisconnectCallback",
    "bridgeComplete": "BridgeCompleteCallback",
    "bridgeTargetComplete": "BridgeTargetCompleteCallback",
    "conferenceCreated": "ConferenceCreatedCallback",
    "conferenceMemberJoin": "ConferenceMemberJoinCallback",
    "conferenceMemberExit": "ConferenceMemberExitCallback",
    "conferenceRedirect": "ConferenceRedirectCallback",
    "conferenceCompleted": "ConferenceCompletedCallback",
    "conferenceRecordingAvailable": "ConferenceRecordingAvailableCallback",
}
