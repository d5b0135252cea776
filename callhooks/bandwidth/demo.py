"""The demo IVR on Bandwidth Voice API v2: every step is BXML v2 answering a synchronous webhook.

answer (or initiate) -> a menu in a Gather; 1 transfers to sales, 2 records a message, any other key (or none)
hears the menu again, at most three times; after the transfer or the message the caller hears goodbye. Verb URLs
are left out: the receiver fills them with its own signed URL (and its Basic credentials), so every webhook comes
back here, verified. The session keeps what the caller chose (``choices``) and how the call went (``steps``).

``create_app()`` builds it from the environment (nothing happens at import):

    CALLHOOKS_SECRET, CALLHOOKS_PUBLIC_URL, CALLHOOKS_BASIC_AUTH, CALLHOOKS_STORE   the receiver (CallHooks.from_env)
    IVR_SALES_NUMBER                                                             where "press 1" transfers to

``callhooks demo --platform bandwidth`` runs it against the local simulator; ``callhooks run --factory
callhooks.bandwidth.demo:create_app`` serves it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..app import CallHooks
from . import bxml
from .events import DisconnectEvent, GatherEvent

__all__ = ["MENU", "MENU_TAG", "create_app", "menu"]

MENU = "Thanks for calling Example Company. Press 1 for sales or 2 to leave a message."
MENU_TAG = "main-menu"
MAX_MENUS = 3


def menu() -> bxml.Response:
    """The menu: a Gather whose ``gather`` webhook's BXML replaces the rest of the document."""
    return bxml.Response(bxml.Gather(bxml.SpeakSentence(MENU), max_digits=1, inter_digit_timeout=5, tag=MENU_TAG))


def _step(event: Any, name: str) -> None:
    event.session["steps"] = [*event.session.get("steps", []), name]


def create_app(environ: Mapping[str, str] | None = None) -> CallHooks:
    """The v2 IVR configured from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    sales_number = env.get("IVR_SALES_NUMBER", "+19195550199")
    hooks = CallHooks.from_env(env, platform="bandwidth")

    @hooks.on("answer")
    @hooks.on("initiate")
    def answered(event: Any) -> bxml.Response:
        _step(event, event.event_type)
        event.session["menus"] = 1
        return menu()

    @hooks.on("gather", tag=MENU_TAG)
    def menu_choice(event: GatherEvent) -> bxml.Response:
        _step(event, f"gather:{event.digits or '-'}")
        event.session["choices"] = [*event.session.get("choices", []), event.digits or ""]
        if event.digits == "1":
            return bxml.Response(
                bxml.SpeakSentence("Connecting you to sales."),
                bxml.Transfer(bxml.PhoneNumber(sales_number), tag="sales"),
            )
        if event.digits == "2":
            return bxml.Response(
                bxml.SpeakSentence("Leave your message after the tone."),
                bxml.Record(max_duration=60, tag="message"),
            )
        menus = int(event.session.get("menus", 1))
        if menus >= MAX_MENUS:
            return bxml.Response(bxml.SpeakSentence("Goodbye."), bxml.Hangup())
        event.session["menus"] = menus + 1
        return menu()

    @hooks.on("transferComplete")
    def transferred(event: Any) -> bxml.Response:
        _step(event, "transferComplete")
        return bxml.Response(bxml.SpeakSentence("Thank you for calling. Goodbye."), bxml.Hangup())

    @hooks.on("recordComplete")
    def recorded(event: Any) -> bxml.Response:
        _step(event, "recordComplete")
        event.session["message"] = event.recording_id
        return bxml.Response(bxml.SpeakSentence("Thank you, we got your message. Goodbye."), bxml.Hangup())

    @hooks.on("disconnect")
    def ended(event: DisconnectEvent) -> None:
        _step(event, f"disconnect:{event.cause}")

    return hooks
