"""The platform's documented request rules (v1 docs): addresses, limits, choices, written once.

The client checks requests against them before sending (``client/params.py``, through pydantic) and the
simulator enforces them (``simulator/params.py``, on JSON bodies and query strings). Each check takes a value
already of the right type, returns it (in its canonical spelling) or raises ``ValueError`` with a message
that reads after the field's name ("must be ..."); each side adds the name its caller used. Patterns are
meant for ``fullmatch``; limits are inclusive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CALLBACK_HTTP_METHODS",
    "CALLBACK_TIMEOUT",
    "CALL_TIMEOUT",
    "DIVERSION_TREATMENTS",
    "DTMF_OUT",
    "E164",
    "E164_DIGITS",
    "ENDED_CALL_STATES",
    "GATHER_DIGITS",
    "GATHER_MAX_DIGITS",
    "GENDERS",
    "HTTP_URL",
    "INTER_DIGIT_TIMEOUT",
    "LOCALES",
    "MAX_DTMF_OUT",
    "MAX_SENTENCE",
    "MAX_SIP_HEADERS",
    "MAX_SIP_HEADER_LENGTH",
    "PAGE",
    "PAGE_SIZE",
    "POSITIVE",
    "RECORDING_FORMATS",
    "SIP_URI",
    "SORT_ORDERS",
    "STATE_CHANGES",
    "UPDATE_STATES",
    "VOICES",
    "VOLUME",
    "Range",
    "address",
    "caller_id",
    "choice",
    "dtmf_out",
    "gather_digits",
    "is_address",
    "sentence",
    "sip_headers",
]

# A call in one of these states never changes again (updates get 403 call-invalid-state).
ENDED_CALL_STATES = frozenset({"completed", "rejected"})
# What POST /calls/{id} may set ``state`` to: answer, reject, hang up; or transfer, which takes more fields.
STATE_CHANGES = ("active", "rejected", "completed")
UPDATE_STATES = (*STATE_CHANGES, "transferring")

# Addresses (from, to, transferTo, transferCallerId): an E.164 number or a SIP URI such as sip:alice@example.com.
E164_DIGITS = "[0-9]{7,15}"  # what follows the '+' of an E.164 number
E164 = re.compile(rf"\+{E164_DIGITS}")
SIP_URI = re.compile(r"sip:[^\s@]+@[^\s@]+", re.IGNORECASE)

# dtmfOut: keys and pauses (',' and 'w' half a second, 'W' a second).
DTMF_OUT = re.compile(r"[0-9A-D#*,wW]+")
MAX_DTMF_OUT = 92

# gather: terminatingDigits are keys (no pauses).
GATHER_DIGITS = re.compile(r"[0-9A-D#*]+")

CALLBACK_HTTP_METHODS = ("POST", "GET")  # any case on the wire
# callbackUrl, fallbackUrl, fileUrl: http(s) with a host ("" means none; the docs' 400 is callback-invalid-url).
HTTP_URL = re.compile(r"https?://[^\s/]+(/\S*)?")
SORT_ORDERS = ("asc", "desc")

# sipHeaders: names start with 'X-'; names and values are at most MAX_SIP_HEADER_LENGTH characters.
MAX_SIP_HEADERS = 5
MAX_SIP_HEADER_LENGTH = 256

RECORDING_FORMATS = ("wav", "mp3")
DIVERSION_TREATMENTS = ("none", "propagate", "stack")

# Speech (/audio, whisperAudio, gather prompts).
MAX_SENTENCE = 1000  # characters
GENDERS = ("female", "male")
LOCALES = ("en_US", "en_UK", "es", "es_MX", "fr", "fr_FR", "de", "de_DE", "it", "it_IT")
VOICES = (
    *("susan", "kate", "julie", "dave", "paul", "bridget", "esperanza", "violeta"),
    *("jorge", "jolie", "bernard", "katrin", "stefan", "paola", "luca"),
)


@dataclass(frozen=True)
class Range:
    """An inclusive range of integers (``high`` ``None``: no upper limit)."""

    low: int
    high: int | None = None

    def check(self, number: int) -> int:
        """``number`` when it is in the range."""
        if number < self.low or (self.high is not None and number > self.high):
            raise ValueError(
                f"must be between {self.low} and {self.high}"
                if self.high is not None
                else f"must be at least {self.low}"
            )
        return number


CALL_TIMEOUT = Range(1, 300)  # seconds
CALLBACK_TIMEOUT = Range(1, 10000)  # milliseconds
GATHER_MAX_DIGITS = Range(1, 30)
INTER_DIGIT_TIMEOUT = Range(1, 30)  # seconds
VOLUME = Range(-4, 4)
PAGE = Range(0)
PAGE_SIZE = Range(1, 1000)
POSITIVE = Range(1)  # durations such as recordingMaxDuration


def is_address(value: str) -> bool:
    """True for an E.164 number (``+`` and 7 to 15 digits) or a ``sip:user@host`` URI."""
    return bool(E164.fullmatch(value) or SIP_URI.fullmatch(value))


def address(value: str) -> str:
    """An E.164 number or a ``sip:`` URI."""
    if not is_address(value):
        raise ValueError("must be an E.164 number ('+' and 7 to 15 digits, e.g. +19195551212) or a 'sip:' URI")
    return value


def caller_id(value: str) -> str:
    """A transfer's caller id: an address, or ``private`` to hide the caller."""
    return value if value == "private" else address(value)


def choice(value: str, options: tuple[str, ...]) -> str:
    """One of ``options``, matched case-insensitively; returns the option's own spelling."""
    for option in options:
        if option.lower() == value.lower():
            return option
    raise ValueError(f"must be one of: {', '.join(options)}")


def sentence(value: str) -> str:
    """Text to speak: at most ``MAX_SENTENCE`` characters."""
    if len(value) > MAX_SENTENCE:
        raise ValueError(f"must be at most {MAX_SENTENCE} characters")
    return value


def dtmf_out(value: str) -> str:
    """Digits to send: 1 to 92 of ``0-9 A-D # *`` and the pauses ``, w W``."""
    if len(value) > MAX_DTMF_OUT:
        raise ValueError(f"must be at most {MAX_DTMF_OUT} characters")
    if not DTMF_OUT.fullmatch(value):
        raise ValueError("may only contain 0-9, A-D, #, *, ',', w and W")
    return value


def gather_digits(value: str) -> str:
    """A gather's ``terminatingDigits``: one or more keys (no pauses)."""
    if not GATHER_DIGITS.fullmatch(value):
        raise ValueError("must be one or more of 0-9, A-D, * and #")
    return value


def sip_headers(headers: Mapping[str, object]) -> dict[str, str]:
    """At most five headers, names starting ``X-``, names and values strings of at most 256 characters."""
    if len(headers) > MAX_SIP_HEADERS:
        raise ValueError(f"at most {MAX_SIP_HEADERS} SIP headers can be sent")
    longest = MAX_SIP_HEADER_LENGTH
    for name, value in headers.items():
        if not name.upper().startswith("X-"):
            raise ValueError(f"SIP header name {name[:40]!r} must start with 'X-'")
        if len(name) > longest or not isinstance(value, str) or len(value) > longest:
            raise ValueError(f"SIP header {name[:40]!r}: names and values are strings of at most {longest} characters")
    return {name: str(value) for name, value in headers.items()}
