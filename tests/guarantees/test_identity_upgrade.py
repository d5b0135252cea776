"""An upgrade that changes the identity rule (callhooks/identity.py: rule 1 before, rule 2 now): an event an earlier
version handled, and stored under its rule-1 identity, is still a duplicate while such records may live."""

from __future__ import annotations

from pathlib import Path

import pytest

from callhooks import CallHooks, events
from callhooks.identity import event_identity, legacy_event_identity
from callhooks.receiver.guarantees import RULE_MARKER
from callhooks.stores import Store, open_store
from callhooks.testing import asend_event
from callhooks.testing.factories import dtmf_event
from tests.stores.support import SHARED_BACKENDS, backend_url, opened

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(params=SHARED_BACKENDS)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL, once per backend whose records outlive the process."""
    return backend_url(request, tmp_path)


def _receiver(store: Store) -> tuple[CallHooks, list[str]]:
    hooks = CallHooks(secret="s" * 32, store=store)
    seen: list[str] = []

    @hooks.on("dtmf")
    async def pressed(event: events.DtmfEvent) -> None:
        seen.append(str(event.dtmf_digit))

    return hooks, seen


async def test_an_event_an_earlier_version_handled_is_a_duplicate_on_a_store_that_outlives_it(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'upgrade.db'}")
    try:
        handled, new = dtmf_event("c-1", dtmf_digit="1"), dtmf_event("c-1", dtmf_digit="2")
        assert event_identity(handled) != legacy_event_identity(handled)
        # what the earlier version left: the event's record, done, under its rule-1 identity
        await store.claim(legacy_event_identity(handled), "old-worker", 2.0)
        assert await store.finish(legacy_event_identity(handled), "old-worker", ok=True)
        hooks, seen = _receiver(store)
        assert (await asend_event(hooks, handled)).status_code == 200
        assert (await asend_event(hooks, new)).status_code == 200
        assert seen == ["2"]  # the one handled before the upgrade did not run again
        marker = await store.record(RULE_MARKER)
        assert marker is not None and marker.state == "done"
        assert hooks.delivery.legacy_until == pytest.approx(marker.lease_until - 2.0 + store.limits.record_ttl)
        # a later receiver on the same store keeps the window of the rule's first run, not its own start
        later, seen_later = _receiver(store)
        await later.delivery.open()
        assert later.delivery.legacy_until == hooks.delivery.legacy_until
        # once no record of rule 1 can be left, nothing is looked up under it
        later.delivery.legacy_until = 1.0
        assert (await asend_event(later, handled)).status_code == 200
        assert seen_later == ["1"]
    finally:
        await store.close()


async def test_memory_never_looks_up_the_earlier_rule() -> None:
    # memory:// records live as long as the process that wrote them: all under this version's rule
    store = await open_store("memory://")
    event = dtmf_event("c-1", dtmf_digit="1")
    await store.claim(legacy_event_identity(event), "w", 2.0)
    await store.finish(legacy_event_identity(event), "w", ok=True)
    hooks, seen = _receiver(store)
    assert (await asend_event(hooks, event)).status_code == 200
    assert hooks.delivery.legacy_until == 0.0 and seen == ["1"]
    assert await store.record(RULE_MARKER) is None


async def test_a_new_store_opens_no_window_for_the_earlier_rule_for_any_receiver(shared_url: str) -> None:
    # a store holding no records when rule 2 first runs on it holds none under rule 1: no look-ups, ever
    store = await opened(shared_url)
    try:
        hooks, seen = _receiver(store)
        await hooks.delivery.open()
        assert hooks.delivery.legacy_until == 0.0
        assert (await asend_event(hooks, dtmf_event("c-1", dtmf_digit="1"))).status_code == 200
        later, _ = _receiver(store)  # another worker, or a restart: the clean marker tells it
        await later.delivery.open()
        assert later.delivery.legacy_until == 0.0
        assert seen == ["1"]
    finally:
        await store.close()


async def test_a_store_holding_records_when_the_rule_first_runs_opens_the_window(shared_url: str) -> None:
    store = await opened(shared_url)
    try:
        await store.claim("rule-1-identity", "old-worker", 2.0)
        assert await store.finish("rule-1-identity", "old-worker", ok=True)
        assert await store.holds_records(besides=RULE_MARKER)
        hooks, _ = _receiver(store)
        await hooks.delivery.open()
        assert hooks.delivery.legacy_until > 0.0
    finally:
        await store.close()
