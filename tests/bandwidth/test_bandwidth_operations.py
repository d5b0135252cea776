"""Every Voice API v2 operation over real HTTP (the recording server on 127.0.0.1): the exact request it
sends, what it makes of the documented answer, and the same from ``Client`` and ``AsyncClient``."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import anyio
import pytest

from callhooks.bandwidth.client import (
    AsyncClient,
    CallHandle,
    CallOperations,
    Calls,
    Client,
    ConferenceOperations,
    Conferences,
    RecordingOperations,
    Recordings,
    TranscriptionOperations,
    Transcriptions,
)
from callhooks.client.facades import Iterate, OnCall, Run
from tests.bandwidth.documented import (
    ACCOUNT,
    APPLICATION,
    BASIC,
    BXML,
    CALL,
    CONFERENCE,
    CONFERENCE_JSON,
    CONFERENCE_RECORDING,
    CREATE_BODY,
    CREATED,
    MEMBER,
    PASSWORD,
    PREFIX,
    REAL_TIME,
    RECORDING,
    RECORDING_METADATA,
    TRANSCRIPTION,
    TRANSCRIPTIONS,
    USERNAME,
    call_state,
)
from tests.client.recorder import FAST_RETRY, Platform, Reply, Seen

pytestmark = pytest.mark.timeout(60)

JSON = "application/json"
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class Sent:
    """What one request must be: method, path under the account, query pairs, JSON or raw body."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None
    content: bytes = b""
    content_type: str | None = None


@dataclass(frozen=True)
class Case:
    """One operation: how it is called, what the platform answers, what must be sent and returned."""

    name: str
    namespace: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    replies: tuple[Reply, ...]
    sent: tuple[Sent, ...]
    result: Any


def _page_link(platform_url: str, token: str) -> dict[str, str]:
    return {"Link": f'<{platform_url}{PREFIX}/calls?pageToken={token}>; rel="next"'}


def cases(url: str) -> list[Case]:
    """Every operation, with the platform's documented answers (``url``: the recording server's base)."""
    empty = Reply(200)
    no_content = Reply(204)
    rec = f"/calls/{CALL}/recordings/{RECORDING}"
    return [
        Case(
            "calls.create",
            "calls",
            "create",
            ("+19195554321", "+19195551234", APPLICATION),
            {
                "answer_url": "https://app.example/webhooks/answer",
                "disconnect_url": "https://app.example/webhooks/disconnect",
                "call_timeout": 30,
                "callback_timeout": 15,
                "priority": 5,
                "tag": "order-42",
                "machine_detection": {"mode": "async", "callback_url": "https://app.example/webhooks/amd"},
            },
            (Reply(201, json=CREATED, headers={"Location": CREATED["callUrl"]}),),
            (Sent("POST", "/calls", json=CREATE_BODY, content_type=JSON),),
            ("call_id", CALL),
        ),
        Case(
            "calls.get",
            "calls",
            "get",
            (CALL,),
            {},
            (Reply(json=call_state()),),
            (Sent("GET", f"/calls/{CALL}"),),
            ("disconnect_cause", "hangup"),
        ),
        Case(
            "calls.list",
            "calls",
            "list",
            (),
            {"to": "+19195551234", "min_start_time": datetime(2022, 6, 16, tzinfo=timezone.utc), "page_size": 1},
            (
                Reply(json=[call_state("c-1")], headers=_page_link(url, "t2")),
                Reply(json=[call_state("c-2")]),
            ),
            (
                Sent(
                    "GET",
                    "/calls",
                    query=[("to", "+19195551234"), ("minStartTime", "2022-06-16T00:00:00.000Z"), ("pageSize", "1")],
                ),
                Sent("GET", "/calls", query=[("pageToken", "t2")]),
            ),
            ("ids", ["c-1", "c-2"]),
        ),
        Case(
            "calls.redirect",
            "calls",
            "redirect",
            (CALL, "https://app.example/redirect"),
            {"redirect_method": "get", "tag": "menu"},
            (empty,),
            (
                Sent(
                    "POST",
                    f"/calls/{CALL}",
                    json={
                        "state": "active",
                        "redirectMethod": "GET",
                        "redirectUrl": "https://app.example/redirect",
                        "tag": "menu",
                    },
                    content_type=JSON,
                ),
            ),
            None,
        ),
        Case(
            "calls.hangup",
            "calls",
            "hangup",
            (CALL,),
            {},
            (empty,),
            (Sent("POST", f"/calls/{CALL}", json={"state": "completed"}, content_type=JSON),),
            None,
        ),
        Case(
            "calls.set_tag",
            "calls",
            "set_tag",
            (CALL, ""),
            {},
            (empty,),
            (Sent("POST", f"/calls/{CALL}", json={"tag": ""}, content_type=JSON),),
            None,
        ),
        Case(
            "calls.replace_bxml",
            "calls",
            "replace_bxml",
            (CALL, BXML),
            {},
            (no_content,),
            (Sent("PUT", f"/calls/{CALL}/bxml", content=BXML.encode(), content_type=XML),),
            None,
        ),
        Case(
            "calls.pause_recording",
            "calls",
            "pause_recording",
            (CALL,),
            {},
            (empty,),
            (Sent("PUT", f"/calls/{CALL}/recording", json={"state": "paused"}, content_type=JSON),),
            None,
        ),
        Case(
            "calls.resume_recording",
            "calls",
            "resume_recording",
            (CALL,),
            {},
            (empty,),
            (Sent("PUT", f"/calls/{CALL}/recording", json={"state": "recording"}, content_type=JSON),),
            None,
        ),
        Case(
            "recordings.list",
            "recordings",
            "list",
            (),
            {"from_": "+15555555555"},
            (Reply(json=[RECORDING_METADATA]),),
            (Sent("GET", "/recordings", query=[("from", "+15555555555")]),),
            ("ids", [RECORDING]),
        ),
        Case(
            "recordings.of_call (null is none)",
            "recordings",
            "of_call",
            (CALL,),
            {},
            (Reply(text="null", headers={"Content-Type": JSON}),),
            (Sent("GET", f"/calls/{CALL}/recordings"),),
            ("ids", []),
        ),
        Case(
            "recordings.get (a one-element array)",
            "recordings",
            "get",
            (CALL, RECORDING),
            {},
            (Reply(json=[RECORDING_METADATA]),),
            (Sent("GET", rec),),
            ("duration", "PT13.67S"),
        ),
        Case(
            "recordings.download",
            "recordings",
            "download",
            (CALL, RECORDING),
            {},
            (Reply(text="RIFF....WAVEfmt ", headers={"Content-Type": "audio/vnd.wave"}),),
            (Sent("GET", f"{rec}/media"),),
            ("bytes", b"RIFF....WAVEfmt "),
        ),
        Case(
            "recordings.delete",
            "recordings",
            "delete",
            (CALL, RECORDING),
            {},
            (no_content,),
            (Sent("DELETE", rec),),
            None,
        ),
        Case(
            "recordings.delete_media",
            "recordings",
            "delete_media",
            (CALL, RECORDING),
            {},
            (no_content,),
            (Sent("DELETE", f"{rec}/media"),),
            None,
        ),
        Case(
            "recordings.transcribe",
            "recordings",
            "transcribe",
            (CALL, RECORDING),
            {"callback_url": "https://app.example/transcribed", "detect_language": True, "callback_timeout": 5.5},
            (no_content,),
            (
                Sent(
                    "POST",
                    f"{rec}/transcription",
                    json={
                        "callbackUrl": "https://app.example/transcribed",
                        "detectLanguage": True,
                        "callbackTimeout": 5.5,
                    },
                    content_type=JSON,
                ),
            ),
            None,
        ),
        Case(
            "recordings.get_transcription",
            "recordings",
            "get_transcription",
            (CALL, RECORDING),
            {},
            (Reply(json=TRANSCRIPTIONS),),
            (Sent("GET", f"{rec}/transcription"),),
            ("text", "Nice talking to you, friend!"),
        ),
        Case(
            "recordings.delete_transcription",
            "recordings",
            "delete_transcription",
            (CALL, RECORDING),
            {},
            (no_content,),
            (Sent("DELETE", f"{rec}/transcription"),),
            None,
        ),
        Case(
            "transcriptions.list",
            "transcriptions",
            "list",
            (CALL,),
            {},
            (Reply(json=[{"transcriptionId": TRANSCRIPTION, "transcriptionName": "live", "transcriptionUrl": "u"}]),),
            (Sent("GET", f"/calls/{CALL}/transcriptions"),),
            ("ids", [TRANSCRIPTION]),
        ),
        Case(
            "transcriptions.get",
            "transcriptions",
            "get",
            (CALL, TRANSCRIPTION),
            {},
            (Reply(json=REAL_TIME),),
            (Sent("GET", f"/calls/{CALL}/transcriptions/{TRANSCRIPTION}"),),
            ("transcript", "Hello World!"),
        ),
        Case(
            "transcriptions.delete",
            "transcriptions",
            "delete",
            (CALL, TRANSCRIPTION),
            {},
            (empty,),
            (Sent("DELETE", f"/calls/{CALL}/transcriptions/{TRANSCRIPTION}"),),
            None,
        ),
        Case(
            "conferences.list",
            "conferences",
            "list",
            (),
            {"name": "my-conference-name", "page_size": 10},
            (Reply(json=[{key: value for key, value in CONFERENCE_JSON.items() if key != "activeMembers"}]),),
            (Sent("GET", "/conferences", query=[("name", "my-conference-name"), ("pageSize", "10")]),),
            ("ids", [CONFERENCE]),
        ),
        Case(
            "conferences.get",
            "conferences",
            "get",
            (CONFERENCE,),
            {},
            (Reply(json=CONFERENCE_JSON),),
            (Sent("GET", f"/conferences/{CONFERENCE}"),),
            ("members", [CALL]),
        ),
        Case(
            "conferences.redirect",
            "conferences",
            "redirect",
            (CONFERENCE, "https://app.example/conference"),
            {},
            (no_content,),
            (
                Sent(
                    "POST",
                    f"/conferences/{CONFERENCE}",
                    json={"status": "active", "redirectUrl": "https://app.example/conference"},
                    content_type=JSON,
                ),
            ),
            None,
        ),
        Case(
            "conferences.end",
            "conferences",
            "end",
            (CONFERENCE,),
            {},
            (no_content,),
            (Sent("POST", f"/conferences/{CONFERENCE}", json={"status": "completed"}, content_type=JSON),),
            None,
        ),
        Case(
            "conferences.replace_bxml",
            "conferences",
            "replace_bxml",
            (CONFERENCE, "<Bxml><StopRecording/></Bxml>"),
            {},
            (no_content,),
            (
                Sent(
                    "PUT", f"/conferences/{CONFERENCE}/bxml", content=b"<Bxml><StopRecording/></Bxml>", content_type=XML
                ),
            ),
            None,
        ),
        Case(
            "conferences.get_member",
            "conferences",
            "get_member",
            (CONFERENCE, CALL),
            {},
            (Reply(json=MEMBER),),
            (Sent("GET", f"/conferences/{CONFERENCE}/members/{CALL}"),),
            ("mute", False),
        ),
        Case(
            "conferences.update_member",
            "conferences",
            "update_member",
            (CONFERENCE, CALL),
            {"mute": True, "call_ids_to_coach": ["c-2"]},
            (no_content,),
            (
                Sent(
                    "PUT",
                    f"/conferences/{CONFERENCE}/members/{CALL}",
                    json={"mute": True, "callIdsToCoach": ["c-2"]},
                    content_type=JSON,
                ),
            ),
            None,
        ),
        Case(
            "conferences.recordings",
            "conferences",
            "recordings",
            (CONFERENCE,),
            {},
            (Reply(json=[CONFERENCE_RECORDING]),),
            (Sent("GET", f"/conferences/{CONFERENCE}/recordings"),),
            ("ids", [RECORDING]),
        ),
        Case(
            "conferences.get_recording",
            "conferences",
            "get_recording",
            (CONFERENCE, RECORDING),
            {},
            (Reply(json=CONFERENCE_RECORDING),),
            (Sent("GET", f"/conferences/{CONFERENCE}/recordings/{RECORDING}"),),
            ("duration", "PT13.67S"),
        ),
        Case(
            "conferences.download_recording",
            "conferences",
            "download_recording",
            (CONFERENCE, RECORDING),
            {},
            (Reply(text="ID3....", headers={"Content-Type": "audio/mpeg"}),),
            (Sent("GET", f"/conferences/{CONFERENCE}/recordings/{RECORDING}/media"),),
            ("bytes", b"ID3...."),
        ),
    ]


NAMES = [case.name for case in cases("")]


def _options(platform: Platform) -> dict[str, Any]:
    return {"username": USERNAME, "password": PASSWORD, "base_url": f"{platform.url}/api/v2", "retry": FAST_RETRY}


def _invoke_sync(platform: Platform, case: Case) -> Any:
    with Client(ACCOUNT, **_options(platform)) as client:
        result = getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
        return list(result) if isinstance(result, Iterator) else result


def _invoke_async(platform: Platform, case: Case) -> Any:
    async def run() -> Any:
        async with AsyncClient(ACCOUNT, **_options(platform)) as client:
            result = getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
            if isinstance(result, AsyncIterator):
                return [item async for item in result]
            return await result

    return anyio.run(run)


def _summary(result: Any, kind: str) -> Any:
    """The part of a result a case checks."""
    if kind == "ids":
        keys = ("recording_id", "transcription_id", "id", "call_id")
        return [next(getattr(item, key) for key in keys if getattr(item, key, None)) for item in result]
    if kind == "bytes":
        return result
    if kind == "text":
        return result.transcripts[0].text
    if kind == "transcript":
        return result.tracks[0].transcript
    if kind == "members":
        return [member.call_id for member in result.active_members]
    return getattr(result, kind)


def _check_request(seen: Seen, sent: Sent) -> None:
    assert (seen.method, seen.path, seen.query) == (sent.method, PREFIX + sent.path, sent.query)
    assert seen.headers["authorization"] == BASIC
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["user-agent"] == f"callhooks/{version('callhooks')}"
    assert seen.headers.get("content-type") == sent.content_type
    if sent.json is not None:
        assert seen.json == sent.json
    else:
        assert seen.body == sent.content


@pytest.mark.parametrize("invoke", [_invoke_sync, _invoke_async], ids=["Client", "AsyncClient"])
@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_each_operation_sends_the_documented_request(platform: Platform, index: int, invoke: Any) -> None:
    case = cases(platform.url)[index]
    platform.reply(*case.replies)
    result = invoke(platform, case)
    assert len(platform.seen) == len(case.sent)
    for seen, sent in zip(platform.seen, case.sent, strict=True):
        _check_request(seen, sent)
    if case.result is None:
        assert result is None
    else:
        kind, expected = case.result
        assert _summary(result, kind) == expected


def test_every_operation_is_offered_and_covered() -> None:
    """Each public operation has a namespace method (``x_page`` as the iterator ``x``), and a case above."""
    offered = {
        Calls: CallOperations,
        Recordings: RecordingOperations,
        Transcriptions: TranscriptionOperations,
        Conferences: ConferenceOperations,
    }
    for namespace, operations in offered.items():
        derived = {member.build.__name__ for member in vars(namespace).values() if isinstance(member, (Run, Iterate))}
        public = {
            name for name, member in vars(operations).items() if inspect.isfunction(member) and not name.startswith("_")
        }
        assert derived == public, namespace
    covered = {f"{case.namespace}.{case.method}" for case in cases("")}
    names = {
        f"{name}.{method}"
        for name, namespace in (
            ("calls", Calls),
            ("recordings", Recordings),
            ("transcriptions", Transcriptions),
            ("conferences", Conferences),
        )
        for method, member in vars(namespace).items()
        if isinstance(member, (Run, Iterate))
    }
    assert names - covered == {"calls.list_page", "conferences.list_page"}  # list_page is list's first page
    handle = {member.build.__name__ for member in vars(CallHandle).values() if isinstance(member, OnCall)}
    assert handle == {
        name for name in vars(CallOperations) if not name.startswith("_") and name not in {"create", "list_page"}
    }
