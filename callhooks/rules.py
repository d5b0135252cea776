"""The platform's documented request rules (v1 docs): addresses, limits, choices.

The client checks requests against it before sending and the simulator enforces it. Patterns are meant for
``fullmatch``; limits are inclusive.
"""

from __future__ import annotations

import re

__all__ = [
    "CALLBACK_HTTP_METHODS",
    "DIVERSION_TREATMENTS",
    "DTMF_OUT",
    "E164",
    "E164_DIGITS",
    "ENDED_CALL_STATES",
    "GATHER_DIGITS",
    "GENDERS",
    "LOCALES",
    "MAX_CALLBACK_TIMEOUT",
    "MAX_CALL_TIMEOUT",
    "MAX_DTMF_OUT",
    "MAX_GATHER_DIGITS",
    "MAX_INTER_DIGIT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "MAX_SENTENCE",
    "MAX_SIP_HEADERS",
    "MAX_SIP_HEADER_LENGTH",
    "MAX_VOLUME",
    "MIN_VOLUME",
    "RECORDING_FORMATS",
    "SIP_URI",
    "VOICES",
    "is_address",
]

# A call in one of these states never changes again (updates get 403 call-invalid-state).
ENDED_CALL_STATES = frozenset({"completed", "rejected"})

# Addresses (from, to, transferTo, transferCallerId): an E.164 number or a SIP URI such as sip:alice@example.com.
E164_DIGITS = "[0-9]{7,15}"  # what follows the '+' of an E.164 number
E164 = re.compile(rf"\+{E164_DIGITS}")
SIP_URI = re.compile(r"sip:[^\s@]+@[^\s@]+", re.IGNORECASE)

# dtmfOut: keys and pauses (',' and 'w' half a second, 'W' a second).
DTMF_OUT = re.compile(r"[0-9A-D#*,wW]+")
MAX_DTMF_OUT = 92

# gather: terminatingDigits are keys (no pauses); maxDigits and interDigitTimeout (seconds) are capped.
GATHER_DIGITS = re.compile(r"[0-9A-D#*]+")
MAX_GATHER_DIGITS = 30
MAX_INTER_DIGIT_TIMEOUT = 30

MAX_CALL_TIMEOUT = 300  # seconds
MAX_CALLBACK_TIMEOUT = 10000  # milliseconds
CALLBACK_HTTP_METHODS = ("POST", "GET")  # any case on the wire
MAX_PAGE_SIZE = 1000

# sipHeaders: names start with 'X-'; names and values are at most MAX_SIP_HEADER_LENGTH characters.
MAX_SIP_HEADERS = 5
MAX_SIP_HEADER_LENGTH = 256

RECORDING_FORMATS = ("wav", "mp3")
DIVERSION_TREATMENTS = ("none", "propagate", "stack")

# Speech (/audio, whisperAudio, gather prompts).
MAX_SENTENCE = 1000  # characters
MIN_VOLUME = -4
MAX_VOLUME = 4
GENDERS = ("female", "male")
LOCALES = ("en_US", "en_UK", "es", "es_MX", "fr", "fr_FR", "de", "de_DE", "it", "it_IT")
VOICES = (
    *("susan", "kate", "julie", "dave", "paul", "bridget", "esperanza", "violeta"),
    *("jorge", "jolie", "bernard", "katrin", "stefan", "paola", "luca"),
)


def is_address(value: str) -> bool:
    """True for an E.164 number (``+`` and 7 to 15 digits) or a ``sip:user@host`` URI."""
    return bool(E164.fullmatch(value) or SIP_URI.fullmatch(value))
