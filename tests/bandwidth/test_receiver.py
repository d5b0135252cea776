"""``CallHooks(platform="bandwidth")`` receiving Voice API v2 callbacks in process: every event type by POST and by
GET, routing by type, tag and state, synchronous replies with their URLs filled and signed, the Basic-auth
challenge, bad input, duplicates and token binding."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from starlette.testclient import TestClient

from callhooks import CallHooks
from callhooks.bandwidth import bxml
from callhooks.bandwidth import events as v2
from callhooks.bandwidth.bxml.events import SYNCHRONOUS_EVENTS
from callhooks.events import encode_query
from tests.bandwidth.payloads import PAYLOADS

PUBLIC = "https://calls.example.com/hooks"
CREDENTIALS = ("bw-user", "bw-pass")


def receiver(**options: Any) -> CallHooks:
    options.setdefault("basic_auth", CREDENTIALS)
    return CallHooks(secret="receiver-secret", public_url=PUBLIC, platform="bandwidth", **options)


def path_of(url: str) -> str:
    return url.split("calls.example.com", 1)[1]


def test_every_event_type_arrives_typed_by_post_and_by_get() -> None:
    hooks = receiver(store=None)
    seen: list[Any] = []
    hooks.on()(seen.append)
    path = path_of(hooks.callback_url({"order": 7}))
    with TestClient(hooks) as client:
        for event_type, payload in PAYLOADS.items():
            posted = client.post(path, json=payload, auth=CREDENTIALS)
            got = client.get(f"{path}?{encode_query(payload)}", auth=CREDENTIALS)
            assert posted.status_code == got.status_code == 200, (event_type, posted.text, got.text)
            assert posted.content == got.content == b""  # no handler answered BXML: an empty 2xx
    assert len(seen) == 2 * len(PAYLOADS) == 56
    for event_type, (by_post, by_get) in zip(PAYLOADS, zip(seen[::2], seen[1::2], strict=True), strict=True):
        assert v2.event_identity(by_post) == v2.event_identity(by_get), event_type  # one event in either form
        assert by_post.event_route_type == event_type
        assert type(by_post) is not v2.UnknownEvent
        assert by_post.context == {"order": 7}


@pytest.mark.parametrize(
    ("cause", "state"),
    [
        ("hangup", "disconnected"),
        ("busy", "busy"),
        ("timeout", "no-answer"),
        ("rejected", "rejected"),
        (None, "disconnected"),
    ],
)
def test_a_disconnect_routes_by_the_state_its_cause_implies(cause: str | None, state: str) -> None:
    hooks = receiver(store=None)
    ran: list[str] = []
    for each in sorted(v2.KNOWN_CALL_STATES):
        hooks.add_handler(_recorder(ran, each), "disconnect", state=each)
    payload = {**PAYLOADS["disconnect"], "cause": cause}
    with TestClient(hooks) as client:
        assert client.post(path_of(hooks.callback_url()), json=payload, auth=CREDENTIALS).status_code == 200
    assert ran == [state]


def _recorder(ran: list[str], name: str) -> Any:
    def record(event: Any) -> None:
        ran.append(name)

    return record


def test_routing_by_type_and_tag_and_unknown_names_refused_at_registration() -> None:
    hooks = receiver(store=None)
    ran: list[str] = []
    hooks.on("gather", tag="main-menu")(lambda event: ran.append("menu"))
    hooks.on("gather")(lambda event: ran.append("any gather"))
    hooks.on(state="answered")(lambda event: ran.append("answered"))
    with pytest.raises(ValueError, match=r"unknown bandwidth-v2 event type 'gathr'.*did you mean 'gather'"):
        hooks.add_handler(print, "gathr")
    with pytest.raises(ValueError, match="unknown bandwidth-v2 call state 'active'"):
        hooks.add_handler(print, "answer", state="active")
    with pytest.raises(ValueError, match="unknown bandwidth-v2 event type 'incomingcall'"):
        hooks.add_handler(print, "incomingcall")  # a Catapult v1 type is not a v2 one
    path = path_of(hooks.callback_url())
    with TestClient(hooks) as client:
        for tag in ("main-menu", "other", None):
            client.post(path, json={**PAYLOADS["gather"], "tag": tag}, auth=CREDENTIALS)
        client.post(path, json=PAYLOADS["dtmf"], auth=CREDENTIALS)
    assert ran == ["menu", "any gather", "any gather", "answered"]


def test_without_credentials_the_answer_is_the_challenge_bandwidth_waits_for() -> None:
    hooks = receiver(store=None)
    path = path_of(hooks.callback_url())
    with TestClient(hooks) as client:
        bare = client.post(path, json=PAYLOADS["answer"])
        wrong = client.post(path, json=PAYLOADS["answer"], auth=("bw-user", "nope"))
        right = client.post(path, json=PAYLOADS["answer"], auth=CREDENTIALS)
    for refused in (bare, wrong):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic realm=")
        assert refused.json()["reason"] == "basic-auth-failed"
    assert right.status_code == 200


def test_the_challenge_to_a_bare_request_is_logged_at_debug_wrong_credentials_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Bandwidth sends every webhook first without credentials: its challenge is no news; wrong credentials are.
    hooks = receiver(store=None, metrics=True)
    path = path_of(hooks.callback_url())
    with TestClient(hooks) as client, caplog.at_level(logging.DEBUG, logger="callhooks"):
        assert client.post(path, json=PAYLOADS["answer"]).status_code == 401
        assert client.post(path, json=PAYLOADS["answer"], auth=CREDENTIALS).status_code == 200
        assert client.post(path, json=PAYLOADS["answer"], auth=("bw-user", "nope")).status_code == 401
        scrape = client.get("/hooks/metrics").text
    rejected = [(r.levelno, r.getMessage()) for r in caplog.records if "rejected" in r.getMessage()]
    assert rejected == [
        (logging.DEBUG, "callback rejected: 401 basic-auth-failed from testclient:50000"),
        (logging.WARNING, "callback rejected: 401 basic-auth-failed from testclient:50000"),
    ]
    assert 'callhooks_rejections_total{reason="basic-auth-failed",status="401"} 2.0' in scrape  # both counted


def test_a_forged_or_missing_token_and_malformed_bodies_are_refused_with_reasons() -> None:
    hooks = receiver(store=None)
    path = path_of(hooks.callback_url())
    with TestClient(hooks) as client:
        altered = client.post(path[:-3] + "xyz", json=PAYLOADS["answer"], auth=CREDENTIALS)
        missing = client.post("/hooks/", json=PAYLOADS["answer"], auth=CREDENTIALS)
        no_type = client.post(path, json={"callId": "c-1"}, auth=CREDENTIALS)
        not_object = client.post(
            path, content=b"[1, 2]", headers={"content-type": "application/json"}, auth=CREDENTIALS
        )
        bad_json = client.post(path, content=b"{", headers={"content-type": "application/json"}, auth=CREDENTIALS)
        bad_field = client.post(path, json={**PAYLOADS["gather"], "eventTime": "yesterday"}, auth=CREDENTIALS)
    assert (altered.status_code, altered.json()["reason"]) == (403, "token-altered")
    assert (missing.status_code, missing.json()["reason"]) == (403, "token-missing")
    assert (no_type.status_code, no_type.json()["error"]) == (400, "invalid-event")
    assert (not_object.status_code, not_object.json()["error"]) == (400, "invalid-event")
    assert (bad_json.status_code, bad_json.json()["error"]) == (400, "invalid-json")
    assert bad_field.status_code == 422
    assert bad_field.json()["fields"][0]["name"] == "eventTime"


def _urls(document: bxml.Response) -> dict[str, str]:
    """Every URL and credential attribute of every verb, by ``Verb.field``."""
    found: dict[str, str] = {}
    pending: list[Any] = [document]
    while pending:
        verb = pending.pop()
        pending.extend(getattr(verb, "verbs", ()))
        for name in vars(verb) if hasattr(verb, "__dict__") else ():
            value = getattr(verb, name)
            if isinstance(value, str) and name.endswith(("url", "username", "password")):
                found[f"{type(verb).__name__}.{name}"] = value
    return found


def test_synchronous_callbacks_are_answered_with_bxml_whose_urls_are_filled_signed_with_credentials() -> None:
    hooks = receiver(store=None)

    @hooks.on("answer")
    def answer(event: v2.AnswerEvent) -> bxml.Response:
        return bxml.Response(
            bxml.Gather(bxml.SpeakSentence("Press 1"), max_digits=1, tag="main-menu"),
            bxml.Record(record_complete_url="https://elsewhere.example/rec"),
            bxml.Transfer(bxml.PhoneNumber("+15551234567")),
        )

    path = path_of(hooks.callback_url({"order": 7}))
    with TestClient(hooks) as client:
        answered = client.post(path, json=PAYLOADS["answer"], auth=CREDENTIALS)
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("application/xml")
    urls = _urls(bxml.parse(answered.text))
    gather, record, transfer, leg = (
        urls[f"{verb}.{field}"]
        for verb, field in [
            ("Gather", "gather_url"),
            ("Record", "recording_available_url"),
            ("Transfer", "transfer_complete_url"),
            ("PhoneNumber", "transfer_answer_url"),
        ]
    )
    for url in (
        gather,
        urls["Gather.gather_fallback_url"],
        record,
        transfer,
        urls["Transfer.transfer_complete_fallback_url"],
    ):
        assert url.startswith(PUBLIC + "/") and "@" not in url  # v2 takes the credentials in attributes
        assert hooks.verify_callback_url(url) == {"order": 7}
    # The B-leg's URLs name the calling leg, whose session the new leg starts from.
    assert hooks.verify_callback_url(leg) == {"order": 7, "session_from": PAYLOADS["answer"]["callId"]}
    assert hooks.verify_callback_url(urls["PhoneNumber.transfer_disconnect_url"]) == hooks.verify_callback_url(leg)
    for verb in ("Gather", "Transfer", "PhoneNumber"):
        assert (urls[f"{verb}.username"], urls[f"{verb}.password"]) == CREDENTIALS
    # The handler's own URL is kept, and its server is never sent our credentials.
    assert urls["Record.record_complete_url"] == "https://elsewhere.example/rec"
    assert "Record.username" not in urls and "Record.password" not in urls


def test_bxml_for_an_asynchronous_callback_is_an_error_at_registration_or_first_use() -> None:
    hooks = receiver(store=None)
    with pytest.raises(ValueError, match="returns BXML for disconnect, an asynchronous callback"):

        @hooks.on("disconnect")
        def annotated(event: v2.DisconnectEvent) -> bxml.Response:
            return bxml.Response(bxml.Hangup())

    @hooks.on("dtmf")
    def unannotated(event):  # type: ignore[no-untyped-def]
        return bxml.Response(bxml.Hangup())

    with TestClient(hooks) as client:
        answered = client.post(path_of(hooks.callback_url()), json=PAYLOADS["dtmf"], auth=CREDENTIALS)
    assert answered.status_code == 500
    assert "returns BXML for dtmf, an asynchronous callback" in answered.json()["detail"]
    assert sorted(SYNCHRONOUS_EVENTS - {"recordingComplete"}) == sorted(
        t for t in v2.KNOWN_EVENT_TYPES if t in SYNCHRONOUS_EVENTS
    )


def test_a_url_made_for_one_call_is_refused_for_another() -> None:
    hooks = receiver()
    hooks.on()(lambda event: None)
    path = path_of(hooks.callback_url(bind=True))
    other = {**PAYLOADS["answer"], "callId": "c-another"}
    with TestClient(hooks) as client:
        first = client.post(path, json=PAYLOADS["answer"], auth=CREDENTIALS)
        again = client.post(path, json={**PAYLOADS["disconnect"]}, auth=CREDENTIALS)
        stolen = client.post(path, json=other, auth=CREDENTIALS)
    assert first.status_code == again.status_code == 200
    assert (stolen.status_code, stolen.json()["reason"]) == (403, "token-bound-to-another-call")


def test_the_paired_client_fills_answer_and_disconnect_urls_with_the_credentials_beside_them() -> None:
    from callhooks.bandwidth.client.operations import Account, CallOperations

    hooks = receiver()
    operation = CallOperations(Account("https://voice.example", "9900000", hooks)).create(
        "+15551112222", "+15553334444", "app-1", context={"order": 9}
    )
    request = operation.send(None)  # the operation's first step: the request it would send
    body = request.json
    assert (
        hooks.verify_callback_url(body["answerUrl"]) == hooks.verify_callback_url(body["disconnectUrl"]) == {"order": 9}
    )
    assert "@" not in body["answerUrl"]
    assert (body["username"], body["password"]) == CREDENTIALS
    basic = base64.b64encode(":".join(CREDENTIALS).encode()).decode()
    assert basic  # the same pair the receiver's challenge then accepts (test above)


def test_the_console_replays_a_v2_event_as_a_duplicate_and_an_edited_one_as_new() -> None:
    hooks = receiver(console=("admin", "console-pass"))
    ran: list[str | None] = []
    hooks.on("gather")(lambda event: ran.append(event.digits))
    console = ("admin", "console-pass")
    with TestClient(hooks) as client:
        client.post(path_of(hooks.callback_url({"order": 7})), json=PAYLOADS["gather"], auth=CREDENTIALS)
        again = client.post("/hooks/_console/api/replay", json={"seq": 1}, auth=console).json()
        edited = json.dumps({**PAYLOADS["gather"], "digits": "99"})
        changed = client.post("/hooks/_console/api/replay", json={"seq": 1, "payload": edited}, auth=console).json()
    assert (again["outcome"], changed["outcome"]) == ("duplicate", "handled")
    assert ran == [PAYLOADS["gather"]["digits"], "99"]


def test_a_transfer_leg_starts_with_its_parents_session_and_keeps_its_own() -> None:
    hooks = receiver()
    seen: dict[str, Any] = {}

    @hooks.on("answer")
    def answer(event: v2.AnswerEvent) -> bxml.Response:
        event.session["customer"] = "C-42"
        return bxml.Response(bxml.Transfer(bxml.PhoneNumber("+15556667777")))

    @hooks.on("transferAnswer")
    def leg(event: v2.TransferAnswerEvent) -> None:
        seen["leg"] = dict(event.session)
        event.session["agent"] = "bob"

    @hooks.on("transferDisconnect")
    def leg_ended(event: v2.TransferDisconnectEvent) -> None:
        seen["leg later"] = dict(event.session)

    parent = {**PAYLOADS["answer"], "callId": "c-parent"}
    with TestClient(hooks) as client:
        answered = client.post(path_of(hooks.callback_url()), json=parent, auth=CREDENTIALS)
        number = bxml.parse(answered.text).verbs[0].verbs[0]
        assert isinstance(number, bxml.PhoneNumber) and number.transfer_answer_url and number.transfer_disconnect_url
        leg_fields = {"callId": "c-leg", "parentCallId": "c-parent"}
        answer_leg = {**PAYLOADS["transferAnswer"], **leg_fields}
        client.post(path_of(number.transfer_answer_url), json=answer_leg, auth=CREDENTIALS)
        ended = {**PAYLOADS["transferDisconnect"], **leg_fields}
        client.post(path_of(number.transfer_disconnect_url), json=ended, auth=CREDENTIALS)
    assert seen == {"leg": {"customer": "C-42"}, "leg later": {"customer": "C-42", "agent": "bob"}}


def test_a_get_receiver_asks_for_get_on_the_urls_it_fills_only() -> None:
    hooks = receiver(store=None, callback_http_method="GET")
    hooks.on("answer")(
        lambda event: bxml.Response(
            bxml.Gather(bxml.PlayAudio("https://media.example/menu.wav"), max_digits=1),
            bxml.Redirect(redirect_url="https://elsewhere.example/next"),
        )
    )
    with TestClient(hooks) as client:
        answered = client.post(path_of(hooks.callback_url()), json=PAYLOADS["answer"], auth=CREDENTIALS)
    gather, redirect = bxml.parse(answered.text).verbs
    assert isinstance(gather, bxml.Gather) and isinstance(redirect, bxml.Redirect)
    assert (gather.gather_method, gather.gather_fallback_method) == ("GET", "GET")
    assert redirect.redirect_method is None and redirect.username is None  # the handler's own URL: untouched
    audio = gather.verbs[0]
    assert isinstance(audio, bxml.PlayAudio) and audio.username is None  # its audio is not ours to sign for
