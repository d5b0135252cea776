"""A platform that is down is a typed error naming its host, not a bare ``httpx.ConnectError``."""

from __future__ import annotations

import httpx
import pytest

from callhooks.client import AsyncClient, Client, PlatformUnreachableError, RetryPolicy
from callhooks.testing.server import free_port
from tests.client.recorder import SECRET, TOKEN, USER

ONCE = RetryPolicy(attempts=1)


def test_a_closed_port_names_the_host() -> None:
    port = free_port()
    with (
        Client(USER, TOKEN, SECRET, base_url=f"http://127.0.0.1:{port}", retry=ONCE) as client,
        pytest.raises(PlatformUnreachableError) as caught,
    ):
        client.calls.get("c-1")
    assert caught.value.host == f"127.0.0.1:{port}"
    assert f"cannot connect to 127.0.0.1:{port}" in str(caught.value)
    # Still what was raised before it was typed, with the original as its cause.
    assert isinstance(caught.value, httpx.ConnectError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.anyio
async def test_the_async_client_names_the_host_too() -> None:
    port = free_port()
    async with AsyncClient(USER, TOKEN, SECRET, base_url=f"http://127.0.0.1:{port}", retry=ONCE) as client:
        with pytest.raises(PlatformUnreachableError, match=f"127.0.0.1:{port}"):
            await client.calls.get("c-1")
