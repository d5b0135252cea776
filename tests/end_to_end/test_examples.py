"""The FastAPI example, served by uvicorn over loopback, used the way its docstring says.

(The IVR example runs in test_end_to_end.py, test_deployment.py and `callhooks demo`.)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from callhooks.testing import answer_event, free_port, gather_event, hangup_event, serve, wire_fields


@pytest.fixture
def fastapi_example(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("CALLHOOKS_SECRET", "example-secret")
    monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", f"{base}/hooks")
    module = importlib.reload(importlib.import_module("callhooks.examples.fastapi_app"))
    with serve(module.app, port=port):
        yield module, base


def test_fastapi_example_receives_calls_next_to_its_own_routes(fastapi_example: tuple[ModuleType, str]) -> None:
    _, base = fastapi_example
    with httpx.Client(base_url=base, timeout=10) as http:
        callback_url = http.post("/orders/4411/callback-url").json()["callbackUrl"]
        assert callback_url.startswith(f"{base}/hooks/")
        assert http.post(callback_url, json=wire_fields(answer_event(call_id="c-1"))).status_code == 200
        hangup = wire_fields(hangup_event(call_id="c-1", cause="USER_BUSY"))
        assert http.post(callback_url, json=hangup).status_code == 200
        assert http.get("/calls/recent").json() == [
            {"call": "c-1", "event": "answer", "order": 4411},
            {"call": "c-1", "event": "hangup", "cause": "USER_BUSY"},
        ]
        assert http.get("/hooks/healthz").json() == {"status": "ok"}
        forged = http.post(f"{base}/hooks/", json=wire_fields(answer_event(call_id="c-2")))
        assert forged.status_code == 403
        assert len(http.get("/calls/recent").json()) == 2


def test_ivr_example_is_a_factory_configured_by_the_mapping_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CALLHOOKS_SECRET", "CALLHOOKS_PUBLIC_URL", "CATAPULT_USER_ID", "CATAPULT_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    module = importlib.import_module("callhooks.examples.ivr")
    assert not hasattr(module, "hooks")  # nothing is built at import
    settings = {
        "CALLHOOKS_SECRET": "factory-secret",
        "CALLHOOKS_PUBLIC_URL": "https://ivr.example.com/hooks",
        "CATAPULT_USER_ID": "u-factory",
        "CATAPULT_API_TOKEN": "t-factory",
        "CATAPULT_API_SECRET": "s-factory",
        "CATAPULT_BASE_URL": "http://127.0.0.1:9",  # Catapult v1's own host is retired: a compatible API's
    }
    first, second = module.create_app(settings), module.create_app(settings)
    assert first is not second and first.public_url == "https://ivr.example.com/hooks"
    assert first.client is not None and first.client.credentials.user_id == "u-factory"
    assert first.match(gather_event(tag="main-menu")).func.__name__ == "menu_choice"
