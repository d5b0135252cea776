"""The fenced code blocks of the README and of every page under docs/, as the documentation tests read them.

A block is what a reader copies, so each must be complete as written. Two conventions make that checkable:

- ``# Needs: NAME=value, NAME=value`` as a Python block's first line names the environment it reads (and
  ``callhooks simulate`` there: the ``CATAPULT_*`` line the simulator prints); the test gives a block that and
  nothing else of callhooks' own variables.
- ``<!-- not run: REASON -->`` on the line before a fence exempts that block, with the reason said.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>.+?) -->$")
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass(frozen=True)
class Block:
    """One fenced block: its page, the line its fence opens on, its language and text."""

    page: Path
    line: int
    language: str
    source: str
    not_run: str | None  # the reason given, when the block is exempted

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def needs(self) -> str:
        """What the block's ``# Needs:`` first line names (empty when it has none)."""
        first = self.source.split("\n", 1)[0]
        return first[len("# Needs:") :].strip() if first.startswith("# Needs:") else ""


def pages() -> list[Path]:
    """The README and every Markdown page of the documentation site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` in order (indented ones in lists too, dedented; a fence's info is its language)."""
    found: list[Block] = []
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("```"):
            indent = len(line) - len(line.lstrip())
            language = line.strip()[3:].strip().split(" ", 1)[0]
            end = index + 1
            while not lines[end].lstrip().startswith("```"):
                end += 1
            before = lines[index - 1].strip() if index else ""
            marker = NOT_RUN.match(before)
            source = "\n".join(text[indent:] for text in lines[index + 1 : end]) + "\n"
            found.append(Block(page, index + 1, language, source, marker.group("reason") if marker else None))
            index = end
        index += 1
    return found


def all_blocks() -> list[Block]:
    """Every fenced block of every page."""
    return [block for page in pages() for block in blocks(page)]


def command_lines(source: str) -> list[list[str]]:
    """The ``callhooks ...`` commands of a shell block, as argument lists (after any ``NAME=value`` prefixes)."""
    commands: list[list[str]] = []
    for line in source.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        segment: list[str] = []
        for word in [*words, "&&"]:
            if word in {"&&", "||", ";", "|", "&"}:
                while segment and ASSIGNMENT.match(segment[0]):
                    segment.pop(0)
                if segment and Path(segment[0]).name == "callhooks":
                    commands.append(segment[1:])
                segment = []
            else:
                segment.append(word)
    return commands
