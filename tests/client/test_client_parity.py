"""The facades and handles offer every call operation, derived from ``CallOperations``, and nothing else.

httpx's exported-members test is the model: a new operation that is not offered (or a facade method that
runs another operation than its name says) fails here, not in a user's editor.
"""

from __future__ import annotations

import inspect

import pytest

from callhooks.client import AsyncCallHandle, AsyncCalls, CallHandle, CallOperations, Calls
from callhooks.client.facades import CallHandleApi, CallsApi, Iterate, IterateOnCall, OnCall, Run


def _operations() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(CallOperations).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def _on_a_call(signature: inspect.Signature) -> bool:
    return list(signature.parameters)[1:2] == ["call_id"]


def _expected(on_call_only: bool) -> dict[str, tuple[str, str]]:
    """facade name -> (kind, operation name): ``x_page`` becomes the iterator ``x``, the others keep their name."""
    run, iterate = ("OnCall", "IterateOnCall") if on_call_only else ("Run", "Iterate")
    expected: dict[str, tuple[str, str]] = {}
    for name, signature in _operations().items():
        if on_call_only and not _on_a_call(signature):
            continue
        if name.endswith("_page"):
            expected[name.removesuffix("_page")] = (iterate, name)
        else:
            expected[name] = (run, name)
    return expected


def _derived(cls: type[object]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for name, member in vars(cls).items():
        if isinstance(member, (Run, Iterate, OnCall, IterateOnCall)):
            assert member.name == name
            found[name] = (type(member).__name__, member.build.__name__)
    return found


def _public(cls: type[object]) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def test_the_namespace_offers_every_operation() -> None:
    # list_page is also offered as it is: list filters are the one place a caller pages by hand
    assert _derived(CallsApi) == {**_expected(on_call_only=False), "list_page": ("Run", "list_page")}


def test_the_handle_offers_every_operation_on_one_call() -> None:
    assert _derived(CallHandleApi) == _expected(on_call_only=True)


def test_every_derived_method_runs_the_operation_it_is_named_after() -> None:
    for cls in (CallsApi, CallHandleApi):
        for name, (_, operation) in _derived(cls).items():
            assert vars(cls)[name].build is vars(CallOperations)[operation]


@pytest.mark.parametrize(("blocking", "awaiting"), [(Calls, AsyncCalls), (CallHandle, AsyncCallHandle)])
def test_blocking_and_awaiting_facades_have_the_same_members(blocking: type[object], awaiting: type[object]) -> None:
    assert _public(blocking) == _public(awaiting)
    assert _public(blocking) - _public(CallsApi if blocking is Calls else CallHandleApi) <= {"bind", "next_page"}


def test_derived_methods_keep_the_operation_signature_minus_self_and_call_id() -> None:
    operations = _operations()
    for name, member in vars(CallHandleApi).items():
        if isinstance(member, (OnCall, IterateOnCall)):
            full = operations[member.build.__name__]
            assert list(member.signature.parameters) == list(full.parameters)[2:], name
    for name, member in vars(CallsApi).items():
        if isinstance(member, (Run, Iterate)):
            full = operations[member.build.__name__]
            assert list(member.signature.parameters) == list(full.parameters)[1:], name


def test_the_applications_namespace_offers_every_application_operation() -> None:
    from callhooks.client import ApplicationOperations, Applications, AsyncApplications
    from callhooks.client.facades import ApplicationsApi

    operations = {
        name: member
        for name, member in vars(ApplicationOperations).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }
    expected = {
        name.removesuffix("_page"): ("Iterate" if name.endswith("_page") else "Run", name) for name in operations
    }
    assert _derived(ApplicationsApi) == expected
    assert set(expected) == {"create", "get", "list", "update", "delete", "assign_number", "numbers"}
    for name, (_, operation) in expected.items():
        member = vars(ApplicationsApi)[name]
        assert member.build is operations[operation]
        assert list(member.signature.parameters) == list(inspect.signature(operations[operation]).parameters)[1:]
    assert _public(Applications) == _public(AsyncApplications) == _public(ApplicationsApi)
