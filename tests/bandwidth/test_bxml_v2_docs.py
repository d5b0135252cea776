"""Every Python example of docs/platforms/bandwidth-v2-bxml.md runs."""

from __future__ import annotations

import pytest

from tests.helpers.markdown import examples, run

PAGE = "docs/platforms/bandwidth-v2-bxml.md"


@pytest.mark.parametrize("source", examples(PAGE))
def test_each_example_runs(source: str) -> None:
    run(source, PAGE)
