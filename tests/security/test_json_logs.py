"""``CALLHOOKS_LOG_FORMAT=json``: one JSON object per line (time, level, logger, message, and the per-callback
fields) under plain ``uvicorn app:hooks`` and ``callhooks run``, with no token, basic-auth password or secret in
any line, exception included."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from callhooks import CallHooks
from callhooks.logs import CALLBACK_FIELDS, JsonFormatter, RedactingFilter, TextFormatter, callhooks_formatter
from callhooks.testing import free_port
from tests.helpers.processes import ROOT, server_process
from tests.security.test_security_logs import assert_no_secret_material, tokens

pytestmark = pytest.mark.timeout(60)

BIN = Path(sys.executable).parent
SECRET = "json-log-secret-value"
PASSWORD = "cb-pass-never-logged"
# uvicorn's own first lines, written before the app (and so the JSON format) starts under plain uvicorn.
BEFORE_START = ("Started server process", "Waiting for application startup")


def run_and_log(kind: str, log_format: str = "json") -> tuple[str, dict[str, str]]:
    """Serve json_log_app with ``kind``, send a mix of callbacks, return everything it wrote and the tokens."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CALLHOOKS_SECRET": SECRET,
        "CALLHOOKS_BASIC_AUTH": f"cb-user:{PASSWORD}",
        "CALLHOOKS_PUBLIC_URL": base,
        "CALLHOOKS_LOG_FORMAT": log_format,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    app = "tests.security.json_log_app:hooks"
    if kind == "uvicorn":
        command = [str(BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port)]
    else:
        command = [str(BIN / "callhooks"), "run", app, "--host", "127.0.0.1", "--port", str(port)]
    hooks = CallHooks(secret=SECRET, public_url=base, basic_auth=("cb-user", PASSWORD))
    sent = tokens(hooks)
    url = hooks.callback_url({"call": "c-1"})
    with server_process(command, env, port, startup_timeout=60) as process, httpx.Client(timeout=10) as client:
        tag = 'menu\n{"level": "FORGED"}'
        assert client.post(url, json={"eventType": "answer", "callId": "c-1", "tag": tag}).status_code == 200
        assert client.post(url, json={"eventType": "hangup", "callId": "c-1"}).status_code == 500
        wrong = url.replace(PASSWORD, "wrong-" + PASSWORD)
        assert client.post(wrong, json={"eventType": "answer", "callId": "c-1"}).status_code == 401
        for token in sent.values():
            client.post(f"{base}/{token}", json={"eventType": "answer", "callId": "c-2"})
    assert process.stdout is not None
    return process.stdout.read(), sent


@pytest.mark.parametrize("kind", ["uvicorn", "callhooks-run"])
def test_every_line_is_json_with_the_callback_fields_and_no_secret(kind: str) -> None:
    output, sent = run_and_log(kind)
    entries: list[dict[str, Any]] = []
    for line in output.splitlines():
        if kind == "uvicorn" and line.startswith("INFO:") and any(text in line for text in BEFORE_START):
            continue
        entry = json.loads(line)  # each line one JSON object: a newline in a tag did not break one
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        entries.append(entry)
    callbacks = [entry for entry in entries if entry["logger"] == "callhooks.callbacks"]
    assert [(e["event"], e["status"]) for e in callbacks] == [("answer", 200), ("hangup", 500)]
    first = callbacks[0]
    assert set(CALLBACK_FIELDS) <= first.keys()
    assert (first["call_id"], first["state"], first["handler"]) == (
        "c-1",
        "active",
        "tests.security.json_log_app.answered",
    )
    assert first["tag"] == 'menu\\x0a{"level": "FORGED"}' and isinstance(first["duration_ms"], float)
    failure = next(entry for entry in entries if entry["level"] == "ERROR")
    assert "RuntimeError: could not reach http://cb-user:***@127.0.0.1" in failure["exception"]
    assert "/<token>" in failure["exception"]
    rejections = [entry["message"] for entry in entries if entry["level"] == "WARNING"]
    assert rejections and all("callback rejected: 401 basic-auth-failed" in m for m in rejections), rejections
    access = [entry["message"] for entry in entries if entry["logger"] == "uvicorn.access"]
    assert len(access) >= 3 + len(sent) and all("<token>" in line for line in access if "POST" in line)
    for secret in (SECRET, PASSWORD, "wrong-" + PASSWORD):
        assert secret not in output
    assert_no_secret_material(output, sent)


def test_text_lines_keep_no_secret_either() -> None:
    output, sent = run_and_log("uvicorn", "text")
    assert "callhooks.callbacks call=c-1 event=answer" in output
    assert "RuntimeError: could not reach http://cb-user:***@127.0.0.1" in output  # the traceback, redacted
    for secret in (SECRET, PASSWORD):
        assert secret not in output
    assert_no_secret_material(output, sent)


def test_json_formatter_redacts_what_it_writes() -> None:
    hooks = CallHooks(secret=SECRET, public_url="https://calls.example.com/hooks", basic_auth=("bob", PASSWORD))
    url = hooks.callback_url({"order": 1})
    path = "/hooks/" + url.rsplit("/", 1)[1]
    try:
        raise ConnectionError(f"posting to {url} failed")
    except ConnectionError as exc:
        error = exc
    record = logging.LogRecord("callhooks.background", logging.ERROR, __file__, 1, "%s %s", ("POST", path), None)
    record.exc_info = (type(error), error, error.__traceback__)
    record.__dict__.update({"call_id": "c-1\u2028x", "tag": url, "status": 200, "duration_ms": 1.5})
    # A child logger's record is cleaned by the handler's filter, once however many filters it meets.
    RedactingFilter().filter(record)
    RedactingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\u2028" not in line
    entry = json.loads(line)
    assert entry["message"] == "POST /hooks/<token>"
    assert entry["tag"] == "https://bob:***@calls.example.com/hooks/<token>"
    assert entry["call_id"] == "c-1\\u2028x" and (entry["status"], entry["duration_ms"]) == (200, 1.5)
    assert entry["time"].endswith("Z") and entry["level"] == "ERROR" and entry["logger"] == "callhooks.background"
    assert "ConnectionError: posting to https://bob:***@calls.example.com/hooks/<token> failed" in entry["exception"]
    assert PASSWORD not in line and SECRET not in line
    assert_no_secret_material(line, tokens(hooks))
    record.exc_text = None  # formatted afresh
    text = TextFormatter().format(record)
    assert "ConnectionError: posting to https://bob:***@calls.example.com/hooks/<token> failed" in text
    assert PASSWORD not in text


def test_the_format_is_checked() -> None:
    assert isinstance(callhooks_formatter({}), logging.Formatter)
    assert not isinstance(callhooks_formatter({"CALLHOOKS_LOG_FORMAT": "TEXT"}), JsonFormatter)
    assert isinstance(callhooks_formatter({"CALLHOOKS_LOG_FORMAT": " json "}), JsonFormatter)
    with pytest.raises(ValueError, match="CALLHOOKS_LOG_FORMAT must be text or json, not 'xml'"):
        callhooks_formatter({"CALLHOOKS_LOG_FORMAT": "xml"})
