"""In-process micro benchmarks: the receiver's steps without a socket, in microseconds per event.

    python -m benchmarks.micro            # a few seconds
    python -m benchmarks.micro --smoke    # tiny samples: does everything still work?
    python -m benchmarks.micro --platform twilio    # Bandwidth v2 (bandwidth) or Twilio: the figures below

Each figure is the median over ``repeat`` samples of the mean over ``number`` calls, so a burst of load from
elsewhere on the machine moves a sample, not the median; samples are CPU time of this process. Figures:

- parsing per event type: a POST's JSON bytes and a GET's query string to the typed event;
- the same with the token verified (cached) and the handler matched: raw bytes to a verified, typed, routed
  event (``read_callback`` + ``match``);
- token verification: the same token again (cache hit) and a token never seen (miss);
- routing: ``match`` with 1 registered handler and with 10,000, for a slot seen before and a first match;
- a full ASGI call without a socket, per event type: raw body bytes (or query) and a token in, the verified,
  typed event handed to its handler and a 200 sent, with the token cached (hit) and new (miss).

``--platform catapult|bandwidth|twilio``: instead, per event of that platform's IVR call (``workload.SCRIPTS``),
the raw request (Bandwidth v2: JSON or query with the Basic credentials; Twilio: a signed form or query with its
idempotency token) to a verified, typed, routed event, and the full ASGI call with a cached token.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.types import Message

from callhooks import CallHooks, Router, events
from callhooks.events import encode_query, parse_event, parse_event_json, query_to_fields, wire_fields
from callhooks.receiver.inbound import parse_form
from callhooks.receiver.routing import Handler
from callhooks.stores import Store
from callhooks.testing.factories import FACTORIES, gather_event

from .workload import AUTH_TOKEN, BASIC_AUTH, LAP_MARK, MODES, PLATFORMS, PUBLIC_URL, SCRIPTS, Platform, Request, build

SECRET = "benchmark-secret"


@dataclass(frozen=True)
class Sampling:
    number: int  #: calls per sample
    repeat: int  #: samples; the median is reported


FULL = Sampling(number=500, repeat=15)
SMOKE = Sampling(number=5, repeat=3)


#: CPU time of this process, not wall-clock time: on a machine shared with other busy processes a sample then
#: does not count the time the scheduler gave to someone else (cache and frequency effects remain).
clock = time.process_time


def median_us(run: Callable[[], object], sampling: Sampling) -> float:
    """Median over samples of the mean CPU time of one ``run()`` call, in microseconds."""
    samples = []
    for _ in range(sampling.repeat):
        started = clock()
        for _ in range(sampling.number):
            run()
        samples.append((clock() - started) / sampling.number)
    return statistics.median(samples) * 1e6


def _payloads() -> dict[str, tuple[bytes, bytes]]:
    """Each event type's (JSON body, query string), as the platform sends them."""
    out = {}
    for event_type, factory in FACTORIES.items():
        fields = wire_fields(factory())
        out[event_type] = (json.dumps(fields).encode(), encode_query(fields).encode())
    return out


def _parse_query(query: bytes) -> events.CallEvent:
    # What the receiver does with a GET callback's query string (callhooks.receiver.inbound), with public parts.
    return parse_event(query_to_fields(parse_form(query.decode("utf-8", "replace"))))


def parsing(sampling: Sampling) -> dict[str, dict[str, float]]:
    results = {}
    for event_type, (body, query) in _payloads().items():
        results[event_type] = {
            "json": median_us(functools.partial(parse_event_json, body), sampling),
            "query": median_us(functools.partial(_parse_query, query), sampling),
        }
    return results


def decision(sampling: Sampling) -> dict[str, dict[str, float]]:
    """Per event type: raw bytes and a (cached) token in, the verified, typed event and its handler out, as
    ``read_callback`` + ``match`` do it for hosts other than ASGI (the ASGI app takes the same steps)."""
    hooks = CallHooks(secret=SECRET)
    hooks.add_handler(_ignore)
    assert hooks.signer is not None
    token = hooks.signer.sign({"order": 4411, "customer": "cust-000001"})

    def post(body: bytes) -> Handler | None:
        return hooks.match(hooks.read_callback("POST", token, content_type="application/json", body=body))

    def get(query: bytes) -> Handler | None:
        return hooks.match(hooks.read_callback("GET", token, query=query))

    results = {}
    for event_type, (body, query) in _payloads().items():
        if post(body) is None or get(query) is None:
            raise RuntimeError(f"{event_type} was not routed")
        results[event_type] = {
            "post": median_us(functools.partial(post, body), sampling),
            "get": median_us(functools.partial(get, query), sampling),
        }
    return results


def verification(sampling: Sampling) -> dict[str, float]:
    hooks = CallHooks(secret=SECRET)
    signer = hooks.signer
    assert signer is not None
    context = {"order": 4411, "customer": "cust-000001"}
    token = signer.sign(context)
    fresh = iter([signer.sign({**context, "order": n}) for n in range(sampling.number * sampling.repeat)])
    return {
        "hit": median_us(lambda: signer.verify(token), sampling),
        "miss": median_us(lambda: signer.verify(next(fresh)), sampling),
    }


async def _ignore(event: events.CallEvent) -> None:
    pass


def routing(sampling: Sampling) -> dict[str, float]:
    """``match`` with 1 and with 10,000 registered handlers, sampled alternately so both see the same load."""
    event = gather_event(tag="main-menu")
    matchers = {}
    for count in (1, 10_000):
        hooks = CallHooks(secret=SECRET)
        hooks.add_handler(_ignore, "gather", tag="main-menu")
        for n in range(count - 1):
            hooks.add_handler(_ignore, "gather", tag=f"menu-{n}")
        assert hooks.match(event) is not None and len(hooks) == count
        matchers[f"{count} handlers"] = functools.partial(hooks.match, event)
        # The router remembers the handler of each (type, state, tag) it matched: a first match looks it up.
        matchers[f"{count} handlers, first"] = functools.partial(_first_match, hooks.router, event)
    # Matching is well under a microsecond: many calls per sample, so the clock's resolution does not show.
    one_sample = Sampling(sampling.number * 20, 1)
    samples: dict[str, list[float]] = {name: [] for name in matchers}
    for _ in range(sampling.repeat):
        for name, match in matchers.items():
            samples[name].append(median_us(match, one_sample))
    return {name: statistics.median(values) for name, values in samples.items()}


def _first_match(router: Router, event: events.CallEvent) -> Handler | None:
    router._matched.clear()
    return router.match(event)


class _Receiver:
    """A callhooks app with one catch-all handler that counts, and an in-memory ASGI request/response."""

    def __init__(self, store: Store | None = None, hooks: CallHooks | None = None) -> None:
        # store=None by default: the same events are sent again and again, which exactly-once handling would
        # answer without running the handler; the guarantees' cost is measured by stores_micro.py (and a store
        # with distinct events by memory.py).
        self.hooks = CallHooks(secret=SECRET, store=store) if hooks is None else hooks  # no handlers: falsy
        self.handled = 0
        self.statuses: set[int] = set()

        @self.hooks.on()
        async def count(event: events.CallEvent) -> None:
            self.handled += 1

    def call(
        self, method: str, token: str, body: bytes, query: bytes, headers: list[tuple[bytes, bytes]] | None = None
    ) -> Any:
        """One request through the ASGI app (a coroutine: no socket, no event-loop round trip inside)."""
        scope = {
            "type": "http",
            "method": method,
            "path": f"/{token}",
            "root_path": "",
            "query_string": query,
            "headers": [
                *(headers if headers is not None else [(b"content-type", b"application/json")]),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        message = {"type": "http.request", "body": body, "more_body": False}

        async def receive() -> Message:
            return message

        async def send(sent: Message) -> None:
            if sent["type"] == "http.response.start":
                self.statuses.add(sent["status"])

        return self.hooks(scope, receive, send)


def full_asgi(sampling: Sampling) -> dict[str, dict[str, float]]:
    receiver = _Receiver()
    signer = receiver.hooks.signer
    assert signer is not None
    loop = asyncio.new_event_loop()
    cached = signer.sign({"order": 4411, "customer": "cust-000001"})
    new_tokens: Iterator[str] = iter(
        [
            signer.sign({"order": n, "customer": f"cust-{n:06d}"})
            for n in range(sampling.number * sampling.repeat * len(FACTORIES))
        ]
    )

    def timed(method: str, tokens: Callable[[], str], body: bytes, query: bytes) -> float:
        async def batch() -> float:
            started = clock()
            for _ in range(sampling.number):
                await receiver.call(method, tokens(), body, query)
            return (clock() - started) / sampling.number

        return statistics.median(loop.run_until_complete(batch()) for _ in range(sampling.repeat)) * 1e6

    results = {}
    try:
        for event_type, (body, query) in _payloads().items():
            results[event_type] = {
                "post hit": timed("POST", lambda: cached, body, b""),
                "post miss": timed("POST", lambda: next(new_tokens), body, b""),
                "get hit": timed("GET", lambda: cached, b"", query),
            }
    finally:
        loop.close()
    expected = 3 * sampling.number * sampling.repeat * len(FACTORIES)
    if receiver.statuses != {200} or receiver.handled != expected:
        raise RuntimeError(f"handled {receiver.handled} of {expected} events, statuses {sorted(receiver.statuses)}")
    return results


def platform_hooks(platform: str) -> CallHooks:
    """A receiver of ``platform`` configured as the benchmarks' callhooks peers are, without a store (see
    ``_Receiver``)."""
    if platform == "bandwidth":
        return CallHooks(secret=SECRET, store=None, platform="bandwidth", basic_auth=BASIC_AUTH)
    if platform == "twilio":
        return CallHooks(secret=SECRET, store=None, platform="twilio", auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
    return CallHooks(secret=SECRET, store=None)


def _one_call(platform: Platform, method: str) -> list[Request]:
    """The requests of one call of ``platform``'s IVR, as the load generators send them on their first pass."""
    signer = platform_hooks(platform).signer
    assert signer is not None
    requests = build(MODES[f"{method.lower()}-per-call"], signer, calls=1, in_flight=1, platform=platform)
    return [
        Request(r.method, r.target, r.body, tuple(h.replace(LAP_MARK, "c-0000") for h in r.headers)) for r in requests
    ]


@dataclass(frozen=True)
class _Parts:
    """One request of the request file as ``read_callback`` and an ASGI scope take it."""

    method: str
    token: str
    query: bytes
    body: bytes
    headers: list[tuple[str, str]]  #: by lower-case name

    @classmethod
    def of(cls, request: Request) -> _Parts:
        path, _, query = request.target.partition("?")
        headers = [(name.lower(), value) for name, _, value in (h.partition(": ") for h in request.headers)]
        # The first pass's call ids (the load generators write the pass number over the lap mark).
        body = request.body.replace(LAP_MARK, "c-0000").encode()
        return cls(request.method, path.lstrip("/"), query.replace(LAP_MARK, "c-0000").encode(), body, headers)


def _decide(hooks: CallHooks, parts: _Parts) -> Handler | None:
    fields = dict(parts.headers)
    event = hooks.read_callback(
        parts.method,
        parts.token,
        query=parts.query,
        body=parts.body,
        content_type=fields.get("content-type"),
        authorization=fields.get("authorization"),
        headers=parts.headers,
    )
    return hooks.match(event)


async def _asgi_batch(receiver: _Receiver, parts: _Parts, number: int) -> float:
    headers = [(name.encode(), value.encode()) for name, value in parts.headers]
    started = clock()
    for _ in range(number):
        await receiver.call(parts.method, parts.token, parts.body, parts.query, headers)
    return (clock() - started) / number


def platform_report(platform: Platform, sampling: Sampling) -> dict[str, dict[str, float]]:
    """Per event of the platform's IVR call (numbered: a call has two gathers): the raw request to a verified,
    typed, routed event (``read_callback`` + ``match``) and the full ASGI call, POST and GET, cached token."""
    receiver = _Receiver(hooks=platform_hooks(platform))
    loop = asyncio.new_event_loop()
    results: dict[str, dict[str, float]] = {}
    try:
        for method in ("POST", "GET"):
            for step, request in enumerate(_one_call(platform, method)):
                parts = _Parts.of(request)
                if _decide(receiver.hooks, parts) is None:
                    raise RuntimeError(f"{platform} {method} {SCRIPTS[platform][step]} was not routed")
                row = results.setdefault(f"{step + 1} {SCRIPTS[platform][step]}", {})
                row[method.lower()] = median_us(functools.partial(_decide, receiver.hooks, parts), sampling)
                samples = [
                    loop.run_until_complete(_asgi_batch(receiver, parts, sampling.number))
                    for _ in range(sampling.repeat)
                ]
                row[f"asgi {method.lower()}"] = statistics.median(samples) * 1e6
    finally:
        loop.close()
    expected = 2 * sampling.number * sampling.repeat * len(SCRIPTS[platform])
    if receiver.statuses != {200} or receiver.handled != expected:
        raise RuntimeError(f"handled {receiver.handled} of {expected} events, statuses {sorted(receiver.statuses)}")
    return results


def render_platform(platform: Platform, results: dict[str, dict[str, float]]) -> str:
    lines = [
        f"| {platform} event | POST raw to routed event µs | GET raw to routed event µs | ASGI POST µs | ASGI GET µs |",
        "|---|---:|---:|---:|---:|",
    ]
    columns = ("post", "get", "asgi post", "asgi get")
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.1f}" for c in columns) + " |")
    medians = [statistics.median(row[c] for row in results.values()) for c in columns]
    lines.append("| **median** | " + " | ".join(f"{m:.1f}" for m in medians) + " |")
    return "\n".join(lines)


def report(sampling: Sampling) -> dict[str, Any]:
    return {
        "parse_us": parsing(sampling),
        "event_us": decision(sampling),
        "verify_us": verification(sampling),
        "match_us": routing(sampling),
        "asgi_us": full_asgi(sampling),
    }


def render(results: dict[str, Any]) -> str:
    parse, asgi = results["parse_us"], results["asgi_us"]
    lines = [
        "| event type | parse JSON µs | parse query µs | ASGI POST, cached token µs | ASGI POST, new token µs"
        " | ASGI GET, cached token µs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for event_type in parse:
        p, a = parse[event_type], asgi[event_type]
        lines.append(
            f"| {event_type} | {p['json']:.1f} | {p['query']:.1f} | {a['post hit']:.1f} | {a['post miss']:.1f}"
            f" | {a['get hit']:.1f} |"
        )
    medians = {column: statistics.median(a[column] for a in asgi.values()) for column in next(iter(asgi.values()))}
    lines.append(
        f"| **median** | {statistics.median(p['json'] for p in parse.values()):.1f}"
        f" | {statistics.median(p['query'] for p in parse.values()):.1f}"
        f" | {medians['post hit']:.1f} | {medians['post miss']:.1f} | {medians['get hit']:.1f} |"
    )
    verify, match, decided = results["verify_us"], results["match_us"], results["event_us"]
    lines.append("")
    for method in ("post", "get"):
        figures = [decided[event_type][method] for event_type in decided]
        lines.append(
            f"raw {method.upper()} bytes to a verified, typed, routed event (cached token): median"
            f" {statistics.median(figures):.1f} µs, slowest event type {max(figures):.1f} µs"
        )
    lines += [f"token verification: cache hit {verify['hit']:.2f} µs, miss {verify['miss']:.2f} µs"]
    for seen, suffix in (("a slot seen before", ""), ("a first match", ", first")):
        one, many = match[f"1 handlers{suffix}"], match[f"10000 handlers{suffix}"]
        lines.append(
            f"routing (match), {seen}: 1 handler {one * 1000:.0f} ns, 10,000 handlers {many * 1000:.0f} ns"
            f" ({(many / one - 1) * 100:+.1f} %)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.micro", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny samples, to check it all still runs")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument(
        "--platform", choices=PLATFORMS, help="time the IVR call of this platform instead (catapult: its IVR)"
    )
    args = parser.parse_args(argv)
    sampling = SMOKE if args.smoke else FULL
    if args.platform is not None:
        figures = platform_report(args.platform, sampling)
        print(json.dumps(figures, indent=1) if args.json else render_platform(args.platform, figures))
        return 0
    results = report(sampling)
    print(json.dumps(results, indent=1) if args.json else render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
