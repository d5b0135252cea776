"""Decorator routing: one handler per event, the most specific registered key wins.

A key is ``(event_type, state, tag)``, each part optional. For an event the candidate keys are tried in this
order, and the first registered one runs (a tag beats no tag; then an event type beats none; then a state):

    (type, state, tag) (type, -, tag) (-, state, tag) (-, -, tag)
    (type, state, -)   (type, -, -)   (-, state, -)   (-, -, -)

That is at most eight dictionary look-ups, whatever the number of handlers.

Rejects arrive as ``hangup`` events; a ``"hangup"`` handler therefore also covers the ``"reject"`` slot with
the same state and tag unless a ``"reject"`` handler is registered there. That is resolved when handlers are
added, so matching stays at eight look-ups.
"""

from __future__ import annotations

import difflib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from ..catapult import CATAPULT
from ..platform import Platform, RoutedEvent

__all__ = ["Handler", "HandlerKey", "Registrar", "Router", "build_handler"]

F = TypeVar("F", bound=Callable[..., Any])

# Event types whose handlers also serve another type's slot, when that slot has none of its own.
_COVERS: dict[str, str] = {"hangup": "reject"}


class HandlerKey(NamedTuple):
    event_type: str | None
    state: str | None
    tag: str | None

    def describe(self) -> str:
        return f"event_type={self.event_type!r}, state={self.state!r}, tag={self.tag!r}"


@dataclass(frozen=True)
class Handler:
    """A registered function, with what dispatch needs to know about it worked out once at registration."""

    func: Callable[..., Any]
    key: HandlerKey
    is_async: bool
    wants_call: bool
    name: str
    #: Run after the 200 by the app's background worker, from the store's durable queue (background.py).
    background: bool = False


def _qualified_name(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{name}"


def _is_async(func: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        type(func).__call__ if not inspect.isfunction(func) else None
    )


def _wants_call(func: Callable[..., Any], name: str) -> bool:
    """Whether ``func`` takes ``(event, call)`` rather than ``(event)``: decided once, not per event."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: assume the one-argument form
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    required = [p for p in positional if p.default is p.empty]
    required_kw = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if required_kw or len(required) > 2 or not positional:
        raise TypeError(
            f"handler {name} must take (event) or (event, call); its signature is {inspect.signature(func)}"
        )
    return len(positional) >= 2


def _check_key_part(label: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise TypeError(f"{label} must be a non-empty string or None, not {value!r}")


def _check_known(label: str, value: str | None, known: Iterable[str]) -> None:
    """A misspelt event type or state would register silently and never fire: refuse it, naming the close match."""
    if value is None or value in known:
        return
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(
        f"unknown {label} {value!r}: {hint}known: {', '.join(sorted(known))}. "
        "For one this version does not know yet, pass allow_unknown=True"
    )


def build_handler(
    func: Callable[..., Any],
    event_type: str | None = None,
    *,
    state: str | None = None,
    tag: str | None = None,
    allow_unknown: bool = False,
    background: bool = False,
    platform: Platform[Any] = CATAPULT,
) -> Handler:
    """Check ``func`` and its key and work out once what dispatch needs to know about it; the event types and
    states known are ``platform``'s."""
    if not callable(func):
        raise TypeError(f"handler must be callable, not {func!r}")
    _check_key_part("event_type", event_type)
    _check_key_part("state", state)
    _check_key_part("tag", tag)
    canonical = platform.canonical_event_type(event_type) if event_type else None
    if not allow_unknown:
        named = "" if platform is CATAPULT else f"{platform.name} "  # Catapult's words as they always were
        _check_known(f"{named}event type", canonical, platform.event_types)
        _check_known(f"{named}call state", state, platform.call_states)
    name = _qualified_name(func)
    key = HandlerKey(canonical, state, tag)
    return Handler(func, key, _is_async(func), _wants_call(func, name), name, background=bool(background))


class Registrar(ABC):
    """Registration by decorator or call, written once for ``Router`` and ``CallHooks``: each says in ``add`` what
    registering a built ``Handler`` means for it, and in ``platform`` whose event types and states are known."""

    @property
    @abstractmethod
    def platform(self) -> Platform[Any]:
        """The platform whose event types and states handlers are registered for."""

    def add_handler(
        self,
        func: Callable[..., Any],
        event_type: str | None = None,
        *,
        state: str | None = None,
        tag: str | None = None,
        allow_unknown: bool = False,
        background: bool = False,
    ) -> Handler:
        """Register ``func`` for the key; ``ValueError`` if that exact key already has a handler, or if the
        event type or state is not one the platform sends (``allow_unknown=True`` accepts any string).
        ``background=True``: run it after the 200, from the durable queue (see ``CallHooks``)."""
        handler = build_handler(
            func,
            event_type,
            state=state,
            tag=tag,
            allow_unknown=allow_unknown,
            background=background,
            platform=self.platform,
        )
        self.add(handler)
        return handler

    def on(
        self,
        event_type: str | None = None,
        *,
        state: str | None = None,
        tag: str | None = None,
        allow_unknown: bool = False,
        background: bool = False,
    ) -> Callable[[F], F]:
        """Decorator form of ``add_handler``: ``@router.on("gather", tag="main-menu")``."""
        if callable(event_type):
            raise TypeError("use @on() with parentheses: @hooks.on() registers the catch-all handler")

        def register(func: F) -> F:
            self.add_handler(func, event_type, state=state, tag=tag, allow_unknown=allow_unknown, background=background)
            return func

        return register

    @abstractmethod
    def add(self, handler: Handler) -> None:
        """Register an already built ``Handler`` (``build_handler``)."""


#: Most (type, state, tag) slots whose handler ``Router.match`` remembers.
_MATCHED_MAX = 1024


class Router(Registrar):
    """A set of handlers keyed by event type, call state and tag. ``CallHooks`` holds one; include others into it.
    ``platform``: whose event types and states are known (Catapult's unless told; ``CallHooks`` passes its own)."""

    def __init__(self, platform: Platform[Any] | str = CATAPULT) -> None:
        if isinstance(platform, str):
            from .receiving import receiving_class  # receiving imports this module

            platform = receiving_class(platform).platform
        self._platform = platform
        self._registered: dict[HandlerKey, Handler] = {}
        # What matching reads: the registered handlers plus the slots one type covers for another.
        self._index: dict[tuple[str | None, str | None, str | None], Handler] = {}
        # What ``match`` found per (type, state, tag) seen: one lookup instead of up to eight for the events
        # that keep coming (a third of the instructions of a match). Tags may be one per call, so it is kept
        # small and emptied when full; any change to the handlers empties it.
        self._matched: dict[tuple[str, str | None, str | None], Handler | None] = {}

    @property
    def platform(self) -> Platform[Any]:
        return self._platform

    def add(self, handler: Handler) -> None:
        """Register an already built ``Handler`` (``build_handler``)."""
        self._add([handler])

    def include(self, router: Router) -> None:
        """Add every handler of ``router``, all or none: a key registered in both is a ``ValueError`` and then
        nothing of ``router`` is added; so is a router for another platform."""
        if router is self:
            raise ValueError("a router cannot include itself")
        if router.platform.name != self.platform.name:
            raise ValueError(
                f"a router of {router.platform.name} handlers cannot be included in one of {self.platform.name}"
            )
        self._add(list(router._registered.values()))

    def match(self, event: RoutedEvent) -> Handler | None:
        """The handler that would run for ``event``, or ``None``."""
        seen = (event.event_route_type, event.call_state, event.tag)
        matched = self._matched
        if seen in matched:
            return matched[seen]
        found = self._find(*seen)
        if len(matched) >= _MATCHED_MAX:
            matched.clear()
        matched[seen] = found
        return found

    def _find(self, event_type: str, state: str | None, tag: str | None) -> Handler | None:
        """The most specific handler for the slot: type, state and tag, then fewer of them (tag first)."""
        index = self._index
        if not index:
            return None
        get = index.get
        if tag is not None:
            found = (
                get((event_type, state, tag))
                or get((event_type, None, tag))
                or get((None, state, tag))
                or get((None, None, tag))
            )
            if found is not None:
                return found
        return (
            get((event_type, state, None))
            or get((event_type, None, None))
            or get((None, state, None))
            or get((None, None, None))
        )

    @property
    def handlers(self) -> Mapping[HandlerKey, Handler]:
        """Registered handlers by key (read-only view, for introspection)."""
        return dict(self._registered)

    def __iter__(self) -> Iterator[Handler]:
        return iter(list(self._registered.values()))

    def __len__(self) -> int:
        return len(self._registered)

    def _add(self, handlers: list[Handler]) -> None:
        # Every key is checked before any is registered, so a conflict leaves the router as it was.
        for handler in handlers:
            existing = self._registered.get(handler.key)
            if existing is not None:
                raise ValueError(
                    f"two handlers for the same key ({handler.key.describe()}): {existing.name} is registered "
                    f"and {handler.name} cannot be added"
                )
        self._matched.clear()
        for handler in handlers:
            key = handler.key
            self._registered[key] = handler
            self._index[key] = handler
            covered_type = _COVERS.get(key.event_type or "")
            if covered_type is not None:
                covered = HandlerKey(covered_type, key.state, key.tag)
                if covered not in self._registered:
                    self._index[covered] = handler
