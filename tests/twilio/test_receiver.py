"""``CallHooks(platform="twilio", auth_token=...)`` receiving Twilio webhooks in process: every kind by form POST and
by GET, signed by twilio-python's ``RequestValidator`` (the oracle) and refused when altered, routing by kind, tag
and state, TwiML answers whose filled URLs carry the kind and tag, the idempotency token, token binding."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from callhooks import CallHooks
from callhooks.twilio import events as tw
from callhooks.twilio import twiml
from callhooks.twilio.receiving import Reply
from tests.twilio.test_events import REQUESTS

PUBLIC = "https://calls.example.com/hooks"
TOKEN = "0123456789abcdef0123456789abcdef"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
VALIDATOR = RequestValidator(TOKEN)


def receiver(**options: Any) -> CallHooks:
    options.setdefault("auth_token", TOKEN)
    return CallHooks(secret="receiver-secret", public_url=PUBLIC, platform="twilio", **options)


def path_of(url: str) -> str:
    return url.split("calls.example.com", 1)[1]


def post(
    client: TestClient, url: str, params: dict[str, str], validator: RequestValidator = VALIDATOR, **headers: str
) -> Any:
    """A form POST signed as Twilio signs it: the whole URL, then the sorted parameters."""
    signature = validator.compute_signature(url, params)
    return client.post(path_of(url), data=params, headers={"X-Twilio-Signature": signature, **headers})


def get(client: TestClient, url: str, params: dict[str, str]) -> Any:
    """A GET signed as Twilio signs it: the whole URL with its query, no parameters."""
    full = f"{url}?{urlencode(params)}"
    return client.get(path_of(full), headers={"X-Twilio-Signature": VALIDATOR.compute_signature(full, {})})


def test_every_kind_arrives_typed_by_form_post_and_by_get() -> None:
    hooks = receiver(store=None)
    seen: list[tw.TwilioEvent] = []
    hooks.on()(seen.append)
    with TestClient(hooks) as client:
        for kind, params in REQUESTS.items():
            url = hooks.callback_url({"order": 7}, kind=kind, tag="t-1")
            posted, got = post(client, url, params), get(client, url, params)
            assert posted.status_code == got.status_code == 200, (kind, posted.text, got.text)
    assert len(seen) == 2 * len(REQUESTS)
    for kind, (by_post, by_get) in zip(REQUESTS, zip(seen[::2], seen[1::2], strict=True), strict=True):
        assert type(by_post) is type(by_get) is tw.KINDS[kind]
        assert by_post.event_route_type == by_get.event_route_type == kind
        assert by_post.tag == "t-1" and by_post.context == {"order": 7}
        assert tw.event_identity(by_post) == tw.event_identity(by_get)


def test_a_url_naming_no_kind_is_the_voice_url_of_a_call() -> None:
    hooks = receiver(store=None)
    ran: list[str | None] = []
    hooks.on("call", state="ringing")(lambda event: ran.append(event.call_id))
    with TestClient(hooks) as client:
        assert post(client, hooks.callback_url(max_age=None), REQUESTS["call"]).status_code == 200
    assert ran == [REQUESTS["call"]["CallSid"]]


def test_signatures_from_the_oracle_pass_and_every_alteration_is_a_403_naming_it() -> None:
    hooks = receiver(store=None, auth_token=[TOKEN, NEW_TOKEN])  # a rotation: either token signs
    hooks.on()(lambda event: None)
    url = hooks.callback_url(kind="gather")
    params = REQUESTS["gather"]
    with TestClient(hooks) as client:
        assert post(client, url, params).status_code == 200
        assert post(client, url, params, RequestValidator(NEW_TOKEN)).status_code == 200
        wrong_key = post(client, url, params, RequestValidator("not-the-token-at-all-0000000000"))
        changed = client.post(
            path_of(url),
            data={**params, "Digits": "9"},
            headers={"X-Twilio-Signature": VALIDATOR.compute_signature(url, params)},
        )
        other_host = client.post(
            path_of(url),
            data=params,
            headers={"X-Twilio-Signature": VALIDATOR.compute_signature(url.replace("calls.", "evil."), params)},
        )
        missing = client.post(path_of(url), data=params)
        malformed = client.post(path_of(url), data=params, headers={"X-Twilio-Signature": "not base64!"})
    for refused in (wrong_key, changed, other_host):
        assert (refused.status_code, refused.json()["reason"]) == (403, "signature-mismatch")
    assert (missing.status_code, missing.json()["reason"]) == (403, "missing-signature")
    assert (malformed.status_code, malformed.json()["reason"]) == (403, "malformed-signature")


def test_the_signature_is_over_the_public_url_not_the_host_header() -> None:
    hooks = receiver(store=None)
    hooks.on()(lambda event: None)
    url = hooks.callback_url(kind="status")
    params = REQUESTS["status"]
    as_seen_inside = "http://testserver" + path_of(url)  # what a proxy's Host header would make of it
    with TestClient(hooks) as client:
        inside = client.post(
            path_of(url),
            data=params,
            headers={"X-Twilio-Signature": VALIDATOR.compute_signature(as_seen_inside, params)},
        )
        assert post(client, url, params).status_code == 200
    assert inside.status_code == 403


def test_the_core_token_is_checked_as_well_as_the_signature() -> None:
    hooks = receiver(store=None)
    url = hooks.callback_url(kind="gather")
    forged = url[:-4] + "abcd"
    with TestClient(hooks) as client:
        answered = post(client, forged, REQUESTS["gather"])  # Twilio's signature holds; our token does not
    assert (answered.status_code, answered.json()["reason"]) == (403, "token-altered")


def test_gather_reads_the_same_as_on_catapult_and_twiml_urls_carry_kind_and_tag() -> None:
    hooks = receiver(store=None)
    ran: list[str] = []

    @hooks.on("answer")
    def answer(event: tw.CallRequestEvent) -> Reply:
        menu = twiml.Gather(twiml.Say("Press 1 for sales"), num_digits=1)
        return Reply(twiml.Response(menu, twiml.Dial(twiml.Number("+15551234567"))), tag="main-menu")

    @hooks.on("gather", tag="main-menu")
    def menu(event: tw.GatherEvent) -> twiml.Response:
        ran.append(f"menu {event.digits}")
        return twiml.Response(twiml.Record(max_length=30))

    hooks.on("status")(lambda event: ran.append(f"status {event.call_status}"))
    url = hooks.callback_url({"order": 7}, kind="answer")
    outbound = {**REQUESTS["call"], "CallStatus": "in-progress", "Direction": "outbound-api"}
    with TestClient(hooks) as client:
        answered = post(client, url, outbound)
        assert answered.status_code == 200
        assert answered.headers["content-type"].startswith("text/xml")
        document = twiml.parse(answered.text)
        gather, dial = document.verbs
        assert isinstance(gather, twiml.Gather) and isinstance(dial, twiml.Dial)
        number = dial.verbs[0]
        for filled in (gather.action, dial.action, number.status_callback):
            assert filled is not None and filled.startswith(PUBLIC + "/")
        # The dialled leg's status callback names the calling leg, whose session the new one starts from.
        assert hooks.verify_callback_url(number.status_callback or "") == {
            "order": 7,
            "session_from": outbound["CallSid"],
        }
        assert gather.action is not None
        assert post(client, gather.action, {**REQUESTS["gather"], "Digits": "1"}).status_code == 200
        record_reply = post(client, gather.action, {**REQUESTS["gather"], "Digits": "2"})
        assert number.status_callback is not None
        assert (
            post(client, number.status_callback, {**REQUESTS["status"], "CallStatus": "completed"}).status_code == 200
        )
    assert ran == ["menu 1", "menu 2", "status completed"]
    record = twiml.parse(record_reply.text).verbs[0]
    assert isinstance(record, twiml.Record) and record.action and record.recording_status_callback
    # Each filled URL names its own kind: the Record's action comes back as "record", not "gather".
    assert hooks.verify_callback_url(record.action) == {"order": 7}
    assert record.action != record.recording_status_callback


def test_the_idempotency_token_makes_a_retry_one_event_and_two_requests_two() -> None:
    hooks = receiver()
    ran: list[str | None] = []
    hooks.on("gather")(lambda event: ran.append(event.digits))
    url = hooks.callback_url(kind="gather")
    params = REQUESTS["gather"]
    with TestClient(hooks) as client:
        for token in ("idem-1", "idem-1", "idem-2"):
            assert post(client, url, params, **{"I-Twilio-Idempotency-Token": token}).status_code == 200
    assert ran == [params["Digits"], params["Digits"]]


def test_a_url_made_for_one_call_is_refused_for_another() -> None:
    hooks = receiver()
    hooks.on()(lambda event: None)
    url = hooks.callback_url(kind="status", bind=True)
    with TestClient(hooks) as client:
        first = post(client, url, REQUESTS["status"])
        stolen = post(client, url, {**REQUESTS["status"], "CallSid": "CA" + "9" * 32})
    assert first.status_code == 200
    assert (stolen.status_code, stolen.json()["reason"]) == (403, "token-bound-to-another-call")


def test_configuration_mistakes_are_refused_when_made() -> None:
    with pytest.raises(ValueError, match="needs auth_token"):
        CallHooks(secret="s", public_url=PUBLIC, platform="twilio")
    with pytest.raises(ValueError, match="needs public_url"):
        CallHooks(secret="s", platform="twilio", auth_token=TOKEN)
    with pytest.raises(ValueError, match="auth_token is Twilio's"):
        CallHooks(secret="s", public_url=PUBLIC, auth_token=TOKEN)
    with pytest.raises(ValueError, match="unknown platform 'twillio'"):
        CallHooks(secret="s", public_url=PUBLIC, platform="twillio")
    hooks = CallHooks.from_env(
        {
            "CALLHOOKS_SECRET": "s",
            "CALLHOOKS_PUBLIC_URL": PUBLIC,
            "CALLHOOKS_PLATFORM": "twilio",
            "TWILIO_AUTH_TOKEN": TOKEN,
        }
    )
    assert hooks.platform.name == "twilio"
    # The platform's own wait is the default: Twilio's 15 s, Catapult's 10 s; a value given wins.
    assert (hooks.callback_timeout, CallHooks(secret="s").callback_timeout) == (15.0, 10.0)
    assert receiver(callback_timeout=5.0).callback_timeout == 5.0
    with pytest.raises(ValueError, match="unknown twilio event type 'answr'"):
        hooks.add_handler(print, "answr")


def test_the_paired_client_asks_for_answer_and_status_urls() -> None:
    from callhooks.twilio.client.operations import CallOperations, TwilioAccount

    hooks = receiver()
    operation = CallOperations(TwilioAccount("https://api.example", "AC" + "0" * 32, hooks)).create(
        "+15551112222", "+15553334444", context={"order": 9}
    )
    request = operation.send(None)
    sent = dict(re.findall(r"([^&=]+)=([^&]*)", (request.content or b"").decode()))
    from urllib.parse import unquote

    answer, status = unquote(sent["Url"]), unquote(sent["StatusCallback"])
    seen: list[tuple[str, str | None]] = []
    hooks.on("answer")(lambda event: seen.append(("answer", event.call_status)))
    hooks.on("status")(lambda event: seen.append(("status", event.call_status)))
    with TestClient(hooks) as client:
        post(client, answer, {**REQUESTS["call"], "CallStatus": "in-progress"})
        post(client, status, {**REQUESTS["status"], "CallSid": REQUESTS["call"]["CallSid"], "CallStatus": "completed"})
    assert seen == [("answer", "in-progress"), ("status", "completed")]


def test_no_answer_is_an_empty_document_where_twilio_runs_twiml_and_an_empty_200_elsewhere() -> None:
    hooks = receiver(store=None)
    hooks.on("gather")(lambda event: None)
    with TestClient(hooks) as client:
        handled = post(client, hooks.callback_url(kind="gather"), REQUESTS["gather"])
        unhandled = post(client, hooks.callback_url(kind="dial"), REQUESTS["dial"])
        status = post(client, hooks.callback_url(kind="status"), REQUESTS["status"])
    for document in (handled, unhandled):
        assert document.status_code == 200 and document.headers["content-type"].startswith("text/xml")
        assert twiml.parse(document.text) == twiml.Response()
    assert (status.status_code, status.content) == (200, b"")


def test_a_webhooks_setting_signing_with_a_shared_key_in_hmac_sha256_is_verified_with_shared_keys() -> None:
    # X-Twilio-Webhooks-Signature-Settings: the SharedKey's secret signs, in the algorithm it names, not the token.
    secret = "shared-key-secret-0123456789abcdef"
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=KS0001,algorithm=HMAC_SHA256"}
    hooks = receiver(store=None, shared_keys={"KS0001": secret})
    without = receiver(store=None)
    seen: list[Any] = []
    hooks.on("gather")(seen.append)
    params = REQUESTS["gather"]
    with TestClient(hooks) as client, TestClient(without) as plain:
        url = hooks.callback_url(kind="gather")
        assert post(client, url, params, RequestValidator(secret), **settings).status_code == 403  # SHA-1: no
        signed = RequestValidator(secret).compute_signature(url, params, algorithm="HMAC_SHA256")  # the oracle
        headers = {"X-Twilio-Signature": signed, **settings}
        assert client.post(path_of(url), data=params, headers=headers).status_code == 200
        other_url = without.callback_url(kind="gather")
        other = RequestValidator(secret).compute_signature(other_url, params, algorithm="HMAC_SHA256")
        refused = plain.post(path_of(other_url), data=params, headers={**headers, "X-Twilio-Signature": other})
    assert len(seen) == 1
    assert (refused.status_code, refused.json()["reason"]) == (403, "unknown-shared-key")
    with pytest.raises(ValueError, match="shared_keys is Twilio's"):
        CallHooks(secret="s", public_url=PUBLIC, platform="bandwidth", shared_keys={"KS0001": secret})


def test_the_console_can_replay_a_signed_request() -> None:
    # It signs the replay with the auth token (tests/console/test_console_replay.py sends one).
    hooks = receiver(console=("admin", "console-pass"))
    with TestClient(hooks) as client:
        info = client.get("/hooks/_console/api/info", auth=("admin", "console-pass")).json()
    assert info["replay"] == {"available": True, "detail": None}


def test_read_callback_verifies_and_parses_without_a_server() -> None:
    from callhooks.receiver.inbound import CallbackRejected

    hooks = receiver(store=None)
    url = hooks.callback_url(kind="gather", tag="main-menu")
    token = url.rsplit("/", 1)[1]
    body = urlencode(REQUESTS["gather"]).encode()
    signature = VALIDATOR.compute_signature(url, REQUESTS["gather"])
    form = "application/x-www-form-urlencoded"
    event = hooks.read_callback(
        "POST", token, content_type=form, body=body, headers=[("X-Twilio-Signature", signature)]
    )
    assert (event.event_route_type, event.tag, event.digits) == ("gather", "main-menu", REQUESTS["gather"]["Digits"])
    with pytest.raises(CallbackRejected) as refused:
        hooks.read_callback(
            "POST", token, content_type=form, body=body + b"&Digits=9", headers=[("X-Twilio-Signature", signature)]
        )
    assert (refused.value.status, refused.value.reason) == (403, "signature-mismatch")


def test_routers_are_per_platform() -> None:
    from callhooks import Router

    hooks = receiver(store=None)
    menus = Router(platform="twilio")
    menus.on("gather", tag="main-menu")(lambda event: None)
    hooks.include(menus)
    catapult = Router()
    catapult.on("gather")(lambda event: None)
    with pytest.raises(ValueError, match="a router of catapult handlers cannot be included in one of twilio"):
        hooks.include(catapult)
    assert [handler.key.tag for handler in hooks] == ["main-menu"]


def test_from_env_reads_the_shared_keys_from_twilio_shared_keys() -> None:
    # TWILIO_SHARED_KEYS=id:secret,id2:secret2 is CallHooks(shared_keys=...) for an app built by from_env.
    secret, other = "shared-key-secret-0123456789abcdef", "second:secret-with-a-colon"
    environ = {
        "CALLHOOKS_SECRET": "s",
        "CALLHOOKS_PUBLIC_URL": PUBLIC,
        "CALLHOOKS_PLATFORM": "twilio",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_SHARED_KEYS": f" KS0001:{secret} , KS0002:{other}",
    }
    hooks = CallHooks.from_env(environ, store=None)
    assert hooks.settings.shared_keys == {"KS0001": secret, "KS0002": other}
    seen: list[Any] = []
    hooks.on("gather")(seen.append)
    params = REQUESTS["gather"]
    with TestClient(hooks) as client:
        url = hooks.callback_url(kind="gather")
        for key_id, key in (("KS0001", secret), ("KS0002", other)):
            signed = RequestValidator(key).compute_signature(url, params, algorithm="HMAC_SHA256")  # the oracle
            headers = {
                "X-Twilio-Signature": signed,
                "X-Twilio-Webhooks-Signature-Settings": f"key={key_id},algorithm=HMAC_SHA256",
            }
            assert client.post(path_of(url), data=params, headers=headers).status_code == 200
    assert len(seen) == 2
    # Another platform's app ignores it, as it ignores TWILIO_AUTH_TOKEN (the variables may be shared).
    assert CallHooks.from_env({**environ, "CALLHOOKS_PLATFORM": "bandwidth"}).settings.shared_keys is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("KS0001", "entry 1 of 1 is not"),  # no secret
        ("KS0001:s3cr3t-one,:s3cr3t-two", "entry 2 of 2 is not"),  # no id
        ("s3cr3t-alone:", "entry 1 of 1 is not"),
        ("KS0001:s3cr3t-one,KS0001:s3cr3t-two", "twice \\(entries 1 and 2\\)"),
    ],
)
def test_a_bad_twilio_shared_keys_is_one_error_naming_it_never_the_secret(value: str, says: str) -> None:
    environ = {"CALLHOOKS_SECRET": "s", "CALLHOOKS_PUBLIC_URL": PUBLIC, "CALLHOOKS_PLATFORM": "twilio"}
    with pytest.raises(ValueError, match=f"^TWILIO_SHARED_KEYS .*{says}") as raised:
        CallHooks.from_env({**environ, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_SHARED_KEYS": value})
    assert "s3cr3t" not in str(raised.value)
