"""Issue 7, findings 1 and 7: token redaction in every access log is linear and bounded and hides cut or
altered tokens; every value callhooks logs has its control characters escaped."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from callhooks import CallEvent, CallHooks
from callhooks.logs import MAX_LOGGED_CHARS, RedactingFilter, escape, redact_path
from callhooks.testing import free_port, serve

TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SECRET = "security-log-secret"  # as in security_apps.py


def tokens(hooks: CallHooks) -> dict[str, str]:
    """A valid token and the forms an attacker (or a broken proxy) would send: cut short, altered."""
    valid = hooks.callback_url(context={"order": 4411}).rsplit("/", 1)[1]
    return {
        "valid": valid,
        "truncated": valid[:-1],
        "altered": valid[:-1] + ("A" if valid[-1] != "A" else "B"),
        "half": valid[: len(valid) // 2 + 14],
    }


def assert_no_secret_material(text: str, sent: dict[str, str]) -> None:
    for name, token in sent.items():
        signature = token.rpartition(".")[2] if "." in token else token
        for start in range(max(len(signature) - 19, 1)):
            assert signature[start : start + 20] not in text, f"{name} token leaked: {text!r}"
        assert token not in text, f"{name} token leaked"


# -- the redaction itself --------------------------------------------------------------------------------------


def attack_path(length: int) -> str:
    # What made the old regex quadratic: a long run of token characters that never completes a match.
    return "/" + "a" * length


def test_redaction_cost_does_not_grow_with_the_path() -> None:
    args = ("GET", attack_path(100_000))
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s %s", args, None)
    started = time.thread_time()
    RedactingFilter().filter(record)
    cpu = time.thread_time() - started
    # The old regex took ~5.5 s of CPU on this path (1.6 s at 54,000 characters, growing with the square);
    # the redaction now looks at MAX_LOGGED_CHARS characters at most: microseconds. A generous bound.
    assert cpu < 0.5
    assert isinstance(record.args, tuple)
    assert len(record.args[1]) <= MAX_LOGGED_CHARS + 40


def test_redaction_examines_a_bounded_prefix() -> None:
    # Output length is a fixed bound whatever the input: the work done is too (slice, split, join, translate).
    for length in (10, 1_000, 100_000, 1_000_000):
        assert len(redact_path(attack_path(length))) <= MAX_LOGGED_CHARS + 40


def test_truncated_altered_and_valid_tokens_are_hidden() -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://x.example/hooks")
    sent = tokens(hooks)
    for token in sent.values():
        line = redact_path(f"/hooks/{token}?eventType=answer")
        assert line == "/hooks/<token>?eventType=*"  # names only: values hold numbers and digits
    assert redact_path("/healthz") == "/healthz"
    assert redact_path("/hooks/") == "/hooks/"
    # A token cut by the length cap is hidden too.
    cut = redact_path("/" + "x" * (MAX_LOGGED_CHARS - 10) + "/" + sent["valid"])
    assert_no_secret_material(cut, sent)


def test_control_characters_are_escaped() -> None:
    assert escape("a\nb\r\x1b[31m\x00\u2028c\\") == "a\\x0ab\\x0d\\x1b[31m\\x00\\u2028c\\\\"
    assert redact_path("/x\ny") == "/x\\x0ay"


def test_callhooks_own_lines_escape_network_values(caplog: pytest.LogCaptureFixture) -> None:
    hooks = CallHooks(secret=None, insecure=True)

    @hooks.on("answer")
    def answered(event: CallEvent) -> None:
        pass

    forged = "menu\n2026-01-01 INFO callhooks: call=c-victim status=200 FORGED"
    with serve(hooks) as server, caplog.at_level(logging.INFO, logger="callhooks"):
        response = httpx.post(
            f"{server.url}/", json={"eventType": "answer", "callId": "c-1\r\nX", "tag": forged}, timeout=10
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while not any("status=200" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.01)  # poll with a deadline: the log line is written right after the response
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("callhooks") and "status=" in r.getMessage()]
    assert lines, caplog.text
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert "menu\\x0a2026" in line and "c-1\\x0d\\x0aX" in line


# -- every way of serving --------------------------------------------------------------------------------------


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def access_log() -> Iterator[Collected]:
    handler = Collected()
    target = logging.getLogger("uvicorn.access")
    target.addHandler(handler)
    try:
        yield handler
    finally:
        target.removeHandler(handler)


def send_all(base: str, sent: dict[str, str]) -> None:
    with httpx.Client(timeout=10) as client:
        for token in sent.values():
            client.post(f"{base}/{token}", json={"eventType": "answer", "callId": "c-1"})
        client.get(f"{base}/healthz")


@pytest.mark.parametrize("mounted", ["top-level", "starlette", "fastapi"])
def test_access_log_under_uvicorn_run(mounted: str) -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1/hooks")
    app: object = hooks
    prefix = ""
    if mounted == "starlette":
        from starlette.applications import Starlette
        from starlette.routing import Mount

        app, prefix = Starlette(routes=[Mount("/hooks", hooks)]), "/hooks"
    elif mounted == "fastapi":
        fastapi = FastAPI()
        fastapi.mount("/hooks", hooks)
        app, prefix = fastapi, "/hooks"
    sent = tokens(hooks)
    with serve(app, log_level="info", access_log=True) as server, access_log() as log:  # type: ignore[arg-type]
        send_all(server.url + prefix, sent)
        deadline = time.monotonic() + 10
        while len(log.lines) < len(sent) + 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # poll with a deadline for the access log lines
    text = "\n".join(log.lines)
    assert text.count("<token>") == len(sent), text
    assert "/healthz" in text
    assert_no_secret_material(text, sent)


def _wait_for(base: str, process: subprocess.Popen[str]) -> None:
    """Poll ``base``/healthz (``base`` includes any mount prefix) until it answers, with a deadline."""
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not start within 30 s"
        time.sleep(0.05)  # polling a separate process, bounded by the deadline


def _server_command(kind: str, port: int) -> tuple[list[str], str]:
    if kind == "uvicorn-cli":
        return [str(BIN / "uvicorn"), "security_apps:hooks", "--port", str(port)], ""
    if kind == "uvicorn-cli-mounted":
        return [str(BIN / "uvicorn"), "security_apps:mounted", "--port", str(port)], "/hooks"
    if kind == "callhooks-run":
        return [str(BIN / "callhooks"), "run", "security_apps:hooks", "--port", str(port)], ""
    gunicorn = shutil.which("gunicorn", path=str(BIN))
    if gunicorn is None:
        if os.environ.get("CI"):
            pytest.fail("gunicorn is missing: pip install -e '.[test]'")
        pytest.skip("gunicorn is not installed: pip install -e '.[test]'")
    return [
        gunicorn,
        "security_apps:hooks",
        "-k",
        "uvicorn.workers.UvicornWorker",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "--access-logfile",
        "-",
    ], ""


@pytest.mark.parametrize("kind", ["uvicorn-cli", "uvicorn-cli-mounted", "callhooks-run", "gunicorn"])
def test_access_log_in_server_processes(kind: str) -> None:
    port = free_port()
    command, prefix = _server_command(kind, port)
    env = {**os.environ, "PYTHONPATH": str(TESTS), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=TESTS, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    hooks = CallHooks(secret=SECRET, public_url=base + prefix)
    sent = tokens(hooks)
    try:
        _wait_for(base + prefix, process)
        send_all(base + prefix, sent)
        # The attack that stalled the server: it is answered, and the valid callback is served right after.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET " + attack_path(54_000).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 ")
        valid = httpx.post(f"{base}{prefix}/{sent['valid']}", json={"eventType": "answer"}, timeout=10)
        assert valid.status_code == 200
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert output.count("<token>") >= len(sent) + 1, output
    assert_no_secret_material(output, sent)
    assert "a" * (MAX_LOGGED_CHARS + 1) not in output  # the attack path is cut in the log too


def test_urls_in_logged_values_lose_their_password_and_token() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks", basic_auth=("bob", "hunter2"))
    url = hooks.callback_url(context={"order": 1})
    record = logging.LogRecord("callhooks.simulator.deliveries", logging.INFO, __file__, 1, "to %s", (url,), None)
    RedactingFilter().filter(record)
    line = record.getMessage()
    assert line == "to https://bob:***@calls.example.com/hooks/<token>"
    assert_no_secret_material(line, tokens(hooks))


# -- issue 23, finding 7: what else reached the logs and pages ------------------------------------------------


@contextmanager
def users_logging() -> Iterator[list[str]]:
    """The user's own logging configuration: a plain handler and formatter on the root logger, at INFO."""
    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Lines()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def wait_for_line(lines: list[str], wanted: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        found = [line for line in lines if wanted in line]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no log line with {wanted!r}: {lines}"
        time.sleep(0.01)  # polling the log, written right after the answer, with a deadline


FORGED_LINE = "INFO callhooks.callbacks call=c-victim event=answer status=200 FORGED"


def test_a_handler_exception_forges_no_line_and_shows_no_secret() -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", basic_auth=("bob", "pw-in-the-url-77"))
    leaked = hooks.callback_url(context={"n": 1})

    @hooks.on("answer")
    def answered(event: CallEvent) -> None:
        # What an attacker's tag or a careless f-string puts into a message: a line break, an ANSI escape, a key.
        raise RuntimeError(f"bad tag {event.tag}\x1b[2J key={SECRET} url={leaked}")

    with users_logging() as lines, serve(hooks) as server:
        url = f"{server.url}/{hooks.callback_url().rsplit('/', 1)[1]}"
        answer = {"eventType": "answer", "callId": "c-1", "tag": "x\n" + FORGED_LINE}
        auth = ("bob", "pw-in-the-url-77")
        assert httpx.post(url, json=answer, auth=auth, timeout=10).status_code == 500
        failed = wait_for_line(lines, "handler ")
    text = "\n".join(lines)
    assert not any(line.startswith(FORGED_LINE) for line in text.splitlines()), failed
    assert "x\\x0aINFO callhooks.callbacks" in failed and "\\x1b[2J" in failed and "\x1b" not in text
    assert SECRET not in text and "key=***" in failed
    assert "pw-in-the-url-77" not in text and leaked.rsplit("/", 1)[1] not in text


def test_the_background_logger_is_redacted_under_the_users_logging() -> None:
    from callhooks.receiver.background import BackgroundSettings
    from callhooks.stores import RetryPolicy

    hooks = CallHooks(
        secret=SECRET,
        public_url="http://127.0.0.1",
        background=BackgroundSettings(retry=RetryPolicy(max_attempts=1), poll_interval=0.05),
    )
    leaked = hooks.callback_url(context={"n": 2})

    @hooks.on("answer", background=True)
    def later(event: CallEvent) -> None:
        raise RuntimeError(f"could not reach {leaked}\nINFO forged")

    with users_logging() as lines, serve(hooks) as server:
        url = hooks.callback_url().replace("http://127.0.0.1", server.url)
        assert httpx.post(url, json={"eventType": "answer", "callId": "c-2"}, timeout=10).status_code == 200
        failed = wait_for_line(lines, "background handler")
    assert failed.startswith("WARNING callhooks.background")
    assert leaked.rsplit("/", 1)[1] not in "\n".join(lines) and "/<token>" in failed
    assert "\n" not in failed


def test_forwarded_for_and_query_strings_are_kept_out_of_the_access_log() -> None:
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1")
    token = hooks.callback_url().rsplit("/", 1)[1]
    forged_client = '6.6.6.6 - "GET /admin HTTP/1.1" 200'
    with serve(hooks, log_level="info", access_log=True, forwarded_allow_ips="*") as server, access_log() as log:
        query = "eventType=answer&callId=c-3&from=%2B19195551212&to=%2B19195550100"
        headers = {"x-forwarded-for": forged_client}
        assert httpx.get(f"{server.url}/{token}?{query}", headers=headers, timeout=10).status_code == 200
        line = wait_for_line(log.lines, "<token>")
    assert '"GET /admin' not in line and "6.6.6.6%20-%20%22GET" in line
    assert "19195551212" not in line and "?eventType=*&callId=*&from=*&to=*" in line


def test_the_simulators_errors_hide_secrets_in_callback_queries() -> None:
    from tests.simulator.receiver import USER, running

    with running() as env:
        env.receiver.answers["/primary"] = (500, 0.0)
        env.create_call(path="/primary?apikey=sim-query-secret-55", fallbackUrl=env.receiver_url + "/fallback")
        env.receiver.wait_types("answer", path="/fallback")
        env.settle()
        errors = env.client.get(f"/v1/users/{USER}/errors").text
    assert "sim-query-secret-55" not in errors and "apikey=*" in errors


def test_the_console_hides_tokens_in_recorded_bxml_answers() -> None:
    from callhooks import bxml

    console = ("admin", "console-pw-logs")
    hooks = CallHooks(secret=SECRET, public_url="http://127.0.0.1", store=None, console=console)

    @hooks.on("answer")
    def answered(event: CallEvent) -> bxml.Response:
        return bxml.Response(bxml.Gather(bxml.SpeakSentence("Press 1"), request_url=hooks.callback_url({"m": 1})))

    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        url = hooks.callback_url().replace("http://127.0.0.1", server.url)
        answer = client.post(url, json={"eventType": "answer", "callId": "c-4"})
        assert answer.status_code == 200 and "<Gather" in answer.text
        given = answer.text.split('requestUrl="', 1)[1].split('"', 1)[0].rsplit("/", 1)[1]
        shown = client.get("/_console/api/calls/c-4", auth=console).json()
    body = shown["entries"][0]["response"]["body"]
    assert "<Gather" in body and "/<token>" in body and given not in body


def test_building_a_receiver_leaves_other_libraries_loggers_alone_until_it_is_served() -> None:
    # A library sets up its own loggers only: uvicorn's access log gets the token filter when the receiver is
    # served (its lifespan), numbers are masked while a masking console's receiver runs, not for good.
    from starlette.testclient import TestClient

    from callhooks import logs
    from callhooks.console import masking

    access = logging.getLogger("uvicorn.access")
    for found in [f for f in access.filters if isinstance(f, logs.RedactingFilter | masking.MaskingFilter)]:
        access.removeFilter(found)  # as a fresh process has it, whatever earlier tests served
    hooks = CallHooks(secret="s" * 24, console=("ops", "pw"), console_mask_numbers=True)
    assert not access.filters
    assert any(isinstance(f, logs.RedactingFilter) for f in logging.getLogger("callhooks").filters)  # its own
    with TestClient(hooks):  # served: startup ran
        kinds = {type(f) for f in access.filters}
        assert kinds == {logs.RedactingFilter, masking.MaskingFilter}
    assert {type(f) for f in access.filters} == {logs.RedactingFilter}  # masking ended with the receiver
    access.filters.clear()
    mounted = CallHooks(secret="s" * 24)
    TestClient(mounted).get("/healthz")  # no lifespan, as when mounted in another app: its first request
    assert {type(f) for f in access.filters} == {logs.RedactingFilter}
