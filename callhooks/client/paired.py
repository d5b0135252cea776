"""Pairing a client with a receiver: what the client needs from it, and the signed URL a new call calls back to.

Every platform's client fills its callback URL fields the same way: the receiver's signed URL for one call
(bound to the first call id it arrives with), carrying the caller's ``context``, unless the caller gave a
URL of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["PairedHooks", "fill_callbacks", "paired_url"]


class PairedHooks(Protocol):
    """What the client needs from a receiver (``callhooks.CallHooks``) to point callbacks at it."""

    @property
    def callback_http_method(self) -> str:
        """``GET`` or ``POST``: how the receiver expects callbacks."""

    def callback_url(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        max_age: float | None = ...,
        bind: bool = False,
        kind: str | None = None,
    ) -> str:
        """A signed callback URL that carries ``context`` back to the handlers; ``max_age=None``: it never
        expires; ``bind=True``: for one call only (the receiver binds it to the first call id it arrives with);
        ``kind``: the kind of request it will receive, for platforms whose requests do not say (Twilio)."""


def paired_url(
    hooks: PairedHooks | None,
    context: Mapping[str, Any] | None,
    *,
    explicit: bool,
    context_name: str = "context",
    url_name: str = "callback_url",
    kind: str | None = None,
) -> str | None:
    """The receiver's signed URL for one call carrying ``context``; ``None`` without a receiver or when the
    caller gave ``url_name`` (``explicit``). A ``context`` that cannot travel (no receiver, or an explicit URL)
    is a ``ValueError``."""
    if context is not None and explicit:
        raise ValueError(f"give either {context_name} or {url_name}, not both")
    if hooks is None:
        if context is not None:
            raise ValueError(f"{context_name} needs a client built with hooks=")
        return None
    # Every URL made here is for one call (a new call, a transfer leg, or one call's later callbacks): bound.
    if explicit:
        return None
    return hooks.callback_url(context=context, bind=True, kind=kind) if kind else hooks.callback_url(context, bind=True)


def fill_callbacks(
    hooks: PairedHooks | None,
    values: Mapping[str, Any],
    context: Mapping[str, Any] | None,
    fields: tuple[tuple[str, str], ...],
    kinds: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """``values`` with each ``(url, method)`` of ``fields`` whose URL was left out set to the receiver's signed
    URL for one call (one URL for all, carrying ``context``) and the receiver's method; and that URL, ``None``
    when there is no receiver or every URL was given (then ``context`` is a ``ValueError``). With ``kinds``
    (URL field → the kind of request it receives: Twilio's), each of those fields gets a URL of its own kind;
    the URL returned is the first field's."""
    missing = [(url, method) for url, method in fields if url not in values]
    names = " and ".join(url for url, _ in fields)
    kinds = kinds or {}
    first = missing[0][0] if missing else None
    url = paired_url(hooks, context, explicit=not missing, url_name=names, kind=kinds.get(first or ""))
    filled = dict(values)
    if url is None or hooks is None:
        return filled, None
    for url_name, method_name in missing:
        kind = kinds.get(url_name)
        filled[url_name] = (
            url if url_name == first or kind is None else paired_url(hooks, context, explicit=False, kind=kind)
        )
        filled.setdefault(method_name, hooks.callback_http_method)
    return filled, url
