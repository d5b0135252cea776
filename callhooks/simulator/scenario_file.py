"""Reading a scenario file (JSON, or YAML with PyYAML) safely, with one short line for every problem.

* At most :data:`MAX_SCENARIO_BYTES`: a scenario is a few lines, and a file never becomes a memory problem.
* YAML is read with PyYAML's safe loader (no ``!!python/...`` object construction: such a tag is an error
  line) and without aliases: ``*name`` is refused where it appears, so an alias bomb (a few lines that expand
  to billions of nodes) costs nothing. Scenario files do not need aliases: numbers inherit from ``default``.
* Every error is a :class:`ScenarioError` (a ``ValueError``): ``FILE: line L, column C: problem`` or
  ``FILE: key: problem``, at most :data:`MAX_MESSAGE` characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["MAX_MESSAGE", "MAX_SCENARIO_BYTES", "ScenarioError", "read_scenario_file"]

MAX_SCENARIO_BYTES = 1024 * 1024
MAX_MESSAGE = 300


class ScenarioError(ValueError):
    """A scenario file's problem, as one line naming the file: ``FILE: where: problem``."""

    def __init__(self, path: str | Path, problem: str) -> None:
        line = f"{path}: {' '.join(problem.split())}"  # one line, whatever the problem's text holds
        super().__init__(line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…")


def read_scenario_file(path: str | Path) -> Mapping[str, Any]:
    """The top-level mapping of the file at ``path`` (``.json``: JSON; anything else: YAML)."""
    with open(path, "rb") as file:
        raw = file.read(MAX_SCENARIO_BYTES + 1)
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(path, f"larger than {MAX_SCENARIO_BYTES // 1024} KiB: not a scenario file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, f"not UTF-8 text (byte {exc.start})") from None
    data = _json(path, text) if str(path).endswith(".json") else _yaml(path, text)
    if not isinstance(data, Mapping):
        raise ScenarioError(path, "a scenario must be a mapping of settings at the top level")
    return data


def _json(path: str | Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(path, f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _yaml(path: str | Path, text: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ScenarioError(
            path, "reading YAML scenarios needs PyYAML: pip install 'callhooks[simulator]' (or use a .json file)"
        ) from None

    class Loader(yaml.SafeLoader):
        """The safe loader, refusing aliases where they appear (before anything is expanded)."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.MarkedYAMLError(
                    problem="aliases (*name) are not allowed in scenario files", problem_mark=mark
                )
            return super().compose_node(parent, index)

    loader = Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ScenarioError(path, where + str(exc.problem or exc.context or "invalid YAML")) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
