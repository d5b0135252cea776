"""``redis://host:port/db``: the distributed store for several hosts, through redis-py's asyncio client.

Every step is one round trip: a Lua script (atomic on the server, timed by the server's clock, so hosts with
skewed clocks agree) or one command. A usual callback takes two (``admit``, ``settle``: the steps' scripts run
together on the same keys) instead of seven. The durable queue is a stream with a consumer group: each delivered
entry's lease end is kept in a sorted set, and entries whose holder's lease ran out (it died) are taken over with
``XCLAIM``; retries wait in another sorted set until due. The journal is another stream (see ``_APPEND_JOURNAL``).
Keys start with ``callhooks:`` and carry ``PEXPIRE`` or are trimmed, so nothing outlives its age (but the
journal's counter, one integer kept so that its numbers never repeat); their names are in ``keys.py``. Any error
the server answers, but the two the queue's callers handle, is a ``StoreUnavailable`` naming it.

Earlier versions kept a call's live tickets at ``fifo:<key>:live`` (the queue key of call ``<key>:live``); they
are at ``live:<key>`` now. Records, sessions and token bindings keep their keys, so an upgrade keeps exactly-once
handling and sessions; while workers of both versions serve one Redis, each version orders a call's events among
its own workers only (old live sets expire with their last lease, seconds after the old workers stop).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from . import records
from .base import (
    Admission,
    Admitted,
    Claim,
    FailedEvent,
    Limits,
    OnceRecord,
    QueueItem,
    Store,
    StoreHealth,
    StoreStats,
    Turn,
)
from .errors import StoreUnavailable
from .journal import JournalEntry, check_read, decode_entry, encode_entries
from .keys import FIFO, LIVE, ONCE, SESSION, token_key
from .reply import StoredReply, decode_reply, encode_reply
from .sessions import decode_session, encode_session
from .wire import Script, Wire

__all__ = ["DATA_CHECK_INTERVAL", "RedisStore"]

logger = logging.getLogger("callhooks.stores")

#: Seconds between two checks of the marker key while the store is used (and at each ``health()``).
DATA_CHECK_INTERVAL = 1.0

T = TypeVar("T")

_PREFIX = "callhooks:"
_GROUP = "callhooks"
_QUEUE = _PREFIX + "queue"
_DELAYED = _PREFIX + "queue:delayed"
_LEASES = _PREFIX + "queue:leases"
_DEATHS = _PREFIX + "queue:deaths"
_FAILED_SEQ = _PREFIX + "failed:seq"
_FAILED_INDEX = _PREFIX + "failed:index"
# A value the first worker to find none writes, and every worker remembers: a server that restarted without its
# data (no persistence), was flushed or evicted it has none, or another one, the next time a worker looks.
_MARKER = _PREFIX + "marker"
_JOURNAL_KEYS = [_PREFIX + "journal", _PREFIX + "journal:ages", _PREFIX + "journal:seq"]
# The replies callers handle themselves (``_ensure_group``, ``claim_items``, ``_settle``); every other error is a
# ``StoreUnavailable``.
_HANDLED_REPLY = re.compile(r"\b(NOGROUP|BUSYGROUP)\b")

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

# The steps as Lua functions of their keys, so that one script runs one step and ``_ADMIT``/``_SETTLE_CALLBACK``
# run several on the same keys, with the same encodings.
# An event's record: a hash {state, owner, lease_until (ms), attempts, error ('' for none), reply}. ``reply``
# (record format 2, ``reply.py``) is the first run's reply, on a done record; format 1 records have none. A record
# gone when its outcome is written (the server lost its data meanwhile) is written as claimed once (records.py).
_RECORD_FNS = f"""
local GRACE = {records.TAKEOVER_GRACE_SHARE!r}
local function claim(key, owner, lease, keep, now)
  local r = redis.call('HMGET', key, 'state', 'lease_until', 'attempts', 'suspect_at')
  if r[1] == 'done' then return 'duplicate', 0 end
  if r[1] == 'running' and tonumber(r[2]) > now then return 'running', 0 end
  if r[1] == 'running' and not r[4] then
    redis.call('HSET', key, 'suspect_at', now)
    redis.call('PEXPIRE', key, math.max(lease, keep))
    return 'running', 0
  end
  if r[1] == 'running' and now - tonumber(r[4]) < lease * GRACE then return 'running', 0 end
  local attempts = (tonumber(r[3]) or 0) + 1
  redis.call('HDEL', key, 'suspect_at')
  redis.call('HSET', key, 'state', 'running', 'owner', owner, 'lease_until', now + lease, 'attempts', attempts,
      'error', '')
  redis.call('PEXPIRE', key, math.max(lease, keep))
  return 'acquired', attempts
end
local function finish(key, owner, state, err, keep, reply)
  local r = redis.call('HMGET', key, 'state', 'owner')
  if r[1] and (r[1] ~= 'running' or r[2] ~= owner) then return 0 end
  if not r[1] then redis.call('HSET', key, 'owner', owner, 'lease_until', 0, 'attempts', 1) end
  redis.call('HSET', key, 'state', state, 'error', err)
  if reply and reply ~= '' and state == 'done' then redis.call('HSET', key, 'reply', reply) end
  redis.call('PEXPIRE', key, keep)
  return 1
end
"""
_CLAIM = (
    _NOW
    + _RECORD_FNS
    + """
local status, attempts = claim(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), now)
return {status, attempts}
"""
)
_RENEW = (
    _NOW
    + """
local r = redis.call('HMGET', KEYS[1], 'state', 'owner')
if r[1] ~= 'running' or r[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', now + tonumber(ARGV[2]))
redis.call('HDEL', KEYS[1], 'suspect_at')
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[2]), tonumber(ARGV[3])))
return 1
"""
)
_FINISH = _RECORD_FNS + "return finish(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])\n"
# A call's queue: ``fifo:<key>`` a hash {next, head}, ``live:<key>`` a sorted set ticket -> lease end (ms). Both
# expire with the last live lease and go when nobody waits, as in records.py.
_QUEUE_FNS = """
local function expire_queue(fifo, live)
  local top = redis.call('ZRANGE', live, -1, -1, 'WITHSCORES')
  if #top == 0 then redis.call('DEL', fifo, live) return end
  redis.call('PEXPIREAT', fifo, top[2]) redis.call('PEXPIREAT', live, top[2])
end
local function enter(fifo, live, lease, now)
  local ticket = redis.call('HINCRBY', fifo, 'next', 1) - 1
  redis.call('ZADD', live, now + lease, ticket)
  expire_queue(fifo, live)
  return ticket
end
local function leave(fifo, live, ticket)
  if redis.call('ZREM', live, ticket) == 0 then return 0 end
  local head = tonumber(redis.call('HGET', fifo, 'head') or 0)
  if head == tonumber(ticket) then redis.call('HSET', fifo, 'head', head + 1) end
  expire_queue(fifo, live)
  return 1
end
"""
_ENTER = _NOW + _QUEUE_FNS + "return enter(KEYS[1], KEYS[2], tonumber(ARGV[1]), now)\n"
_TURN = (
    _NOW
    + _QUEUE_FNS
    + """
local ticket = tonumber(ARGV[1])
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 'lost' end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
local head = tonumber(redis.call('HGET', KEYS[1], 'head') or 0)
while head < ticket do
  local lease_end = tonumber(redis.call('ZSCORE', KEYS[2], head))
  if lease_end and lease_end > now then break end
  redis.call('ZREM', KEYS[2], head)
  head = head + 1
end
redis.call('HSET', KEYS[1], 'head', head)
expire_queue(KEYS[1], KEYS[2])
if head == ticket then return 'yes' end
return 'wait'
"""
)
_LEAVE = _QUEUE_FNS + "return leave(KEYS[1], KEYS[2], ARGV[1])\n"
# A token's binding: a string holding the call id it was first seen with.
_BIND_TOKEN_FN = """
local function bind_token(key, call_id, ttl)
  local v = redis.call('GET', key)
  if not v then redis.call('SET', key, call_id, 'PX', ttl) return 1 end
  if v == call_id then return 1 end
  return 0
end
"""
_BIND_TOKEN = _BIND_TOKEN_FN + "return bind_token(KEYS[1], ARGV[1], ARGV[2])\n"
# A whole callback in two round trips (``Store.admit``/``settle``), the transitions of records.admit/settle.
# KEYS: the event's record, then with a call (ARGV[4] == '1') its queue (fifo, live) and session, then when
# binding a token (ARGV[5] == '1') the token's key. ARGV: owner, lease ms, keep ms, has a call, binds a token,
# call id, token ttl ms. Answers {verdict, ticket, attempt, session text ('' for none); a duplicate's reply}.
_ADMIT = (
    _NOW
    + _RECORD_FNS
    + _QUEUE_FNS
    + _BIND_TOKEN_FN
    + """
local has_call = ARGV[4] == '1'
if ARGV[5] == '1' and bind_token(KEYS[#KEYS], ARGV[6], ARGV[7]) == 0 then return {'forbidden', 0, 0, ''} end
local seen = redis.call('HMGET', KEYS[1], 'state', 'reply')
if seen[1] == 'done' then return {'duplicate', 0, 0, seen[2] or ''} end
-- tickets ahead (or stale ones to skip): wait for the turn step by step
if has_call and redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return {'slow', 0, 0, ''} end
local status, attempts = claim(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), now)
if status ~= 'acquired' then return {'slow', 0, 0, ''} end  -- another worker is running it
if not has_call then return {'run', 0, attempts, ''} end
local ticket = enter(KEYS[2], KEYS[3], tonumber(ARGV[2]), now)
return {'run', ticket, attempts, redis.call('GET', KEYS[4]) or ''}
"""
)
# KEYS as for _ADMIT, without the token. ARGV: owner, 'done' or 'failed', error, keep ms, ticket, the session's
# new text ('': unchanged), its time to live in ms ('': unchanged; '0': the call completed with no session_end,
# so the session goes now: a 1 ms PEXPIRE let the call's very next event still read it), the reply's text ('':
# none). The session is written only with the outcome and while the ticket was held, as in records.settle.
_SETTLE_CALLBACK = (
    _RECORD_FNS
    + _QUEUE_FNS
    + """
local finished = finish(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[8])
if #KEYS == 1 then return 1 end
if leave(KEYS[2], KEYS[3], ARGV[5]) == 0 or finished == 0 then return 1 end
if ARGV[7] == '0' then redis.call('DEL', KEYS[4])
elseif ARGV[6] ~= '' then redis.call('SET', KEYS[4], ARGV[6], 'PX', ARGV[7])
elseif ARGV[7] ~= '' then redis.call('PEXPIRE', KEYS[4], ARGV[7]) end
return 1
"""
)
_MARKER_CHECK = """
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1] end
return v
"""
_COPY_SESSION = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('SET', KEYS[2], v, 'PX', ARGV[1])
return 1
"""
_ENQUEUE = """
if redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return false end
return redis.call('XADD', KEYS[1], '*', 'p', ARGV[1], 'a', 0)
"""
# KEYS: stream, leases (entry id -> lease end, ms), deaths (entry id -> stale takeovers), delayed set. ARGV:
# group, consumer, lease ms, limit. Due retries go back on the stream, entries whose holder's lease ran out are
# claimed (XCLAIM; the lost run counts as failed), then new ones are read: all in one round trip. The holder's
# lease, not the claimer's, decides when an entry is stale.
_CLAIM_ITEMS = (
    _NOW
    + """
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 100)) do
  local item = cjson.decode(member)
  redis.call('XADD', KEYS[1], '*', 'p', item.p, 'a', item.a)
  redis.call('ZREM', KEYS[4], member)
end
local out = {}
local lease_end = now + tonumber(ARGV[3])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))) do
  local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  if claimed[1] and claimed[1][2] then
    local deaths = redis.call('HINCRBY', KEYS[3], id, 1)
    table.insert(claimed[1][2], 'd')
    table.insert(claimed[1][2], tostring(deaths))
    table.insert(out, claimed[1])
    redis.call('ZADD', KEYS[2], lease_end, id)
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
local want = tonumber(ARGV[4]) - #out
if want > 0 then
  local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', want, 'STREAMS', KEYS[1], '>')
  if fresh then
    for _, entry in ipairs(fresh[1][2]) do
      table.insert(out, entry)
      redis.call('ZADD', KEYS[2], lease_end, entry[1])
    end
  end
end
return out
"""
)
# KEYS[1] stream, KEYS[2] leases, KEYS[3] deaths; ARGV group, id, consumer. Only the consumer holding the entry
# may settle it.
_OWNED = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 or pending[1][2] ~= ARGV[3] then return false end
local fields = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])[1][2]
local payload = fields[2]
local attempts = tonumber(fields[4]) + (tonumber(redis.call('HGET', KEYS[3], ARGV[2])) or 0)
"""
_SETTLE = (
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) redis.call('XDEL', KEYS[1], ARGV[2]) "
    "redis.call('ZREM', KEYS[2], ARGV[2]) redis.call('HDEL', KEYS[3], ARGV[2])\n"
)
# KEYS: seq, index; then the caller's. ARGV from 1: payload, error, attempts, ttl ms, max items.
_ADD_FAILED_FN = """
local function add_failed(seq, index, payload, err, attempts, ttl, max_items, now)
  local id = redis.call('INCR', seq)
  local key = seq:sub(1, -4) .. id
  redis.call('HSET', key, 'payload', payload, 'error', err, 'attempts', attempts, 'failed_at', now)
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', index, now, id)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl)
  local excess = redis.call('ZCARD', index) - max_items
  if excess > 0 then
    for _, old in ipairs(redis.call('ZRANGE', index, 0, excess - 1)) do redis.call('DEL', seq:sub(1, -4) .. old) end
    redis.call('ZREMRANGEBYRANK', index, 0, excess - 1)
  end
  return tostring(id)
end
"""
# ARGV[4]: the new lease in ms.
_RENEW_ITEM = _NOW + _OWNED + "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2]) return 1\n"
_ACK = _OWNED + _SETTLE + "return 1\n"
# KEYS[4] the delayed set; ARGV[4] the delay in ms.
_RETRY = (
    _NOW
    + _OWNED
    + _SETTLE
    + """
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[4]), cjson.encode({p = payload, a = attempts + 1, id = ARGV[2]}))
return 1
"""
)
# KEYS[4] failed seq, KEYS[5] failed index. ARGV[4] error, ARGV[5] ttl ms, ARGV[6] max items.
_FAIL = (
    _NOW
    + _ADD_FAILED_FN
    + _OWNED
    + _SETTLE
    + "return add_failed(KEYS[4], KEYS[5], payload, ARGV[4], attempts + 1, tonumber(ARGV[5]), tonumber(ARGV[6]), now)\n"
)
_ADD_FAILED = (
    _NOW + _ADD_FAILED_FN + "return add_failed(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), "
    "tonumber(ARGV[4]), tonumber(ARGV[5]), now)\n"
)

# The journal is a stream whose entry ids are "<sequence number>-0", with the number from an INCR counter, all in
# one script so numbers are taken and written atomically across hosts. A stream rather than a sorted set: it is
# a log already (XRANGE from an id with COUNT is a page, XTRIM MAXLEN the count bound), it stores entries
# compactly, XADD refuses an id that does not increase, and it remembers the highest id it ever took even once
# trimmed empty, so a lost counter (evicted, deleted) resumes from there instead of handing out old numbers.
# Ages: each batch adds one member to KEYS[2] (its last number, scored by the server's time), so trimming by age
# reads small numbers, never entries; ranks beyond journal_max_entries there are batches already trimmed by
# count. Needs Redis 6.2 (XTRIM MINID).
# KEYS: stream, ages, counter (for the append). ARGV[1] ttl ms; append: ARGV[2] max entries, then the entries.
_TRIM_JOURNAL_FN = """
local function trim_journal(now, ttl, max_entries)
  local cutoff = '(' .. string.format('%d', now - ttl)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff)
  if #expired > 0 then
    local top = 0
    for _, last in ipairs(expired) do top = math.max(top, tonumber(last)) end
    redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-0', top + 1))
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
  end
  if max_entries then
    redis.call('XTRIM', KEYS[1], 'MAXLEN', max_entries)
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -max_entries - 1)
  end
end
"""
_APPEND_JOURNAL = (
    _NOW
    + _TRIM_JOURNAL_FN
    + """
local count = #ARGV - 2
local last = redis.call('INCRBY', KEYS[3], count)
if last == count and redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      last = tonumber(string.match(info[i + 1], '^%d+')) + count
      redis.call('SET', KEYS[3], string.format('%d', last))
    end
  end
end
for i = 1, count do
  redis.call('XADD', KEYS[1], string.format('%d-0', last - count + i), 'e', ARGV[i + 2])
end
redis.call('ZADD', KEYS[2], now, string.format('%d', last))
trim_journal(now, tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return last
"""
)
# ARGV[2] the first id to return, ARGV[3] how many at most.
_READ_JOURNAL = (
    _NOW
    + _TRIM_JOURNAL_FN
    + """
trim_journal(now, tonumber(ARGV[1]), nil)
return redis.call('XRANGE', KEYS[1], ARGV[2], '+', 'COUNT', ARGV[3])
"""
)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _session_ms(seconds: float) -> int:
    """A session's time to live for ``_SETTLE_CALLBACK``: 0 (delete now) for no time at all, else ``_ms``."""
    return 0 if seconds <= 0 else _ms(seconds)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStore(Store):
    backend = "redis"

    def __init__(self, url: str, *, limits: Limits | None = None, timeout: float = 2.0) -> None:
        self.limits = limits or Limits()
        self.url = url
        self._record_ms, self._token_ms = _ms(self.limits.record_ttl), _ms(self.limits.token_ttl)
        # One quick retry covers a connection the server closed while idle; more would only delay the 503.
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 1)
        )
        pool = self._redis.connection_pool
        # The scripts go over a pipelined connection of our own when it can serve this URL, else through redis-py
        # (``wire.py``); redis-py remains the client for the plain commands (the step-by-step session calls,
        # the queue's size, failed events, health).
        self._wire = Wire.for_pool(pool.connection_class, pool.connection_kwargs, timeout)
        scripts = {
            "claim": _CLAIM, "renew": _RENEW, "finish": _FINISH, "enter": _ENTER, "turn": _TURN, "leave": _LEAVE,
            "copy_session": _COPY_SESSION, "bind_token": _BIND_TOKEN, "enqueue": _ENQUEUE,
            "claim_items": _CLAIM_ITEMS, "renew_item": _RENEW_ITEM, "ack": _ACK, "retry": _RETRY, "fail": _FAIL,
            "add_failed": _ADD_FAILED, "append_journal": _APPEND_JOURNAL, "read_journal": _READ_JOURNAL,
            "admit": _ADMIT, "settle": _SETTLE_CALLBACK, "marker": _MARKER_CHECK,
        }  # fmt: skip
        self._scripts = {name: self._redis.register_script(source) for name, source in scripts.items()}
        self._wire_scripts = {name: Script.of(source) for name, source in scripts.items()}
        self._marker: str | None = None  # the marker's value when last checked
        self.data_checked = 0.0  #: ``time.monotonic()`` when the marker was last looked at
        self._losses = 0
        self._last_loss: str | None = None

    async def open(self) -> None:
        """Check the server answers and create the queue's consumer group: ``StoreUnavailable`` when it does not."""
        await self._ensure_group()
        await self._check_marker()

    def stats(self) -> StoreStats:
        return StoreStats(data_losses=self._losses, last_data_loss=self._last_loss)

    async def _check_marker(self) -> None:
        """Read the marker (writing one when there is none); one that is gone or changed since the last look
        means the server lost its data: logged at ERROR, counted (``stats``), once per loss in each process."""
        self.data_checked = time.monotonic()
        mine = f"{uuid.uuid4().hex} {int(time.time())}"
        found = _text(await self._run("marker", [_MARKER], [mine]))
        seen, self._marker = self._marker, found
        if seen is None or found == seen:
            return
        self._losses += 1
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._last_loss = (
            f"{when}: {self._where()} lost callhooks' data (restarted without persistence, flushed, or evicting keys)"
        )
        logger.error(
            "%s: events handled before may run again when delivered again, sessions and token bindings start "
            "empty, queued background events and failed events are gone. Configure the server's persistence "
            "(appendonly yes) and maxmemory-policy noeviction: see docs/guides/stores.md, Guarantees",
            self._last_loss,
        )

    async def _ensure_group(self) -> None:
        try:
            await self._do(self._redis.xgroup_create(_QUEUE, _GROUP, id="0", mkstream=True))
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
        await self._redis.aclose()

    async def _do(self, step: Awaitable[T]) -> T:
        try:
            return await step
        except (RedisError, OSError) as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: RedisError | OSError) -> Exception:
        """What a failed step raises: a ``StoreUnavailable`` naming the error, but for the replies callers handle."""
        if isinstance(exc, ResponseError) and _HANDLED_REPLY.search(str(exc)):
            return exc  # the caller recreates the queue's consumer group, or finds it there
        # Any other reply (WRONGTYPE on a key of an unexpected type, a script error) is a 503 naming it too,
        # rather than an exception that would reach the server as a plain-text 500.
        return StoreUnavailable(self.backend, f"{self._where()}: {exc}")

    def _where(self) -> str:
        kwargs = self._redis.connection_pool.connection_kwargs
        return f"redis at {kwargs.get('host', '?')}:{kwargs.get('port', '?')}"

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        if time.monotonic() >= self.data_checked + DATA_CHECK_INTERVAL:  # one round trip more, once a second
            with contextlib.suppress(StoreUnavailable):  # the step below says so
                await self._check_marker()
        return await self._run(name, keys, args)

    async def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        wire = self._wire
        if wire is None or not wire.serves_here():  # a URL the wire does not serve, or another event loop
            return await self._do(self._scripts[name](keys=keys, args=args))
        try:
            return await wire.run_script(self._wire_scripts[name], keys, args)
        except (RedisError, OSError) as exc:
            raise self._failure(exc) from None

    async def health(self) -> StoreHealth:
        try:
            await self._do(self._redis.set(_PREFIX + "health", "1", px=10_000))
            await self._check_marker()
        except StoreUnavailable as exc:
            return StoreHealth(False, self.backend, exc.reason)
        return StoreHealth(True, self.backend, "ok")

    # -- a whole callback in two round trips ---------------------------------------------------------------

    def _callback_keys(self, admission: Admission) -> list[str]:
        """The keys ``_ADMIT`` and ``_SETTLE_CALLBACK`` take: the event's record, then its call's queue and session."""
        keys = [_PREFIX + ONCE + admission.identity]
        if admission.call_key is not None:
            keys += [*self._fifo_keys(admission.call_key), _PREFIX + SESSION + admission.call_key]
        return keys

    async def admit(self, admission: Admission) -> Admitted:
        keys = self._callback_keys(admission)
        token = admission.token if admission.call_id is not None else None  # events of no call are not bound
        if token is not None:
            keys.append(_PREFIX + token_key(token))
        args = [
            admission.owner, _ms(admission.lease), self._record_ms, int(admission.call_key is not None),
            int(token is not None), admission.call_id or "", self._token_ms,
        ]  # fmt: skip
        verdict, ticket, attempt, kept = await self._script("admit", keys, args)
        if _text(verdict) == "duplicate":
            return Admitted("duplicate", reply=decode_reply(kept))
        return Admitted(_text(verdict), int(ticket), int(attempt), decode_session(kept))  # type: ignore[arg-type]

    async def settle(
        self,
        admission: Admission,
        ticket: int,
        *,
        ok: bool,
        error: str | None = None,
        session: Mapping[str, Any] | None = None,
        session_ends: float | None = None,
        reply: StoredReply | None = None,
    ) -> None:
        limits = self.limits
        saved = encode_session(session, limits.session_max_bytes) if session is not None else ""
        ttl = session_ends if session_ends is not None else limits.session_idle_ttl if saved else None
        args = [
            admission.owner, "done" if ok else "failed", error or "", self._record_ms, ticket, saved,
            "" if ttl is None else _session_ms(ttl), "" if reply is None else encode_reply(reply),
        ]  # fmt: skip
        await self._script("settle", self._callback_keys(admission), args)

    # -- idempotency records -------------------------------------------------------------------------------

    async def claim(self, identity: str, owner: str, lease: float) -> Claim:
        keep = _ms(self.limits.record_ttl)
        status, attempt = await self._script("claim", [_PREFIX + ONCE + identity], [owner, _ms(lease), keep])
        return Claim(_text(status), int(attempt))  # type: ignore[arg-type]

    async def renew(self, identity: str, owner: str, lease: float) -> bool:
        keep = _ms(self.limits.record_ttl)
        return bool(await self._script("renew", [_PREFIX + ONCE + identity], [owner, _ms(lease), keep]))

    async def finish(self, identity: str, owner: str, *, ok: bool, error: str | None = None) -> bool:
        args = [owner, "done" if ok else "failed", error or "", _ms(self.limits.record_ttl)]
        return bool(await self._script("finish", [_PREFIX + ONCE + identity], args))

    async def record(self, identity: str) -> OnceRecord | None:
        found = await self._do(self._redis.hgetall(_PREFIX + ONCE + identity))
        if not found:
            return None
        fields = {_text(k): _text(v) for k, v in found.items()}
        return OnceRecord(
            fields["state"],  # type: ignore[arg-type]
            fields["owner"],
            int(fields["lease_until"]) / 1000,
            int(fields["attempts"]),
            fields["error"] or None,
            decode_reply(fields.get("reply")),  # records of format 1 have none
        )

    # -- per-call fair FIFO --------------------------------------------------------------------------------

    def _fifo_keys(self, key: str) -> list[str]:
        return [_PREFIX + FIFO + key, _PREFIX + LIVE + key]

    async def enter(self, key: str, lease: float) -> int:
        return int(await self._script("enter", self._fifo_keys(key), [_ms(lease)]))

    async def turn(self, key: str, ticket: int, lease: float) -> Turn:
        answer: Turn = _text(await self._script("turn", self._fifo_keys(key), [ticket, _ms(lease)]))  # type: ignore[assignment]
        return answer

    async def leave(self, key: str, ticket: int) -> None:
        await self._script("leave", self._fifo_keys(key), [ticket])

    # -- call sessions -------------------------------------------------------------------------------------

    async def load_session(self, key: str) -> dict[str, Any]:
        return decode_session(await self._do(self._redis.get(_PREFIX + SESSION + key)))

    async def save_session(self, key: str, data: Mapping[str, Any]) -> None:
        text = encode_session(data, self.limits.session_max_bytes)
        await self._do(self._redis.set(_PREFIX + SESSION + key, text, px=_ms(self.limits.session_idle_ttl)))

    async def end_session(self, key: str, after: float) -> None:
        if after <= 0:  # now, not in a millisecond: the call's next event must not read it
            await self._do(self._redis.delete(_PREFIX + SESSION + key))
        else:
            await self._do(self._redis.pexpire(_PREFIX + SESSION + key, _ms(after)))

    async def copy_session(self, parent: str, child: str) -> bool:
        keys = [_PREFIX + SESSION + parent, _PREFIX + SESSION + child]
        return bool(await self._script("copy_session", keys, [_ms(self.limits.session_idle_ttl)]))

    # -- token binding -------------------------------------------------------------------------------------

    async def bind_token(self, token: str, call_id: str) -> bool:
        key = _PREFIX + token_key(token)
        return bool(await self._script("bind_token", [key], [call_id, _ms(self.limits.token_ttl)]))

    # -- durable queue: a stream with a consumer group -----------------------------------------------------

    async def enqueue(self, payload: Mapping[str, Any]) -> str:
        item_id = await self._script(
            "enqueue", [_QUEUE, _DELAYED], [json.dumps(dict(payload)), self.limits.queue_max_items]
        )
        if item_id is None:
            raise StoreUnavailable(self.backend, f"the queue is full ({self.limits.queue_max_items} items)")
        return _text(item_id)

    async def claim_items(self, consumer: str, *, lease: float, limit: int = 10) -> list[QueueItem]:
        args = [_GROUP, consumer, _ms(lease), limit]
        try:
            entries = await self._script("claim_items", [_QUEUE, _LEASES, _DEATHS, _DELAYED], args)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self._ensure_group()  # the server restarted without its data: the group comes back empty
            entries = await self._script("claim_items", [_QUEUE, _LEASES, _DEATHS, _DELAYED], args)
        items = []
        for entry_id, flat in entries:
            fields = {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}
            attempts = int(fields["a"]) + int(fields.get("d", 0))
            items.append(QueueItem(_text(entry_id), json.loads(fields["p"]), attempts))
        return items

    async def _settle(self, name: str, item_id: str, consumer: str, *extra: Any, keys: tuple[str, ...] = ()) -> Any:
        try:
            return await self._script(name, [_QUEUE, _LEASES, _DEATHS, *keys], [_GROUP, item_id, consumer, *extra])
        except ResponseError as exc:
            if "NOGROUP" in str(exc):
                return None  # the server lost the group (and so the item's ownership) while it ran
            raise

    async def renew_item(self, item_id: str, consumer: str, lease: float) -> bool:
        return bool(await self._settle("renew_item", item_id, consumer, _ms(lease)))

    async def ack(self, item_id: str, consumer: str) -> bool:
        return bool(await self._settle("ack", item_id, consumer))

    async def retry_later(self, item_id: str, consumer: str, error: str, delay: float) -> bool:
        return bool(await self._settle("retry", item_id, consumer, _ms(delay), keys=(_DELAYED,)))

    async def fail_item(self, item_id: str, consumer: str, error: str) -> str | None:
        limits = self.limits
        extra = (error, _ms(limits.failed_ttl), limits.failed_max_items)
        found = await self._settle("fail", item_id, consumer, *extra, keys=(_FAILED_SEQ, _FAILED_INDEX))
        return None if found is None else _text(found)

    async def holds_records(self, besides: str) -> bool:
        # SCAN visits the keyspace in pages; done once per store (when an identity rule first runs on it).
        skip = (_PREFIX + ONCE + besides).encode()
        async for key in self._redis.scan_iter(match=_PREFIX + ONCE + "*", count=1000):
            if key != skip:
                return True
        return False

    async def queue_size(self) -> int:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(_QUEUE)
            pipe.zcard(_DELAYED)
            stream, delayed = await self._do(pipe.execute())
        return int(stream) + int(delayed)

    # -- failed events -------------------------------------------------------------------------------------

    def _failed_key(self, failed_id: str) -> str:
        return f"{_PREFIX}failed:{failed_id}"  # ids are digits: never "seq" or "index", the family's other keys

    async def add_failed(self, payload: Mapping[str, Any], error: str, attempts: int) -> str:
        limits = self.limits
        args = [json.dumps(dict(payload)), error, attempts, _ms(limits.failed_ttl), limits.failed_max_items]
        return _text(await self._script("add_failed", [_FAILED_SEQ, _FAILED_INDEX], args))

    async def list_failed(self, limit: int = 100) -> list[FailedEvent]:
        ids = await self._do(self._redis.zrevrange(_FAILED_INDEX, 0, limit - 1))
        async with self._redis.pipeline(transaction=False) as pipe:
            for failed_id in ids:
                pipe.hgetall(self._failed_key(_text(failed_id)))
            rows = await self._do(pipe.execute())
        found = (self._failed(_text(i), row) for i, row in zip(ids, rows, strict=True))
        return [failed for failed in found if failed is not None]

    def _failed(self, failed_id: str, row: Mapping[Any, Any]) -> FailedEvent | None:
        if not row:
            return None
        fields = {_text(k): _text(v) for k, v in row.items()}
        payload = json.loads(fields["payload"])
        return FailedEvent(
            failed_id, payload, fields["error"], int(fields["attempts"]), int(fields["failed_at"]) / 1000
        )

    async def get_failed(self, failed_id: str) -> FailedEvent | None:
        if not failed_id.isdigit():
            return None
        return self._failed(failed_id, await self._do(self._redis.hgetall(self._failed_key(failed_id))))

    async def drop_failed(self, failed_id: str) -> bool:
        if not failed_id.isdigit():
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._failed_key(failed_id))
            pipe.zrem(_FAILED_INDEX, failed_id)
            deleted, _ = await self._do(pipe.execute())
        return bool(deleted)

    # -- journal: a stream with numbered ids ---------------------------------------------------------------

    async def append_journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        texts = encode_entries(entries, self.limits.journal_entry_max_bytes)
        if texts:
            args = [_ms(self.limits.journal_ttl), self.limits.journal_max_entries, *texts]
            await self._script("append_journal", _JOURNAL_KEYS, args)

    async def read_journal(self, after: int, limit: int = 500) -> list[JournalEntry]:
        check_read(after, limit)
        args = [_ms(self.limits.journal_ttl), f"{after + 1}-0", limit]
        found = await self._script("read_journal", _JOURNAL_KEYS[:2], args)
        return [(int(_text(entry_id).partition("-")[0]), decode_entry(fields[1])) for entry_id, fields in found]

    async def journal_tail(self) -> int:
        return int(await self._do(self._redis.get(_JOURNAL_KEYS[2])) or 0)
