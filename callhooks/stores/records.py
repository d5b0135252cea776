"""Pure state transitions for the records the memory and SQLite stores keep under a key (sans-I/O).

Each function takes the current value (``None`` when absent or expired) and the time, and returns the new value
(``None`` deletes it), when it expires, and the answer. The store applies it atomically: one dict operation on
the event loop for ``memory://``, one ``BEGIN IMMEDIATE`` transaction for SQLite. The Redis store does the same
in Lua (``redis.py``).
"""

from __future__ import annotations

from typing import Any

from .base import Claim, OnceRecord, Turn

__all__ = ["Change", "claim", "enter", "finish", "leave", "renew", "to_record", "turn"]

#: (new value or None to delete, expiry in seconds since the epoch, answer)
Change = tuple[Any, float, Any]


def claim(value: Any, now: float, owner: str, lease: float, keep: float) -> Change:
    if value is not None:
        if value["state"] == "done":
            return value, now + keep, Claim("duplicate", 0)
        if value["state"] == "running" and value["lease_until"] > now:
            return value, max(now + keep, value["lease_until"]), Claim("running", 0)
    attempts = (value["attempts"] if value is not None else 0) + 1
    new = {"state": "running", "owner": owner, "lease_until": now + lease, "attempts": attempts, "error": None}
    return new, now + max(keep, lease), Claim("acquired", attempts)


def renew(value: Any, now: float, owner: str, lease: float, keep: float) -> Change:
    if value is None or value["state"] != "running" or value["owner"] != owner:
        return value, now + keep, False
    return {**value, "lease_until": now + lease}, now + max(keep, lease), True


def finish(value: Any, now: float, owner: str, ok: bool, error: str | None, keep: float) -> Change:
    if value is None or value["state"] != "running" or value["owner"] != owner:
        return value, now + keep, False
    return {**value, "state": "done" if ok else "failed", "error": error}, now + keep, True


def to_record(value: Any) -> OnceRecord | None:
    if value is None:
        return None
    return OnceRecord(value["state"], value["owner"], value["lease_until"], value["attempts"], value["error"])


# A call's queue: {"next": next ticket, "head": ticket being served, "live": {ticket: lease_until}}. A ticket
# missing from "live" left or was dropped; the head skips such tickets and those whose lease expired.


def _queue_change(queue: dict[str, Any], answer: Any) -> Change:
    if not queue["live"]:
        return None, 0.0, answer  # nobody waits: the key goes, so idle calls cost nothing
    return queue, max(queue["live"].values()), answer


def enter(value: Any, now: float, lease: float) -> Change:
    queue: dict[str, Any] = value if value is not None else {"next": 0, "head": 0, "live": {}}
    ticket = queue["next"]
    queue = {**queue, "next": ticket + 1, "live": {**queue["live"], str(ticket): now + lease}}
    return _queue_change(queue, ticket)


def turn(value: Any, now: float, ticket: int, lease: float) -> Change:
    if value is None or str(ticket) not in value["live"]:
        return (value, max(value["live"].values()), "lost") if value else (None, 0.0, "lost")
    live = {**value["live"], str(ticket): now + lease}
    head = value["head"]
    while head < ticket:
        until = live.get(str(head))
        if until is not None and until > now:
            break
        live.pop(str(head), None)
        head += 1
    answer: Turn = "yes" if head == ticket else "wait"
    return _queue_change({**value, "head": head, "live": live}, answer)


def leave(value: Any, now: float, ticket: int) -> Change:
    if value is None or str(ticket) not in value["live"]:
        return (value, max(value["live"].values()), None) if value else (None, 0.0, None)
    live = {k: v for k, v in value["live"].items() if k != str(ticket)}
    head = value["head"] + 1 if value["head"] == ticket else value["head"]
    return _queue_change({**value, "head": head, "live": live}, None)
