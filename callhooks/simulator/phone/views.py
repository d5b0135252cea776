"""What the phone page (and ``GET /_sim/calls``) shows of a call: its parties, state and what its far end heard."""

from __future__ import annotations

from ..clock import SimClock
from ..models import Call

__all__ = ["MAX_HEARD", "call_view"]

#: The newest entries of what a call's far end heard that a view carries (``heardTotal`` counts them all).
MAX_HEARD = 200


def call_view(call: Call, clock: SimClock) -> dict[str, object]:
    """``call`` as JSON: ``callId``, ``direction``, ``from``, ``to``, ``state``, ``phone`` (a person drives its far
    end), ``startTime``/``answerTime``/``endTime``, ``playing`` (the sentence or audio URL playing now), ``gather``
    (digits awaited now), ``heard`` (what the far end heard and did, oldest first) and ``heardTotal``."""
    audio = call.audio
    gather = call.gather
    playing = None if audio is None else {"kind": "speak" if audio.kind == "speak" else "play", "text": audio.text}
    return {
        "callId": call.id,
        "direction": call.direction,
        "from": call.from_,
        "to": call.to,
        "state": call.state,
        "phone": call.far_end.is_manual,
        "startTime": clock.iso(call.start),
        "answerTime": None if call.active is None else clock.iso(call.active),
        "endTime": None if call.end is None else clock.iso(call.end),
        "playing": playing,
        "gather": None
        if gather is None
        else {"digits": gather.digits, "maxDigits": gather.max_digits, "terminatingDigits": gather.terminating_digits},
        "heard": [
            {"time": clock.iso(entry.time), "kind": entry.kind, "text": entry.text} for entry in call.heard[-MAX_HEARD:]
        ],
        "heardTotal": len(call.heard),
    }
