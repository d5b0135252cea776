"""callhooks, as a user writes it: configured from the environment (a secret, so every token is verified),
typed events, a handler per event of the IVR and a catch-all."""

from __future__ import annotations

from callhooks import events

from .callhooks_setup import receiver
from .tally import tally

__all__ = ["app", "tally"]

hooks = receiver()


@hooks.on("answer")
async def answered(event: events.AnswerEvent) -> None:
    tally.count += 1


@hooks.on("gather", tag="main-menu")
async def menu_choice(event: events.GatherEvent) -> None:
    tally.count += 1


@hooks.on("hangup")
async def hung_up(event: events.HangupEvent) -> None:
    tally.count += 1


@hooks.on()
async def anything_else(event: events.CallEvent) -> None:
    tally.count += 1


app = hooks
