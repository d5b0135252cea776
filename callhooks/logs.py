"""What reaches the logs: callback tokens hidden, control characters escaped, every value bounded.

A callback token is a bearer credential and sits in the request path, which uvicorn's access log prints.
Paths, tags, call ids and event types all come from the network, so every value is also escaped (a newline
in a tag must not forge a log line) and cut to a fixed length; so is an exception's message in a traceback, and
a client address taken from ``X-Forwarded-For``. Query strings show their names only, and the application's
secrets (signing keys, passwords: ``hide_secrets``) are replaced by ``***`` wherever they appear. The work per
value is bounded by ``MAX_LOGGED_CHARS`` whatever its size: the filters run on every request, including forged
ones, so they must never cost more for a longer input (a quadratic regex here once let two clients stall the
server).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "CALLBACK_FIELDS",
    "LOG_FORMAT_ENV",
    "MAX_LOGGED_CHARS",
    "TOKEN_PLACEHOLDER",
    "JsonFormatter",
    "RedactingFilter",
    "TextFormatter",
    "callhooks_formatter",
    "client_address",
    "escape",
    "format_exception",
    "hide_query",
    "hide_secrets",
    "install",
    "redact_path",
    "redact_url",
    "redact_urls_in",
]

#: At most this many characters of one value are examined and written; the rest is summarised by its length.
MAX_LOGGED_CHARS: Final = 1024
TOKEN_PLACEHOLDER: Final = "<token>"

# A path segment this long is treated as a token, whatever its characters: real tokens are longer than 40,
# and a token cut short or altered must not be logged either (one missing signature character would leave
# 64 guesses). A shorter segment holds at most 19 of the 27 signature characters: no use to a guesser.
_TOKEN_SEGMENT_MIN: Final = 20

# Control characters (C0, DEL, C1) and the Unicode line/paragraph separators, written as \xNN / \uNNNN.
_ESCAPES: Final = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    0x2028: "\\u2028",
    0x2029: "\\u2029",
    ord("\\"): "\\\\",
}


# For a traceback's frames: control characters escaped but its line breaks (and backslashes in paths) kept.
_LINE_ESCAPES: Final = {code: text for code, text in _ESCAPES.items() if code not in (ord("\n"), ord("\\"))}


def _cut(text: str) -> tuple[str, str]:
    if len(text) <= MAX_LOGGED_CHARS:
        return text, ""
    return text[:MAX_LOGGED_CHARS], f"…(+{len(text) - MAX_LOGGED_CHARS} chars)"


def escape(value: object) -> str:
    """``value`` as text safe for one log line: control characters escaped, at most ``MAX_LOGGED_CHARS`` kept."""
    text = value if isinstance(value, str) else str(value)
    head, rest = _cut(text)
    return head.translate(_ESCAPES) + rest


def redact_path(path: str) -> str:
    """A request path (with its query) with every token-like segment replaced by ``<token>`` and every query
    value by ``*`` (a GET callback's query holds the caller's number; a URL's, whatever its maker put there),
    escaped.

    Linear in at most ``MAX_LOGGED_CHARS``: the path is cut first, then split on ``/`` once.
    """
    head, rest = _cut(path)
    route, sep, query = head.partition("?")
    segments = route.split("/")
    if rest and not sep:
        # The cut may have gone through the middle of a token: the last segment is hidden whatever its length.
        segments[-1] = TOKEN_PLACEHOLDER if segments[-1] else ""
    hidden = "/".join(TOKEN_PLACEHOLDER if len(s) >= _TOKEN_SEGMENT_MIN else s for s in segments)
    return (hidden + sep + hide_query(query)).translate(_ESCAPES) + ("" if sep else rest)


def hide_query(query: str) -> str:
    """``query`` with its names kept and every value replaced by ``*`` (a part without a name: ``*``)."""
    if not query:
        return query
    parts = (part.partition("=") for part in query.split("&"))
    return "&".join(f"{name}=*" if equals else "*" for name, equals, _ in parts)


def client_address(address: str) -> str:
    """A client's ``host:port`` for a log line: anything an address does not hold (a space or a quote sent in
    ``X-Forwarded-For`` to forge the rest of an access-log line) percent-encoded, at most ``MAX_LOGGED_CHARS``."""
    return quote(address[:MAX_LOGGED_CHARS], safe=":[]._-")


def redact_url(url: str) -> str:
    """``url`` with its password masked (``user:***@``) and token-like path segments hidden, for messages
    that show where a callback went (the callback URL carries both credentials)."""
    try:
        parts = urlsplit(url[:MAX_LOGGED_CHARS])
    except ValueError:
        return escape(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at:
        user = userinfo.partition(":")[0]
        host = f"{user}:***@{host}"
    path = redact_path(parts.path or "/")
    return urlunsplit((parts.scheme, host, path, hide_query(parts.query).translate(_ESCAPES), parts.fragment))


# No nested quantifiers: one linear pass.
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]{0,15}://[^\s'\"<>]+")


def redact_urls_in(text: str) -> str:
    """``text`` (an error message) with every URL in it passed through ``redact_url``."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


# Literal secrets of the applications in this process (signing keys, passwords): never written to a log line.
_secrets: set[str] = set()
_SHORTEST_SECRET: Final = 4  # shorter ones would mask half the log


def hide_secrets(secrets: Iterable[str]) -> None:
    """Replace each of ``secrets`` by ``***`` in every log line and traceback callhooks' filters see, from now
    on (``CallHooks`` gives its signing keys and passwords; texts shorter than 4 characters are ignored)."""
    _secrets.update(secret for secret in secrets if len(secret) >= _SHORTEST_SECRET)


def _without_secrets(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _clean(value: object) -> object:
    if value is None or isinstance(value, (int, float)):
        return value  # for %d and %f, and nothing in them to hide
    if isinstance(value, bytes):
        return _without_secrets(escape(value.decode("latin-1")))
    text = value if isinstance(value, str) else str(value)  # an exception, say: its message came from anywhere
    if text.startswith("/"):
        return _without_secrets(redact_path(text))
    text = escape(text)
    return _without_secrets(redact_urls_in(text) if "://" in text else text)


def format_exception(exc: BaseException) -> str:
    """``exc``'s traceback for a log: each exception's message (``Type: message``, its notes too) on one escaped
    line, URLs redacted, secrets hidden. The frames are the code's own; a message is whatever raised it."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    written: list[str] = []
    at = 0
    for link in reversed(chain):  # printed oldest first
        message = "".join(traceback.format_exception_only(type(link), link))
        found = text.find(message, at)
        if found < 0:  # an exception group's members are printed indented: kept as lines, escaped below
            continue
        written += [text[at:found].translate(_LINE_ESCAPES), escape(message.rstrip("\n")), "\n"]
        at = found + len(message)
    # What no message matched keeps its line breaks, but never another control character.
    written.append(text[at:].translate(_LINE_ESCAPES))
    return _without_secrets(redact_urls_in("".join(written)))


class RedactingFilter(logging.Filter):
    """Rewrites a record's arguments: paths lose their tokens, every text is escaped and bounded.

    Attached to loggers (``install``) and to the handlers callhooks adds, so records of child loggers that
    propagate there are cleaned too; a record is cleaned once, however many filters it meets.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_callhooks_cleaned", False):
            return True
        record._callhooks_cleaned = True
        if isinstance(record.args, tuple):
            args = tuple(_clean(arg) for arg in record.args)
            if record.name == "uvicorn.access" and len(args) == 5 and isinstance(args[0], str):
                args = (client_address(args[0]), *args[1:])  # (client, method, path, version, status)
            record.args = args
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Formatted here and left where every Formatter looks before formatting it again.
            record.exc_text = format_exception(record.exc_info[1])
        elif record.exc_text:
            record.exc_text = _without_secrets(redact_urls_in(record.exc_text))
        return True


#: Loggers whose records carry network input: uvicorn's access log (however uvicorn was started: its CLI,
#: ``uvicorn.run``, ``callhooks run``, gunicorn's uvicorn workers all log there) and callhooks' own.
LOGGERS: Final = (
    "uvicorn.access",
    "callhooks",
    "callhooks.background",
    "callhooks.callbacks",
    "callhooks.client",
    "callhooks.simulator",
    "callhooks.simulator.deliveries",
    "callhooks.stores",
)


#: callhooks' own loggers, cleaned from the moment this module is imported: a library may set up its own
#: loggers, and leaves everyone else's alone until it is served (``install``).
OWN_LOGGERS: Final = tuple(name for name in LOGGERS if name.split(".")[0] == "callhooks")


def _attach(names: Iterable[str]) -> None:
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())


def install() -> None:
    """Attach ``RedactingFilter`` to every logger in ``LOGGERS``, uvicorn's access log included (once; calling
    again does nothing). A receiver does it when it is first served (its lifespan, or its first request when
    mounted in another app), not when it is built."""
    _attach(LOGGERS)


_attach(OWN_LOGGERS)


#: ``CALLHOOKS_LOG_FORMAT``: ``text`` (the default) or ``json`` (one JSON object per line, for log shippers).
LOG_FORMAT_ENV: Final = "CALLHOOKS_LOG_FORMAT"
#: The structured fields of the per-callback line (logger ``callhooks.callbacks``), passed as ``extra=``.
CALLBACK_FIELDS: Final = ("call_id", "event", "state", "tag", "handler", "status", "duration_ms")
TEXT_FORMAT: Final = "%(levelname)s:     %(name)s %(message)s"


class TextFormatter(logging.Formatter):
    """The plain-text lines (``TEXT_FORMAT`` unless given another), with URLs in tracebacks redacted (also in
    the traceback text the record caches for other handlers)."""

    def __init__(self, fmt: str | None = TEXT_FORMAT, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)

    def formatException(self, ei: Any) -> str:
        return format_exception(ei[1]) if ei[1] is not None else redact_urls_in(super().formatException(ei))


class JsonFormatter(TextFormatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the per-callback
    fields (``CALLBACK_FIELDS``) when the record has them, and ``exception`` (the traceback) when there is one.

    The message is the record's, after ``RedactingFilter``; the extra fields and the traceback are cleaned the
    same way here (escaped, bounded, URLs without their password or token). ``ensure_ascii`` keeps every line
    one line whatever the input (U+2028 included).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields: Mapping[str, Any] = record.__dict__
        for key in CALLBACK_FIELDS:
            if key in fields:
                value = fields[key]
                entry[key] = value if value is None or isinstance(value, int | float) else _clean(str(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact_urls_in(record.exc_text)
        return json.dumps(entry)


def _iso_time(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def callhooks_formatter(environ: Mapping[str, str] | None = None) -> logging.Formatter:
    """The formatter ``CALLHOOKS_LOG_FORMAT`` asks for (``ValueError`` naming the choices when unknown)."""
    env = os.environ if environ is None else environ
    chosen = env.get(LOG_FORMAT_ENV, "text").strip().lower() or "text"
    if chosen == "json":
        return JsonFormatter()
    if chosen == "text":
        return TextFormatter()
    raise ValueError(f"{LOG_FORMAT_ENV} must be text or json, not {chosen!r}")


def callhooks_handler(formatter: logging.Formatter | None = None) -> logging.Handler:
    """A stderr handler for the ``callhooks`` logger: the chosen format, records cleaned by ``RedactingFilter``."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter or callhooks_formatter())
    handler.addFilter(RedactingFilter())
    return handler


def json_for_uvicorn(formatter: logging.Formatter) -> None:
    """Give uvicorn's own lines (the server's, the access log) ``formatter`` too, where they still use uvicorn's
    default formatters (a user's ``--log-config`` is left alone): a log shipper then reads one format."""
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if type(handler.formatter) in (DefaultFormatter, AccessFormatter):
                handler.setFormatter(formatter)


def show_callback_lines() -> None:
    """Make the per-callback INFO line visible under a plain ``uvicorn app:hooks``, which configures only its
    own loggers: when nothing configured logging for callhooks (no handler on it or on the root logger and no
    level set) when the server starts, give ``callhooks`` a stderr handler at INFO, in the format
    ``CALLHOOKS_LOG_FORMAT`` names (``ValueError`` when unknown). Any logging configuration of the user's wins."""
    formatter = callhooks_formatter()
    if isinstance(formatter, JsonFormatter):
        json_for_uvicorn(formatter)
    logger = logging.getLogger("callhooks")
    if logging.getLogger().handlers or logger.handlers or logger.level != logging.NOTSET:
        return
    logger.addHandler(callhooks_handler(formatter))
    logger.setLevel(logging.INFO)
