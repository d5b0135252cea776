"""``callhooks send EVENT_TYPE --url URL [--platform P] [field=value ...]``: one sample event, as ``P`` sends it.

Each platform's sample comes from its own package (Catapult: ``event_factories``; Bandwidth v2:
``bandwidth.samples``; Twilio: ``twilio.samples``), the given fields set on it, and is checked by that platform's
parser before it goes: a bad field is one line here, not a 422 from the receiver. Catapult and Bandwidth v2 post
JSON (``--get``: a query string); Twilio posts a form, to a URL whose token names the kind (``EVENT_TYPE``) and
``--tag``, signed with ``X-Twilio-Signature``. The sending is a replay of a one-event call (``replay_command``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from ..events import encode_query
from ..replay_file import build_fixture, plan_replay
from ..signing import route_context
from .replay import PLATFORMS, ReplayCommandError, callback_urls_from, deliver, signed_like

__all__ = ["SendCommandError", "run_send"]

FORM = "application/x-www-form-urlencoded"


class SendCommandError(Exception):
    """A mistake in what was asked: one line, exit code 2."""


def run_send(
    platform: str,
    event_type: str,
    url: str,
    fields: Sequence[tuple[str, str]],
    *,
    get: bool = False,
    secret: str | None = None,
    context: Mapping[str, Any] | None = None,
    basic_auth: str | None = None,
    unsigned: bool = False,
    tag: str | None = None,
    auth_token: str | None = None,
) -> int:
    """The ``send`` command: 0 when the receiver answered 2xx, 1 when not; ``SendCommandError`` for bad input."""
    if platform not in PLATFORMS:
        raise SendCommandError(f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}")
    try:
        urls = callback_urls_from(secret, basic_auth)
    except ReplayCommandError as exc:
        raise SendCommandError(str(exc)) from None
    if context is not None and urls.signer is None:
        raise SendCommandError("--context needs --secret (or CALLHOOKS_SECRET): a context travels in the signed token")
    if urls.signer is None and not unsigned:
        raise SendCommandError(
            "set --secret or CALLHOOKS_SECRET: a receiver refuses an unsigned event "
            "(--unsigned sends one anyway, for a receiver run with CALLHOOKS_INSECURE=1)"
        )
    if urls.signer is not None and unsigned:
        raise SendCommandError("--unsigned and a secret contradict each other")
    if tag is not None and platform != "twilio":
        raise SendCommandError(f"--tag is for Twilio, whose requests carry none: on {platform} set the field tag=...")
    method = "GET" if get else "POST"
    if platform == "twilio":
        params = _twilio_params(event_type, tag, fields)
        body, media_type = urlencode(params), None if get else FORM
        context = route_context(context, event_type, tag)  # the kind and tag travel in the URL's token
        call_id = params.get("CallSid")
    else:
        wire = _catapult_fields(event_type, fields) if platform == "catapult" else _v2_fields(event_type, fields)
        body, media_type = (encode_query(wire) if get else json.dumps(wire)), None
        call_id = wire.get("callId")
    # One event is a replay of a one-event call: the same signing, sending and reporting as `callhooks replay`.
    call = build_fixture(str(call_id or "-"), [(0.0, method, body, context, None, media_type)])
    try:
        requests = signed_like(platform, plan_replay(call, urls, url), auth_token)
    except ValueError as exc:
        raise SendCommandError(str(exc)) from None
    except ReplayCommandError as exc:
        raise SendCommandError(str(exc)) from None
    return deliver(requests, url)


def _catapult_fields(event_type: str, fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    from ..event_factories import FACTORIES
    from ..events import parse_event, wire_fields

    factory = FACTORIES.get(event_type)
    if factory is None:
        raise SendCommandError(f"unknown event type {event_type!r}; one of: {', '.join(FACTORIES)}")
    wire = wire_fields(factory())
    wire.update(fields)
    try:
        return wire_fields(parse_event(wire))
    except ValidationError as exc:
        raise SendCommandError(_invalid(exc)) from None


def _v2_fields(event_type: str, fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    from ..bandwidth.events import BANDWIDTH_V2, parse_event
    from ..bandwidth.samples import sample_fields

    if event_type not in BANDWIDTH_V2.event_types:
        raise SendCommandError(
            f"unknown event type {event_type!r}; one of: {', '.join(sorted(BANDWIDTH_V2.event_types))}"
        )
    wire = sample_fields(event_type)
    wire.update(fields)
    try:
        parse_event(wire)
    except ValidationError as exc:
        raise SendCommandError(_invalid(exc)) from None
    return wire


def _twilio_params(kind: str, tag: str | None, fields: Sequence[tuple[str, str]]) -> dict[str, str]:
    from ..platform import Delivery
    from ..twilio.events import KINDS, TWILIO
    from ..twilio.samples import sample_params

    if kind not in KINDS:
        raise SendCommandError(f"unknown kind {kind!r}; one of: {', '.join(KINDS)}")
    params = sample_params(kind)
    params.update(fields)
    try:
        TWILIO.parse(Delivery(params, kind=kind, tag=tag))
    except ValidationError as exc:
        raise SendCommandError(_invalid(exc)) from None
    return params


def _invalid(exc: ValidationError) -> str:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
    return f"invalid field value: {problems}"
