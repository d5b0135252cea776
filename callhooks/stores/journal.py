"""The journal's rules, written once for every backend: how an entry is encoded and checked, and what a read
may ask for. No I/O here.

An entry is a JSON object. One that is not JSON, or whose JSON is larger than ``Limits.journal_entry_max_bytes``,
is refused with a ``ValueError`` naming its position in the batch, before anything of the batch is written: a
batch is kept whole or not at all. (Truncating was the alternative, but a cut JSON object is no longer the
object the writer meant, and a reader could not tell; the writer knows which of its fields can be shortened.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["JournalEntry", "check_read", "decode_entry", "encode_entries"]

_MAX_SEQUENCE = 2**63 - 1  # SQLite's largest integer, below Redis's largest stream id

#: One entry as ``read_journal`` returns it: its sequence number and a new dict.
JournalEntry = tuple[int, dict[str, Any]]


def encode_entries(entries: Sequence[Mapping[str, Any]], max_bytes: int) -> list[str]:
    """Each entry as compact JSON text; ``ValueError`` naming the first entry that is not a JSON object of at
    most ``max_bytes`` bytes (UTF-8)."""
    texts = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ValueError(f"journal entry {index} is a {type(entry).__name__}, not a mapping")
        try:
            text = json.dumps(dict(entry), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"journal entry {index} is not JSON: {exc}") from None
        size = len(text.encode())
        if size > max_bytes:
            raise ValueError(
                f"journal entry {index} is {size} bytes of JSON, more than the {max_bytes} allowed "
                "(Limits.journal_entry_max_bytes)"
            )
        texts.append(text)
    return texts


def decode_entry(text: str | bytes) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(text)
    return entry


def check_read(after: int, limit: int) -> None:
    """``ValueError`` unless ``after`` is a sequence number (0 or more) and ``limit`` a positive count."""
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < _MAX_SEQUENCE:
        raise ValueError(f"after must be a sequence number (an int from 0 below 2**63), not {after!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, not {limit!r}")
