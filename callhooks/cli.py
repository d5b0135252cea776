"""The ``callhooks`` command line: run a receiver, run the simulator, watch a demo, fire sample events.

Bad arguments get one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .serving import (
    DEFAULT_HEAD_TIMEOUT,
    DEFAULT_LIMIT_CONCURRENCY,
    DEFAULT_MAX_WAITING,
    DEFAULT_TIMEOUT_KEEP_ALIVE,
    ServerLimits,
)

__all__ = ["main"]


class UsageError(Exception):
    """A problem with what the user typed: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _field(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise UsageError(f"fields look like name=value, not {text!r}")
    return name, value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="callhooks", description="Catapult call callbacks: receive, simulate, test.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="serve a CallHooks app with uvicorn")
    run.add_argument("app", help="import string of the app, e.g. myapp.calls:hooks")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--reload", action="store_true", help="restart when code changes (development)")
    run.add_argument("--workers", type=int, default=None, help="worker processes (production)")
    run.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-* headers are trusted (comma-separated, or *)",
    )
    run.add_argument("--proxy-headers", action="store_true", help="accepted for uvicorn compatibility (always on)")
    run.add_argument(
        "--head-timeout",
        type=_positive,
        default=float(os.environ.get("CALLHOOKS_HEAD_TIMEOUT", DEFAULT_HEAD_TIMEOUT)),
        help="seconds a client has to send its request head, then the connection is closed (SECURITY.md)",
    )
    run.add_argument(
        "--limit-concurrency",
        type=int,
        default=int(os.environ.get("CALLHOOKS_LIMIT_CONCURRENCY", DEFAULT_LIMIT_CONCURRENCY)),
        help="connections + requests per worker above which new requests get 503",
    )
    run.add_argument(
        "--max-waiting",
        type=int,
        default=int(os.environ.get("CALLHOOKS_MAX_WAITING", DEFAULT_MAX_WAITING)),
        help="connections waiting for a request head kept per worker; past it the oldest is closed",
    )
    run.add_argument(
        "--timeout-keep-alive",
        type=int,
        default=int(os.environ.get("CALLHOOKS_TIMEOUT_KEEP_ALIVE", DEFAULT_TIMEOUT_KEEP_ALIVE)),
        help="seconds an idle keep-alive connection is kept",
    )

    simulate = commands.add_parser("simulate", help="run the local platform simulator")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8900)
    simulate.add_argument("--user-id", default=os.environ.get("CATAPULT_USER_ID", "u-simulator"))
    simulate.add_argument("--api-token", default=os.environ.get("CATAPULT_API_TOKEN", "t-simulator"))
    simulate.add_argument("--api-secret", default=os.environ.get("CATAPULT_API_SECRET", "s-simulator"))
    simulate.add_argument("--speed", type=_positive, default=1.0, help="simulated seconds per real second")
    simulate.add_argument("--scenario", help="JSON or YAML file scripting the far ends")
    simulate.add_argument("--incoming-call-url", help="where inbound calls' events go")

    demo = commands.add_parser("demo", help="watch an IVR call flow against the local simulator")
    demo.add_argument("--inbound", action="store_true", help="show an inbound call instead of an outbound one")
    demo.add_argument("--speed", type=_positive, default=50.0, help="simulated seconds per real second")
    demo.add_argument("--timeout", type=_positive, default=30.0, help="give up after this many real seconds")

    send = commands.add_parser("send", help="fire one sample event at a running receiver")
    send.add_argument("event_type", help="eventType, e.g. answer, gather, hangup")
    send.add_argument("--url", required=True, help="the receiver's public URL (where it is mounted)")
    send.add_argument("--get", action="store_true", help="deliver as GET with a query string instead of JSON POST")
    send.add_argument("--secret", default=os.environ.get("CALLHOOKS_SECRET"), help="sign the URL with this")
    send.add_argument("--context", type=_json_object, default=None, help="JSON object to sign into the URL")
    send.add_argument("--basic-auth", default=os.environ.get("CALLHOOKS_BASIC_AUTH"), help="user:password")
    send.add_argument("fields", nargs="*", help="wire fields to set, e.g. tag=main-menu digits=1")

    sign = commands.add_parser("sign-url", help="print a signed callback URL (CALLHOOKS_SECRET, _PUBLIC_URL)")
    sign.add_argument("--context", type=_json_object, default=None, help="JSON object to sign into the URL")
    sign.add_argument("--no-expiry", action="store_true", help="a URL that never expires (incomingCallUrl)")
    sign.add_argument("--max-age", type=_positive, default=None, help="lifetime in seconds")
    sign.add_argument("--public-url", default=None, help="overrides CALLHOOKS_PUBLIC_URL")
    return parser


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    module_name, sep, attribute = args.app.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"app must look like module:attribute, not {args.app!r}")
    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exc}") from None
    if not callable(getattr(module, attribute, None)):
        raise UsageError(f"{module_name!r} has no ASGI app named {attribute!r}")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if min(args.limit_concurrency, args.timeout_keep_alive, args.max_waiting) < 1:
        raise UsageError("--limit-concurrency, --timeout-keep-alive and --max-waiting must be at least 1")
    limits = ServerLimits(args.head_timeout, args.limit_concurrency, args.timeout_keep_alive, args.max_waiting)
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        **limits.uvicorn(),
    )
    return 0


def _sign_url(args: argparse.Namespace) -> int:
    from .app import CallHooks

    try:
        hooks = CallHooks.from_env(**({"public_url": args.public_url} if args.public_url else {}))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if hooks.signer is None:
        raise UsageError("set CALLHOOKS_SECRET: an unsigned URL would be no protection")
    if args.no_expiry and args.max_age is not None:
        raise UsageError("--no-expiry and --max-age contradict each other")
    max_age = None if args.no_expiry else (args.max_age or hooks.max_age)
    try:
        print(hooks.callback_url(args.context, max_age=max_age))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _send(args: argparse.Namespace) -> int:
    import httpx
    from pydantic import ValidationError

    from .app import CallHooks
    from .events import encode_query, parse_event, wire_fields
    from .signing import parse_basic_auth
    from .testing.factories import FACTORIES

    factory = FACTORIES.get(args.event_type)
    if factory is None:
        raise UsageError(f"unknown event type {args.event_type!r}; one of: {', '.join(FACTORIES)}")
    fields = wire_fields(factory())
    fields.update(_field(text) for text in args.fields)
    try:
        fields = wire_fields(parse_event(fields))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid field value: {problems}") from None
    try:
        basic_auth = parse_basic_auth(args.basic_auth, "--basic-auth") if args.basic_auth else None
        hooks = CallHooks(
            secret=args.secret or None, insecure=not args.secret, public_url=args.url, basic_auth=basic_auth
        )
        url = hooks.callback_url(args.context) if args.secret else hooks.callback_url()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        if args.get:
            response = httpx.get(f"{url}?{encode_query(fields)}", timeout=10.0)
        else:
            response = httpx.post(url, json=fields, timeout=10.0)
    except httpx.HTTPError as exc:
        print(f"callhooks send: could not reach {args.url}: {exc}", file=sys.stderr)
        return 1
    print(f"{'GET' if args.get else 'POST'} {args.event_type} -> {response.status_code} {response.text}".rstrip())
    return 0 if response.is_success else 1


def _simulate(args: argparse.Namespace) -> int:
    import uvicorn

    from .simulator import Simulator

    options: dict[str, Any] = {
        "user_id": args.user_id,
        "api_token": args.api_token,
        "api_secret": args.api_secret,
        "speed": args.speed,
    }
    if args.incoming_call_url:
        options["incoming_call_url"] = args.incoming_call_url
    try:
        simulator = Simulator.from_scenario(args.scenario, **options) if args.scenario else Simulator(**options)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot load scenario: {exc}") from None
    print(f"callhooks simulator for user {args.user_id} on http://{args.host}:{args.port} (speed x{args.speed:g})")
    uvicorn.run(simulator, host=args.host, port=args.port, log_level="warning")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    try:
        # Fields of `send` may come after its options (`send gather --url U tag=x`), which argparse's
        # positional matching does not allow; they arrive here as extras instead.
        args, extras = parser.parse_known_args(argv)
        if extras and args.command != "send":
            raise UsageError(f"unrecognized arguments: {' '.join(extras)}")
        if extras:
            args.fields = [*args.fields, *extras]
        if args.command == "run":
            return _run(args)
        if args.command == "sign-url":
            return _sign_url(args)
        if args.command == "send":
            return _send(args)
        if args.command == "simulate":
            return _simulate(args)
        from .demo import run_demo

        return run_demo(args)
    except UsageError as exc:
        print(f"callhooks: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
