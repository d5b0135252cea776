"""The example IVR on Twilio: handlers answer with TwiML, and every callback URL they leave out is filled with the
receiver's signed URL naming the kind of request it will bring and the reply's tag.

answer -> a menu in a Gather; 1 dials sales, 2 records a message, any other key hears the menu again; with no key
the document ends and Twilio hangs up. When the dialled leg ends (or nobody answered) the ``dial`` request says how
(``DialCallStatus``); a recorded message comes back as ``record``. Status callbacks (``status``) follow the call to
``completed``; ``recording-status`` says the message is stored.

``create_app()`` builds it from the environment (nothing happens at import):

    CALLHOOKS_SECRET, CALLHOOKS_PUBLIC_URL     the receiver (see CallHooks.from_env)
    TWILIO_AUTH_TOKEN                          signs every request Twilio sends
    IVR_SALES_NUMBER                           who "press 1" dials
    IVR_LOG_DIR                                (optional) a file per worker process listing each handler run

Run it:  callhooks run examples.twilio_ivr:create_app --factory   (point a number's Voice URL, or a call's
``Url``, at ``hooks.callback_url(...)``). ``callhooks demo --platform twilio`` runs it against the local simulator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from callhooks import CallHooks
from callhooks.twilio import events, twiml
from callhooks.twilio.receiving import Reply

log = logging.getLogger("examples.twilio_ivr")

MENU = "Thanks for calling Example Company. Press 1 for sales or 2 to leave a message."


def menu() -> Reply:
    """The menu: a Gather whose ``action`` comes back as ``gather`` tagged ``main-menu``."""
    return Reply(twiml.Response(twiml.Gather(twiml.Say(MENU), num_digits=1, timeout=10)), tag="main-menu")


def create_app(environ: Mapping[str, str] | None = None) -> CallHooks:
    """The Twilio IVR configured from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    sales_number = env.get("IVR_SALES_NUMBER", "+19195550199")
    hooks = CallHooks.from_env(env, platform="twilio")
    journal = _journal(env.get("IVR_LOG_DIR"))

    @hooks.on("answer")
    @hooks.on("call")
    def answered(event: events.CallRequestEvent) -> Reply:
        journal("answered", event)
        return menu()

    @hooks.on("gather", tag="main-menu")
    def menu_choice(event: events.GatherEvent) -> twiml.Response | Reply:
        journal("menu_choice", event)
        if event.digits == "1":
            return twiml.Response(
                twiml.Say("Connecting you to sales."), twiml.Dial(twiml.Number(sales_number), timeout=20)
            )
        if event.digits == "2":
            return twiml.Response(twiml.Say("Leave a message after the beep."), twiml.Record(max_length=30, timeout=3))
        return menu()

    @hooks.on("dial")
    def dialled(event: events.DialEvent) -> twiml.Response:
        journal("dialled", event)
        log.info("call %s: sales %s", event.call_sid, event.dial_call_status)
        if event.dial_call_status == "completed":
            return twiml.Response(twiml.Hangup())
        return twiml.Response(twiml.Say("Sales is not available right now. Goodbye."), twiml.Hangup())

    @hooks.on("record")
    def recorded(event: events.RecordEvent) -> twiml.Response:
        journal("recorded", event)
        log.info("call %s: message %s (%s s)", event.call_sid, event.recording_sid, event.recording_duration)
        return twiml.Response(twiml.Say("Thank you. Goodbye."), twiml.Hangup())

    @hooks.on("status")
    def progressed(event: events.StatusEvent) -> None:
        journal("progressed", event)
        if event.call_status == "completed":
            log.info("call %s completed after %s s", event.call_sid, event.call_duration)

    @hooks.on("recording-status")
    def stored(event: events.RecordingStatusEvent) -> None:
        journal("stored", event)
        log.info("recording %s is %s", event.recording_sid, event.recording_status)

    return hooks


def _journal(directory: str | None) -> Callable[[str, Any], None]:
    """Each handler run as one line (``handler kind call_sid token``) in a file of this process, when asked."""
    if not directory:
        return lambda handler, event: None
    path = Path(directory) / f"handled-{os.getpid()}.log"

    def write(handler: str, event: Any) -> None:
        with path.open("a") as file:
            file.write(f"{handler} {event.kind} {event.call_sid} {event.idempotency_token}\n")

    return write
