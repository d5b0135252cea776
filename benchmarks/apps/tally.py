"""What the peers' handlers share: a count of the events they saw, and the dict dispatch of the hand-written ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


class Tally:
    """Events handled so far (one process, one event loop: a plain int is enough)."""

    def __init__(self) -> None:
        self.count = 0


tally = Tally()


async def handle(fields: dict[str, Any]) -> None:
    """The stand-in for a user's handler: the work every peer must do is reach it."""
    tally.count += 1


#: Dict dispatch as a hand-written endpoint does it: event type (Catapult, Bandwidth v2) or Twilio's call status
#: to handler, with a fallback.
HANDLERS: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
    event_type: handle
    for event_type in (
        *("answer", "speak", "gather", "dtmf", "playback", "recording", "hangup"),
        *("initiate", "redirect", "recordComplete", "recordingAvailable", "disconnect"),
        *("ringing", "in-progress", "completed"),
    )
}


async def dispatch(fields: dict[str, Any], key: str = "eventType") -> None:
    await HANDLERS.get(fields.get(key, ""), handle)(fields)
