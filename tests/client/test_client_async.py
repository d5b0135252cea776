"""``AsyncClient`` against the recording server: the same operations, awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import version

import httpx
import pytest

from callhooks.client import AsyncCallHandle, AsyncClient, Call, NotFoundError, PlatformError
from callhooks.testing.server import free_port
from tests.client.recorder import (
    BASIC,
    FAST_RETRY,
    SECRET,
    TOKEN,
    USER,
    Platform,
    Reply,
    call_json,
    created,
    three_pages,
    unavailable,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(USER, TOKEN, SECRET, base_url=platform.url, retry=FAST_RETRY) as client:
        yield client


async def test_create_then_get(platform: Platform, client: AsyncClient) -> None:
    platform.reply(created(f"{platform.base}/c-new"), Reply(json=call_json("c-new", state="started")))
    call = await client.calls.create(from_="+19195551212", to="+19195551313", tag="main-menu")
    fetched = await client.calls.get(call.id)
    post, get = platform.seen
    assert (post.method, post.path, post.json) == (
        "POST",
        platform.base,
        {"from": "+19195551212", "to": "+19195551313", "tag": "main-menu"},
    )
    assert (get.method, get.path) == ("GET", f"{platform.base}/c-new")
    assert post.headers["authorization"] == get.headers["authorization"] == BASIC
    assert post.headers["user-agent"] == f"callhooks/{version('callhooks')}"
    assert isinstance(fetched, Call) and (fetched.id, fetched.state) == ("c-new", "started")


async def test_list_follows_next_links_across_three_pages(platform: Platform, client: AsyncClient) -> None:
    three_pages(platform)
    ids = [call.id async for call in client.calls.list(from_="+19195551212", size=2)]
    assert ids == ["c-0", "c-1", "c-2", "c-3", "c-4"]
    assert [seen.query for seen in platform.seen][1:] == [
        [("page", "1"), ("size", "2"), ("from", "+19195551212")],
        [("page", "2"), ("size", "2"), ("from", "+19195551212")],
    ]


async def test_list_page_and_next_page(platform: Platform, client: AsyncClient) -> None:
    three_pages(platform)
    first = await client.calls.list_page(size=2)
    second = await client.calls.next_page(first)
    assert second is not None and [call.id for call in second.items] == ["c-2", "c-3"]
    last = await client.calls.next_page(second)
    assert last is not None and last.next_url is None
    assert await client.calls.next_page(last) is None
    assert len(platform.seen) == 3


async def test_list_validates_when_called_not_when_iterated(platform: Platform, client: AsyncClient) -> None:
    with pytest.raises(ValueError, match="size"):
        client.calls.list(size=5000)
    assert platform.seen == []


async def test_bound_handle_controls_its_call(platform: Platform, client: AsyncClient) -> None:
    platform.reply(Reply(), created(f"{platform.base}/c-1/gather/g-1"))
    call = client.calls.bind("c-1")
    assert isinstance(call, AsyncCallHandle) and call.id == "c-1"
    await call.speak("Press 1 for sales", tag="main-menu")
    assert await call.gather(max_digits=1, tag="main-menu") == "g-1"
    speak, gather = platform.seen
    assert (speak.path, speak.json) == (
        f"{platform.base}/c-1/audio",
        {"sentence": "Press 1 for sales", "tag": "main-menu"},
    )
    assert (gather.path, gather.json) == (f"{platform.base}/c-1/gather", {"maxDigits": 1, "tag": "main-menu"})


async def test_one_call_event_is_read_by_id(platform: Platform, client: AsyncClient) -> None:
    entry = {"id": "ce-7", "time": "2019-03-14T15:09:40.871Z", "name": "hangup", "data": "x"}
    platform.reply(Reply(json=entry), Reply(json=entry))
    event = await client.calls.get_event("c-1", "ce-7")
    assert await client.calls.bind("c-1").get_event("ce-7") == event
    assert (event.id, event.name, event.data) == ("ce-7", "hangup", "x")
    assert [seen.path for seen in platform.seen] == [f"{platform.base}/c-1/events/ce-7"] * 2


async def test_stop_speaking_sends_an_empty_sentence(platform: Platform, client: AsyncClient) -> None:
    await client.calls.bind("c-1").stop_speaking()
    await client.calls.stop_audio("c-1")
    assert [(seen.path, seen.json) for seen in platform.seen] == [
        (f"{platform.base}/c-1/audio", {"sentence": ""}),
        (f"{platform.base}/c-1/audio", {"fileUrl": ""}),
    ]


async def test_sub_resource_iterators(platform: Platform, client: AsyncClient) -> None:
    platform.reply(Reply(json=[{"id": "rec-1", "state": "complete"}]))
    assert [r.id async for r in client.calls.bind("c-1").recordings()] == ["rec-1"]
    assert platform.seen[0].path == f"{platform.base}/c-1/recordings"


async def test_get_is_retried_and_create_is_not(platform: Platform, client: AsyncClient) -> None:
    platform.reply(unavailable(), Reply(json=call_json("c-1")))
    assert (await client.calls.get("c-1")).id == "c-1"
    assert len(platform.seen) == 2
    platform.reset().reply(unavailable(), created(f"{platform.base}/c-2"))
    with pytest.raises(PlatformError):
        await client.calls.create("+19195551212", "+19195551313")
    assert len(platform.seen) == 1


async def test_errors_are_typed(platform: Platform, client: AsyncClient) -> None:
    platform.reply(Reply(404, json={"category": "not-found", "code": "call-not-found", "message": "no call"}))
    with pytest.raises(NotFoundError, match="call-not-found"):
        await client.calls.hangup("c-404")


async def test_close_closes_the_pool(platform: Platform) -> None:
    client = AsyncClient(USER, TOKEN, SECRET, base_url=platform.url)
    await client.close()
    assert client.http.is_closed
    with pytest.raises(RuntimeError):
        await client.calls.get("c-1")


class CountingTransport(httpx.AsyncHTTPTransport):
    attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return await super().handle_async_request(request)


async def test_transfer_is_retried_only_when_never_connected() -> None:
    transport = CountingTransport()
    base = f"http://127.0.0.1:{free_port()}"
    async with AsyncClient(USER, TOKEN, SECRET, base_url=base, retry=FAST_RETRY, transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.calls.transfer("c-1", "+19195551414")
    assert transport.attempts == FAST_RETRY.attempts
