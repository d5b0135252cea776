"""The Redis store's pipelined connection (``stores/wire.py``) against redis-py, its plain reference: the same
replies for the same commands, each reply to its own command while others wait or give up, and a server that
stops, restarts or hangs. Real redis-servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from callhooks.stores import Admission, Admitted
from callhooks.stores.redis import RedisStore
from callhooks.stores.wire import Script, Wire
from callhooks.testing.redis_server import RedisServer
from tests.helpers.redis_server import new_redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(60)]

# Replies of every RESP2 kind a script can give, and the bytes that trip a careless parser.
COMMANDS: list[tuple[Any, ...]] = [
    ("EVAL", "return nil", 0),
    ("EVAL", "return false", 0),
    ("EVAL", "return 42", 0),
    ("EVAL", "return -7", 0),
    ("EVAL", "return ARGV[1]", 0, b"line\r\nbreak\x00\xff"),
    ("EVAL", "return ARGV[1]", 0, "x" * 1_000_000),
    ("EVAL", "return ''", 0),
    ("EVAL", "return {}", 0),
    ("EVAL", "return {1, 'two', {3, {'four'}}, false}", 0),
    ("EVAL", "return redis.status_reply('FINE')", 0),
    ("EVAL", "return {KEYS[1], ARGV[1], ARGV[2]}", 1, "k", 1.5, -3),
    ("EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])", 1, "wire:k", "v"),
]
FAILING: list[tuple[Any, ...]] = [
    ("EVAL", "return redis.error_reply('NOGROUP no such group')", 0),
    ("EVAL", "return redis.call('NOSUCHCOMMAND')", 0),
    ("EVAL", "syntax error here", 0),
]


@pytest.fixture
async def reference(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    redis_server.flush()
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def wire(redis_server: RedisServer) -> AsyncIterator[Wire]:
    connection = Wire(host="127.0.0.1", port=redis_server.port)
    yield connection
    connection.close()


async def test_every_kind_of_reply_is_the_one_redis_py_reads(wire: Wire, reference: aioredis.Redis) -> None:
    for command in COMMANDS:
        assert await wire.call(*command) == await reference.execute_command(*command), command
    for command in FAILING:
        with pytest.raises(ResponseError) as expected:
            await reference.execute_command(*command)
        answer = await wire.call(*command)
        assert isinstance(answer, ResponseError), command
        assert str(answer).removeprefix("ERR ") == str(expected.value), command  # redis-py drops the ERR
        source = command[1]
        with pytest.raises(ResponseError) as raised:
            await wire.run_script(Script.of(source), [], [])
        assert str(raised.value) == str(expected.value), command


async def test_a_script_runs_as_redis_py_runs_it_also_when_the_server_forgot_it(
    wire: Wire, reference: aioredis.Redis
) -> None:
    source = "redis.call('INCR', KEYS[1]) return {redis.call('GET', KEYS[1]), ARGV[1]}"
    script = Script.of(source)
    assert script.sha == reference.register_script(source).sha
    assert await wire.run_script(script, ["wire:n"], ["a"]) == [b"1", b"a"]  # unknown: EVALSHA, then EVAL
    assert await reference.register_script(source)(keys=["wire:n"], args=["b"]) == [b"2", b"b"]
    await reference.script_flush()
    assert await wire.run_script(script, ["wire:n"], ["c"]) == [b"3", b"c"]
    assert await reference.script_exists(script.sha) == [True]
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await wire.run_script(Script.of("return redis.call('LPUSH', KEYS[1], 1)"), ["wire:n"], [])


async def test_pipelined_commands_each_get_their_own_reply_while_some_callers_give_up(wire: Wire) -> None:
    async def echo(n: int) -> Any:
        return await wire.call("EVAL", "return ARGV[1]", 0, n)

    tasks = [asyncio.ensure_future(echo(n)) for n in range(300)]
    await asyncio.sleep(0)  # every command is written before the first reply can arrive
    for task in tasks[::3]:
        task.cancel()  # as a callback's deadline does
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    for n, answer in enumerate(answers):
        if n % 3 == 0:
            assert isinstance(answer, asyncio.CancelledError) or answer == str(n).encode()
        else:
            assert answer == str(n).encode()
    assert await echo(-1) == b"-1"


async def test_the_database_and_password_of_the_url_are_used(tmp_path: Path) -> None:
    server = new_redis_server(tmp_path)
    server.start()
    try:
        admin = aioredis.Redis.from_url(server.url)
        await admin.config_set("requirepass", "sesame")
        url = f"redis://:sesame@127.0.0.1:{server.port}/3"
        client = aioredis.Redis.from_url(url)
        pool = client.connection_pool
        wire = Wire.for_pool(pool.connection_class, pool.connection_kwargs, 2.0)
        assert wire is not None
        assert await wire.call("SET", "wire:db", "three") == b"OK"
        assert await client.get("wire:db") == b"three"  # redis-py, on database 3 of the same server
        wrong = Wire(host="127.0.0.1", port=server.port, password="wrong")
        with pytest.raises(RedisConnectionError, match=r"WRONGPASS|invalid"):
            await wrong.call("PING")
        wire.close()
        await client.aclose()
    finally:
        server.stop()


def test_urls_it_cannot_serve_are_left_to_redis_py() -> None:
    def wire_for(url: str) -> Wire | None:
        pool = aioredis.Redis.from_url(url, socket_timeout=2.0).connection_pool
        return Wire.for_pool(pool.connection_class, pool.connection_kwargs, 2.0)

    plain = wire_for("redis://127.0.0.1:6390/2")
    assert plain is not None and (plain.host, plain.port, plain.db) == ("127.0.0.1", 6390, 2)
    unix = wire_for("unix:///tmp/redis.sock?db=1")
    assert unix is not None and (unix.path, unix.db) == ("/tmp/redis.sock", 1)
    assert wire_for("rediss://127.0.0.1:6390/0") is None  # TLS
    assert wire_for("redis://127.0.0.1:6390/0?protocol=3") is None  # RESP3


async def test_a_stopped_server_fails_the_call_and_a_restarted_one_is_reconnected_to(tmp_path: Path) -> None:
    server = new_redis_server(tmp_path)
    server.start()
    wire = Wire(host="127.0.0.1", port=server.port, timeout=5.0)
    try:
        assert await wire.call("SET", "wire:k", "1") == b"OK"
        server.stop()
        with pytest.raises(RedisConnectionError, match=f"127.0.0.1:{server.port}"):
            await wire.call("GET", "wire:k")
        server.start()  # the same port, empty
        assert await wire.call("GET", "wire:k") is None
    finally:
        wire.close()
        server.stop()


async def test_a_server_that_stops_answering_fails_the_waiting_calls_within_the_timeout(tmp_path: Path) -> None:
    server = new_redis_server(tmp_path)
    server.start()
    assert server.process is not None
    wire = Wire(host="127.0.0.1", port=server.port, timeout=0.3)
    try:
        assert await wire.call("PING") == b"PONG"
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            waiting = [asyncio.ensure_future(wire.call("PING")) for _ in range(3)]
            for answer in await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10):
                assert isinstance(answer, RedisTimeoutError)
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert await wire.call("PING") == b"PONG"  # on a new connection
    finally:
        wire.close()
        server.stop()


async def test_the_store_answers_the_same_over_the_wire_as_over_redis_py(redis_server: RedisServer) -> None:
    """A callback's steps on two stores over one server, one through the wire, one through redis-py (the
    reference the store falls back to): the same answers, each reading what the other wrote."""
    redis_server.flush()
    fast = RedisStore(redis_server.url)
    plain = RedisStore(redis_server.url)
    plain._wire = None  # the reference path, as for a URL the wire does not serve
    await fast.open()
    await plain.open()
    try:
        answers: list[tuple[Admitted, Admitted]] = []
        for n, (first, second) in enumerate([(fast, plain), (plain, fast)]):
            admission = Admission(f"wire-event-{n}", "w", 5.0, f"call:wire-{n}", token=f"t{n}", call_id=f"c{n}")
            admitted = await first.admit(admission)
            assert admitted.verdict == "run"
            await first.settle(admission, admitted.ticket, ok=True, session={"step": n})
            answers.append((await first.admit(admission), await second.admit(admission)))  # duplicates
            later = Admission(f"wire-event-{n}b", "w", 5.0, f"call:wire-{n}", token=f"t{n}", call_id=f"c{n}")
            answers.append((await second.admit(later), Admitted("run", 0, 1, {"step": n})))  # its session
            elsewhere = Admission(f"wire-event-{n}c", "w", 5.0, "call:other", token=f"t{n}", call_id="c-other")
            answers.append((await first.admit(elsewhere), await second.admit(elsewhere)))  # forbidden
        for got, expected in answers:
            assert got == expected
        assert [a[0].verdict for a in answers] == ["duplicate", "run", "forbidden"] * 2
    finally:
        await fast.close()
        await plain.close()
