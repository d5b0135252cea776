"""callhooks, as a user writes it: configured from the environment (a secret, so every token is verified),
typed events, a handler per event of the IVR and a catch-all."""

from __future__ import annotations

from callhooks import CallHooks, events

from .tally import tally

__all__ = ["app", "tally"]

# CALLHOOKS_SECRET: the driver signs its URLs with the same one. store=None: the workload replays the same events
# (wrapping at the end of its file), which exactly-once handling would answer without running a handler; the
# guarantees' own cost per callback is measured by benchmarks/stores_micro.py.
hooks = CallHooks.from_env(store=None)
if hooks.signer is None:
    raise RuntimeError("the benchmark measures callhooks with verification on: set CALLHOOKS_SECRET")


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
