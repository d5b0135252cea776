"""The example IVR as a BXML application: handlers answer with call-control documents, no REST calls at all.

answer -> a menu in a Gather; 1 transfers to sales (with a whisper to the salesperson), 2 says goodbye and hangs
up, any other key hears the menu again; with no key at all the document ends and the platform hangs up 30 s
later. Verb URLs are left out: the receiver fills them with its own signed URL carrying the call's context, so
each ``gather`` comes back here, verified.

``create_app()`` builds it from the environment (nothing happens at import):

    CALLHOOKS_SECRET, CALLHOOKS_PUBLIC_URL     the receiver (see CallHooks.from_env); callbacks come by GET
    IVR_SALES_NUMBER                           where "press 1" transfers to

Run it:  uvicorn --factory examples.bxml_ivr:create_app   (give the platform an application whose
incomingCallUrl is the receiver's URL and whose callbackHttpMethod is GET). `callhooks demo --bxml` runs it
against the local simulator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from callhooks import CallHooks, bxml, events

log = logging.getLogger("examples.bxml_ivr")

MENU = "Thanks for calling Example Company. Press 1 for sales or 2 to end the call."


def menu() -> bxml.Response:
    """The menu: a Gather, last in its document, so the reply to its ``gather`` is what runs next."""
    return bxml.Response(bxml.Gather(bxml.SpeakSentence(MENU), max_digits=1, inter_digit_timeout=10, tag="main-menu"))


def create_app(environ: Mapping[str, str] | None = None) -> CallHooks:
    """The BXML IVR configured from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    sales_number = env.get("IVR_SALES_NUMBER", "+19195550199")
    hooks = CallHooks.from_env(env, callback_http_method="GET")

    @hooks.on("answer")
    def answered(event: events.AnswerEvent) -> bxml.Response:
        return menu()

    @hooks.on("gather", tag="main-menu")
    def menu_choice(event: events.GatherEvent) -> bxml.Response | None:
        if event.reason == "hung-up":
            return None
        if event.digits == "1":
            return bxml.Response(
                bxml.SpeakSentence("Connecting you to sales."),
                bxml.Transfer(
                    bxml.PhoneNumber(sales_number),
                    bxml.SpeakSentence("You have a customer on the line."),
                    tag="sales",
                ),
                bxml.SpeakSentence("Sales is not available right now. Goodbye."),
                bxml.Hangup(),
            )
        if event.digits == "2":
            return bxml.Response(bxml.SpeakSentence("Goodbye."), bxml.Hangup())
        return menu()

    @hooks.on("transferComplete")
    def transferred(event: events.CallEvent) -> None:
        log.info("call %s: sales hung up", event.call_id)

    @hooks.on(state="completed")
    def finished(event: events.CallEvent) -> None:
        log.info("call %s finished: %s %s", event.call_id, event.event_type, getattr(event, "cause", ""))

    return hooks
