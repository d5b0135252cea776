"""Every Python example in the README runs, so the documentation cannot drift from the code.

Examples that talk to the platform run against the simulator (``CATAPULT_*`` point at it); test functions an
example defines are called, with the ``callhooks_simulator`` fixture when they ask for it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callhooks.testing import SimulatorSession, free_port, running_simulator

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorSession]:
    with running_simulator() as session:
        for name, value in session.environ.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CALLHOOKS_SECRET", "readme-secret")
        # Nothing listens there: the simulator records the failed deliveries, nothing leaves the machine.
        monkeypatch.setenv("CALLHOOKS_PUBLIC_URL", f"http://127.0.0.1:{free_port()}/hooks")
        yield session


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(source: str, platform: SimulatorSession) -> None:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(source, "README.md", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    for test in tests:
        if "callhooks_simulator" in inspect.signature(test).parameters:
            with running_simulator() as session:
                test(callhooks_simulator=session)
        else:
            test()
