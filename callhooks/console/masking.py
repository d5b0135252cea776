"""Phone numbers hidden but for their last digits: ``+19195551212`` becomes ``+1*******1212``.

Used by the console (``console_mask_numbers=True``) on everything it shows, serves and exports, and by
``MaskingFilter`` on callhooks' own log lines. The inputs come from the network, so the work is linear and
bounded: texts are cut to ``MAX_MASKED_CHARS`` before the one regex (no nested quantifiers) runs over them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from .. import logs

__all__ = [
    "MAX_MASKED_CHARS",
    "NUMBER_FIELDS",
    "MaskingFilter",
    "install_log_masking",
    "mask_fields",
    "mask_number",
    "mask_numbers_in",
    "uninstall_log_masking",
]

#: At most this many characters of one text are masked and kept; the rest is summarised by its length.
MAX_MASKED_CHARS: Final = 256 * 1024
#: Digits left visible at the end of a number.
KEPT_DIGITS: Final = 4
#: Wire fields that hold a number (or a SIP address with one) whatever its form.
NUMBER_FIELDS: Final = frozenset({"from", "to", "from_", "origTo", "orig_to", "number", "phoneNumber"})
_DEEPEST: Final = 16  # nesting followed in mask_fields: callback fields are at most one level deep

# An E.164 number in text: "+" (or its URL encodings) then 6-15 digits. One bounded run of digits: linear.
_E164_IN_TEXT = re.compile(r"(\+|%2[bB])(\d{6,15})(?!\d)")
_DIGIT = re.compile(r"\d")


def _hide_digits(digits: str) -> str:
    keep = KEPT_DIGITS if len(digits) > KEPT_DIGITS + 2 else 2
    return "*" * max(len(digits) - keep, 0) + digits[-keep:]


def mask_number(value: str) -> str:
    """A number field's value with every digit but the last few replaced by ``*`` (``sip:`` addresses too)."""
    text, rest = _cut(value)
    positions = [match.start() for match in _DIGIT.finditer(text)]
    if not positions:
        return text + rest
    keep = KEPT_DIGITS if len(positions) > KEPT_DIGITS + 2 else min(2, len(positions))
    hidden = set(positions[: len(positions) - keep])
    return "".join("*" if i in hidden else char for i, char in enumerate(text)) + rest


def mask_numbers_in(text: str) -> str:
    """``text`` (a payload, a query string, a log line, a traceback) with every E.164 number in it masked."""
    head, rest = _cut(text)
    return _E164_IN_TEXT.sub(lambda m: m.group(1) + _hide_digits(m.group(2)), head) + rest


def mask_fields(value: Any, depth: int = 0) -> Any:
    """A JSON-able value (a callback's fields, a context) with number fields and numbers in texts masked."""
    if isinstance(value, str):
        return mask_numbers_in(value)
    if depth > _DEEPEST:
        return value
    if isinstance(value, Mapping):
        return {
            key: mask_number(item) if key in NUMBER_FIELDS and isinstance(item, str) else mask_fields(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_fields(item, depth + 1) for item in value]
    return value


def _cut(text: str) -> tuple[str, str]:
    if len(text) <= MAX_MASKED_CHARS:
        return text, ""
    return text[:MAX_MASKED_CHARS], f"…(+{len(text) - MAX_MASKED_CHARS} chars)"


def _mask_arg(value: object) -> object:
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, bytes):
        return mask_numbers_in(value[:MAX_MASKED_CHARS].decode("latin-1"))
    return value


class MaskingFilter(logging.Filter):
    """Masks phone numbers in a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_numbers_in(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _mask_arg(arg) for key, arg in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Formatted here (as logs.RedactingFilter does), masked, and left where every Formatter looks before
            # formatting it again.
            record.exc_text = logs.format_exception(record.exc_info[1])
        if record.exc_text:
            record.exc_text = mask_numbers_in(record.exc_text)
        return True


def install_log_masking() -> None:
    """Mask numbers in every log line of callhooks' loggers (``logs.LOGGERS``), for the rest of the process."""
    for name in logs.LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in target.filters):
            target.addFilter(MaskingFilter())


def uninstall_log_masking() -> None:
    """Undo ``install_log_masking`` (tests that turned it on use this to leave the process as they found it)."""
    for name in logs.LOGGERS:
        target = logging.getLogger(name)
        for found in [f for f in target.filters if isinstance(f, MaskingFilter)]:
            target.removeFilter(found)
