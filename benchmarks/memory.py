"""Memory stays bounded: push distinct events over distinct per-call URLs through a receiver on ``memory://``,
in this process without a socket, and report the resident set size (RSS) and how many entries each bounded
structure holds.

    python -m benchmarks.memory                                # 1,000,000 events over 100,000 URLs (minutes)
    python -m benchmarks.memory --events 100000 --calls 10000  # a tenth

Every call has its own signed URL with a two-key context, its events interleaved with those of ``--in-flight``
other calls (as in the HTTP benchmark's per-call mode), each event distinct (its call and time), so every one
runs the handler and leaves an idempotency record, a queue key while it runs, and a session. What bounds them:
``Limits.memory_max_keys`` (records, sessions, token bindings; soonest-expiring dropped first; a call's queue is
held only while an event of it is in flight) and their ages, and the verified-token cache's size
(``signing._CACHE_SIZE``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
from dataclasses import dataclass

from callhooks.events import wire_fields
from callhooks.signing import _CACHE_SIZE, CallbackSigner
from callhooks.stores import Limits
from callhooks.stores.memory import MemoryStore
from callhooks.testing.factories import FACTORIES

from .micro import _Receiver
from .workload import CALL_SCRIPT

__all__ = ["Bounds", "push"]


@dataclass(frozen=True)
class Bounds:
    events: int  #: events sent (each answered 200 and handled once)
    store_keys: int  #: keys memory:// holds at the end
    store_max_keys: int  #: its cap (Limits.memory_max_keys)
    token_cache: int  #: verified tokens cached at the end
    token_cache_max: int
    peak_rss_mb: float  #: this process's peak resident set size


_TEMPLATE_ID = "c-" + "0" * 23


def _templates(events: int) -> list[str]:
    """A call's ``events`` events as JSON bodies for the template call id: the call script over and over, each
    at its own time (so no two are the same event)."""
    out = []
    for step in range(events):
        event_type = CALL_SCRIPT[step % len(CALL_SCRIPT)]
        at = f"2026-01-01T{step // 3600:02d}:{step // 60 % 60:02d}:{step % 60:02d}.000Z"
        out.append(json.dumps(wire_fields(FACTORIES[event_type](call_id=_TEMPLATE_ID, tag="main-menu", time=at))))
    return out


async def push(events: int, calls: int, *, in_flight: int = 512, limits: Limits | None = None) -> Bounds:
    store = MemoryStore(limits)
    receiver = _Receiver(store)
    signer = receiver.hooks.signer
    assert isinstance(signer, CallbackSigner)
    per_call = events // calls
    templates = _templates(per_call)
    for block_start in range(0, calls, in_flight):
        block = range(block_start, min(block_start + in_flight, calls))
        tokens = {n: signer.sign({"order": n, "customer": f"cust-{n:06d}"}) for n in block}
        for template in templates:
            for n in block:
                body = template.replace(_TEMPLATE_ID, f"c-{n:023d}").encode()
                await receiver.call("POST", tokens[n], body, b"")
    sent = per_call * calls
    if receiver.statuses != {200} or receiver.handled != sent:
        raise RuntimeError(f"handled {receiver.handled} of {sent} events, statuses {sorted(receiver.statuses)}")
    return Bounds(
        events=sent,
        store_keys=len(store._keys),
        store_max_keys=store.limits.memory_max_keys,
        token_cache=signer._verified.cache_info().currsize,
        token_cache_max=_CACHE_SIZE,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=100_000, help="distinct per-call URLs")
    parser.add_argument("--in-flight", type=int, default=512, help="calls interleaved at any time")
    args = parser.parse_args(argv)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bounds = asyncio.run(push(args.events, args.calls, in_flight=args.in_flight))
    print(
        f"{bounds.events:,} events over {args.calls:,} per-call URLs: peak RSS {bounds.peak_rss_mb:.0f} MB"
        f" (at start {before:.0f} MB); memory:// keys {bounds.store_keys:,} (cap {bounds.store_max_keys:,});"
        f" verified-token cache {bounds.token_cache:,} (cap {bounds.token_cache_max:,})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
