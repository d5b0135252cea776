"""Bandwidth Voice API v2 answers as its documentation gives them, and the requests' fixed parts.

Not a test module: the Bandwidth client tests import these.
"""

from __future__ import annotations

import base64
from typing import Any

ACCOUNT = "9900000"
APPLICATION = "04e88489-df02-4e34-a0ee-27a91849555f"
CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
RECORDING = "r-fbe05094-9fd2afe9-bf5b-4c68-820a-41a01c1c5833"
TRANSCRIPTION = "t-cbe3d2ab-3f4d-4a9a-b8a6-6a7a7b3f8f58"
CONFERENCE = "conf-fe23a767-a75a5b77-20c5-4cca-b581-cbbf0776eca9"
USERNAME = "api-user"
PASSWORD = "api-password-123"
BASIC = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
CLIENT_ID = "oauth-client"
CLIENT_SECRET = "oauth-secret-456"
TOKEN_BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
PREFIX = f"/api/v2/accounts/{ACCOUNT}"
TOKEN_PATH = "/api/v1/oauth2/token"
BXML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Bxml>\n  <SpeakSentence>This is a test sentence.</SpeakSentence>\n</Bxml>'
)

# The sheet's createCall example (request) and its 201 answer.
CREATE_BODY: dict[str, Any] = {
    "from": "+19195554321",
    "to": "+19195551234",
    "applicationId": APPLICATION,
    "answerUrl": "https://app.example/webhooks/answer",
    "disconnectUrl": "https://app.example/webhooks/disconnect",
    "callTimeout": 30,
    "callbackTimeout": 15,
    "priority": 5,
    "tag": "order-42",
    "machineDetection": {"mode": "async", "callbackUrl": "https://app.example/webhooks/amd"},
}
CREATED: dict[str, Any] = {
    "applicationId": APPLICATION,
    "accountId": ACCOUNT,
    "callId": CALL,
    "to": "+19195551234",
    "from": "+19195554312",
    "enqueuedTime": "2022-06-16T13:15:07.160Z",
    "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/calls/{CALL}",
    "callTimeout": 30,
    "callbackTimeout": 15,
    "tag": "My custom tag value",
    "answerMethod": "POST",
    "answerUrl": "https://myServer.example/bandwidth/webhooks/answer",
    "answerFallbackMethod": "POST",
    "disconnectMethod": "POST",
    "disconnectUrl": "https://myServer.example/bandwidth/webhooks/disconnect",
    "priority": 5,
}


def call_state(call_id: str = CALL, **fields: Any) -> dict[str, Any]:
    """A ``CallState`` with the sheet's fields."""
    return {
        "applicationId": APPLICATION,
        "accountId": ACCOUNT,
        "callId": call_id,
        "parentCallId": None,
        "to": "+19195551234",
        "from": "+19195554321",
        "direction": "outbound",
        "state": "disconnected",
        "stirShaken": None,
        "identity": None,
        "enqueuedTime": "2022-06-16T13:15:07.160Z",
        "startTime": "2022-06-16T13:15:07.160Z",
        "answerTime": "2022-06-16T13:15:18.126Z",
        "endTime": "2022-06-16T13:15:31.227Z",
        "disconnectCause": "hangup",
        "errorMessage": None,
        "errorId": None,
        "lastUpdate": "2022-06-16T13:15:31.227Z",
        **fields,
    }


RECORDING_METADATA: dict[str, Any] = {
    "applicationId": APPLICATION,
    "accountId": ACCOUNT,
    "callId": CALL,
    "parentCallId": "",
    "recordingId": RECORDING,
    "to": "+15555555555",
    "from": "+15555555555",
    "transferCallerId": "+15555555555",
    "transferTo": "+15555555555",
    "duration": "PT13.67S",
    "direction": "inbound",
    "channels": 1,
    "startTime": "2022-06-17T22:19:40.375Z",
    "endTime": "2022-06-17T22:20:00.375Z",
    "fileFormat": "wav",
    "status": "complete",
    "mediaUrl": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/calls/{CALL}/recordings/{RECORDING}/media",
    "transcription": {
        "id": "t-387bd648-18f3-4823-9d16-746bca0003c9",
        "status": "completed",
        "completedTime": "2022-06-13T18:46:29.715Z",
        "url": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/calls/{CALL}/recordings/{RECORDING}/transcription",
    },
}
TRANSCRIPTIONS: dict[str, Any] = {
    "transcripts": [{"speaker": 0, "text": "Nice talking to you, friend!", "confidence": 0.9}],
    "clips": [],
}
REAL_TIME: dict[str, Any] = {
    "accountId": ACCOUNT,
    "callId": CALL,
    "transcriptionId": TRANSCRIPTION,
    "tracks": [{"detectedLanguage": "en-US", "track": "inbound", "transcript": "Hello World!", "confidence": 0.9}],
}
MEMBER: dict[str, Any] = {
    "callId": CALL,
    "conferenceId": CONFERENCE,
    "memberUrl": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/conferences/{CONFERENCE}/members/{CALL}",
    "mute": False,
    "hold": False,
    "callIdsToCoach": None,
}
CONFERENCE_JSON: dict[str, Any] = {
    "id": CONFERENCE,
    "name": "my-conference-name",
    "createdTime": "2022-06-17T22:19:40.375Z",
    "completedTime": None,
    "conferenceEventUrl": "https://myServer.example/bandwidth/webhooks/conferenceEvent",
    "conferenceEventMethod": "POST",
    "tag": "my custom tag",
    "activeMembers": [MEMBER],
}
CONFERENCE_RECORDING: dict[str, Any] = {
    "accountId": ACCOUNT,
    "conferenceId": CONFERENCE,
    "name": "my-conference-name",
    "recordingId": RECORDING,
    "duration": "PT13.67S",
    "channels": 1,
    "startTime": "2022-06-17T22:19:40.375Z",
    "endTime": "2022-06-17T22:20:00.375Z",
    "fileFormat": "wav",
    "status": "complete",
    "mediaUrl": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT}/conferences/{CONFERENCE}/recordings/{RECORDING}/media",
}


def error(kind: str, description: str, error_id: str | None = None) -> dict[str, Any]:
    """A ``VoiceApiError`` body."""
    return {"type": kind, "description": description, "id": error_id}
