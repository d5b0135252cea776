"""callhooks, as a user writes it: configured from the environment (a secret, so every token is verified),
typed events, a handler per event of the IVR and a catch-all."""

from __future__ import annotations

import logging
import os

from callhooks import CallHooks, events

from .tally import tally

__all__ = ["app", "tally"]

# CALLHOOKS_SECRET: the driver signs its URLs with the same one. CALLHOOKS_STORE: the store of the guarantees
# (exactly once, per-call order, sessions), memory:// unless the driver's --store says otherwise. Every request
# the driver sends is a distinct event (workload.LAP_MARK), so each one runs its handler once.
# CALLHOOKS_STORE=none (the driver's --store none): no guarantees, to measure what they cost.
guarantees_off = os.environ.get("CALLHOOKS_STORE", "").strip() == "none"
hooks = CallHooks.from_env(store=None) if guarantees_off else CallHooks.from_env()
# The driver serves every peer with --log-level warning and no access log, and the other peers write no line per
# request: so no per-callback INFO line here either (its level off, it costs one isEnabledFor check).
logging.getLogger("callhooks").setLevel(logging.WARNING)
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
