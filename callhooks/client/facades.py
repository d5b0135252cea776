"""``client.calls``, the call handles and ``client.applications``, derived from the operations declared once in
``CallOperations`` and ``ApplicationOperations``; the descriptors (``Run``, ``Iterate``, ``OnCall``,
``IterateOnCall``) derive the other platforms' namespaces and handles the same way.

Each facade method is one line naming its operation: ``speak = Run(CallOperations.speak)``. The descriptor
keeps the operation's signature (``ParamSpec``, ``Unpack`` keyword arguments included) and docstring, and
its result type follows the client: ``T`` from a blocking client (``BlockingShell``), an awaitable ``T`` from
an async one (``AsyncShell``). On a handle (``OnCall``/``IterateOnCall``) the leading ``call_id`` is the handle's id.
``tests/client/test_client_parity.py`` checks that every operation is offered and nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from typing_extensions import Self

from .operations import ApplicationOperations, CallOperations
from .transport import AsyncShell, BlockingShell, Shell
from .wire import Operation, Page

if TYPE_CHECKING:
    from .aio import AsyncClient
    from .sync import Client

__all__ = [
    "ApplicationsApi",
    "CallHandleApi",
    "CallsApi",
    "Handle",
    "Iterate",
    "IterateOnCall",
    "Namespace",
    "OnCall",
    "Run",
]

P = ParamSpec("P")
T = TypeVar("T")
# Covariant: a namespace of a Client is a namespace of a BlockingShell, which picks the descriptors' overload.
ClientT = TypeVar("ClientT", bound=Shell, covariant=True)
OperationsT = TypeVar("OperationsT")
CatapultT = TypeVar("CatapultT", "Client", "AsyncClient")

_PAGES = '\n\nHere: an iterator over the items of every page, following ``Link rel="next"``.'


def _method(derived: _Derived, namespace: Namespace[Any], leading: tuple[str, ...]) -> Any:
    """``client.run(build(operations, *leading, ...))``, a coroutine function for an async client."""
    client, operations, build = namespace.client, namespace.operations, derived.build

    async def awaited(*args: Any, **kwargs: Any) -> Any:
        return await client.run(build(operations, *leading, *args, **kwargs))

    def blocking(*args: Any, **kwargs: Any) -> Any:
        return client.run(build(operations, *leading, *args, **kwargs))

    return derived.describe(awaited if inspect.iscoroutinefunction(client.run) else blocking)


def _iterator(derived: _Derived, namespace: Namespace[Any], leading: tuple[str, ...]) -> Any:
    """``client.iterate(build(...))``: the operation is built (and its parameters checked) at the call."""
    client, operations, build = namespace.client, namespace.operations, derived.build

    def method(*args: Any, **kwargs: Any) -> Any:
        return client.iterate(build(operations, *leading, *args, **kwargs))

    return derived.describe(method)


class _Derived:
    """What the four descriptors share: the operation they run, their name, docstring and signature."""

    def __init__(self, build: Callable[..., Any], doc: str | None, on_call: bool) -> None:
        self.build = build
        self.__doc__ = doc
        self.name = build.__name__
        # for help() and IDEs that introspect at run time: the operation's own, minus self (and call_id)
        operation = inspect.signature(build)
        kept = list(operation.parameters.values())[2 if on_call else 1 :]
        self.signature = operation.replace(parameters=kept, return_annotation=inspect.Signature.empty)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def describe(self, method: Any) -> Any:
        """``method`` with this facade method's name, docstring and signature."""
        method.__name__ = method.__qualname__ = self.name
        method.__doc__ = self.__doc__
        method.__signature__ = self.signature
        return method


class Namespace(Generic[ClientT]):
    """What a namespace of derived methods holds: its client and the operations its methods build."""

    client: ClientT
    operations: Any

    def __init__(self, client: ClientT, operations: Any) -> None:
        self.client = client
        self.operations = operations


class Handle(Generic[ClientT]):
    """One resource (a call) of a namespace: ``OnCall`` methods run with ``id`` as their first argument."""

    def __init__(self, calls: Namespace[ClientT], call_id: str) -> None:
        self.calls = calls
        self.id = call_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"


class Run(_Derived, Generic[P, T]):
    """``calls.name(*args)`` runs ``operations.<operation>(*args)`` on the namespace's client."""

    def __init__(self, build: Callable[Concatenate[OperationsT, P], Operation[T]]) -> None:
        super().__init__(build, build.__doc__, on_call=False)

    @overload
    def __get__(self, calls: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, calls: Namespace[BlockingShell], owner: type[Any] | None = None) -> Callable[P, T]: ...

    @overload
    def __get__(
        self, calls: Namespace[AsyncShell], owner: type[Any] | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, calls: Namespace[Any] | None, owner: type[Any] | None = None) -> Any:
        if calls is None:
            return self
        return _method(self, calls, ())


class Iterate(_Derived, Generic[P, T]):
    """``calls.name(*args)`` iterates over every page of ``operations.<page operation>(*args)``."""

    def __init__(self, build: Callable[Concatenate[OperationsT, P], Operation[Page[T]]]) -> None:
        super().__init__(build, f"{build.__doc__}{_PAGES}", on_call=False)

    @overload
    def __get__(self, calls: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, calls: Namespace[BlockingShell], owner: type[Any] | None = None) -> Callable[P, Iterator[T]]: ...

    @overload
    def __get__(
        self, calls: Namespace[AsyncShell], owner: type[Any] | None = None
    ) -> Callable[P, AsyncIterator[T]]: ...

    def __get__(self, calls: Namespace[Any] | None, owner: type[Any] | None = None) -> Any:
        if calls is None:
            return self
        return _iterator(self, calls, ())


class OnCall(_Derived, Generic[P, T]):
    """``handle.name(*args)`` runs ``operations.<operation>(handle.id, *args)``."""

    def __init__(self, build: Callable[Concatenate[OperationsT, str, P], Operation[T]]) -> None:
        super().__init__(build, build.__doc__, on_call=True)

    @overload
    def __get__(self, handle: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, handle: Handle[BlockingShell], owner: type[Any] | None = None) -> Callable[P, T]: ...

    @overload
    def __get__(
        self, handle: Handle[AsyncShell], owner: type[Any] | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, handle: Handle[Any] | None, owner: type[Any] | None = None) -> Any:
        if handle is None:
            return self
        return _method(self, handle.calls, (handle.id,))


class IterateOnCall(_Derived, Generic[P, T]):
    """``handle.name(*args)`` iterates over every page of ``operations.<page operation>(handle.id, *args)``."""

    def __init__(self, build: Callable[Concatenate[OperationsT, str, P], Operation[Page[T]]]) -> None:
        super().__init__(build, f"{build.__doc__}{_PAGES}", on_call=True)

    @overload
    def __get__(self, handle: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, handle: Handle[BlockingShell], owner: type[Any] | None = None) -> Callable[P, Iterator[T]]: ...

    @overload
    def __get__(self, handle: Handle[AsyncShell], owner: type[Any] | None = None) -> Callable[P, AsyncIterator[T]]: ...

    def __get__(self, handle: Handle[Any] | None, owner: type[Any] | None = None) -> Any:
        if handle is None:
            return self
        return _iterator(self, handle.calls, (handle.id,))


class CallsApi(Namespace[CatapultT]):
    """``client.calls``: the calls API. Control methods take the call id first; ``bind`` makes a handle."""

    def __init__(self, client: CatapultT) -> None:
        self.client = client
        self.operations: CallOperations = client.operations

    create = Run(CallOperations.create)
    get = Run(CallOperations.get)
    list = Iterate(CallOperations.list_page)
    list_page = Run(CallOperations.list_page)
    answer = Run(CallOperations.answer)
    reject = Run(CallOperations.reject)
    hangup = Run(CallOperations.hangup)
    update = Run(CallOperations.update)
    transfer = Run(CallOperations.transfer)
    speak = Run(CallOperations.speak)
    play = Run(CallOperations.play)
    stop_audio = Run(CallOperations.stop_audio)
    stop_speaking = Run(CallOperations.stop_speaking)
    send_dtmf = Run(CallOperations.send_dtmf)
    gather = Run(CallOperations.gather)
    get_gather = Run(CallOperations.get_gather)
    stop_gather = Run(CallOperations.stop_gather)
    start_recording = Run(CallOperations.start_recording)
    stop_recording = Run(CallOperations.stop_recording)
    events = Iterate(CallOperations.events_page)
    get_event = Run(CallOperations.get_event)
    recordings = Iterate(CallOperations.recordings_page)
    transcriptions = Iterate(CallOperations.transcriptions_page)


class CallHandleApi(Handle[CatapultT]):
    """One call: ``handle.speak("Hi")`` is ``client.calls.speak(handle.id, "Hi")``."""

    def __init__(self, calls: CallsApi[CatapultT], call_id: str) -> None:
        self.calls: CallsApi[CatapultT] = calls
        self.id = call_id

    get = OnCall(CallOperations.get)
    answer = OnCall(CallOperations.answer)
    reject = OnCall(CallOperations.reject)
    hangup = OnCall(CallOperations.hangup)
    update = OnCall(CallOperations.update)
    transfer = OnCall(CallOperations.transfer)
    speak = OnCall(CallOperations.speak)
    play = OnCall(CallOperations.play)
    stop_audio = OnCall(CallOperations.stop_audio)
    stop_speaking = OnCall(CallOperations.stop_speaking)
    send_dtmf = OnCall(CallOperations.send_dtmf)
    gather = OnCall(CallOperations.gather)
    get_gather = OnCall(CallOperations.get_gather)
    stop_gather = OnCall(CallOperations.stop_gather)
    start_recording = OnCall(CallOperations.start_recording)
    stop_recording = OnCall(CallOperations.stop_recording)
    events = IterateOnCall(CallOperations.events_page)
    get_event = OnCall(CallOperations.get_event)
    recordings = IterateOnCall(CallOperations.recordings_page)
    transcriptions = IterateOnCall(CallOperations.transcriptions_page)


class ApplicationsApi(Namespace[CatapultT]):
    """``client.applications``: the applications API (where inbound calls to the numbers an application owns
    are delivered, and how) and the account's numbers (``assign_number``, ``numbers``: ``/phoneNumbers``).
    Methods take the application id first."""

    def __init__(self, client: CatapultT) -> None:
        self.client = client
        self.operations: ApplicationOperations = client.application_operations

    create = Run(ApplicationOperations.create)
    get = Run(ApplicationOperations.get)
    list = Iterate(ApplicationOperations.list_page)
    update = Run(ApplicationOperations.update)
    delete = Run(ApplicationOperations.delete)
    assign_number = Run(ApplicationOperations.assign_number)
    numbers = Iterate(ApplicationOperations.numbers_page)
