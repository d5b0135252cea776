"""twilio-python's ``Client``, pointed at the simulator (``client.api.base_url``), creates, fetches, updates and lists
calls, pages through them, reads and deletes recordings, and gets Twilio's errors as ``TwilioRestException``."""

from __future__ import annotations

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client as TwilioClient

from callhooks.simulator import FarEnd, RateLimit
from tests.twilio.sim_support import ACCOUNT_SID, AUTH_TOKEN, FakeApp, running, twiml

APP = "+15550100"


def _error(call: object) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as raised:
        call()  # type: ignore[operator]
    return raised.value


def test_create_fetch_update_and_list_calls() -> None:
    app = FakeApp(replies={"voice": twiml('<Pause length="600"/>'), "moved": twiml("<Say>Moved</Say><Hangup/>")})
    with running(app, far_end=FarEnd(hangup_after=None)) as sim:
        created = sim.twilio.calls.create(to="+15550001", from_=APP, url=f"{app.url}/voice")
        assert (created.status, created.direction, created.to, created._from) == (
            "queued",
            "outbound-api",
            "+15550001",
            APP,
        )
        assert created.sid.startswith("CA") and len(created.sid) == 34 and created.account_sid == ACCOUNT_SID
        live = sim.wait_status(created.sid, "in-progress")
        assert live.start_time is not None and live.end_time is None

        moved = sim.twilio.calls(created.sid).update(url=f"{app.url}/moved", method="POST")  # a redirect
        assert moved.sid == created.sid
        ended = sim.wait_status(created.sid)
        assert ended.status == "completed" and ended.end_time is not None and ended.duration is not None
        assert [request.path for request in app.received] == ["voice", "moved"]
        assert "twiml-Say" in sim.log(created.sid)

        second = sim.twilio.calls.create(to="+15550002", from_=APP, twiml='<Response><Pause length="600"/></Response>')
        sim.wait_status(second.sid, "in-progress")
        hung_up = sim.twilio.calls(second.sid).update(status="completed")
        assert hung_up.status == "completed"
        redirect_ended = _error(lambda: sim.twilio.calls(second.sid).update(twiml="<Response><Say>x</Say></Response>"))
        assert (redirect_ended.status, redirect_ended.code) == (400, 21220)

        listed = sim.twilio.calls.list()
        assert [call.sid for call in listed] == [second.sid, created.sid]  # newest first
        assert [call.sid for call in sim.twilio.calls.list(to="+15550001")] == [created.sid]
        assert sim.twilio.calls.list(status="in-progress") == []


def test_list_pages_through_next_page_uri() -> None:
    with running(far_end=FarEnd(outcome="busy")) as sim:
        sids = [sim.twilio.calls.create(to=f"+1555000{n}", from_=APP, twiml="<Response/>").sid for n in range(5)]
        for sid in sids:
            assert sim.wait_status(sid).status == "busy"
        page = sim.twilio.calls.page(page_size=2)
        assert len(list(page)) == 2 and page.next_page_url is not None and page.next_page_url.startswith(sim.url)
        assert [call.sid for call in sim.twilio.calls.list(page_size=2)] == sids[::-1]  # three pages, followed
        assert [call.sid for call in sim.twilio.calls.stream(limit=3, page_size=2)] == sids[::-1][:3]


def test_canceling_a_ringing_call_and_reading_recordings() -> None:
    app = FakeApp(replies={"voice": twiml('<Record action="/done" maxLength="30"/>'), "done": twiml("<Hangup/>")})
    numbers = {"+15550001": FarEnd(outcome="no-answer"), "+15550002": FarEnd(speak_seconds=4)}
    with running(app, numbers=numbers) as sim:
        ringing = sim.twilio.calls.create(to="+15550001", from_=APP, url=f"{app.url}/voice", timeout=30)
        assert sim.twilio.calls(ringing.sid).update(status="canceled").status == "canceled"
        recorded = sim.twilio.calls.create(to="+15550002", from_=APP, url=f"{app.url}/voice")
        sim.wait_status(recorded.sid)
        sim.settle()
        recordings = sim.twilio.calls(recorded.sid).recordings.list()
        assert len(recordings) == 1 and recordings[0].call_sid == recorded.sid and recordings[0].duration == "4"
        sid = recordings[0].sid
        assert sim.twilio.recordings(sid).fetch().status == "completed"
        assert [r.sid for r in sim.twilio.recordings.list()] == [sid]
        assert sim.twilio.recordings(sid).delete() is True
        gone = _error(lambda: sim.twilio.recordings(sid).fetch())
        assert (gone.status, gone.code) == (404, 20404)


@pytest.mark.parametrize(
    ("form", "code", "names"),
    [
        ({"From": APP, "Url": "http://127.0.0.1:1/v"}, 21201, "To"),
        ({"To": "+15550001", "Url": "http://127.0.0.1:1/v"}, 21213, "From"),
        ({"To": "+15550001", "From": APP}, 21205, "Url"),
        ({"To": "+15550001", "From": APP, "Url": "not a url"}, 21205, "Url"),
        ({"To": "nobody", "From": APP, "Url": "http://127.0.0.1:1/v"}, 21211, "To"),
        ({"To": "+15550001", "From": APP, "Url": "http://127.0.0.1:1/v", "Timeout": "9999"}, 21218, "Timeout"),
        ({"To": "+15550001", "From": APP, "Twiml": "<Response>" + "x" * 4000 + "</Response>"}, 21218, "Twiml"),
        (
            {"To": "+15550001", "From": APP, "Url": "http://127.0.0.1:1/v", "StatusCallbackEvent": "hungup"},
            21218,
            "StatusCallbackEvent",
        ),
        ({"To": "+15550001", "From": APP, "Url": "http://169.254.169.254/v"}, 21205, "Url"),
    ],
)
def test_bad_requests_get_twilios_error_body(form: dict[str, str], code: int, names: str) -> None:
    with running() as sim, httpx.Client(base_url=sim.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        answer = http.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json", data=form)
        assert answer.status_code == 400
        body = answer.json()
        assert (body["code"], body["status"], body["more_info"]) == (
            code,
            400,
            f"https://www.twilio.com/docs/errors/{code}",
        )
        assert names in body["message"]
        assert sim.simulator.engine.calls == {}


def test_credentials_and_accounts() -> None:
    with running() as sim:
        wrong = TwilioClient(ACCOUNT_SID, "not-the-token")
        wrong.api.base_url = sim.url
        refused = _error(lambda: wrong.calls("CA" + "0" * 32).fetch())
        assert (refused.status, refused.code) == (401, 20003)
        other = "AC" + "9" * 32
        with httpx.Client(base_url=sim.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
            assert http.get(f"/2010-04-01/Accounts/{other}/Calls.json").json()["code"] == 20404
            assert http.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA{'0' * 32}.json").status_code == 404
            assert http.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json?PageSize=0").json()["code"] == 21218


def test_an_api_key_and_its_secret_authenticate_too() -> None:
    key, secret = "SK" + "1" * 32, "api-secret"
    with running(account={"api_key": key, "api_secret": secret}) as sim:
        client = TwilioClient(key, secret, ACCOUNT_SID)
        client.api.base_url = sim.url
        assert client.calls.list() == []
        wrong = TwilioClient(key, "guess", ACCOUNT_SID)
        wrong.api.base_url = sim.url
        assert _error(lambda: wrong.calls("CA" + "0" * 32).fetch()).code == 20003


def test_paths_and_methods_the_simulator_does_not_serve_are_twilios_errors() -> None:
    with running() as sim, httpx.Client(base_url=sim.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        for path in ("Queues.json", "Conferences/CF1.json"):
            answer = http.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/{path}")
            assert (answer.status_code, answer.json()["code"], answer.json()["status"]) == (404, 20404, 404), path
        wrong = http.put(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json")
        assert (wrong.status_code, wrong.json()["code"]) == (405, 20004)


def test_the_cores_refusals_speak_twilio() -> None:
    limit = RateLimit(requests_per_second=1, window=60)  # 60 requests per window of a clock that stands still
    with (
        running(rate_limit=limit, speed=None) as sim,
        httpx.Client(base_url=sim.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http,
    ):
        calls = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
        answers = [http.get(calls) for _ in range(61)]
        assert [answer.status_code for answer in answers[:60]] == [200] * 60
        assert (answers[60].status_code, answers[60].json()["code"]) == (429, 20429)
        typed = http.post(calls, content=b"x", headers={"Content-Type": "text/plain"})
        assert (typed.status_code, typed.json()["code"], typed.json()["status"]) == (415, 21218, 415)
