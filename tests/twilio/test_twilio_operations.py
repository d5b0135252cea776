"""Every Twilio Calls and Recordings operation over real HTTP (the recording server on 127.0.0.1): the exact
request (form pairs in order), what it makes of the documented answer, the same from both clients."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pytest

from callhooks.client.facades import Iterate, OnCall, Run
from callhooks.twilio.client import (
    AsyncClient,
    CallHandle,
    CallOperations,
    Calls,
    Client,
    RecordingOperations,
    Recordings,
)
from tests.client.recorder import FAST_RETRY, Platform, Reply, Seen
from tests.twilio.documented import (
    ACCOUNT,
    BASIC,
    CALL,
    FORM,
    PREFIX,
    RECORDING,
    TOKEN,
    TWIML,
    call_json,
    envelope,
    recording_json,
)

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Sent:
    """What one request must be: method, path under the account, query pairs, form pairs."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    form: list[tuple[str, str]] | None = None


@dataclass(frozen=True)
class Case:
    name: str
    namespace: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    replies: tuple[Reply, ...]
    sent: tuple[Sent, ...]
    result: Any


def cases() -> list[Case]:
    """Every operation with Twilio's documented answers."""
    updated = Reply(json=call_json(status="in-progress"))
    second_page = f"{PREFIX}/Calls.json?Status=completed&PageSize=1&Page=1&PageToken=PACA{CALL}"
    return [
        Case(
            "calls.create (Url)",
            "calls",
            "create",
            ("+14155551212", "+15017122661"),
            {
                "url": "https://app.example/voice",
                "status_callback": "https://app.example/status",
                "status_callback_event": ["initiated", "answered"],
                "status_callback_method": "post",
                "timeout": 30,
                "record": True,
                "machine_detection": "Enable",
            },
            (Reply(201, json=call_json()),),
            (
                Sent(
                    "POST",
                    "/Calls.json",
                    form=[
                        ("To", "+14155551212"),
                        ("From", "+15017122661"),
                        ("Url", "https://app.example/voice"),
                        ("StatusCallback", "https://app.example/status"),
                        ("StatusCallbackEvent", "initiated"),
                        ("StatusCallbackEvent", "answered"),
                        ("StatusCallbackMethod", "POST"),
                        ("Timeout", "30"),
                        ("Record", "true"),
                        ("MachineDetection", "Enable"),
                    ],
                ),
            ),
            ("status", "queued"),
        ),
        Case(
            "calls.create (Twiml)",
            "calls",
            "create",
            ("+14155551212", "+15017122661"),
            {"twiml": TWIML},
            (Reply(201, json=call_json()),),
            (Sent("POST", "/Calls.json", form=[("To", "+14155551212"), ("From", "+15017122661"), ("Twiml", TWIML)]),),
            ("sid", CALL),
        ),
        Case(
            "calls.get",
            "calls",
            "get",
            (CALL,),
            {},
            (Reply(json=call_json(status="completed", duration="15")),),
            (Sent("GET", f"/Calls/{CALL}.json"),),
            ("duration", 15),
        ),
        Case(
            "calls.list (two pages)",
            "calls",
            "list",
            (),
            {
                "status": "completed",
                "start_time_after": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                "page_size": 1,
            },
            (
                Reply(json=envelope("calls", [call_json("CA1")], second_page)),
                Reply(json=envelope("calls", [call_json("CA2")], None, page=1)),
            ),
            (
                Sent(
                    "GET",
                    "/Calls.json",
                    query=[("Status", "completed"), ("StartTime>", "2026-01-02T03:04:05Z"), ("PageSize", "1")],
                ),
                Sent(
                    "GET",
                    "/Calls.json",
                    query=[("Status", "completed"), ("PageSize", "1"), ("Page", "1"), ("PageToken", f"PACA{CALL}")],
                ),
            ),
            ("sids", ["CA1", "CA2"]),
        ),
        Case(
            "calls.update",
            "calls",
            "update",
            (CALL,),
            {"status_callback": "https://app.example/status", "time_limit": 600},
            (updated,),
            (
                Sent(
                    "POST",
                    f"/Calls/{CALL}.json",
                    form=[("StatusCallback", "https://app.example/status"), ("TimeLimit", "600")],
                ),
            ),
            ("status", "in-progress"),
        ),
        Case(
            "calls.redirect (Url)",
            "calls",
            "redirect",
            (CALL, "https://app.example/next"),
            {},
            (updated,),
            (Sent("POST", f"/Calls/{CALL}.json", form=[("Url", "https://app.example/next")]),),
            ("sid", CALL),
        ),
        Case(
            "calls.redirect (Twiml)",
            "calls",
            "redirect",
            (CALL,),
            {"twiml": TWIML},
            (updated,),
            (Sent("POST", f"/Calls/{CALL}.json", form=[("Twiml", TWIML)]),),
            ("sid", CALL),
        ),
        Case(
            "calls.hangup",
            "calls",
            "hangup",
            (CALL,),
            {},
            (Reply(json=call_json(status="completed")),),
            (Sent("POST", f"/Calls/{CALL}.json", form=[("Status", "completed")]),),
            ("status", "completed"),
        ),
        Case(
            "calls.cancel",
            "calls",
            "cancel",
            (CALL,),
            {},
            (Reply(json=call_json(status="canceled")),),
            (Sent("POST", f"/Calls/{CALL}.json", form=[("Status", "canceled")]),),
            ("status", "canceled"),
        ),
        Case(
            "calls.delete",
            "calls",
            "delete",
            (CALL,),
            {},
            (Reply(204),),
            (Sent("DELETE", f"/Calls/{CALL}.json"),),
            None,
        ),
        Case(
            "recordings.list",
            "recordings",
            "list",
            (),
            {"call_sid": CALL, "date_created_before": datetime(2026, 1, 2), "page_size": 20},
            (Reply(json=envelope("recordings", [recording_json()], None)),),
            (
                Sent(
                    "GET",
                    "/Recordings.json",
                    query=[("CallSid", CALL), ("DateCreated<", "2026-01-02T00:00:00Z"), ("PageSize", "20")],
                ),
            ),
            ("sids", [RECORDING]),
        ),
        Case(
            "recordings.list_page",
            "recordings",
            "list_page",
            (),
            {},
            (Reply(json=envelope("recordings", [recording_json()], None)),),
            (Sent("GET", "/Recordings.json"),),
            ("page", [RECORDING]),
        ),
        Case(
            "recordings.of_call",
            "recordings",
            "of_call",
            (CALL,),
            {},
            (Reply(json=envelope("recordings", [recording_json(), recording_json("RE2")], None)),),
            (Sent("GET", f"/Calls/{CALL}/Recordings.json"),),
            ("sids", [RECORDING, "RE2"]),
        ),
        Case(
            "recordings.get",
            "recordings",
            "get",
            (RECORDING,),
            {},
            (Reply(json=recording_json()),),
            (Sent("GET", f"/Recordings/{RECORDING}.json"),),
            ("duration", 4),
        ),
        Case(
            "recordings.delete",
            "recordings",
            "delete",
            (RECORDING,),
            {},
            (Reply(204),),
            (Sent("DELETE", f"/Recordings/{RECORDING}.json"),),
            None,
        ),
    ]


NAMES = [case.name for case in cases()]


def _options(platform: Platform) -> dict[str, Any]:
    return {"base_url": f"{platform.url}/2010-04-01", "retry": FAST_RETRY}


def _invoke_sync(platform: Platform, case: Case) -> Any:
    with Client(ACCOUNT, TOKEN, **_options(platform)) as client:
        result = getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
        return list(result) if isinstance(result, Iterator) else result


def _invoke_async(platform: Platform, case: Case) -> Any:
    async def run() -> Any:
        async with AsyncClient(ACCOUNT, TOKEN, **_options(platform)) as client:
            result = getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
            if isinstance(result, AsyncIterator):
                return [item async for item in result]
            return await result

    return anyio.run(run)


def _summary(result: Any, kind: str) -> Any:
    if kind == "sids":
        return [item.sid for item in result]
    if kind == "page":
        return [item.sid for item in result.items] + ([] if result.next_url is None else [result.next_url])
    return getattr(result, kind)


def _check_request(seen: Seen, sent: Sent) -> None:
    assert (seen.method, seen.path, seen.query) == (sent.method, PREFIX + sent.path, sent.query)
    assert seen.headers["authorization"] == BASIC
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["user-agent"] == f"callhooks/{version('callhooks')}"
    if sent.form is None:
        assert seen.body == b"" and "content-type" not in seen.headers
    else:
        assert seen.headers["content-type"] == FORM
        assert parse_qsl(seen.body.decode(), keep_blank_values=True) == sent.form


@pytest.mark.parametrize("invoke", [_invoke_sync, _invoke_async], ids=["Client", "AsyncClient"])
@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_each_operation_sends_the_documented_request(platform: Platform, index: int, invoke: Any) -> None:
    case = cases()[index]
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
    for namespace, operations in ((Calls, CallOperations), (Recordings, RecordingOperations)):
        derived = {member.build.__name__ for member in vars(namespace).values() if isinstance(member, (Run, Iterate))}
        public = {
            name for name, member in vars(operations).items() if inspect.isfunction(member) and not name.startswith("_")
        }
        assert derived == public, namespace
    covered = {f"{case.namespace}.{case.method}" for case in cases()}
    offered = {
        f"{name}.{method}"
        for name, namespace in (("calls", Calls), ("recordings", Recordings))
        for method, member in vars(namespace).items()
        if isinstance(member, (Run, Iterate))
    }
    assert offered - covered == {"calls.list_page"}
    handle = {member.build.__name__ for member in vars(CallHandle).values() if isinstance(member, OnCall)}
    assert handle == {name for name in vars(CallOperations) if not name.startswith("_")} - {"create", "list_page"}
