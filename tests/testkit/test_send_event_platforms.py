"""``send_event``/``asend_event``/``callback_path`` for an app of any platform: a v2 app gets JSON (or a query)
with its Basic credentials; a Twilio app gets a form (or a query) at a signed URL naming the kind and tag, with
an ``X-Twilio-Signature`` that twilio-python's ``RequestValidator`` (the oracle) accepts, and routes it by kind
and tag. The Twilio factories build every kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from twilio.request_validator import RequestValidator

from callhooks import CallHooks
from callhooks.bandwidth import events as v2
from callhooks.bandwidth.factories import gather_event as v2_gather_event
from callhooks.signing import TokenError
from callhooks.testing import CallRecorder, answer_event, asend_event, callback_path, inprocess, replay, send_event
from callhooks.twilio import events as tw
from callhooks.twilio.factories import FACTORIES, gather_event, make_event, status_event

PUBLIC = "https://calls.example.com/hooks"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
SECRET = "test-kit-secret-0123456789"
METHODS = ("POST", "GET")


class RecordingTransport(httpx.ASGITransport):
    """httpx's ASGI transport, keeping every request it carries to the app (the oracle checks what was sent)."""

    sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        RecordingTransport.sent.append(request)
        return await super().handle_async_request(request)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Request]]:
    RecordingTransport.sent = []
    monkeypatch.setattr(inprocess.httpx, "ASGITransport", RecordingTransport)
    yield RecordingTransport.sent


def twilio_app(**options: Any) -> tuple[CallHooks, list[tw.TwilioEvent]]:
    hooks = CallHooks(platform="twilio", secret=SECRET, auth_token=AUTH_TOKEN, public_url=PUBLIC, **options)
    seen: list[tw.TwilioEvent] = []
    hooks.on()(seen.append)
    return hooks, seen


def validates(request: httpx.Request) -> bool:
    """Whether twilio-python's ``RequestValidator`` accepts ``request`` as sent to the app's public URL."""
    public = urlsplit(PUBLIC)
    url = f"{public.scheme}://{public.netloc}{request.url.raw_path.decode()}"
    form = dict(parse_qsl(request.content.decode(), keep_blank_values=True)) if request.method == "POST" else {}
    return bool(RequestValidator(AUTH_TOKEN).validate(url, form, request.headers["x-twilio-signature"]))


def test_the_twilio_factories_build_every_kind() -> None:
    assert set(FACTORIES) <= set(tw.KINDS)
    for kind, model in tw.KINDS.items():
        event = make_event(kind, tag="t")
        assert type(event) is model and event.kind == kind and event.tag == "t" and event.idempotency_token
        assert tw.call_key(event) is not None
        again = tw.parse_event(kind, tw.wire_params(event), tag="t", headers={tw.IDEMPOTENCY_HEADER: "x"})
        assert again.model_dump() == event.model_dump()  # the parameters read back as the same event
    answered = status_event("CA1", call_status="in-progress", sequence_number=2)
    assert (answered.call_sid, answered.status_callback_event, answered.sequence_number) == ("CA1", "answered", 2)
    assert answered.call_duration is None and status_event().call_duration == 42
    assert gather_event(digits="007").digits == "007" and gather_event(digits="1").call_state == "in-progress"


@pytest.mark.parametrize("method", METHODS)
def test_every_twilio_request_send_event_makes_validates_and_reaches_its_handler(
    method: Any, sent: list[httpx.Request]
) -> None:
    hooks, seen = twilio_app()
    for kind in tw.KINDS:
        event = make_event(kind, tag=f"tag-{kind}")
        answer = send_event(hooks, event, method=method, context={"order": 7})
        assert answer.status_code == 200, (kind, answer.text)
        request = sent[-1]
        assert request.method == method and validates(request), kind
        assert request.headers["i-twilio-idempotency-token"] == event.idempotency_token
        received = seen[-1]
        assert (received.kind, received.tag, received.context) == (kind, f"tag-{kind}", {"order": 7})
        assert tw.wire_params(received) == tw.wire_params(event)
    assert len(seen) == len(tw.KINDS)


def test_a_twilio_app_routes_by_kind_and_tag_and_reads_the_digits(sent: list[httpx.Request]) -> None:
    hooks = CallHooks(platform="twilio", secret=SECRET, auth_token=AUTH_TOKEN, public_url=PUBLIC)
    chosen: list[str | None] = []

    @hooks.on("gather", tag="main-menu")
    def menu(event: tw.GatherEvent) -> None:
        chosen.append(event.digits)

    assert send_event(hooks, gather_event(digits="1", tag="main-menu")).status_code == 200
    assert send_event(hooks, gather_event(digits="2", tag="other-menu")).status_code == 200  # no handler
    # plain request parameters: the kind and tag of the URL given apart (a GET this time)
    fields = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "2" * 32, "Digits": "3"}
    answer = send_event(hooks, fields, method="GET", kind="gather", tag="main-menu")
    assert answer.status_code == 200 and validates(sent[-1])
    assert chosen == ["1", "3"]
    assert answer.headers["content-type"].startswith("text/xml")  # TwiML, as Twilio runs a gather's reply


def resend(hooks: CallHooks, request: httpx.Request, content: bytes | None = None) -> httpx.Response:
    """``request`` (as ``send_event`` made it), with ``content`` instead of its body if given, sent to ``hooks``."""

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hooks), base_url=inprocess.IN_PROCESS_URL) as c:
            headers = {k: v for k, v in request.headers.items() if k != "content-length"}
            body = request.content if content is None else content
            return await c.request(request.method, request.url.raw_path.decode(), headers=headers, content=body)

    return asyncio.run(run())


def test_the_signature_is_real_another_token_or_an_altered_parameter_is_refused(sent: list[httpx.Request]) -> None:
    hooks, seen = twilio_app()
    assert send_event(hooks, gather_event(digits="1", tag="main-menu")).status_code == 200
    request = sent[-1]
    other = CallHooks(platform="twilio", secret=SECRET, auth_token="another-auth-token", public_url=PUBLIC)
    refused = resend(other, request)
    assert refused.status_code == 403 and refused.json()["reason"] == "signature-mismatch"
    altered = resend(hooks, request, request.content.replace(b"Digits=1", b"Digits=9"))
    assert altered.status_code == 403 and altered.json()["reason"] == "signature-mismatch"
    assert len(seen) == 1


def test_a_twilio_app_rotating_its_auth_token_gets_requests_signed_with_the_new_one(
    sent: list[httpx.Request],
) -> None:
    hooks = CallHooks(platform="twilio", secret=SECRET, auth_token=["old-token", AUTH_TOKEN], public_url=PUBLIC)
    assert send_event(hooks, gather_event()).status_code == 200
    assert validates(sent[-1])  # signed with the newest (the validator holds only AUTH_TOKEN)


def test_a_twilio_app_keeps_its_public_url_so_send_event_can_sign_for_it() -> None:
    # Twilio signs the URL it requests: a Twilio app cannot be built without public_url, nor have it taken away.
    hooks, seen = twilio_app()
    with pytest.raises(ValueError, match="needs public_url"):
        hooks.public_url = None
    assert send_event(hooks, gather_event()).status_code == 200 and len(seen) == 1


def test_callback_path_signs_the_kind_and_tag_below_the_public_urls_path() -> None:
    hooks, _ = twilio_app()
    path = callback_path(hooks, {"order": 7}, kind="gather", tag="main-menu")
    assert path.startswith("/hooks/")
    assert hooks.verify_callback_url(PUBLIC + path.removeprefix("/hooks")) == {"order": 7}


@pytest.mark.parametrize("method", METHODS)
def test_a_v2_app_gets_json_or_a_query_with_its_basic_credentials(method: Any, sent: list[httpx.Request]) -> None:
    hooks = CallHooks(platform="bandwidth", secret=SECRET, basic_auth=("bw-user", "bw-password"))
    seen: list[v2.GatherEvent] = []

    @hooks.on("gather", tag="main-menu")
    def menu(event: v2.GatherEvent) -> None:
        seen.append(event)

    event = v2_gather_event("c-1", digits="42", tag="main-menu")
    answer = send_event(hooks, event, method=method, context={"step": 2})
    assert answer.status_code == 200, answer.text
    assert sent[-1].headers["authorization"] == httpx.BasicAuth("bw-user", "bw-password")._auth_header
    assert seen[0].digits == "42" and seen[0].context == {"step": 2} and seen[0].call_url == event.call_url
    assert seen[0].event_time == event.event_time
    # wire fields work too, asynchronously as well
    wire = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert asyncio.run(asend_event(hooks, {**wire, "digits": "7"}, method=method)).status_code == 200
    assert [e.digits for e in seen] == ["42", "7"]


def test_kind_and_tag_are_refused_for_platforms_whose_body_names_them() -> None:
    hooks = CallHooks(platform="bandwidth", secret=SECRET)
    with pytest.raises(ValueError, match="in the body"):
        send_event(hooks, v2_gather_event(), tag="main-menu")


def test_a_recorded_twilio_call_replays_in_process_signed_and_routed_as_it_was() -> None:
    hooks, _ = twilio_app()
    recorder = CallRecorder()
    hooks.add_monitor(recorder)
    sid = "CA" + "4" * 32
    send_event(hooks, make_event("call", call_sid=sid), context={"order": 7})
    send_event(hooks, gather_event(sid, digits="2", tag="main-menu"), method="GET", context={"order": 7})
    send_event(hooks, status_event(sid, call_status="completed", sequence_number=3))
    fresh, seen = twilio_app()
    answers = replay(fresh, recorder.fixture(sid))
    assert [answer.status_code for answer in answers] == [200, 200, 200], [a.text for a in answers]
    assert [(e.kind, e.tag, e.context) for e in seen] == [
        ("call", None, {"order": 7}),
        ("gather", "main-menu", {"order": 7}),
        ("status", None, {}),
    ]
    gather = seen[1]
    assert isinstance(gather, tw.GatherEvent) and gather.digits == "2"


@pytest.mark.parametrize("platform", ["catapult", "bandwidth", "twilio"])
def test_send_event_signs_with_the_apps_signer_max_age_and_credentials_on_every_platform(platform: str) -> None:
    # The kit reads hooks.signer, hooks.max_age and hooks.basic_auth (read-only views of the settings) on each send.
    now = [1_000_000.0]
    options: dict[str, Any] = {"auth_token": AUTH_TOKEN} if platform == "twilio" else {}
    hooks = CallHooks(
        platform=platform,
        secret=SECRET,
        public_url=PUBLIC,
        basic_auth=("platform", "pw"),
        max_age=60,
        clock=lambda: now[0],
        store=None,  # the same event three times: each runs its handler
        **options,
    )
    seen: list[Any] = []
    hooks.on()(seen.append)
    event = {"catapult": answer_event("c-1"), "bandwidth": v2_gather_event("c-1"), "twilio": gather_event()}[platform]
    for method in METHODS:
        assert send_event(hooks, event, method=method).status_code == 200
    assert len(seen) == 2
    path = callback_path(hooks)
    now[0] += 61  # older than max_age: the URL the kit signed has expired, and a fresh send still goes through
    with pytest.raises(TokenError, match="expired"):
        hooks.verify_callback_url(PUBLIC + path.removeprefix("/hooks"))
    assert send_event(hooks, event).status_code == 200 and len(seen) == 3
