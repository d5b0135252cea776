"""The sans-I/O core: ``CallHooks.read_callback`` verifies and parses a callback from its parts, no server."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from callhooks import CallbackRejected, CallHooks, events
from callhooks.testing import callback_path, encode_query, gather_event, wire_fields

SECRET = "inbound-secret"
JSON = "application/json"


@pytest.fixture
def hooks() -> CallHooks:
    return CallHooks(secret=SECRET, basic_auth=("platform", "pw"), body_limit=1024)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token_for(hooks: CallHooks, context: dict[str, object] | None = None) -> str:
    return callback_path(hooks, context).lstrip("/")


def test_json_post_becomes_the_typed_event_with_its_context(hooks: CallHooks) -> None:
    body = json.dumps(wire_fields(gather_event(call_id="c-1", digits="42", tag="menu"))).encode()
    event = hooks.read_callback(
        "POST",
        token_for(hooks, {"order": 9}),
        content_type="application/json; charset=utf-8",
        body=body,
        authorization=basic("platform", "pw"),
    )
    assert isinstance(event, events.GatherEvent)
    assert (event.call_id, event.digits, event.tag, event.context) == ("c-1", "42", "menu", {"order": 9})


def test_get_query_and_form_post_give_the_same_event(hooks: CallHooks) -> None:
    fields = wire_fields(gather_event(call_id="c-2", digits="7"))
    query = encode_query(fields).encode()
    from_get = hooks.read_callback("get", token_for(hooks), query=query, authorization=basic("platform", "pw"))
    from_form = hooks.read_callback(
        "POST",
        token_for(hooks),
        content_type="application/x-www-form-urlencoded",
        body=query,
        authorization=basic("platform", "pw"),
    )
    assert from_get == from_form
    assert from_get.digits == "7"


AUTH = basic("platform", "pw")


@pytest.mark.parametrize(
    ("method", "signed", "options", "status", "error"),
    [
        ("POST", False, {"body": b"{}", "content_type": "application/json", "authorization": AUTH}, 403, "forbidden"),
        ("PUT", True, {"authorization": AUTH}, 405, "method-not-allowed"),
        ("POST", True, {"content_type": "text/plain", "authorization": AUTH}, 415, "unsupported-media-type"),
        ("POST", True, {"content_type": JSON, "body": b"x" * 2000, "authorization": AUTH}, 413, "body-too-large"),
        ("POST", True, {"content_type": JSON, "body": b"[1]", "authorization": AUTH}, 400, "invalid-event"),
        (
            "POST",
            True,
            {"content_type": JSON, "body": b'{"eventType": "dtmf", "dtmfDuration": "long"}', "authorization": AUTH},
            422,
            "invalid-field",
        ),
    ],
    ids=["no-token", "method", "media-type", "too-large", "not-an-event", "bad-field"],
)
def test_rejections_carry_the_status_and_body_the_app_would_send(
    hooks: CallHooks, method: str, signed: bool, options: dict[str, Any], status: int, error: str
) -> None:
    with pytest.raises(CallbackRejected) as caught:
        hooks.read_callback(method, token_for(hooks) if signed else "", **options)
    assert caught.value.status == status
    assert caught.value.body["error"] == error
    assert SECRET not in json.dumps(caught.value.body)


def test_basic_auth_is_checked_before_the_token(hooks: CallHooks) -> None:
    with pytest.raises(CallbackRejected) as caught:
        hooks.read_callback("GET", token_for(hooks), query=b"eventType=answer", authorization=basic("platform", "no"))
    assert caught.value.body["reason"] == "basic-auth-failed"
    assert caught.value.status == 401
    assert caught.value.headers["www-authenticate"].startswith("Basic ")
