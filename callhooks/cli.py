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
from pathlib import Path
from typing import Any, NoReturn

from .commands.server_settings import (
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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default (when it has one) and keeps the environment epilogs as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _environment(*names: str) -> str:
    return "environment variables read:\n" + "\n".join(f"  {name}" for name in names)


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


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port (1-65535), not {text[:20]!r}")
    return int(text)


def _rate(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a rate between 0 and 1")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .commands.replay import PLATFORMS
    from .simulator.defaults import SIMULATOR_API_SECRET, SIMULATOR_API_TOKEN, SIMULATOR_PORT, SIMULATOR_USER_ID
    from .simulator.twilio.legs import DEFAULT_ACCOUNT_SID as TWILIO_SID

    parser = _Parser(
        prog="callhooks",
        description="Catapult call callbacks: receive, simulate, test.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"callhooks {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def platform_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--platform",
            choices=PLATFORMS,
            default=os.environ.get("CALLHOOKS_PLATFORM", "catapult").strip().lower() or "catapult",
            help="whose requests: Catapult (Voice API v1), Bandwidth Voice API v2 or Twilio ($CALLHOOKS_PLATFORM)",
        )

    def command(name: str, help: str, *env: str) -> argparse.ArgumentParser:
        epilog = _environment(*env) if env else None
        sub = commands.add_parser(name, help=help, description=help, epilog=epilog, formatter_class=_HelpFormatter)
        return sub

    run = command("run", "serve a CallHooks app with uvicorn", "HOST", "PORT", "FORWARDED_ALLOW_IPS")
    run.add_argument("app", help="import string of the app, e.g. myapp.calls:hooks")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="interface to listen on ($HOST)")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="TCP port ($PORT)")
    run.add_argument("--reload", action="store_true", help="restart when code changes (development)")
    run.add_argument("--workers", type=int, default=None, help="worker processes (production; default: 1)")
    run.add_argument("--factory", action="store_true", help="APP names a function that builds the app")
    run.add_argument(
        "--store",
        help="the store's URL for an app built by CallHooks.from_env() (sets $CALLHOOKS_STORE for it and its workers)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="do not show each callback on the terminal")
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
        help="connections waiting for a request head (new or idle keep-alive) kept per worker; past it the oldest "
        "is closed",
    )
    run.add_argument(
        "--timeout-keep-alive",
        type=int,
        default=int(os.environ.get("CALLHOOKS_TIMEOUT_KEEP_ALIVE", DEFAULT_TIMEOUT_KEEP_ALIVE)),
        help="seconds an idle keep-alive connection is kept",
    )

    simulate = command(
        "simulate",
        "run the local platform simulator",
        "CATAPULT_USER_ID",
        "CATAPULT_API_TOKEN",
        "CATAPULT_API_SECRET",
        *_BANDWIDTH_ENVIRONMENT.values(),
    )
    simulate.epilog = (simulate.epilog or "") + (
        "\n\noptions given on the command line win over the environment, which wins over the scenario file"
    )
    simulate.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    simulate.add_argument("--port", type=int, default=SIMULATOR_PORT, help="TCP port")
    simulate.add_argument(
        "--platform", choices=PLATFORMS, default=None, help="the platform it plays (default: catapult)"
    )
    simulate.add_argument("--user-id", help=f"catapult: account id in API paths (default: {SIMULATOR_USER_ID})")
    simulate.add_argument("--api-token", help=f"Basic-auth user of the API (default: {SIMULATOR_API_TOKEN})")
    simulate.add_argument("--api-secret", help=f"Basic-auth password of the API (default: {SIMULATOR_API_SECRET})")
    v2 = simulate.add_argument_group("--platform bandwidth (Voice API v2) account")
    v2.add_argument("--account-id", help="account id in API paths (default: 9900000)")
    v2.add_argument("--client-id", help="OAuth2 client id (token endpoint /api/v1/oauth2/token)")
    v2.add_argument("--client-secret", help="OAuth2 client secret")
    v2.add_argument("--api-user", help="API user for Basic authentication")
    v2.add_argument("--api-password", help="API user's password")
    twilio = simulate.add_argument_group("--platform twilio account")
    twilio.add_argument("--account-sid", help=f"the account (AC…) in API paths (default: {TWILIO_SID})")
    twilio.add_argument("--auth-token", help="the auth token: Basic password of the API, key of webhook signatures")
    simulate.add_argument("--speed", type=_positive, help="simulated seconds per real second (default: 1)")
    simulate.add_argument("--scenario", help="JSON or YAML file scripting the far ends (and any option above)")
    simulate.add_argument("--incoming-call-url", help="where inbound calls' events go")
    simulate.add_argument(
        "--incoming-call-method",
        type=str.upper,
        choices=("POST", "GET"),
        help="how inbound calls' events are sent; GET runs the BXML the app answers with (default: POST)",
    )
    access = simulate.add_argument_group(
        "who may use the simulator (SECURITY.md)",
        "by default callbacks go to loopback only, and only pages the simulator serves may call it from a browser",
    )
    access.add_argument(
        "--allow-callback-host",
        action="append",
        metavar="HOST",
        help="also send callbacks to HOST: a name, an address, a network (10.0.0.0/8) or *; repeatable",
    )
    access.add_argument(
        "--allow-host", action="append", metavar="NAME", help="also answer when reached as NAME (Host); repeatable"
    )
    access.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="also let pages at ORIGIN (scheme://host[:port]) call it from a browser; repeatable",
    )
    simulate.add_argument("-q", "--quiet", action="store_true", help="do not show each callback on the terminal")
    faults = simulate.add_argument_group(
        "delivery faults on purpose",
        "each RATE is the chance per event (0..1); they override the scenario file's faults: section",
    )
    faults.add_argument("--duplicate", type=_rate, metavar="RATE", help="deliver events a second time, afterwards")
    faults.add_argument(
        "--concurrent-duplicate", type=_rate, metavar="RATE", help="deliver a second copy at the same time"
    )
    faults.add_argument(
        "--reorder",
        type=_non_negative,
        metavar="SECONDS",
        help="hold each event back a random 0..SECONDS (simulated), so a call's events arrive out of order",
    )
    faults.add_argument(
        "--timeout-first",
        type=_rate,
        metavar="RATE",
        help="give up on the first attempt once sent, so the event also goes to fallbackUrl",
    )
    faults.add_argument(
        "--drop-after",
        type=_rate,
        metavar="RATE",
        help="treat the answer as lost after the handler ran, so the event goes to fallbackUrl",
    )
    faults.add_argument("--seed", type=int, metavar="N", help="seed of ids and fault decisions (a run replays)")

    demo = command("demo", "watch an IVR call flow against the local simulator")
    demo.add_argument("--inbound", action="store_true", help="show an inbound call instead of an outbound one")
    demo.add_argument("--bxml", action="store_true", help="run the IVR written as a BXML application")
    demo.add_argument(
        "--platform",
        choices=("catapult", "bandwidth", "twilio"),
        default="catapult",
        help="catapult: the example IVR on Catapult v1; bandwidth: the v2 IVR (BXML v2) on Voice API v2; twilio: the "
        "Twilio IVR (TwiML) on Twilio",
    )
    demo.add_argument("--speed", type=_positive, default=50.0, help="simulated seconds per real second")
    demo.add_argument("--timeout", type=_positive, default=30.0, help="give up after this many real seconds")
    demo.add_argument(
        "--phone", action="store_true", help="serve the IVR and a phone page to call it from a browser, until Ctrl-C"
    )
    demo.add_argument("--duration", type=_positive, default=None, help="with --phone: stop after this many seconds")
    demo.add_argument("--port", type=_port, default=None, help="the example IVR receiver's port (default: a free one)")
    demo.add_argument("--simulator-port", type=_port, default=None, help="the simulator's port (default: a free one)")

    send = command(
        "send",
        "fire one sample event at a running receiver, as the platform sends it",
        "CALLHOOKS_PLATFORM",
        "CALLHOOKS_SECRET",
        "CALLHOOKS_BASIC_AUTH",
        "TWILIO_AUTH_TOKEN",
    )
    send.add_argument("event_type", help="eventType, e.g. answer, gather, hangup (Twilio: the kind, e.g. call, gather)")
    platform_option(send)
    send.add_argument("--url", required=True, help="the receiver's public URL (where it is mounted)")
    send.add_argument("--get", action="store_true", help="deliver as GET with a query string instead of JSON POST")
    send.add_argument("--secret", help="sign the URL with this (default: $CALLHOOKS_SECRET)")
    send.add_argument("--context", type=_json_object, default=None, help="JSON object to sign into the URL")
    send.add_argument("--basic-auth", help="user:password (default: $CALLHOOKS_BASIC_AUTH)")
    send.add_argument(
        "--unsigned", action="store_true", help="send without a token, to a receiver run with CALLHOOKS_INSECURE=1"
    )
    send.add_argument("--tag", help="Twilio: the tag the URL is signed for (elsewhere the body's field tag=...)")
    send.add_argument("--auth-token", help="Twilio: the auth token that signs it ($TWILIO_AUTH_TOKEN)")
    send.add_argument("fields", nargs="*", help="wire fields to set, e.g. tag=main-menu digits=1")

    replay = command(
        "replay",
        "send a call's fixture (exported by the console) to a receiver, re-signed",
        "CALLHOOKS_PLATFORM",
        "CALLHOOKS_SECRET",
        "CALLHOOKS_BASIC_AUTH",
        "TWILIO_AUTH_TOKEN",
    )
    platform_option(replay)
    replay.add_argument("file", help="the call fixture (JSON, format callhooks.call/1)")
    replay.add_argument("--url", required=True, help="the receiver's public URL (where it is mounted)")
    replay.add_argument(
        "--timing",
        choices=("original", "compressed"),
        default="original",
        help="keep the call's gaps between events, or send each as soon as the previous one was answered",
    )
    replay.add_argument("--speed", type=_positive, default=None, help="with original timing: this many times faster")
    replay.add_argument("--secret", help="sign the URLs with this (default: $CALLHOOKS_SECRET)")
    replay.add_argument("--basic-auth", help="user:password (default: $CALLHOOKS_BASIC_AUTH)")
    replay.add_argument("--auth-token", help="Twilio: the auth token that signs them ($TWILIO_AUTH_TOKEN)")

    sign = command(
        "sign-url",
        "print a signed callback URL for a receiver of the platform",
        "CALLHOOKS_PLATFORM",
        "CALLHOOKS_SECRET",
        "CALLHOOKS_PUBLIC_URL",
        "CALLHOOKS_BASIC_AUTH",
        "CALLHOOKS_CALLBACK_METHOD",
    )
    sign.add_argument("--context", type=_json_object, default=None, help="JSON object to sign into the URL")
    sign.add_argument("--no-expiry", action="store_true", help="a URL that never expires (incomingCallUrl)")
    sign.add_argument("--max-age", type=_positive, default=None, help="lifetime in seconds (default: 1 day)")
    sign.add_argument("--public-url", default=None, help="overrides CALLHOOKS_PUBLIC_URL")
    sign.add_argument("--kind", help="Twilio: the kind of request the URL will receive, e.g. gather (default: call)")
    sign.add_argument("--tag", help="Twilio: the tag it routes to, e.g. main-menu")
    platform_option(sign)

    failed = command(
        "failed",
        "list, show, replay or drop failed events (background events, callbacks answered 5xx)",
        "CALLHOOKS_STORE",
    )
    actions = failed.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for action, text in (
        ("list", "list failed events, newest first"),
        ("show", "show one failed event as JSON: its error, attempts and fields"),
        ("replay", "queue a failed event again (a running receiver runs it)"),
        ("drop", "forget a failed event"),
    ):
        sub = actions.add_parser(
            action, help=text, description=text, epilog=_environment("CALLHOOKS_STORE"), formatter_class=_HelpFormatter
        )
        if action == "list":
            sub.add_argument("--limit", type=int, default=100, help="show at most this many")
        else:
            sub.add_argument("id", help="the failed event's id (from `callhooks failed list`)")
        sub.add_argument(
            "--store",
            default=None,  # read from the environment when run, so --help never prints a password in the URL
            help="the receiver's store URL: sqlite:///path.db or redis://host:port/0 (default: $CALLHOOKS_STORE)",
        )
    return parser


def _run(args: argparse.Namespace) -> int:
    # Every check of the options comes before importing the user's module, whose import may be slow or fail.
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if min(args.limit_concurrency, args.timeout_keep_alive, args.max_waiting) < 1:
        raise UsageError("--limit-concurrency, --timeout-keep-alive and --max-waiting must be at least 1")
    module_name, sep, attribute = args.app.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"app must look like module:attribute, not {args.app!r}")
    if args.store is not None:
        from .stores import check_store_url

        try:  # in the environment before the app is built, so its workers read the same
            os.environ["CALLHOOKS_STORE"] = check_store_url(args.store)
        except ValueError as exc:
            raise UsageError(f"--store: {exc}") from None
    import uvicorn

    _fresh_metrics_dir()
    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # e.g. a configuration error raised at import: one line, not a traceback
        raise UsageError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from None
    if not callable(getattr(module, attribute, None)):
        what = "app factory" if args.factory else "ASGI app"
        raise UsageError(f"{module_name!r} has no {what} named {attribute!r}")
    app = getattr(module, attribute)
    if args.factory:
        # Build it once here so a configuration problem (a missing CATAPULT_* variable, a bad public URL) is one
        # line at start-up: uvicorn would print a traceback from each worker instead.
        try:
            app = app()
        except Exception as exc:
            raise UsageError(f"{args.app} could not build the app: {type(exc).__name__}: {exc}") from None
    if args.store is not None and not getattr(app, "from_environment", True):
        raise UsageError(f"--store needs an app built by CallHooks.from_env(); {args.app} chooses its own store")
    _say_ignored_variables(app, args.app)
    if (args.workers or 1) > 1:
        _check_start_up(app)
    limits = ServerLimits(args.head_timeout, args.limit_concurrency, args.timeout_keep_alive, args.max_waiting)
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        factory=args.factory,
        log_config=_log_config(quiet=args.quiet),
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        **limits.uvicorn(),
    )
    return 0


def _say_ignored_variables(app: object, name: str) -> None:
    """``APP_VARIABLES`` configure an app only through ``CallHooks.from_env()``: one line naming those that are set
    but do not apply, rather than silence."""
    from .app import APP_VARIABLES, CallHooks

    if not isinstance(app, CallHooks) or app.from_environment:
        return
    ignored = [variable for variable in APP_VARIABLES if variable in os.environ]
    if ignored:
        print(
            f"callhooks: warning: {', '.join(ignored)} set, but {name} was not built by CallHooks.from_env(), "
            "so they do not apply: build it with CallHooks.from_env() to use them",
            file=sys.stderr,
        )


class StartUpFailed(Exception):
    """The app cannot start (its store cannot be opened, a handler is registered wrongly): exit code 3, as
    uvicorn's own for one worker."""


def _check_start_up(app: object) -> None:
    """What each worker checks at start-up, done once before they are forked: uvicorn's supervisor stops when a
    worker fails to start but returns as if all went well, so `--workers 2` would exit 0."""
    import asyncio

    from .app import CallHooks
    from .stores import StoreUnavailable, open_store

    if not isinstance(app, CallHooks):
        return

    async def check() -> None:
        app.check_handlers()
        if app.store_url is not None:
            store = await open_store(app.store_url)
            await store.close()

    try:
        asyncio.run(check())
    except (StoreUnavailable, TypeError, ValueError) as exc:
        raise StartUpFailed(f"the app cannot start: {exc}") from None


def _fresh_metrics_dir() -> None:
    """Under ``PROMETHEUS_MULTIPROC_DIR`` (metrics shared by the workers), create the directory and remove the
    previous run's ``*.db`` files before any worker starts: left there, old counts would be added to the new."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def _log_config(*, quiet: bool) -> dict[str, Any]:
    """uvicorn's logging, plus one line per callback from the ``callhooks`` logger on stdout (unless quiet).

    Given to uvicorn rather than set up here, so every worker process and reloaded child logs the same way.
    """
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["callhooks"] = {"()": "callhooks.logs.TextFormatter", "fmt": "%(asctime)s %(message)s"}
    config["handlers"]["callhooks"] = {
        "formatter": "callhooks",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["callhooks"] = {
        "handlers": ["callhooks"],
        "level": "WARNING" if quiet else "INFO",
        "propagate": False,
    }
    if os.environ.get("CALLHOOKS_LOG_FORMAT", "").strip().lower() == "json":  # every line one JSON object
        for formatter in config["formatters"].values():
            formatter.clear()
            formatter["()"] = "callhooks.logs.JsonFormatter"
    return config


def _sign_url(args: argparse.Namespace) -> int:
    # What the platform's receiver's callback_url would print, without building one (Twilio's needs no auth token).
    from .receiver.receiving import receiving_class
    from .receiver.settings import environment_options
    from .signing import CallbackSigner, CallbackUrls

    try:
        options = environment_options(**({"public_url": args.public_url} if args.public_url else {}))
        receiving = receiving_class(args.platform)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if options["secret"] is None:
        raise UsageError("set CALLHOOKS_SECRET: an unsigned URL would be no protection")
    if args.no_expiry and args.max_age is not None:
        raise UsageError("--no-expiry and --max-age contradict each other")
    if (args.kind or args.tag) and args.platform != "twilio":
        raise UsageError(f"--kind and --tag are for Twilio, whose requests name neither: {args.platform}'s do")
    if args.kind and args.kind not in receiving.platform.event_types:
        raise UsageError(f"unknown kind {args.kind!r}; one of: {', '.join(sorted(receiving.platform.event_types))}")
    try:
        urls = CallbackUrls(
            CallbackSigner(options["secret"]),
            options.get("public_url"),
            basic_auth=options.get("basic_auth"),
            credentials_in_url=receiving.credentials_in_url,
        )
        max_age = None if args.no_expiry else (args.max_age or urls.max_age)
        print(urls.make(args.context, max_age=max_age, kind=args.kind, tag=args.tag))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _replay(args: argparse.Namespace) -> int:
    from .commands.replay import ReplayCommandError, run_replay

    try:
        return run_replay(
            args.file,
            args.url,
            timing=args.timing,
            speed=args.speed,
            secret=args.secret,
            basic_auth=args.basic_auth,
            platform=args.platform,
            auth_token=args.auth_token,
        )
    except ReplayCommandError as exc:
        raise UsageError(str(exc)) from None


def _failed(args: argparse.Namespace) -> int:
    from .commands.failed import FailedCommandError, run_failed_command

    try:
        store = args.store or os.environ.get("CALLHOOKS_STORE")
        return run_failed_command(args.action, store, getattr(args, "id", None), getattr(args, "limit", 100))
    except FailedCommandError as exc:
        raise UsageError(str(exc)) from None


def _send(args: argparse.Namespace) -> int:
    from .commands.send import SendCommandError, run_send

    try:
        return run_send(
            args.platform,
            args.event_type,
            args.url,
            [_field(text) for text in args.fields],
            get=args.get,
            secret=args.secret,
            context=args.context,
            basic_auth=args.basic_auth,
            unsigned=args.unsigned,
            tag=args.tag,
            auth_token=args.auth_token,
        )
    except SendCommandError as exc:
        raise UsageError(str(exc)) from None


_SIMULATOR_ENVIRONMENT = {
    "user_id": "CATAPULT_USER_ID",
    "api_token": "CATAPULT_API_TOKEN",
    "api_secret": "CATAPULT_API_SECRET",
}
#: The v2 simulator's account settings and the variables the v2 client reads them from.
_TWILIO_ENVIRONMENT = {"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN"}
_BANDWIDTH_ENVIRONMENT = {
    "account_id": "BANDWIDTH_ACCOUNT_ID",
    "client_id": "BANDWIDTH_CLIENT_ID",
    "client_secret": "BANDWIDTH_CLIENT_SECRET",
    "api_user": "BANDWIDTH_USERNAME",
    "api_password": "BANDWIDTH_PASSWORD",
}


def _platform_options(args: argparse.Namespace) -> dict[str, Any]:
    """``platform`` and its account settings from the flags and the environment (flags win); a flag of another
    platform is a usage error."""
    platform = args.platform or "catapult"
    flags = {"catapult": _SIMULATOR_ENVIRONMENT, "bandwidth": _BANDWIDTH_ENVIRONMENT, "twilio": _TWILIO_ENVIRONMENT}
    for other, names in flags.items():
        for name in names:
            if other != platform and getattr(args, name, None) is not None:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag} is a --platform {other} option (this is --platform {platform})")
    options: dict[str, Any] = {}
    if args.platform is not None:
        options["platform"] = platform
    if platform in ("bandwidth", "twilio"):
        names = flags[platform]
        account = {key: os.environ[name] for key, name in names.items() if os.environ.get(name)}
        account.update({key: getattr(args, key) for key in names if getattr(args, key)})
        if account:
            options["account"] = account
    elif platform == "catapult":
        options.update({key: os.environ[name] for key, name in _SIMULATOR_ENVIRONMENT.items() if os.environ.get(name)})
        options.update({key: getattr(args, key) for key in _SIMULATOR_ENVIRONMENT if getattr(args, key)})
    return options


def _simulate(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from .logs import redact_url
    from .simulator import Simulator

    # A scenario file's settings hold unless the environment or a flag that was actually given says otherwise.
    options = _platform_options(args)
    given = {
        "speed": args.speed,
        "incoming_call_url": args.incoming_call_url,
        "incoming_call_method": args.incoming_call_method,
        "seed": args.seed,
        "allow_callback_hosts": args.allow_callback_host,
        "allow_hosts": args.allow_host,
        "allow_origins": args.allow_origin,
    }
    options.update({option: value for option, value in given.items() if value is not None})
    try:
        simulator = Simulator.from_scenario(args.scenario, **options) if args.scenario else Simulator(**options)
    except OSError as exc:
        raise UsageError(f"cannot read the scenario: {exc}") from None
    except ValueError as exc:  # one line naming the file and the key (or the flag's option)
        raise UsageError(str(exc)) from None
    fault_flags = {
        "duplicate": args.duplicate,
        "concurrent_duplicate": args.concurrent_duplicate,
        "reorder_jitter": args.reorder,
        "fallback_first": args.timeout_first,
        "drop_after_handler": args.drop_after,
        "seed": args.seed,
    }
    try:
        simulator.set_faults(simulator.faults.merged(**fault_flags))
    except ValueError as exc:  # e.g. --reorder inf
        raise UsageError(str(exc)) from None
    base_url = f"http://{args.host}:{args.port}"
    speed = "manual" if simulator.clock.speed is None else f"x{simulator.clock.speed:g}"
    print(f"callhooks simulator on {base_url} (speed {speed}), playing {simulator.profile.name}")
    for line in simulator.profile.banner(base_url):
        print(f"  {line}", flush=True)
    inbound = simulator.engine.options.inbound
    if inbound.url:
        runs = simulator.profile.inbound_note(inbound.method)
        print(f"  inbound calls go to {redact_url(inbound.url)} by {inbound.method} ({runs})", flush=True)
    pair = simulator.profile.control_credentials()
    credentials = f" (user {pair[0]}, password {pair[1]})" if pair else ""
    print(f"  phone page: {base_url}/_sim/phone{credentials}", flush=True)
    if simulator.faults.active:
        settings = {k: v for k, v in simulator.faults_state().items() if v and k not in ("rules", "seed")}
        shown = ", ".join(f"{name} {value:g}" for name, value in settings.items() if isinstance(value, float))
        rules = len(simulator.faults.rules)
        print(f"  faults: {shown or 'none by rate'}; {rules} rule(s); seed {simulator.fault_seed}", flush=True)
    if not args.quiet:
        flow = logging.getLogger("callhooks.simulator.deliveries")
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        flow.addHandler(handler)
        flow.setLevel(logging.INFO)
    # an open phone page holds a stream: stopping waits at most a second for it
    uvicorn.run(simulator, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1)
    return 0


#: Which extra installs each optional package the commands import.
_EXTRAS = {"rich": "cli", "yaml": "simulator", "prometheus_client": "metrics"}


def _missing_extra(error: ModuleNotFoundError, command: str) -> str:
    """The one line for a command whose optional dependency is not installed (re-raises anything else)."""
    missing = (error.name or "").partition(".")[0]
    if missing not in _EXTRAS:
        raise error
    return f"callhooks {command} needs {missing}: pip install 'callhooks[{_EXTRAS[missing]}]'"


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
        if args.command == "failed":
            return _failed(args)
        if args.command == "replay":
            return _replay(args)
        try:
            from .commands.demo import run_demo
            from .twilio.demo import run_twilio_demo
        except ModuleNotFoundError as exc:
            raise UsageError(_missing_extra(exc, "demo")) from None
        return run_twilio_demo(args) if args.platform == "twilio" else run_demo(args)
    except UsageError as exc:
        print(f"callhooks: error: {exc}", file=sys.stderr)
        return 2
    except StartUpFailed as exc:
        print(f"callhooks: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
