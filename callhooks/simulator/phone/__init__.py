"""The simulator's phone: a person (or a test) is the far end of calls, from a page at ``/_sim/phone``."""

from __future__ import annotations

from .lines import Phone
from .page import PhonePage

__all__ = ["Phone", "PhonePage"]
