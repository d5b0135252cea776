"""What the console says about the receiver it serves: the store it runs on (and so whether exactly-once and
the shared journal apply), shown in the page's header."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from ..app import CallHooks

__all__ = ["store_facts", "without_password"]


def without_password(url: str) -> str:
    """``url`` with any password in it shown as ``***`` (a Redis URL may carry one)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@")[-1]
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def store_facts(hooks: CallHooks) -> dict[str, Any]:
    """``backend`` (``memory``, ``sqlite``, ``redis`` or the class of a store given as an object), ``url``
    (password hidden; ``None`` for an object) and ``guarantees`` (exactly-once and per-call order on it)."""
    store, url = hooks.store, hooks.store_url
    backend = getattr(store, "backend", None) if store is not None else None
    if backend is None:
        backend = urlsplit(url).scheme if url else type(store).__name__
    return {
        "backend": str(backend),
        "url": without_password(url) if url else None,
        "guarantees": hooks.delivery.enabled,
    }
