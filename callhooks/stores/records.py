"""Pure state transitions for the records the memory and SQLite stores keep under a key (sans-I/O).

Each function takes the current value (``None`` when absent or expired) and the time, and returns the new value
(``None`` deletes it), when it expires, and the answer. The store applies it atomically: one dict operation on
the event loop for ``memory://``, one ``BEGIN IMMEDIATE`` transaction for SQLite. The Redis store does the same
in Lua (``redis.py``).
"""

from __future__ import annotations

from typing import Any

from .base import Admission, Admitted, Claim, ClaimStatus, OnceRecord, Turn
from .reply import decode_reply
from .sessions import decode_session

__all__ = [
    "KEEP",
    "Change",
    "Changes",
    "admit",
    "claim",
    "enter",
    "finish",
    "leave",
    "renew",
    "settle",
    "to_record",
    "turn",
]

#: (new value or None to delete, expiry in seconds since the epoch, answer)
Change = tuple[Any, float, Any]


def claim(value: Any, now: float, owner: str, lease: float, keep: float) -> Change:
    new, expires, status, attempt = _claimed(value, now, owner, lease, keep)
    return new, expires, Claim(status, attempt)


#: A running record whose lease ran out is taken over only this share of the claimer's lease after a claimer first
#: saw it so (``suspect_at``, cleared by a renewal): a worker that was alive through a store outage saves its
#: outcome (``outcomes.py``, every 0.1 s) in that time, before a duplicate that reached the store first runs the
#: event again. A dead worker's event waits that much longer: 0.3 s of the default 2 s lease.
TAKEOVER_GRACE_SHARE = 0.15


def _claimed(value: Any, now: float, owner: str, lease: float, keep: float) -> tuple[Any, float, ClaimStatus, int]:
    """``claim`` with its answer as (status, attempt), which ``admit`` reads without building a ``Claim``."""
    if value is not None:
        if value["state"] == "done":
            return value, now + keep, "duplicate", 0
        if value["state"] == "running":
            if value["lease_until"] > now:
                return value, max(now + keep, value["lease_until"]), "running", 0
            suspect = value.get("suspect_at")
            if suspect is None:
                return {**value, "suspect_at": now}, now + max(keep, lease), "running", 0
            if now - suspect < lease * TAKEOVER_GRACE_SHARE:
                return value, now + max(keep, lease), "running", 0
    attempts = (value["attempts"] if value is not None else 0) + 1
    new = {"state": "running", "owner": owner, "lease_until": now + lease, "attempts": attempts, "error": None}
    return new, now + max(keep, lease), "acquired", attempts


def renew(value: Any, now: float, owner: str, lease: float, keep: float) -> Change:
    if value is None or value["state"] != "running" or value["owner"] != owner:
        return value, now + keep, False
    renewed = {**value, "lease_until": now + lease}
    renewed.pop("suspect_at", None)  # alive after all
    return renewed, now + max(keep, lease), True


def finish(
    value: Any, now: float, owner: str, ok: bool, error: str | None, keep: float, reply: str | None = None
) -> Change:
    """The outcome, when ``owner``'s claim still runs, or when the record is gone (the store lost its data while
    the handler ran, or before an outcome kept through an outage was saved): written then as claimed once.
    ``reply``: the run's reply (``reply.encode_reply``), kept with a done record (format 2; format 1 had none)."""
    if value is None:
        value = {"state": "running", "owner": owner, "lease_until": now, "attempts": 1, "error": None}
    elif value["state"] != "running" or value["owner"] != owner:
        return value, now + keep, False
    new = {**value, "state": "done" if ok else "failed", "error": error}
    if reply is not None and ok:
        new["reply"] = reply
    return new, now + keep, True


def to_record(value: Any) -> OnceRecord | None:
    if value is None:
        return None
    reply = decode_reply(value.get("reply"))  # records of format 1 have none
    return OnceRecord(value["state"], value["owner"], value["lease_until"], value["attempts"], value["error"], reply)


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
    if len(value["live"]) == 1:
        return None, 0.0, None  # the last ticket: the queue goes (what ``_queue_change`` decides, without a copy)
    live = value["live"].copy()  # a copy, then one deletion: the order of the others is kept
    del live[str(ticket)]
    head = value["head"] + 1 if value["head"] == ticket else value["head"]
    return _queue_change({**value, "head": head, "live": live}, None)


# A whole callback in two atomic steps over several keys (``admit`` and ``settle`` of the memory and SQLite
# stores): the token binding, the event's record, the call's queue and its session. ``KEEP`` leaves a key as it is.

KEEP: Any = object()
#: Per key (in the order given): KEEP, or (new value or None to delete, expiry).
Changes = list[Any]


def admit(
    token: Any, once: Any, queue: Any, session: Any, now: float, admission: Admission, keep: float, token_ttl: float
) -> tuple[Changes, Admitted]:
    """``bind_token``, ``record``, ``enter`` + ``turn`` and ``claim`` at once, when the call's queue is empty
    and no worker runs the event; otherwise ``slow`` with nothing changed but the token's binding."""
    changes: Changes = [KEEP, KEEP, KEEP, KEEP]
    if admission.token is not None and admission.call_id is not None:  # events of no call are not bound
        bound = admission.call_id if token is None else token
        if bound != admission.call_id:
            return changes, Admitted("forbidden")
        if token is None:
            changes[0] = (bound, now + token_ttl)
    if once is not None and once["state"] == "done":
        return changes, Admitted("duplicate", reply=decode_reply(once.get("reply")))
    if admission.call_key is not None and queue is not None:
        return changes, Admitted("slow")  # tickets ahead (or stale ones to skip): wait for the turn step by step
    new_once, once_expires, status, attempt = _claimed(once, now, admission.owner, admission.lease, keep)
    if status != "acquired":
        if new_once is not once:
            changes[1] = (new_once, once_expires)  # its lease ran out: from now on the takeover grace runs
        return changes, Admitted("slow")  # another worker is running it: wait for its outcome
    changes[1] = (new_once, once_expires)
    if admission.call_key is None:
        return changes, Admitted("run", 0, attempt)
    # What ``enter`` makes of an empty queue, written out: its first ticket, 0, held for the lease.
    until = now + admission.lease
    changes[2] = ({"next": 1, "head": 0, "live": {"0": until}}, until)
    return changes, Admitted("run", 0, attempt, decode_session(session) if session is not None else None)


def settle(
    once: Any,
    queue: Any,
    session: Any,
    now: float,
    admission: Admission,
    ticket: int,
    outcome: tuple[bool, str | None, str | None],
    saved: str | None,
    session_ends: float | None,
    keep: float,
    session_ttl: float,
) -> Changes:
    """``finish``, ``save_session``/``end_session`` and ``leave`` at once (``outcome``: ok, error and the encoded
    reply; ``saved``: the session's new text). The session is written only with the outcome and while the ticket
    is still held: settled a second time (an outcome saved after an outage, whose first try may have landed), or
    after its ticket lapsed and the call's next event went ahead, it never overwrites what that event saved."""
    ok, error, reply = outcome
    new_once, once_expires, finished = finish(once, now, admission.owner, ok, error, keep, reply)
    changes: Changes = [(new_once, once_expires), KEEP, KEEP]
    if admission.call_key is None:
        return changes
    held = queue is not None and str(ticket) in queue["live"]
    new_queue, queue_expires, _ = leave(queue, now, ticket)
    changes[1] = (new_queue, queue_expires)
    text = saved if saved is not None else session
    if finished and held and text is not None and (saved is not None or session_ends is not None):
        changes[2] = (text, now + (session_ends if session_ends is not None else session_ttl))
    return changes
