"""Regression tests for receiver bugs found in use (issue 8): each failed before its fix."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading

import httpx
import pytest
from starlette.testclient import TestClient

from callhooks import CallEvent, CallHooks, Router
from callhooks.receiver.inbound import CallbackReader, CallbackRejected, read_callback
from callhooks.testing import answer_event, send_event
from callhooks.testing.server import free_port, serve

SECRET = "fixes-secret"
ANSWER = {"eventType": "answer", "callId": "c-1", "from": "+19195550100", "to": "+19195551212"}

pytestmark = pytest.mark.timeout(60)


# -- bug 2: public_url with a path, served standalone or under a root path -----------------------------------


def test_standalone_receiver_serves_callbacks_under_the_path_of_public_url() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks")
    seen: list[CallEvent] = []
    hooks.add_handler(seen.append)
    url = hooks.callback_url({"order": 7})
    token = url.rpartition("/")[2]
    with serve(hooks) as server:
        ok = httpx.post(f"{server.url}/hooks/{token}", json=ANSWER, timeout=30)
        assert ok.status_code == 200, ok.text
        assert [e.context for e in seen] == [{"order": 7}]
        assert httpx.get(f"{server.url}/hooks/healthz", timeout=30).json() == {"status": "ok"}
        assert httpx.get(f"{server.url}/healthz", timeout=30).json() == {"status": "ok"}  # load balancers' probe
        elsewhere = httpx.post(f"{server.url}/{token}", json=ANSWER, timeout=30)
        assert elsewhere.status_code == 404
        assert elsewhere.json()["detail"] == "callbacks are served under /hooks/ (the path of public_url)"
        near_miss = httpx.post(f"{server.url}/hooksx/{token}", json=ANSWER, timeout=30)
        assert near_miss.status_code == 404
    assert len(seen) == 1


def test_root_path_behind_a_proxy_that_keeps_the_prefix() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks")
    seen: list[CallEvent] = []
    hooks.add_handler(seen.append)
    token = hooks.callback_url().rpartition("/")[2]
    with serve(hooks, root_path="/hooks") as server:
        response = httpx.post(f"{server.url}/hooks/{token}", json=ANSWER, timeout=30)
        assert response.status_code == 200, response.text
    assert len(seen) == 1


# -- bug 3: include is all or nothing -------------------------------------------------------------------------


def test_include_registers_all_or_nothing() -> None:
    hooks = CallHooks(secret=SECRET)
    hooks.on("gather", tag="b")(lambda event: "mine")
    other = Router()
    other.on("answer")(lambda event: "a")
    other.on("gather", tag="b")(lambda event: "b")  # conflicts with hooks' own
    other.on("hangup")(lambda event: "c")
    with pytest.raises(ValueError, match="two handlers for the same key"):
        hooks.include(other)
    assert len(hooks) == 1
    assert hooks.match(answer_event(call_id="c-1")) is None


# -- bug 5: public_url is checked at construction --------------------------------------------------------------


@pytest.mark.parametrize("bad", ["calls.example.com", "ftp://calls.example.com", "https://", "https://x.example/#f"])
def test_public_url_is_checked_when_the_receiver_is_built(bad: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        CallHooks(secret=SECRET, public_url=bad)
    with pytest.raises(ValueError, match="public_url"):
        CallHooks.from_env({"CALLHOOKS_SECRET": SECRET, "CALLHOOKS_PUBLIC_URL": bad})


# -- bug 9: rejections are logged once, basic auth is challenged -------------------------------------------------


def test_each_rejection_is_logged_once_with_reason_and_address_never_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks = CallHooks(secret=SECRET, basic_auth=("platform", "pw-sekrit"))
    forged = CallHooks(secret="another").callback_url(public_url="http://testserver")
    with TestClient(hooks) as client, caplog.at_level(logging.WARNING, logger="callhooks"):
        assert client.post(forged, json=ANSWER, auth=("platform", "pw-sekrit")).status_code == 403
        unauthorized = client.post(forged, json=ANSWER, auth=("platform", "wrong"))
    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"] == 'Basic realm="callhooks", charset="UTF-8"'
    lines = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert lines == [
        "callback rejected: 403 token-unknown-key from testclient:50000",
        "callback rejected: 401 basic-auth-failed from testclient:50000",
    ]
    token = forged.rpartition("/")[2]
    assert all(token not in r.getMessage() and "sekrit" not in r.getMessage() for r in caplog.records)


# -- bug 10: misspelt event types and states ---------------------------------------------------------------------


def test_misspelt_event_type_and_state_are_refused_naming_the_close_match() -> None:
    hooks = CallHooks(secret=SECRET)
    with pytest.raises(ValueError, match="unknown event type 'gahter': did you mean 'gather'"):
        hooks.on("gahter")(lambda event: None)
    with pytest.raises(ValueError, match="unknown call state 'complete': did you mean 'completed'"):
        hooks.on(state="complete")(lambda event: None)
    assert len(hooks) == 0
    hooks.on("sms", allow_unknown=True)(lambda event: "future")  # the explicit opt-in for new event types
    hooks.on("transfer-complete")(lambda event: None)  # wire aliases are known too
    assert len(hooks) == 2


# -- one inbound pipeline --------------------------------------------------------------------------------------


def test_read_callback_judges_the_head_before_the_body() -> None:
    hooks = CallHooks(secret=SECRET)
    reader = CallbackReader(hooks.signer, None, body_limit=100)
    token = hooks.callback_url({"k": 1}, public_url="https://x.example").rpartition("/")[2]
    # A forged token with an oversized, invalid body: 403, the body is never looked at.
    with pytest.raises(CallbackRejected) as forged:
        read_callback(reader, "POST", "forged", content_type="application/json", body=b"{" * 1000)
    assert forged.value.status == 403
    with pytest.raises(CallbackRejected) as method:
        read_callback(reader, "PUT", token)
    assert (method.value.status, method.value.headers) == (405, {"allow": "GET, POST"})
    with pytest.raises(CallbackRejected) as media:
        reader.judge_head("POST", token, None, "text/plain")
    assert media.value.status == 415
    with pytest.raises(CallbackRejected) as declared:
        reader.judge_head("POST", token, None, "application/json", "101")
    assert declared.value.status == 413
    event = read_callback(reader, "post", token, content_type="application/json", body=b'{"eventType":"answer"}')
    assert event.event_type == "answer" and event.context == {"k": 1}


# -- papercut: a handler still running near callbackTimeout -----------------------------------------------------


def test_a_handler_running_near_the_callback_timeout_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    hooks = CallHooks(secret=SECRET, callback_timeout=0.05)
    release = threading.Event()
    warned = threading.Event()

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "still running" in record.getMessage():
                warned.set()

    spy = Spy()
    logging.getLogger("callhooks").addHandler(spy)

    @hooks.on("answer")
    async def slow(event: CallEvent) -> None:
        # Waits until the warning was logged (or a generous deadline), so the test never depends on timing.
        await asyncio.get_running_loop().run_in_executor(None, warned.wait, 10)
        release.set()

    try:
        response = send_event(hooks, answer_event(call_id="c-9"))
    finally:
        logging.getLogger("callhooks").removeHandler(spy)
    assert response.status_code == 200
    assert warned.is_set() and release.is_set()
    [line] = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    assert "slow" in line and "c-9" in line and "fallback" in line


def test_callback_lines_are_visible_under_plain_uvicorn() -> None:
    """``uvicorn app:hooks`` configures only its own loggers; the per-callback line must still show."""
    port = free_port()
    script = (
        "import uvicorn\n"
        "from callhooks import CallHooks\n"
        "hooks = CallHooks(secret=None, insecure=True) if 'insecure' in CallHooks.__init__.__code__.co_varnames "
        "else CallHooks(secret=None)\n"
        "hooks.on('answer')(lambda event: None)\n"
        f"uvicorn.run(hooks, host='127.0.0.1', port={port}, log_level='info')\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        lines: list[str] = []
        for line in process.stderr:  # read until the server says it is up (bounded by the test timeout)
            lines.append(line)
            if "Uvicorn running" in line:
                break
        response = httpx.post(f"http://127.0.0.1:{port}/", json=ANSWER, timeout=30)
        assert response.status_code == 200
        for line in process.stderr:
            lines.append(line)
            if "event=answer" in line:
                break
        output = "".join(lines)
        assert "callhooks.callbacks call=c-1 event=answer state=active" in output
    finally:
        process.terminate()
        process.wait(timeout=10)
