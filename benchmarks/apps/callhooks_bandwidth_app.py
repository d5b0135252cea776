"""callhooks on Bandwidth Voice API v2, as a user writes it: the receiver's Basic credentials required (the load
generator sends them), typed events, a handler per event of the IVR and a catch-all."""

from __future__ import annotations

from callhooks.bandwidth import events

from ..workload import BASIC_AUTH
from .callhooks_setup import receiver
from .tally import tally

__all__ = ["app", "tally"]

hooks = receiver(platform="bandwidth", basic_auth=BASIC_AUTH)


@hooks.on("initiate")
async def answered(event: events.InitiateEvent) -> None:
    tally.count += 1


@hooks.on("gather", tag="main-menu")
async def menu_choice(event: events.GatherEvent) -> None:
    tally.count += 1


@hooks.on("disconnect")
async def hung_up(event: events.DisconnectEvent) -> None:
    tally.count += 1


@hooks.on()
async def anything_else(event: events.BandwidthEvent) -> None:
    tally.count += 1


app = hooks
