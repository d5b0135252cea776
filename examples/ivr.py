"""A small IVR, deployed standalone: greet the caller, offer a menu, transfer to sales or say goodbye.

``create_app()`` builds it from the environment (nothing happens at import):

    CALLHOOKS_SECRET, CALLHOOKS_PUBLIC_URL            the receiver (see CallHooks.from_env)
    CATAPULT_USER_ID, CATAPULT_API_TOKEN, CATAPULT_API_SECRET, CATAPULT_BASE_URL
                                                      the platform: a Catapult-compatible API such as
                                                      `callhooks simulate` (v1's public host is retired)
    IVR_SALES_NUMBER                                  where "press 1" transfers to

Run it:  uvicorn --factory examples.ivr:create_app   (or `callhooks run --factory examples.ivr:create_app`,
or the Procfile). `callhooks demo` runs exactly this app against the local simulator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from callhooks import AsyncCallHandle, AsyncClient, CallHooks, events

log = logging.getLogger("examples.ivr")

MENU = "Thanks for calling Example Company. Press 1 for sales, 2 to hear this again, or 9 to end the call."


def create_app(environ: Mapping[str, str] | None = None) -> CallHooks:
    """The IVR configured from ``environ`` (default: ``os.environ``), with its paired client."""
    env = os.environ if environ is None else environ
    sales_number = env.get("IVR_SALES_NUMBER", "+19195550199")
    hooks = CallHooks.from_env(env)
    # Both directions of pairing: calls it creates call back to hooks; handlers get its call handles.
    client = AsyncClient(
        env.get("CATAPULT_USER_ID"),
        env.get("CATAPULT_API_TOKEN"),
        env.get("CATAPULT_API_SECRET"),
        base_url=env.get("CATAPULT_BASE_URL"),
        hooks=hooks,
    )
    hooks.attach_client(client)
    hooks.on_shutdown(client.close)

    async def offer_menu(call: AsyncCallHandle) -> None:
        await call.gather(max_digits=1, inter_digit_timeout=10, prompt=MENU, tag="main-menu")

    @hooks.on("incomingcall")
    async def ring(event: events.IncomingCallEvent) -> None:
        # Applications answer inbound calls automatically (autoAnswer); the answer event follows.
        log.info("incoming call %s from %s", event.call_id, event.from_)

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        if event.context.get("leg") == "sales":
            await call.speak("You have a customer on the line.", tag="whisper")
            return
        await offer_menu(call)

    @hooks.on("gather", tag="main-menu")
    async def menu_choice(event: events.GatherEvent, call: AsyncCallHandle) -> None:
        if event.reason == "hung-up":
            return
        if event.digits == "1":
            await call.transfer(sales_number, callback_context={"leg": "sales", "from_call": event.call_id})
        elif event.digits == "9":
            await call.speak("Goodbye.", tag="goodbye")
        else:
            await offer_menu(call)

    @hooks.on("speak", tag="goodbye")
    async def said_goodbye(event: events.SpeakEvent, call: AsyncCallHandle) -> None:
        if event.status == "done":
            await call.hangup()

    @hooks.on(state="completed")
    async def finished(event: events.CallEvent) -> None:
        log.info("call %s finished: %s %s", event.call_id, event.event_type, getattr(event, "cause", ""))

    return hooks
