"""Routing: precedence of the eight key levels, duplicates, catch-all, sync/async, include, look-up count."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import httpx
import pytest

from callhooks import CallEvent, CallHooks, HandlerKey, Router, events, parse_event
from callhooks.receiver import routing
from callhooks.receiver.routing import Handler

# The eight key levels, most specific first, for an event of type "gather", state "active", tag "menu".
T, S, G = "gather", "active", "menu"
LEVELS: list[tuple[str | None, str | None, str | None]] = [
    (T, S, G),
    (T, None, G),
    (None, S, G),
    (None, None, G),
    (T, S, None),
    (T, None, None),
    (None, S, None),
    (None, None, None),
]


def gather_event(**extra: Any) -> CallEvent:
    event = parse_event({"eventType": "gather", "callId": "c-1", "tag": G, **extra})
    assert event.call_state == S  # implied by the event type
    return event


def make_handler(label: str) -> Any:
    def handler(event: CallEvent) -> str:
        return label

    handler.__qualname__ = f"handler_{label}"
    return handler


def register(router: Router, level: tuple[str | None, str | None, str | None], label: str) -> None:
    event_type, state, tag = level
    router.add_handler(make_handler(label), event_type, state=state, tag=tag)


@pytest.mark.parametrize("level", range(len(LEVELS)))
def test_each_level_alone_matches(level: int) -> None:
    router = Router()
    register(router, LEVELS[level], "only")
    found = router.match(gather_event())
    assert found is not None
    assert found.key == HandlerKey(*LEVELS[level])
    assert found.func(None) == "only"


@pytest.mark.parametrize(("winner", "loser"), [(i, j) for i, j in itertools.combinations(range(len(LEVELS)), 2)])
@pytest.mark.parametrize("winner_first", [True, False])
def test_precedence_every_pair(winner: int, loser: int, winner_first: bool) -> None:
    router = Router()
    order = [(winner, "win"), (loser, "lose")]
    for level, label in order if winner_first else reversed(order):
        register(router, LEVELS[level], label)
    found = router.match(gather_event())
    assert found is not None
    assert found.func(None) == "win", f"{LEVELS[winner]} must beat {LEVELS[loser]}"


def test_precedence_order_is_tag_then_type_then_state() -> None:
    # The levels table itself encodes the documented rule; check it against the rule, not by hand.
    def rank(level: tuple[str | None, str | None, str | None]) -> tuple[bool, bool, bool]:
        event_type, state, tag = level
        return (tag is None, event_type is None, state is None)

    assert sorted(LEVELS, key=rank) == LEVELS


def test_keys_that_do_not_fit_the_event_do_not_match() -> None:
    router = Router()
    router.add_handler(make_handler("other-tag"), "gather", tag="other")
    router.add_handler(make_handler("other-type"), "dtmf")
    router.add_handler(make_handler("other-state"), state="completed")
    assert router.match(gather_event()) is None
    # An event without a tag never matches a tagged key.
    router.add_handler(make_handler("tagged"), tag=G)
    assert router.match(parse_event({"eventType": "gather"})) is None


def test_catch_all() -> None:
    hooks = CallHooks(secret=None, insecure=True)

    @hooks.on()
    def anything(event: CallEvent) -> None: ...

    @hooks.on("answer")
    def answered(event: CallEvent) -> None: ...

    for wire in ({"eventType": "dtmf"}, {"eventType": "brand-new"}, {"eventType": "recording", "tag": "x"}):
        found = hooks.match(parse_event(wire))
        assert found is not None
        assert found.func is anything
    found = hooks.match(parse_event({"eventType": "answer"}))
    assert found is not None
    assert found.func is answered


def test_unknown_event_types_are_routable_by_their_type_string() -> None:
    router = Router()
    router.add_handler(make_handler("sms"), "sms", allow_unknown=True)
    found = router.match(parse_event({"eventType": "sms"}))
    assert found is not None
    assert found.func(None) == "sms"


def test_state_routing_uses_implied_state() -> None:
    router = Router()
    router.add_handler(make_handler("active"), state="active")
    router.add_handler(make_handler("done"), state="completed")
    for wire, label in [({"eventType": "dtmf"}, "active"), ({"eventType": "hangup"}, "done")]:
        found = router.match(parse_event(wire))
        assert found is not None
        assert found.func(None) == label


def test_match_returns_none_when_empty() -> None:
    assert Router().match(parse_event({"eventType": "answer"})) is None


# -- duplicates ---------------------------------------------------------------------------------------------------


def first_handler(event: CallEvent) -> None: ...


def second_handler(event: CallEvent) -> None: ...


def third_handler(event: CallEvent) -> None: ...


def test_duplicate_key_raises_naming_both_functions() -> None:
    router = Router()
    router.on("gather", tag="menu")(first_handler)
    with pytest.raises(ValueError) as info:
        router.on("gather", tag="menu")(second_handler)
    message = str(info.value)
    assert "first_handler" in message
    assert "second_handler" in message
    assert "'menu'" in message
    # The first registration is untouched.
    found = router.match(gather_event())
    assert found is not None
    assert found.func is first_handler
    assert len(router) == 1


def test_duplicate_catch_all_raises() -> None:
    router = Router()
    router.on()(first_handler)
    with pytest.raises(ValueError, match="second_handler"):
        router.on()(second_handler)


def test_alias_spellings_are_the_same_key() -> None:
    router = Router()
    router.add_handler(first_handler, "transferComplete")
    with pytest.raises(ValueError, match="first_handler"):
        router.add_handler(second_handler, "transfer-complete")


def test_same_function_may_serve_several_keys() -> None:
    router = Router()
    router.add_handler(first_handler, "answer")
    router.add_handler(first_handler, "hangup")
    assert len(router) == 2


# -- include ----------------------------------------------------------------------------------------------------


def test_include_adds_the_routers_handlers() -> None:
    menu = Router()
    menu.on("gather", tag="main-menu")(first_handler)
    hooks = CallHooks(secret=None, insecure=True)
    hooks.on("answer")(second_handler)
    hooks.include(menu)
    assert len(hooks) == 2
    found = hooks.match(parse_event({"eventType": "gather", "tag": "main-menu"}))
    assert found is not None
    assert found.func is first_handler
    assert set(hooks.handlers) == {HandlerKey("gather", None, "main-menu"), HandlerKey("answer", None, None)}


def test_include_duplicate_across_routers_is_the_same_error() -> None:
    a, b = Router(), Router()
    a.on("answer")(first_handler)
    b.on("answer")(second_handler)
    hooks = CallHooks(secret=None, insecure=True)
    hooks.include(a)
    with pytest.raises(ValueError) as info:
        hooks.include(b)
    assert "first_handler" in str(info.value)
    assert "second_handler" in str(info.value)


def test_router_cannot_include_itself() -> None:
    router = Router()
    with pytest.raises(ValueError):
        router.include(router)


# -- hangup covers reject ---------------------------------------------------------------------------------------

REJECT = {"eventType": "hangup", "callId": "c-1", "cause": "CALL_REJECTED"}


def test_hangup_handler_receives_rejects() -> None:
    router = Router()
    router.on("hangup")(first_handler)
    for wire in (REJECT, {"eventType": "reject"}, {"eventType": "hangup", "cause": "NORMAL_CLEARING"}):
        found = router.match(parse_event(wire))
        assert found is not None
        assert found.func is first_handler


@pytest.mark.parametrize("reject_first", [True, False])
def test_reject_handler_takes_rejects_from_hangup(reject_first: bool) -> None:
    router = Router()
    if reject_first:
        router.on("reject")(second_handler)
        router.on("hangup")(first_handler)
    else:
        router.on("hangup")(first_handler)
        router.on("reject")(second_handler)
    reject = router.match(parse_event(REJECT))
    hangup = router.match(parse_event({"eventType": "hangup", "cause": "NORMAL_CLEARING"}))
    assert reject is not None
    assert hangup is not None
    assert reject.func is second_handler
    assert hangup.func is first_handler


def test_reject_handler_from_included_router_takes_precedence() -> None:
    sub = Router()
    sub.on("reject")(second_handler)
    hooks = CallHooks(secret=None, insecure=True)
    hooks.on("hangup")(first_handler)
    hooks.include(sub)
    found = hooks.match(parse_event(REJECT))
    assert found is not None
    assert found.func is second_handler


def test_hangup_cover_keeps_state_and_tag() -> None:
    router = Router()
    router.on("hangup", tag="order-1")(first_handler)
    assert router.match(parse_event({**REJECT, "tag": "order-1"})) is not None
    assert router.match(parse_event(REJECT)) is None  # untagged reject: the tagged key does not apply


def test_hangup_cover_does_not_count_as_registered_reject() -> None:
    router = Router()
    router.on("hangup")(first_handler)
    router.on("reject")(second_handler)  # no duplicate error: the cover is not a registration
    assert len(router) == 2


# -- signatures -------------------------------------------------------------------------------------------------


def no_args() -> None: ...


def three_args(event: CallEvent, call: Any, extra: Any) -> None: ...


def kw_only(event: CallEvent, *, required: int) -> None: ...


@pytest.mark.parametrize("func", [no_args, three_args, kw_only])
def test_bad_signatures_rejected_at_registration(func: Any) -> None:
    router = Router()
    with pytest.raises(TypeError, match="must take"):
        router.add_handler(func, "answer")
    assert len(router) == 0


def test_non_callable_and_bad_key_parts_rejected() -> None:
    router = Router()
    with pytest.raises(TypeError):
        router.add_handler("not a function", "answer")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        router.add_handler(first_handler, "")
    with pytest.raises(TypeError):
        router.add_handler(first_handler, tag=5)  # type: ignore[arg-type]
    assert len(router) == 0


def test_decorator_without_parentheses_is_an_error() -> None:
    router = Router()
    with pytest.raises(TypeError, match="parentheses"):
        router.on(first_handler)  # type: ignore[arg-type]


def test_signature_inspected_once_at_registration() -> None:
    def with_call(event: CallEvent, call: Any) -> None: ...

    def with_default(event: CallEvent, extra: int = 1) -> None: ...

    async def coroutine(event: CallEvent) -> None: ...

    class AsyncCallable:
        async def __call__(self, event: CallEvent) -> None: ...

    router = Router()
    handlers: dict[str, Handler] = {
        "call": router.add_handler(with_call, "answer"),
        "one": router.add_handler(first_handler, "dtmf"),
        "coro": router.add_handler(coroutine, "gather"),
        "obj": router.add_handler(AsyncCallable(), "speak"),
    }
    assert handlers["call"].wants_call
    assert not handlers["one"].wants_call
    assert not handlers["one"].is_async
    assert handlers["coro"].is_async
    assert handlers["obj"].is_async
    assert "first_handler" in handlers["one"].name
    assert router.add_handler(with_default, "playback").wants_call  # two positional parameters


# -- sync and async handlers through the app --------------------------------------------------------------------


@pytest.mark.anyio
async def test_sync_handlers_run_in_a_worker_thread_async_on_the_loop() -> None:
    hooks = CallHooks(secret=None, insecure=True)
    threads: dict[str, int] = {}

    @hooks.on("answer")
    def sync_handler(event: CallEvent) -> None:
        threads["sync"] = threading.get_ident()

    @hooks.on("hangup")
    async def async_handler(event: CallEvent) -> None:
        threads["async"] = threading.get_ident()

    loop_thread = threading.get_ident()
    transport = httpx.ASGITransport(app=hooks)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for event_type in ("answer", "hangup"):
            response = await client.post("/", json={"eventType": event_type, "callId": "c-1"})
            assert response.status_code == 200
    assert threads["async"] == loop_thread
    assert threads["sync"] != loop_thread


@pytest.mark.anyio
async def test_exactly_one_handler_runs_per_event() -> None:
    hooks = CallHooks(secret=None, insecure=True)
    calls: list[str] = []

    @hooks.on()
    async def catch_all(event: CallEvent) -> None:
        calls.append("catch-all")

    @hooks.on("gather")
    async def gather(event: CallEvent) -> None:
        calls.append("gather")

    @hooks.on("gather", tag="menu")
    def menu(event: events.GatherEvent) -> None:
        calls.append(f"menu:{event.digits}")

    transport = httpx.ASGITransport(app=hooks)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.post("/", json={"eventType": "gather", "tag": "menu", "digits": "12"})
        await client.post("/", json={"eventType": "gather", "tag": "other"})
        await client.post("/", json={"eventType": "dtmf"})
    assert calls == ["menu:12", "gather", "catch-all"]


# -- dispatch cost does not grow with the number of handlers ------------------------------------------------------


class CountingDict(dict[Any, Any]):
    lookups = 0

    def get(self, key: Any, default: Any = None) -> Any:
        CountingDict.lookups += 1
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        CountingDict.lookups += 1
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        CountingDict.lookups += 1
        return super().__contains__(key)

    # A scan over the handlers counts as one look-up per handler, so a scanning ``match`` fails the test.
    def __iter__(self) -> Any:
        CountingDict.lookups += len(self)
        return super().__iter__()

    def items(self) -> Any:
        CountingDict.lookups += len(self)
        return super().items()

    def values(self) -> Any:
        CountingDict.lookups += len(self)
        return super().values()

    def keys(self) -> Any:
        CountingDict.lookups += len(self)
        return super().keys()


def lookups_for(router: Router, event: CallEvent) -> tuple[int, Handler | None]:
    """The index look-ups of a first match of ``event`` (what the router remembers of earlier ones is emptied)."""
    router._matched.clear()
    router._index = CountingDict(router._index)
    CountingDict.lookups = 0
    found = router.match(event)
    return CountingDict.lookups, found


def test_ten_thousand_handlers_cost_the_same_lookups_as_one() -> None:
    def build(n: int) -> Router:
        router = Router()
        for i in range(n):
            # Distinct tags and states, all on event types an event below could have: none fits those events.
            router.add_handler(
                first_handler, "gather" if i % 2 else None, state=f"state-{i}", tag=f"tag-{i}", allow_unknown=True
            )
        return router

    small, big = build(1), build(10_000)
    assert len(big) == 10_000
    probes = [
        parse_event({"eventType": "gather", "tag": "nowhere"}),  # misses every level: worst case, 8 look-ups
        parse_event({"eventType": "gather"}),
        parse_event({"eventType": "brand-new", "tag": "x", "callState": "y"}),
    ]
    for event in probes:
        small_count, small_found = lookups_for(small, event)
        big_count, big_found = lookups_for(big, event)
        assert small_found is None
        assert big_found is None
        assert big_count <= 8
        assert big_count == small_count
    assert lookups_for(big, probes[0])[0] == 8

    # A hit among the 10,000 is also found by look-ups alone.
    hit = parse_event({"eventType": "gather", "tag": "tag-9999", "callState": "state-9999"})
    count, found = lookups_for(big, hit)
    assert found is not None
    assert found.key == HandlerKey("gather", "state-9999", "tag-9999")
    assert count == 1


def test_a_slot_seen_before_is_matched_without_index_lookups_and_changes_are_seen() -> None:
    router = Router()
    router.add_handler(first_handler, "gather")
    gather = parse_event({"eventType": "gather", "tag": "menu", "callState": "active"})
    assert lookups_for(router, gather) == (6, router.handlers[HandlerKey("gather", None, None)])
    CountingDict.lookups = 0
    assert router.match(gather) is router.handlers[HandlerKey("gather", None, None)]
    assert CountingDict.lookups == 0  # remembered
    router.add_handler(second_handler, "gather", tag="menu")  # a more specific handler: found from now on
    assert router.match(gather) is router.handlers[HandlerKey("gather", None, "menu")]
    other = Router()
    other.add_handler(third_handler, "answer")
    router.include(other)
    assert router.match(parse_event({"eventType": "answer"})) is router.handlers[HandlerKey("answer", None, None)]


def test_what_match_remembers_is_bounded() -> None:
    router = Router()
    router.add_handler(first_handler)
    for i in range(3 * routing._MATCHED_MAX):  # a tag per call: every slot new
        assert router.match(parse_event({"eventType": "answer", "tag": f"call-{i}"})) is not None
        assert len(router._matched) <= routing._MATCHED_MAX


def test_lookup_count_through_the_app_path_is_bounded() -> None:
    hooks = CallHooks(secret=None, insecure=True)
    for i in range(10_000):
        hooks.add_handler(first_handler, state=f"s{i}", tag=f"t{i}", allow_unknown=True)
    count, found = lookups_for(hooks.router, parse_event({"eventType": "answer", "tag": "t5000"}))
    assert found is None
    assert count <= 8
