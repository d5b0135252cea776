"""Client and receiver paired: callback URLs that verify in the receiver, handles given to handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import httpx
import pytest

from callhooks import CallHooks
from callhooks.client import AsyncCallHandle, AsyncClient, CallHandle, Client
from callhooks.testing.server import serve
from tests.client.recorder import SECRET, TOKEN, USER, Platform, Reply, call_json, created

pytestmark = pytest.mark.timeout(30)


class FakeHooks:
    """Only what the client may rely on from a receiver."""

    callback_http_method = "GET"

    def __init__(self) -> None:
        self.client: Any = None
        self.contexts: list[Mapping[str, Any] | None] = []

    def callback_url(
        self, context: Mapping[str, Any] | None = None, *, max_age: float | None = 0, bind: bool = False
    ) -> str:
        self.contexts.append(context)
        return f"https://calls.example.com/hooks/token-{len(self.contexts)}"


def test_a_client_built_with_hooks_does_not_attach_itself(platform: Platform) -> None:
    """Pairing is explicit in both directions: ``hooks=`` points callbacks at the receiver, nothing more."""
    hooks = FakeHooks()
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        assert hooks.client is None and client.hooks is hooks


def test_attach_client_gives_handlers_its_handles_and_can_be_undone(platform: Platform) -> None:
    hooks = CallHooks(secret="change-me", public_url="https://calls.example.com/hooks")
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        assert hooks.attach_client(client) is client
        assert hooks.client is client
        assert hooks.detach_client() is client and hooks.client is None
    with pytest.raises(TypeError, match="Client or AsyncClient"):
        hooks.attach_client(object())  # type: ignore[type-var]


def test_create_fills_callback_url_and_method_from_the_hooks(platform: Platform) -> None:
    hooks = FakeHooks()
    platform.reply(created(f"{platform.base}/c-1"), created(f"{platform.base}/c-2"))
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        call = client.calls.create("+19195551212", "+19195551313", context={"order": 4411})
        client.calls.create("+19195551212", "+19195551313", callback_url="https://mine.example/cb")
    first, second = (seen.json for seen in platform.seen)
    assert first["callbackUrl"] == "https://calls.example.com/hooks/token-1"
    assert first["callbackHttpMethod"] == "GET"
    assert call.callback_url == first["callbackUrl"]
    assert hooks.contexts == [{"order": 4411}]
    assert second["callbackUrl"] == "https://mine.example/cb"  # the caller's URL wins
    assert second["callbackHttpMethod"] == "GET"


def test_context_needs_hooks_and_excludes_callback_url(platform: Platform) -> None:
    with Client(USER, TOKEN, SECRET, base_url=platform.url) as client:
        with pytest.raises(ValueError, match="hooks="):
            client.calls.create("+19195551212", "+19195551313", context={"a": 1})
        with pytest.raises(ValueError, match="callback_context"):
            client.calls.bind("c-1").transfer("+19195551414", callback_context={"a": 1})
    with (
        Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=FakeHooks()) as client,
        pytest.raises(ValueError, match="not both"),
    ):
        client.calls.create("+19195551212", "+19195551313", context={"a": 1}, callback_url="https://x.example")
    assert platform.seen == []


def test_transfer_points_the_new_leg_at_the_hooks(platform: Platform) -> None:
    hooks = FakeHooks()
    platform.reply(created(f"{platform.base}/c-leg"))
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        assert client.calls.bind("c-1").transfer("+19195551414", callback_context={"leg": "b"}) == "c-leg"
    assert platform.seen[0].json == {
        "state": "transferring",
        "transferTo": "+19195551414",
        "callbackUrl": "https://calls.example.com/hooks/token-1",
        "callbackHttpMethod": "GET",
    }
    assert hooks.contexts == [{"leg": "b"}]


def test_update_with_context_points_the_call_at_a_signed_url(platform: Platform) -> None:
    hooks = FakeHooks()
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        client.calls.update("c-in", state="active", context={"menu": "main"})
        client.calls.bind("c-in").update(tag="t", context={"menu": "sales"})
        client.calls.update("c-in", tag="plain")  # no context: the callback URL is left alone
        with pytest.raises(ValueError, match="not both"):
            client.calls.update("c-in", context={"a": 1}, callback_url="https://x.example")
    assert [seen.json for seen in platform.seen] == [
        {"state": "active", "callbackUrl": "https://calls.example.com/hooks/token-1"},
        {"tag": "t", "callbackUrl": "https://calls.example.com/hooks/token-2"},
        {"tag": "plain"},
    ]
    assert hooks.contexts == [{"menu": "main"}, {"menu": "sales"}]
    with Client(USER, TOKEN, SECRET, base_url=platform.url) as client, pytest.raises(ValueError, match="hooks="):
        client.calls.update("c-in", context={"a": 1})


def test_callback_url_sent_to_the_platform_verifies_in_the_real_receiver(platform: Platform) -> None:
    hooks = CallHooks(secret="change-me", public_url="https://calls.example.com/hooks", callback_http_method="GET")
    platform.reply(created(f"{platform.base}/c-1"))
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        client.calls.create("+19195551212", "+19195551313", tag="main-menu", context={"order": 4411})
    body = platform.seen[0].json
    assert body["callbackHttpMethod"] == "GET"
    assert body["callbackUrl"].startswith("https://calls.example.com/hooks/")
    assert hooks.verify_callback_url(body["callbackUrl"]) == {"order": 4411}


def test_handlers_receive_a_handle_that_controls_the_call_end_to_end(platform: Platform) -> None:
    """Receiver and stand-in platform both on 127.0.0.1: create, deliver ``answer``, handler speaks."""
    handled: list[Any] = []
    hooks = CallHooks(secret="change-me", public_url="http://127.0.0.1/placeholder")

    @hooks.on("answer")
    async def answered(event: Any, call: AsyncCallHandle) -> None:
        handled.append(call)
        await call.speak("Press 1 for sales", tag="main-menu")
        await call.gather(max_digits=1, tag="main-menu")

    platform.reply(created(f"{platform.base}/c-1"), Reply(), created(f"{platform.base}/c-1/gather/g-1"))
    # The handler runs on the receiver's event loop (another thread): keep no pooled connection that
    # would outlive that loop.
    no_pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    client = hooks.attach_client(
        AsyncClient(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks, transport=no_pool)
    )
    assert hooks.client is client
    with serve(hooks) as receiver:
        hooks.public_url = receiver.url
        # The create is driven synchronously here; only the handler runs on the receiver's loop.
        with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as script:
            script.calls.create("+19195551212", "+19195551313", context={"order": 4411})
        callback_url = platform.seen[0].json["callbackUrl"]
        event = call_json("c-1") | {"eventType": "answer", "callId": "c-1", "callState": "active"}
        delivered = httpx.post(callback_url, json=event, timeout=10)
    anyio.run(client.close)
    assert delivered.status_code == 200, delivered.text
    [call] = handled
    assert isinstance(call, AsyncCallHandle) and call.id == "c-1"
    speak, gather = platform.seen[1:]
    assert speak.path == f"{platform.base}/c-1/audio"
    assert speak.json == {"sentence": "Press 1 for sales", "tag": "main-menu"}
    assert (gather.path, gather.json) == (f"{platform.base}/c-1/gather", {"maxDigits": 1, "tag": "main-menu"})


def test_sync_client_gives_sync_handles(platform: Platform) -> None:
    hooks = CallHooks(secret="change-me", public_url="https://calls.example.com/hooks")
    with Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks) as client:
        hooks.attach_client(client)
        assert hooks.client is not None
        assert isinstance(hooks.client.calls.bind("c-9"), CallHandle)


def test_a_sync_handler_taking_an_async_handle_is_refused_when_registered(platform: Platform) -> None:
    hooks = CallHooks(secret="change-me")
    hooks.attach_client(AsyncClient(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks))

    def answered(event: object, call: object) -> None:
        raise AssertionError("must not run with a handle whose methods it cannot await")

    with pytest.raises(TypeError, match=r"answered is synchronous but the attached client is an AsyncClient"):
        hooks.on("answer")(answered)
    assert len(hooks) == 0
    assert platform.seen == []


def test_a_mismatched_client_is_refused_when_attached_after_the_handlers(platform: Platform) -> None:
    hooks = CallHooks(secret="change-me")

    @hooks.on("answer")
    async def answered(event: object, call: object) -> None: ...

    with pytest.raises(TypeError, match=r"answered is async but the attached client is a blocking Client"):
        hooks.attach_client(Client(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks))
    assert hooks.client is None
    hooks.attach_client(AsyncClient(USER, TOKEN, SECRET, base_url=platform.url, hooks=hooks))  # the right kind


def test_a_handler_wanting_a_call_with_no_client_fails_server_start_up(platform: Platform) -> None:
    from callhooks.testing import answer_event, send_event

    hooks = CallHooks(secret="change-me")

    @hooks.on("answer")
    async def answered(event: object, call: object) -> None: ...

    with pytest.raises(TypeError, match=r"answered takes \(event, call\) but no client is attached"):
        hooks.check_handlers()
    with pytest.raises(RuntimeError), serve(hooks):  # lifespan start-up fails, so the server never serves
        pass
    # Mounted apps get no lifespan: the same message then comes with a 500 for the event.
    assert send_event(hooks, answer_event(call_id="c-1")).status_code == 500
