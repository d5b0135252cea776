"""callhooks on Twilio, as a user writes it: every request's ``X-Twilio-Signature`` checked against the auth
token and the public URL (the load generator signs with the same), typed requests, a handler per kind of the IVR
and a catch-all."""

from __future__ import annotations

from callhooks.twilio import events

from ..workload import AUTH_TOKEN, PUBLIC_URL
from .callhooks_setup import receiver
from .tally import tally

__all__ = ["app", "tally"]

hooks = receiver(platform="twilio", auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)


@hooks.on("call")
async def answered(event: events.CallRequestEvent) -> None:
    tally.count += 1


@hooks.on("gather", tag="main-menu")
async def menu_choice(event: events.GatherEvent) -> None:
    tally.count += 1


@hooks.on("status")
async def status(event: events.StatusEvent) -> None:
    tally.count += 1


@hooks.on()
async def anything_else(event: events.TwilioEvent) -> None:
    tally.count += 1


app = hooks
