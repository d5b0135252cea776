"""Messages about settings read from files and request bodies: unknown names with the close match, bounded values.

Shared by far ends, faults and the scenario file's options, so that every mistake reads the same way:
``unknown far-end setting 'outcom' (did you mean 'outcome'?)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["MAX_SHOWN", "check_known", "close_match", "shown"]

#: How much of a value a message quotes: a huge value (an expanded YAML alias, a long string) stays one short line.
MAX_SHOWN = 60


def shown(value: object) -> str:
    """``repr(value)``, cut to :data:`MAX_SHOWN` characters."""
    text = repr(value) if not isinstance(value, dict | list) else f"a {type(value).__name__}"
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def close_match(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known`` to ``name``, or ``""``."""
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""


def check_known(names: Iterable[str], known: Iterable[str], what: str) -> None:
    """``ValueError`` naming the first of ``names`` that is not one of ``known``, with its close match."""
    allowed = sorted(known)
    for name in sorted(names):
        if name not in allowed:
            raise ValueError(f"unknown {what} {shown(name)}{close_match(name, allowed)}")
