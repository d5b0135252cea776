"""The requests each benchmark mode sends, written to a file that wrk's Lua script and the Python load
generator both replay (one request a line: ``METHOD<TAB>target<TAB>body``), in order, wrapping at the end.

Every peer gets the same file in a round. The callhooks peer verifies the tokens; the others ignore the path
segment, as a hand-written endpoint without verification would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from callhooks.events import encode_query, wire_fields
from callhooks.signing import CallbackSigner
from callhooks.testing.factories import FACTORIES

__all__ = ["CALL_SCRIPT", "LAP_MARK", "MODES", "Mode", "Request", "build", "write"]

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

# A call id the templates carry, replaced by each call's own (same length, so bodies keep one size).
_TEMPLATE_ID = "c-" + "0" * 23
#: Every call id in a request file starts with this; the load generators replace it with ``c-`` and the number of
#: times they went through the file (4 digits), so a request replayed after a wrap is a new event of a new call,
#: which exactly-once handling runs rather than answering as a duplicate (wrk.lua, loadgen.py).
LAP_MARK = "c-LAPX"


@dataclass(frozen=True)
class Request:
    method: str
    target: str  #: path and query
    body: str  #: JSON for POST, empty for GET

    def line(self) -> str:
        return f"{self.method}\t{self.target}\t{self.body}\n"


def _templates(method: str) -> list[str]:
    """Each step of the call script as the platform sends it (JSON body or query string), for the template call
    id. Each step has its own time, so the call's two ``speak`` events are two events, not one delivered twice."""
    out: list[str] = []
    for step, event_type in enumerate(CALL_SCRIPT):
        at = f"2026-01-01T00:00:{step:02d}.000Z"
        fields = wire_fields(FACTORIES[event_type](call_id=_TEMPLATE_ID, tag="main-menu", time=at))
        out.append(json.dumps(fields, separators=(",", ":")) if method == "POST" else encode_query(fields))
    return out


def _request(method: str, token: str, payload: str) -> Request:
    if method == "POST":
        return Request("POST", f"/{token}", payload)
    return Request("GET", f"/{token}?{payload}", "")


def build(mode: Mode, signer: CallbackSigner, *, calls: int, in_flight: int, first_call: int = 0) -> list[Request]:
    """The request list for ``mode``.

    ``single``: one signed URL without context for every request, ``answer`` events of ``calls`` calls. ``per-call``:
    ``calls`` calls, each with its own signed URL carrying a two-key context, their events interleaved
    ``in_flight`` calls at a time, so one request per call misses the verified-token cache. ``worst``: the
    same events, each request on a URL of its own (every token is new to the receiver).
    """
    templates = _templates(mode.method)
    if mode.urls == "single":
        token = signer.sign(None)
        answer = templates[CALL_SCRIPT.index("answer")]
        return [
            _request(mode.method, token, answer.replace(_TEMPLATE_ID, _call_id(n)))
            for n in range(first_call, first_call + calls)
        ]
    requests: list[Request] = []
    for block_start in range(first_call, first_call + calls, in_flight):
        block = range(block_start, min(block_start + in_flight, first_call + calls))
        tokens = {n: signer.sign(_context(n)) for n in block} if mode.urls == "per-call" else {}
        for step in range(len(CALL_SCRIPT)):
            for n in block:
                payload = templates[step].replace(_TEMPLATE_ID, _call_id(n))
                token = tokens[n] if tokens else signer.sign(_context(n * len(CALL_SCRIPT) + step))
                requests.append(_request(mode.method, token, payload))
    return requests


def _call_id(n: int) -> str:
    return f"{LAP_MARK}{n:019d}"


def _context(n: int) -> dict[str, object]:
    return {"order": n, "customer": f"cust-{n:06d}"}


def write(requests: list[Request], path: Path) -> Path:
    path.write_text("".join(request.line() for request in requests))
    return path
