"""The Python examples of a Markdown page, so a test can run each and the page cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def examples(page: str) -> list[Any]:
    """Each fenced ``python`` block of ``page`` (a path from the repository's root) as a pytest parameter."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / page).read_text(), flags=re.MULTILINE | re.DOTALL)
    assert blocks, f"{page} has no Python example"
    return [pytest.param(block, id=f"{Path(page).stem}-{i}") for i, block in enumerate(blocks)]


def run(source: str, page: str) -> None:
    """Run one example as a module of its own; its assertions are the test."""
    exec(compile(source, page, "exec"), {"__name__": "docs_example"})
