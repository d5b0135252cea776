"""The app the JSON-log tests serve with plain ``uvicorn`` (and ``callhooks run``): configured from the
environment (secret, basic auth, public URL); a hangup handler fails with the callback URL (credentials and
token) in its exception message, as a careless handler might."""

from __future__ import annotations

from callhooks import CallEvent, CallHooks

hooks = CallHooks.from_env()


@hooks.on("answer")
def answered(event: CallEvent) -> None:
    pass


@hooks.on("hangup")
def hung_up(event: CallEvent) -> None:
    raise RuntimeError(f"could not reach {hooks.callback_url({'call': event.call_id})} for the next leg")
