"""``open_store(url)``: the store a URL names, opened and checked."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .base import Limits, Store
from .memory import MemoryStore

__all__ = ["DEFAULT_STORE_URL", "open_store"]

DEFAULT_STORE_URL = "memory://"


async def open_store(url: str = DEFAULT_STORE_URL, *, limits: Limits | None = None) -> Store:
    """Open ``memory://``, ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (``?timeout=``
    seconds to wait for another process's lock), or ``redis://host:port/db``.

    ``StoreUnavailable`` (one line) when the file cannot be opened for writing or Redis does not answer;
    ``ValueError`` for another scheme. Redis needs ``pip install 'callhooks[redis]'``.
    """
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStore(limits)
    if scheme == "sqlite":
        from .sqlite import SqliteStore

        path, _, query = url[len("sqlite:///") :].partition("?")
        if not url.startswith("sqlite:///") or not path:
            raise ValueError(f"a SQLite store URL is sqlite:///path/to/callhooks.db, not {url!r}")
        timeout = float(parse_qs(query).get("timeout", ["5"])[0])
        store = SqliteStore(path, timeout=timeout, limits=limits)
        try:
            await store.open()
        except BaseException:
            await store.close()
            raise
        return store
    if scheme in ("redis", "rediss", "unix"):
        try:
            from .redis import RedisStore
        except ImportError:
            raise ValueError("a redis:// store needs redis-py: pip install 'callhooks[redis]'") from None
        redis_store = RedisStore(url, limits=limits)
        try:
            await redis_store.open()
        except BaseException:
            await redis_store.close()
            raise
        return redis_store
    raise ValueError(f"unknown store URL {url!r}: use memory://, sqlite:///path/to/callhooks.db or redis://host:port/0")
