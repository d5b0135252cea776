"""Binding a calls-namespace method to one call id, for the handles handlers receive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from typing_extensions import Self

__all__ = ["BoundCall", "Handle", "on_call"]

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C")


class Handle(Protocol):
    """A call id bound to a calls namespace."""

    calls: Any
    id: str


class on_call(Generic[P, R]):
    """Descriptor: ``handle.method(*args)`` runs ``handle.calls.method(handle.id, *args)``.

    Declaring a handle method as ``speak = on_call(Calls.speak)`` keeps its signature (minus ``call_id``)
    and docstring in one place, the namespace method.
    """

    def __init__(self, method: Callable[Concatenate[Any, str, P], R]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, handle: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, handle: Handle, owner: type[Any] | None = None) -> Callable[P, R]: ...

    def __get__(self, handle: Handle | None, owner: type[Any] | None = None) -> Self | Callable[P, R]:
        if handle is None:
            return self
        method, calls, call_id = self.method, handle.calls, handle.id

        def bound(*args: P.args, **kwargs: P.kwargs) -> R:
            return method(calls, call_id, *args, **kwargs)

        bound.__name__ = bound.__qualname__ = method.__name__
        bound.__doc__ = method.__doc__
        return bound


class BoundCall(Generic[C]):
    """Base of the call handles: a call id and the calls namespace its methods run on."""

    def __init__(self, calls: C, call_id: str) -> None:
        self.calls = calls
        self.id = call_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"
