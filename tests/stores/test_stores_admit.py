"""A whole callback in two trips (``Store.admit``/``settle``): the same outcomes as the steps one by one, on every
backend (Redis answers ``slow`` to every admission, and the receiver then takes the steps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callhooks.stores import Admission, SessionValueError, Store
from tests.stores.support import backend_url, opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]
ONE_TRIP = {"memory", "sqlite"}


@pytest.fixture(params=sorted(ONE_TRIP))
async def one_trip_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store of each backend that admits in one trip (``store``, from conftest, is every backend)."""
    opened_store = await opened(backend_url(request, tmp_path))
    yield opened_store
    await opened_store.close()


def _admission(identity: str = "e1", **fields: object) -> Admission:
    values: dict[str, object] = {"owner": "w1", "lease": 30.0, "call_key": "call:c1", **fields}
    return Admission(identity, **values)  # type: ignore[arg-type]


async def test_an_admitted_event_is_claimed_holds_the_turn_and_settles_with_its_session(store: Store) -> None:
    await store.save_session("call:c1", {"step": 1})
    admitted = await store.admit(_admission())
    if store.backend not in ONE_TRIP:
        assert admitted.verdict == "slow"
        return
    assert (admitted.verdict, admitted.attempt, admitted.session) == ("run", 1, {"step": 1})
    assert (await store.record("e1")).state == "running"  # type: ignore[union-attr]
    # Someone else arriving for the call now waits its turn (slow), and the same event is another worker's.
    assert (await store.admit(_admission("e2"))).verdict == "slow"
    assert (await store.admit(_admission(owner="w2"))).verdict == "slow"
    assert await store.turn("call:c1", admitted.ticket, 30.0) == "yes"
    await store.settle(_admission(), admitted.ticket, ok=True, session={"step": 2})
    assert (await store.record("e1")).state == "done"  # type: ignore[union-attr]
    assert await store.load_session("call:c1") == {"step": 2}
    assert (await store.admit(_admission())).verdict == "duplicate"
    assert (await store.admit(_admission("e2"))).verdict == "run"  # the queue is free again


async def test_a_failed_run_is_admitted_again_and_a_bad_session_writes_nothing(one_trip_store: Store) -> None:
    store = one_trip_store  # Redis takes the steps one by one (tests/stores/test_stores.py)
    admitted = await store.admit(_admission())
    with pytest.raises(SessionValueError):
        await store.settle(_admission(), admitted.ticket, ok=True, session={"bad": object()})
    assert (await store.record("e1")).state == "running"  # type: ignore[union-attr]
    await store.settle(_admission(), admitted.ticket, ok=False, error="boom")
    assert (await store.record("e1")).state == "failed"  # type: ignore[union-attr]
    again = await store.admit(_admission())
    assert (again.verdict, again.attempt) == ("run", 2)


async def test_a_bound_token_admits_its_own_call_only(store: Store) -> None:
    mine = _admission(token="tok", call_id="c1")
    first = await store.admit(mine)
    assert first.verdict == ("run" if store.backend in ONE_TRIP else "slow")
    other = _admission("e9", token="tok", call_id="c2", call_key="call:c2")
    if store.backend in ONE_TRIP:
        assert (await store.admit(other)).verdict == "forbidden"
    else:
        assert await store.bind_token("tok", "c1") and not await store.bind_token("tok", "c2")


async def test_an_event_without_a_call_takes_no_ticket_and_has_no_session(one_trip_store: Store) -> None:
    store = one_trip_store
    admitted = await store.admit(_admission(call_key=None))
    assert (admitted.verdict, admitted.ticket, admitted.session) == ("run", 0, {})
    await store.settle(_admission(call_key=None), 0, ok=True)
    assert (await store.record("e1")).state == "done"  # type: ignore[union-attr]


async def test_an_event_of_no_call_on_a_bound_token_is_admitted(store: Store) -> None:
    # A transcription arrives on its call's bound URL without a call id: binding does not apply, as in the steps.
    await store.bind_token("tok", "c1")
    admitted = await store.admit(_admission(call_key=None, token="tok", call_id=None))
    assert admitted.verdict == ("run" if store.backend in ONE_TRIP else "slow")
