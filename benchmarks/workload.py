"""The requests each benchmark mode sends, written to a file that wrk's Lua script and the Python load
generator both replay (one request a line: ``METHOD<TAB>target<TAB>body``, then a ``<TAB>Name: value`` per
header), in order, wrapping at the end.

Every peer gets the same file in a round. The callhooks peer verifies the tokens (and the Basic credentials of
Bandwidth v2, the ``X-Twilio-Signature`` of Twilio); the others ignore them, as a hand-written endpoint without
verification would. ``platform`` picks whose callbacks the file holds (``PLATFORMS``): Catapult v1's JSON, Bandwidth
v2's JSON with the receiver's Basic credentials (so the 401 challenge is not what is measured), or Twilio's signed
forms; Bandwidth v2 and Twilio in the per-call modes only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from callhooks.bandwidth.factories import FACTORIES as V2_FACTORIES
from callhooks.events import encode_query, wire_fields
from callhooks.signing import CallbackSigner, route_context
from callhooks.testing.factories import FACTORIES
from callhooks.twilio.events import IDEMPOTENCY_HEADER, wire_params
from callhooks.twilio.factories import FACTORIES as TWILIO_FACTORIES
from callhooks.twilio.signature import SIGNATURE_HEADER, compute_signature

__all__ = [
    "AUTH_TOKEN",
    "BASIC_AUTH",
    "CALL_SCRIPT",
    "LAP_MARK",
    "MODES",
    "PLATFORMS",
    "PUBLIC_URL",
    "SCRIPTS",
    "Mode",
    "Request",
    "build",
    "write",
]

Platform = Literal["catapult", "bandwidth", "twilio"]
PLATFORMS: tuple[Platform, ...] = ("catapult", "bandwidth", "twilio")
#: The Bandwidth v2 peers' Basic credentials (the callhooks peer requires them, the load generator sends them).
BASIC_AUTH = ("bench", "benchmark-password")
#: The Twilio peers' auth token, which signs every request, and the public URL the signature is computed over.
AUTH_TOKEN = "benchmark-twilio-auth-token"
PUBLIC_URL = "https://bench.example"

UrlPattern = Literal["single", "per-call", "worst"]


@dataclass(frozen=True)
class Mode:
    method: Literal["POST", "GET"]
    urls: UrlPattern

    @property
    def name(self) -> str:
        return f"{self.method.lower()}-{self.urls}"


MODES: dict[str, Mode] = {
    mode.name: mode for urls in ("single", "per-call", "worst") for mode in (Mode("POST", urls), Mode("GET", urls))
}

#: The events of one call, in order: an IVR that answers, prompts, gathers a digit, plays, records, hangs up.
CALL_SCRIPT: tuple[str, ...] = ("answer", "speak", "gather", "dtmf", "playback", "speak", "recording", "hangup")
#: The same IVR on Bandwidth v2 (event types) and on Twilio (the kinds of request its URLs name), 8 events a call.
V2_SCRIPT: tuple[str, ...] = (
    "initiate", "gather", "redirect", "gather", "recordComplete", "recordingAvailable", "transcriptionAvailable",
    "disconnect",
)  # fmt: skip
TWILIO_SCRIPT: tuple[str, ...] = (
    "call", "gather", "redirect", "gather", "record", "recording-status", "transcription", "status",
)  # fmt: skip
SCRIPTS: dict[Platform, tuple[str, ...]] = {"catapult": CALL_SCRIPT, "bandwidth": V2_SCRIPT, "twilio": TWILIO_SCRIPT}

# A call id the templates carry, replaced by each call's own (same length, so bodies keep one size).
_TEMPLATE_ID = "c-" + "0" * 23
#: Every call id in a request file starts with this; the load generators replace it with ``c-`` and the number of
#: times they went through the file (4 digits), so a request replayed after a wrap is a new event of a new call,
#: which exactly-once handling runs rather than answering as a duplicate (wrk.lua, loadgen.py).
LAP_MARK = "c-LAPX"


_JSON = "Content-Type: application/json"
_FORM = "Content-Type: application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Request:
    method: str
    target: str  #: path and query
    body: str  #: JSON or a form for POST, empty for GET (neither holds a tab)
    headers: tuple[str, ...] = ()  #: ``Name: value`` each

    def line(self) -> str:
        return "\t".join((self.method, self.target, self.body, *self.headers)) + "\n"


def _templates(method: str, platform: Platform = "catapult") -> list[str]:
    """Each step of the call script as the platform sends it (JSON body or query string), for the template call
    id. Each step has its own time, so the call's two ``speak`` events are two events, not one delivered twice."""
    out: list[str] = []
    for step, event_type in enumerate(SCRIPTS[platform]):
        at = f"2026-01-01T00:00:{step:02d}.000Z"
        if platform == "bandwidth":  # its wire fields as wire_fields writes Catapult's
            event = V2_FACTORIES[event_type](call_id=_TEMPLATE_ID, tag="main-menu", event_time=at)
            fields = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
        else:
            fields = wire_fields(FACTORIES[event_type](call_id=_TEMPLATE_ID, tag="main-menu", time=at))
        out.append(json.dumps(fields, separators=(",", ":")) if method == "POST" else encode_query(fields))
    return out


def _request(method: str, token: str, payload: str, headers: tuple[str, ...] = ()) -> Request:
    if method == "POST":
        return Request("POST", f"/{token}", payload, (_JSON, *headers))
    return Request("GET", f"/{token}?{payload}", "", headers)


# The Twilio template call's sid, replaced by each call's own (same length).
_TEMPLATE_SID = "CA" + "0" * 32


def _twilio_templates() -> list[dict[str, str]]:
    """Each step of the Twilio script's parameters, for the template call sid (the two gathers: two digits)."""
    out = []
    for step, kind in enumerate(TWILIO_SCRIPT):
        fields = {"digits": str(step)} if kind == "gather" else {}
        out.append(wire_params(TWILIO_FACTORIES[kind](call_sid=_TEMPLATE_SID, **fields)))
    return out


def _twilio_request(method: str, token: str, params: dict[str, str], idempotency: str) -> Request:
    """A request as Twilio sends it: a form POST (or GET with the query) signed over the public URL and the form,
    with its idempotency token. The token, not the signed content, holds the lap mark: the load generators
    rewrite it on each pass without invalidating the signature, and it alone is the event's identity (as with
    every request Twilio sends)."""
    url = f"{PUBLIC_URL}/{token}"
    headers = (f"{IDEMPOTENCY_HEADER}: {idempotency}",)
    if method == "POST":
        signature = compute_signature(url, list(params.items()), AUTH_TOKEN)
        return Request("POST", f"/{token}", urlencode(params), (_FORM, f"{SIGNATURE_HEADER}: {signature}", *headers))
    query = urlencode(params)
    signature = compute_signature(f"{url}?{query}", None, AUTH_TOKEN)
    return Request("GET", f"/{token}?{query}", "", (f"{SIGNATURE_HEADER}: {signature}", *headers))


def _platform_calls(
    mode: Mode, platform: Platform, signer: CallbackSigner
) -> tuple[Callable[[int, int], tuple[object, ...]], Callable[[int, int, str], Request]]:
    """(the route of a call's step, whose token one signs once per call; the step's request on a token)."""
    if platform == "twilio":
        params = _twilio_templates()

        def twilio_route(n: int, step: int) -> tuple[object, ...]:
            kind = TWILIO_SCRIPT[step]
            return (kind, "main-menu" if kind == "gather" else None)

        def twilio_step(n: int, step: int, token: str) -> Request:
            sid = f"CA{n:032d}"
            fields = {name: value.replace(_TEMPLATE_SID, sid) for name, value in params[step].items()}
            return _twilio_request(mode.method, token, fields, f"{_call_id(n)}-{step}")

        return twilio_route, twilio_step
    templates = _templates(mode.method, platform)
    extra: tuple[str, ...] = ()
    if platform == "bandwidth":
        extra = ("Authorization: Basic " + base64.b64encode(":".join(BASIC_AUTH).encode()).decode(),)

    def json_step(n: int, step: int, token: str) -> Request:
        return _request(mode.method, token, templates[step].replace(_TEMPLATE_ID, _call_id(n)), extra)

    return (lambda n, step: ()), json_step


def _sign(signer: CallbackSigner, n: int, route: tuple[object, ...]) -> str:
    if not route:
        return signer.sign(_context(n))
    kind, tag = route
    return signer.sign(route_context(_context(n), str(kind), tag if isinstance(tag, str) else None))


def build(
    mode: Mode,
    signer: CallbackSigner,
    *,
    calls: int,
    in_flight: int,
    first_call: int = 0,
    platform: Platform = "catapult",
) -> list[Request]:
    """The request list for ``mode``.

    ``single``: one signed URL without context for every request, ``answer`` events of ``calls`` calls. ``per-call``:
    ``calls`` calls, each with its own signed URL carrying a two-key context, their events interleaved
    ``in_flight`` calls at a time, so one request per call misses the verified-token cache (on Twilio a URL per
    kind of request and call, as its TwiML hands them out). ``worst``: the same events, each request on a URL of
    its own (every token is new to the receiver). Bandwidth v2 and Twilio: ``per-call`` only.
    """
    if platform != "catapult":
        if mode.urls != "per-call":
            raise ValueError(f"{platform}: per-call modes only, not {mode.name}")
        route, step_request = _platform_calls(mode, platform, signer)
        requests: list[Request] = []
        for block_start in range(first_call, first_call + calls, in_flight):
            block = range(block_start, min(block_start + in_flight, first_call + calls))
            tokens: dict[tuple[object, ...], str] = {}
            for step in range(len(SCRIPTS[platform])):
                for n in block:
                    key = (n, *route(n, step))
                    if key not in tokens:
                        tokens[key] = _sign(signer, n, route(n, step))
                    requests.append(step_request(n, step, tokens[key]))
        return requests
    templates = _templates(mode.method)
    if mode.urls == "single":
        token = signer.sign(None)
        answer = templates[CALL_SCRIPT.index("answer")]
        return [
            _request(mode.method, token, answer.replace(_TEMPLATE_ID, _call_id(n)))
            for n in range(first_call, first_call + calls)
        ]
    catapult: list[Request] = []
    for block_start in range(first_call, first_call + calls, in_flight):
        block = range(block_start, min(block_start + in_flight, first_call + calls))
        per_call = {n: signer.sign(_context(n)) for n in block} if mode.urls == "per-call" else {}
        for step in range(len(CALL_SCRIPT)):
            for n in block:
                payload = templates[step].replace(_TEMPLATE_ID, _call_id(n))
                token = per_call[n] if per_call else signer.sign(_context(n * len(CALL_SCRIPT) + step))
                catapult.append(_request(mode.method, token, payload))
    return catapult


def _call_id(n: int) -> str:
    return f"{LAP_MARK}{n:019d}"


def _context(n: int) -> dict[str, object]:
    return {"order": n, "customer": f"cust-{n:06d}"}


def write(requests: list[Request], path: Path) -> Path:
    path.write_text("".join(request.line() for request in requests))
    return path
