"""Platform-style ids: a prefix plus 23 lowercase alphanumerics (``c-…``, ``g-…``, ``rec-…``).

Ids come from a private ``random.Random`` so a seeded simulator hands out the same ids on every run.
"""

from __future__ import annotations

import random
import string

__all__ = ["IdFactory"]

_ALPHABET = string.ascii_lowercase + string.digits


class IdFactory:
    """Makes ids; ``seed`` makes the sequence reproducible."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def new(self, prefix: str) -> str:
        """A fresh id such as ``c-3mhq7xzt…`` for ``prefix="c"``."""
        return prefix + "-" + "".join(self._random.choices(_ALPHABET, k=23))
