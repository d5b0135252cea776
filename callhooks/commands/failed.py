"""``callhooks failed list|show|replay|drop``: manage the failed events kept in a store: background events that
failed every run, and callbacks the receiver answered 5xx (``failed_callbacks.py``)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone
from typing import Final

from ..receiver.background import CALLBACK_PAYLOAD_KIND, FailedEvents, describe_failed
from ..stores import FailedEvent, StoreUnavailable, open_store

__all__ = ["FAILED_ACTIONS", "FailedCommandError", "run_failed_command"]

FAILED_ACTIONS: Final = ("list", "show", "replay", "drop")


class FailedCommandError(Exception):
    """A mistake in what was asked (no store given, ``memory://``, a bad URL): one line, exit code 2."""


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_line(failed: FailedEvent) -> str:
    fields = failed.payload.get("fields") or {}
    kind = "callback" if failed.payload.get("kind") == CALLBACK_PAYLOAD_KIND else "background"
    what = f"{kind} {fields.get('eventType', '?')} call={fields.get('callId', '-')}"
    error = failed.error.splitlines()[0] if failed.error else ""
    return f"{failed.id}  {_when(failed.failed_at)}  attempts={failed.attempts}  {what}  {error[:120]}"


async def _run(action: str, store_url: str, failed_id: str | None, limit: int) -> int:
    store = await open_store(store_url)
    try:
        failed_events = FailedEvents(store)
        if action == "list":
            found = await failed_events.list(limit)
            for failed in found:
                print(_one_line(failed))
            print(f"{len(found)} failed event{'' if len(found) == 1 else 's'}", file=sys.stderr)
            return 0
        assert failed_id is not None
        if action == "show":
            shown = await failed_events.show(failed_id)
            if shown is not None:
                print(json.dumps(describe_failed(shown), indent=2, sort_keys=True))
                return 0
        elif action == "replay":
            item_id = await failed_events.replay(failed_id)
            if item_id is not None:
                print(f"replayed {failed_id}: queued again as {item_id}")
                return 0
        elif await failed_events.drop(failed_id):
            print(f"dropped {failed_id}")
            return 0
        print(f"callhooks failed {action}: no failed event {failed_id!r} in this store", file=sys.stderr)
        return 1
    finally:
        await store.close()


def run_failed_command(action: str, store_url: str | None, failed_id: str | None = None, limit: int = 100) -> int:
    """Run one action against the store at ``store_url``; exit code 0, 1 (no such event, store unreachable)."""
    if not store_url:
        raise FailedCommandError("no store: pass --store URL or set CALLHOOKS_STORE (sqlite:///... or redis://...)")
    if store_url.startswith("memory:"):
        raise FailedCommandError(
            "memory:// lives inside the receiver's process; failed events can be managed from the command line "
            "only in a shared store (sqlite:///path.db or redis://host:port/0)"
        )
    if action not in FAILED_ACTIONS:
        raise FailedCommandError(f"unknown action {action!r}; one of: {', '.join(FAILED_ACTIONS)}")
    if limit < 1:
        raise FailedCommandError("--limit must be at least 1")
    try:
        return asyncio.run(_run(action, store_url, failed_id, limit))
    except ValueError as exc:  # a URL open_store does not accept
        raise FailedCommandError(str(exc)) from None
    except StoreUnavailable as exc:
        print(f"callhooks failed {action}: {exc}", file=sys.stderr)
        return 1
