"""``open_store(url)``: the store a URL names, opened and checked."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .base import Limits, Store
from .memory import MemoryStore

__all__ = ["DEFAULT_STORE_URL", "check_store_url", "open_store"]

DEFAULT_STORE_URL = "memory://"
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_SCHEMES = frozenset({"memory", "sqlite", *_REDIS_SCHEMES})


def check_store_url(url: str) -> str:
    """``url`` when its scheme names a store ``open_store`` can open; ``ValueError`` otherwise, so a receiver
    refuses a bad ``store=`` at construction rather than at its first callback."""
    if urlsplit(url).scheme not in _SCHEMES:
        raise ValueError(
            f"unknown store URL {url!r}: use memory://, sqlite:///path/to/callhooks.db or redis://host:port/0"
        )
    return url


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
    if scheme in _REDIS_SCHEMES:
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
