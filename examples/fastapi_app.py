"""callhooks mounted inside a FastAPI application, next to the app's own routes.

Run it:  CALLHOOKS_SECRET=change-me CALLHOOKS_PUBLIC_URL=http://127.0.0.1:8000/hooks \
         uvicorn examples.fastapi_app:app
Callbacks arrive under /hooks/<token>; /hooks/healthz answers for load balancers; /calls/recent is ordinary
FastAPI.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from fastapi import FastAPI

from callhooks import CallHooks, events

hooks = CallHooks.from_env()  # CALLHOOKS_SECRET, CALLHOOKS_PUBLIC_URL (where /hooks is reachable)
recent: deque[dict[str, Any]] = deque(maxlen=50)


@hooks.on("answer")
async def answered(event: events.AnswerEvent) -> None:
    recent.append({"call": event.call_id, "event": "answer", "order": event.context.get("order")})


@hooks.on(state="completed")
async def finished(event: events.CallEvent) -> None:
    recent.append({"call": event.call_id, "event": event.event_type, "cause": getattr(event, "cause", None)})


app = FastAPI(title="Orders with phone confirmations")
app.mount("/hooks", hooks)


@app.get("/calls/recent")
async def recent_calls() -> list[dict[str, Any]]:
    return list(recent)


@app.post("/orders/{order_id}/callback-url")
async def order_callback_url(order_id: int) -> dict[str, str]:
    """The signed callbackUrl to give the platform when placing the confirmation call for an order."""
    return {"callbackUrl": hooks.callback_url(context={"order": order_id})}
