"""``callhooks replay FILE --url URL`` and the sending half of ``callhooks send``: signed requests to a receiver.

Both commands sign with ``--secret`` or ``CALLHOOKS_SECRET`` (comma-separated, oldest first, as
``CallHooks.from_env`` reads it: the newest signs) and send ``--basic-auth`` or ``CALLHOOKS_BASIC_AUTH``; both
print one line per answer. ``send`` is a replay of a one-event fixture. ``replay`` warns when the fixture's
contexts were not sealed by the receiver of that secret (``fixtures.not_recorded_here``): it signs them as they are.

``--platform`` says whose requests to make: Catapult's and Bandwidth v2's carry their Basic credentials in an
``Authorization`` header; Twilio's are also signed as Twilio signs them (``X-Twilio-Signature``, with
``--auth-token`` or ``TWILIO_AUTH_TOKEN``), over the URL each is sent to and its form parameters.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Final

import httpx

from ..logs import escape, redact_url, redact_urls_in
from ..replay_file import (
    CallFixture,
    FixtureError,
    ReplayRequest,
    Timing,
    not_recorded_here,
    plan_replay,
    twilio_signed,
)
from ..replaying import read_fixture, send_planned
from ..signing import CallbackSigner, CallbackUrls, parse_basic_auth

__all__ = ["PLATFORMS", "ReplayCommandError", "auth_token_from", "callback_urls_from", "deliver", "run_replay"]
__all__ += ["signed_like"]

#: The platforms whose requests ``send`` and ``replay`` make (``--platform``).
PLATFORMS: Final = ("catapult", "bandwidth", "twilio")

#: Seconds each request may take (the platform's own ``callbackTimeout`` maximum).
REQUEST_TIMEOUT = 10.0
#: Characters of an answer's body shown after its status.
SHOWN_BODY_CHARS = 300


class ReplayCommandError(Exception):
    """A mistake in what was asked (a bad file, URL, secret or timing): one line, exit code 2."""


def callback_urls_from(secret: str | None, basic_auth: str | None) -> CallbackUrls:
    """Signing settings from the options, else ``CALLHOOKS_SECRET`` and ``CALLHOOKS_BASIC_AUTH``."""
    secret_text = secret or os.environ.get("CALLHOOKS_SECRET") or ""
    keys = [key.strip() for key in secret_text.split(",") if key.strip()]
    auth_text = basic_auth or os.environ.get("CALLHOOKS_BASIC_AUTH")
    try:
        credentials = parse_basic_auth(auth_text, "--basic-auth") if auth_text else None
    except ValueError as exc:
        raise ReplayCommandError(str(exc)) from None
    return CallbackUrls(CallbackSigner(keys) if keys else None, basic_auth=credentials)


def auth_token_from(option: str | None) -> str:
    """Twilio's auth token from ``--auth-token``, else ``TWILIO_AUTH_TOKEN`` (its newest when comma-separated)."""
    tokens = [t.strip() for t in (option or os.environ.get("TWILIO_AUTH_TOKEN") or "").split(",") if t.strip()]
    if not tokens:
        raise ReplayCommandError("--platform twilio signs its requests: set --auth-token or TWILIO_AUTH_TOKEN")
    return tokens[-1]


def signed_like(platform: str, requests: list[ReplayRequest], auth_token: str | None) -> list[ReplayRequest]:
    """``requests`` as ``platform`` makes them: Twilio's with ``X-Twilio-Signature`` over the URL each is sent to
    and its form parameters (``auth_token``: the account's); the others' as they are."""
    return twilio_signed(requests, auth_token_from(auth_token)) if platform == "twilio" else requests


def deliver(requests: Sequence[ReplayRequest], receiver: str) -> int:
    """Send ``requests``, printing each answer; 0 when every answer was 2xx, 1 otherwise (named on stderr)."""
    numbered = len(requests) > 1
    failed: list[str] = []

    def show(request: ReplayRequest, answer: httpx.Response) -> None:
        text = escape(answer.text[:SHOWN_BODY_CHARS])
        event_type = escape(request.event_type[:60])  # from the file: one short line whatever it holds
        number = f"[{request.index + 1}/{len(requests)}] " if numbered else ""
        print(f"{number}{request.method} {event_type} -> {answer.status_code} {text}".rstrip(), flush=True)
        if not answer.is_success:
            failed.append(f"#{request.index + 1} {event_type} ({answer.status_code})")

    async def run() -> None:
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            await send_planned(client, requests, on_answer=show)

    try:
        asyncio.run(run())
    except httpx.HTTPError as exc:
        # httpx may name the request's URL, whose path holds the token: hidden like the logs hide it.
        print(f"callhooks: could not reach {redact_url(receiver)}: {redact_urls_in(escape(exc))}", file=sys.stderr)
        return 1
    if failed and numbered:
        print(
            f"callhooks replay: {len(failed)} of {len(requests)} events were not answered 2xx: {', '.join(failed)}",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _read(path: str) -> CallFixture:
    try:
        return read_fixture(path)
    except OSError as exc:
        raise ReplayCommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except FixtureError as exc:
        raise ReplayCommandError(f"{path}: {exc}") from None


def run_replay(
    path: str,
    url: str,
    *,
    timing: Timing,
    speed: float | None,
    secret: str | None,
    basic_auth: str | None,
    platform: str = "catapult",
    auth_token: str | None = None,
) -> int:
    """The ``replay`` command: 0 when the receiver answered every event 2xx, 1 when not, 2 for bad input. The
    requests are made as ``platform`` makes them (``signed_like``)."""
    if platform not in PLATFORMS:
        raise ReplayCommandError(f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}")
    if speed is not None and timing == "compressed":
        raise ReplayCommandError("--speed applies to original timing; --timing compressed sends without waiting")
    fixture = _read(path)
    urls = callback_urls_from(secret, basic_auth)
    if urls.signer is None and any(event.context for event in fixture.events):
        raise ReplayCommandError(
            "the fixture's events carry signed contexts: set CALLHOOKS_SECRET (or --secret) to the receiver's secret"
        )
    try:
        requests = signed_like(platform, plan_replay(fixture, urls, url, timing=timing, speed=speed or 1.0), auth_token)
    except ValueError as exc:
        raise ReplayCommandError(str(exc)) from None
    if urls.signer is not None and any(event.context for event in fixture.events):
        why = not_recorded_here(fixture, urls.signer)
        if why is not None:  # a warning, not a refusal: fixtures from before the seal, or edited on purpose
            print(
                f"callhooks replay: warning: {escape(path)} was not recorded by this receiver ({why}); its contexts "
                "are signed with your secret as they are: check them before a receiver that trusts them sees them",
                file=sys.stderr,
                flush=True,
            )
    pace = f"x{speed:g} " if speed else ""
    length = fixture.events[-1].at - fixture.events[0].at
    count = f"{len(requests)} event{'s' if len(requests) != 1 else ''} over {length:g} s"
    print(
        f"replaying call {escape(fixture.call_id)}: {count} to {redact_url(url)} ({pace}{timing} timing)",
        flush=True,
    )
    return deliver(requests, url)
