"""The test kit's polling helpers: they return as soon as a condition holds and fail naming what never did."""

from __future__ import annotations

import doctest
import itertools

import pytest

from callhooks.testing import latest, polling, wait_until, wait_until_async


def test_wait_until_returns_the_first_truthy_result() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "ready", interval=0) == "ready"


def test_wait_until_names_what_it_waited_for_when_it_gives_up() -> None:
    with pytest.raises(AssertionError, match=r"gave up after 0.05 s waiting for the answer event"):
        wait_until(lambda: None, timeout=0.05, what="the answer event")


@pytest.mark.anyio
async def test_wait_until_async_polls_a_coroutine_function() -> None:
    counter = itertools.count()

    async def third() -> int | None:
        value = next(counter)
        return value if value >= 2 else None

    assert await wait_until_async(third, interval=0) == 2
    with pytest.raises(AssertionError, match="waiting for nothing"):
        await wait_until_async(_never, timeout=0.05, what="nothing")


async def _never() -> None:
    return None


def test_latest_returns_the_last_value_either_way() -> None:
    counter = itertools.count()
    assert latest(lambda: next(counter), lambda value: value == 4, interval=0) == 4
    assert latest(lambda: "late", lambda value: False, timeout=0.02) == "late"  # the caller's assert shows it


def test_the_modules_example_runs() -> None:
    result = doctest.testmod(polling, raise_on_error=True)
    assert (result.attempted, result.failed) == (3, 0)
