"""The names of the keys the stores keep their records under: a family's prefix, then an id as the whole rest.

Ids come from callbacks (call and conference ids, which may hold any character, ``:`` included) and from
hashes. Two rules make a key name one record only: the id is always the whole tail of the key (nothing is
written after it), and no family's prefix is the start of another's. So ``ONCE + a == ONCE + b`` only when
``a == b``, and no id reaches another family's key. (The Redis store's queue once had ``fifo:<key>:live``: the
call ``X:live`` then shared call ``X``'s live set and Redis answered ``WRONGTYPE``; the live set is a family of
its own now.) The memory and SQLite stores use these names as they are; Redis puts ``callhooks:`` before them.
"""

from __future__ import annotations

from typing import Final

from .sessions import token_digest

__all__ = ["FAMILIES", "FIFO", "LIVE", "ONCE", "SESSION", "TOKEN", "token_key"]

ONCE: Final = "once:"  #: + an event's identity: its idempotency record
FIFO: Final = "fifo:"  #: + a call key: the call's queue (its next ticket and head)
LIVE: Final = "live:"  #: + a call key: the live tickets of the call's queue and their lease ends (Redis only)
SESSION: Final = "session:"  #: + a call key: the call's session
TOKEN: Final = "token:"  #: + a token's digest: the call id a per-call token is bound to

#: Every family, for the check that none is a prefix of another (tests/stores/test_stores_keys.py).
FAMILIES: Final = (ONCE, FIFO, LIVE, SESSION, TOKEN)


def token_key(token: str) -> str:
    """The key of a token's binding: the stores keep a digest of the token, never the token."""
    return TOKEN + token_digest(token)
